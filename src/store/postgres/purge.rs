//! [`Purge`] on PostgreSQL, safe with several processes purging at once: finished deliveries
//! are taken `FOR UPDATE SKIP LOCKED`, so two processes take different rows and neither waits;
//! a conversation is purged only under its lane's lock (its visitor's: the one chat commits,
//! redeliveries, recoveries and lane promotions take), tried without waiting — a conversation
//! whose lane is busy is left for the next sweep. Each batch commits without waiting for the
//! WAL flush: a purge lost in a crash is done again.

use super::PgStore;
use super::commit::lane_key;
use crate::domain::Millis;
use crate::store::Result;
use crate::store::purge::{ConversationCursor, Purge, Purged};
use async_trait::async_trait;
use sqlx::{PgConnection, Row};

/// Whether `n` counts rows (never negative).
fn count(n: i64) -> u64 {
    n.max(0) as u64
}

#[async_trait]
impl Purge for PgStore {
    async fn purge_deliveries(&self, before: Millis, limit: u32) -> Result<Purged> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SET LOCAL synchronous_commit = off")
            .execute(&mut *tx)
            .await?;
        let r = sqlx::query(
            "WITH d AS (
                 DELETE FROM deliveries WHERE seq IN (
                     SELECT seq FROM deliveries
                     WHERE state IN ('delivered', 'failed') AND next_attempt_at < $1
                     ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED)
                 RETURNING seq, event_seq),
             a AS (DELETE FROM attempts WHERE delivery_seq IN (SELECT seq FROM d) RETURNING 1),
             p AS (DELETE FROM slack_progress WHERE delivery_seq IN (SELECT seq FROM d))
             SELECT (SELECT COUNT(*) FROM d) AS deliveries, (SELECT COUNT(*) FROM a) AS attempts,
                    COALESCE((SELECT array_agg(DISTINCT event_seq) FROM d), '{}') AS events",
        )
        .bind(before.0)
        .bind(i64::from(limit))
        .fetch_one(&mut *tx)
        .await?;
        let events: Vec<i64> = r.get("events");
        // Another statement: the deletions above are visible to it, not to their siblings.
        let gone = sqlx::query(
            "DELETE FROM events e WHERE e.seq = ANY($1) AND e.conversation_seq IS NULL
             AND NOT EXISTS (SELECT 1 FROM deliveries x WHERE x.event_seq = e.seq)",
        )
        .bind(&events)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(Purged {
            deliveries: count(r.get("deliveries")),
            attempts: count(r.get("attempts")),
            events: gone,
            ..Purged::default()
        })
    }

    async fn purge_conversations(
        &self,
        before: Millis,
        after: ConversationCursor,
        limit: u32,
    ) -> Result<(Purged, Option<ConversationCursor>)> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SET LOCAL synchronous_commit = off")
            .execute(&mut *tx)
            .await?;
        let found: Vec<(i64, i64, i64, String)> = sqlx::query_as(
            "SELECT c.ended_at, c.seq, c.visitor_seq, v.id FROM conversations c
             JOIN visitors v ON v.seq = c.visitor_seq
             WHERE c.status = 'ended' AND c.ended_at < $1 AND (c.ended_at, c.seq) > ($2, $3)
             ORDER BY c.ended_at, c.seq LIMIT $4",
        )
        .bind(before.0)
        .bind(after.0)
        .bind(after.1)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?;
        let cursor = (found.len() == limit as usize)
            .then(|| found.last().map(|(at, seq, _, _)| (*at, *seq)))
            .flatten();
        let mut lanes: Vec<i64> = found.iter().map(|(_, _, _, id)| lane_key(id)).collect();
        lanes.sort_unstable();
        lanes.dedup();
        let locked: Vec<i64> = sqlx::query_scalar(
            "SELECT k FROM unnest($1::bigint[]) AS k WHERE pg_try_advisory_xact_lock(k)",
        )
        .bind(&lanes)
        .fetch_all(&mut *tx)
        .await?;
        let (mut seqs, mut visitors) = (Vec::new(), Vec::new());
        for (_, seq, visitor, id) in &found {
            if locked.contains(&lane_key(id)) {
                seqs.push(*seq);
                visitors.push(*visitor);
            }
        }
        let purged = delete(&mut tx, seqs, visitors).await?;
        tx.commit().await?;
        Ok((purged, cursor))
    }
}

/// Deletes the conversations `seqs` (of `visitors`, whose lanes this transaction holds) that no
/// pending delivery needs, with everything of them.
async fn delete(conn: &mut PgConnection, seqs: Vec<i64>, mut visitors: Vec<i64>) -> Result<Purged> {
    if seqs.is_empty() {
        return Ok(Purged::default());
    }
    // First, so that a chat commit without events (which takes no lane lock) is over.
    visitors.sort_unstable();
    visitors.dedup();
    sqlx::query("UPDATE visitor_versions SET version = version + 1 WHERE seq = ANY($1)")
        .bind(&visitors)
        .execute(&mut *conn)
        .await?;
    let needed: Vec<i64> = sqlx::query_scalar(
        "SELECT DISTINCT e.conversation_seq FROM events e JOIN deliveries d ON d.event_seq = e.seq
         WHERE e.conversation_seq = ANY($1) AND d.state NOT IN ('delivered', 'failed')",
    )
    .bind(&seqs)
    .fetch_all(&mut *conn)
    .await?;
    let seqs: Vec<i64> = seqs.into_iter().filter(|s| !needed.contains(s)).collect();
    let r = sqlx::query(
        "WITH dl AS (DELETE FROM deliveries WHERE event_seq IN
                        (SELECT seq FROM events WHERE conversation_seq = ANY($1)) RETURNING seq),
              at AS (DELETE FROM attempts WHERE delivery_seq IN (SELECT seq FROM dl) RETURNING 1),
              sp AS (DELETE FROM slack_progress WHERE delivery_seq IN (SELECT seq FROM dl)),
              ev AS (DELETE FROM events WHERE conversation_seq = ANY($1) RETURNING 1),
              ms AS (DELETE FROM messages WHERE conversation_seq = ANY($1) RETURNING 1),
              nt AS (DELETE FROM notes WHERE conversation_seq = ANY($1) RETURNING 1),
              cv AS (DELETE FROM conversations WHERE seq = ANY($1) RETURNING 1)
         SELECT (SELECT COUNT(*) FROM dl) AS deliveries, (SELECT COUNT(*) FROM at) AS attempts,
                (SELECT COUNT(*) FROM ev) AS events, (SELECT COUNT(*) FROM ms) AS messages,
                (SELECT COUNT(*) FROM nt) AS notes, (SELECT COUNT(*) FROM cv) AS conversations",
    )
    .bind(&seqs)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Purged {
        deliveries: count(r.get("deliveries")),
        attempts: count(r.get("attempts")),
        events: count(r.get("events")),
        conversations: count(r.get("conversations")),
        messages: count(r.get("messages")),
        notes: count(r.get("notes")),
    })
}
