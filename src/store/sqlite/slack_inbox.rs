//! [`SlackInbox`] on SQLite: writes through the writer (queueing durably, claims and outcomes
//! lazily: a lost one only means an event is acted on again, which changes nothing), reads from
//! the pool.

use super::*;
use crate::store::slack_inbox::{HEADS, InboxClaim, InboxEvent, SlackInbox, on_sqlite};
use rusqlite::params;

#[async_trait]
impl SlackInbox for SqliteStore {
    async fn queue_slack_event(
        &self,
        event_id: &str,
        team_seq: i64,
        lane: &str,
        body: &str,
        at: Millis,
    ) -> Result<bool> {
        let (id, lane, body) = (event_id.to_string(), lane.to_string(), body.to_string());
        self.one(move |c| {
            let seen = c
                .prepare_cached(
                    "INSERT INTO slack_events_seen (event_id, team_seq, seen_at) VALUES (?, ?, ?)
                     ON CONFLICT (event_id) DO NOTHING",
                )?
                .execute(params![id, team_seq, at.0])?;
            if seen == 0 {
                return Ok(false);
            }
            c.prepare_cached(
                "INSERT INTO slack_inbox (event_id, team_seq, lane, body, received_at, next_attempt_at)
                 VALUES (?, ?, ?, ?, ?, ?)",
            )?
            .execute(params![id, team_seq, lane, body, at.0, at.0])?;
            Ok(true)
        })
        .await
    }

    async fn claim_slack_events(
        &self,
        now: Millis,
        lease_until: Millis,
        limit: u32,
    ) -> Result<InboxClaim> {
        let events = self
            .lazy(move |c| {
                let sql = format!(
                    "SELECT i.seq, i.event_id, i.team_seq, i.lane, i.body, i.attempts + 1
                     FROM slack_inbox i
                     WHERE i.next_attempt_at <= ?1 AND i.lease_until <= ?1 AND {HEADS}
                     ORDER BY i.seq LIMIT ?2"
                );
                let events: Vec<InboxEvent> = c
                    .prepare_cached(&sql)?
                    .query_map(params![now.0, limit], |r| {
                        Ok(InboxEvent {
                            seq: r.get(0)?,
                            event_id: r.get(1)?,
                            team_seq: r.get(2)?,
                            lane: r.get(3)?,
                            body: r.get(4)?,
                            attempts: r.get(5)?,
                        })
                    })?
                    .collect::<rusqlite::Result<_>>()?;
                let mut lease = c.prepare_cached(
                    "UPDATE slack_inbox SET lease_until = ?, attempts = ? WHERE seq = ?",
                )?;
                for e in &events {
                    lease.execute(params![lease_until.0, e.attempts, e.seq])?;
                }
                Ok(events)
            })
            .await?;
        let next_due = on_sqlite::next_due(&self.read).await?;
        Ok(InboxClaim { events, next_due })
    }

    async fn finish_slack_event(&self, seq: i64, attempts: i64) -> Result<()> {
        self.lazy(move |c| {
            c.prepare_cached("DELETE FROM slack_inbox WHERE seq = ? AND attempts = ?")?
                .execute(params![seq, attempts])?;
            Ok(())
        })
        .await
    }

    async fn retry_slack_event(
        &self,
        seq: i64,
        attempts: i64,
        at: Millis,
        error: &str,
    ) -> Result<()> {
        let error = error.to_string();
        self.lazy(move |c| {
            c.prepare_cached(
                "UPDATE slack_inbox SET next_attempt_at = ?, lease_until = 0, last_error = ?
                 WHERE seq = ? AND attempts = ?",
            )?
            .execute(params![at.0, error, seq, attempts])?;
            Ok(())
        })
        .await
    }

    async fn release_slack_leases(&self) -> Result<u64> {
        self.one(|c| {
            Ok(
                c.prepare_cached("UPDATE slack_inbox SET lease_until = 0 WHERE lease_until > 0")?
                    .execute([])? as u64,
            )
        })
        .await
    }

    async fn pending_slack_events(&self) -> Result<u64> {
        on_sqlite::pending(&self.read).await
    }

    async fn mapped_channel_name(&self, team_seq: i64, channel_id: &str) -> Result<Option<String>> {
        on_sqlite::mapped_channel_name(&self.read, team_seq, channel_id).await
    }

    async fn visitor_by_channel(&self, team_seq: i64, channel_name: &str) -> Result<Option<i64>> {
        on_sqlite::visitor_by_channel(&self.read, team_seq, channel_name).await
    }
}
