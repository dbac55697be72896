//! [`SlackInbox`] on PostgreSQL: several processes claim from one inbox (`FOR UPDATE SKIP
//! LOCKED`); a lane's head leased by one keeps the others off the whole lane.

use super::*;
use crate::store::slack_inbox::{HEADS, InboxClaim, InboxEvent, SlackInbox, on_postgres};
use sqlx::Row;

#[async_trait]
impl SlackInbox for PgStore {
    async fn queue_slack_event(
        &self,
        event_id: &str,
        team_seq: i64,
        lane: &str,
        body: &str,
        at: Millis,
    ) -> Result<bool> {
        let queued: Option<i64> = sqlx::query_scalar(
            "WITH seen AS (
                 INSERT INTO slack_events_seen (event_id, team_seq, seen_at) VALUES ($1, $2, $3)
                 ON CONFLICT (event_id) DO NOTHING RETURNING event_id)
             INSERT INTO slack_inbox (event_id, team_seq, lane, body, received_at, next_attempt_at)
             SELECT event_id, $2, $4, $5, $3, $3 FROM seen RETURNING seq",
        )
        .bind(event_id)
        .bind(team_seq)
        .bind(at.0)
        .bind(lane)
        .bind(body)
        .fetch_optional(&self.pool)
        .await?;
        Ok(queued.is_some())
    }

    async fn claim_slack_events(
        &self,
        now: Millis,
        lease_until: Millis,
        limit: u32,
    ) -> Result<InboxClaim> {
        let sql = format!(
            "WITH due AS (
                 SELECT i.seq FROM slack_inbox i
                 WHERE i.next_attempt_at <= $1 AND i.lease_until <= $1 AND {HEADS}
                 ORDER BY i.seq LIMIT $3 FOR UPDATE SKIP LOCKED)
             UPDATE slack_inbox s SET lease_until = $2, attempts = s.attempts + 1
             FROM due WHERE s.seq = due.seq
             RETURNING s.seq, s.event_id, s.team_seq, s.lane, s.body, s.attempts"
        );
        let rows = sqlx::query(&sql)
            .bind(now.0)
            .bind(lease_until.0)
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?;
        let mut events: Vec<InboxEvent> = rows
            .iter()
            .map(|r| InboxEvent {
                seq: r.get("seq"),
                event_id: r.get("event_id"),
                team_seq: r.get("team_seq"),
                lane: r.get("lane"),
                body: r.get("body"),
                attempts: r.get("attempts"),
            })
            .collect();
        events.sort_by_key(|e| e.seq);
        let next_due = on_postgres::next_due(&self.pool).await?;
        Ok(InboxClaim { events, next_due })
    }

    async fn finish_slack_event(&self, seq: i64, attempts: i64) -> Result<()> {
        sqlx::query("DELETE FROM slack_inbox WHERE seq = $1 AND attempts = $2")
            .bind(seq)
            .bind(attempts)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn retry_slack_event(
        &self,
        seq: i64,
        attempts: i64,
        at: Millis,
        error: &str,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE slack_inbox SET next_attempt_at = $1, lease_until = 0, last_error = $2
             WHERE seq = $3 AND attempts = $4",
        )
        .bind(at.0)
        .bind(error)
        .bind(seq)
        .bind(attempts)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn release_slack_leases(&self) -> Result<u64> {
        Ok(0) // other processes may hold live leases: let them expire
    }

    async fn pending_slack_events(&self) -> Result<u64> {
        on_postgres::pending(&self.pool).await
    }

    async fn mapped_channel_name(&self, team_seq: i64, channel_id: &str) -> Result<Option<String>> {
        on_postgres::mapped_channel_name(&self.pool, team_seq, channel_id).await
    }

    async fn visitor_by_channel(&self, team_seq: i64, channel_name: &str) -> Result<Option<i64>> {
        on_postgres::visitor_by_channel(&self.pool, team_seq, channel_name).await
    }
}
