//! [`Purge`] on PostgreSQL, safe with several processes purging at once: finished deliveries
//! are taken `FOR UPDATE SKIP LOCKED`, so two processes take different rows and neither waits;
//! a conversation is purged only under its lane's lock (its visitor's: the one chat commits,
//! redeliveries, recoveries and lane promotions take), tried without waiting — a conversation
//! whose lane is busy is left for the next sweep. Each batch commits without waiting for the
//! WAL flush: a purge lost in a crash is done again.
//!
//! Pacing, so that purging never takes the pool from API calls: a process runs one batch at a
//! time ([`Pace`]), on a connection that is idle in the pool with nobody waiting for one (or a
//! new one while the pool has room), never queueing for one behind API calls; with none spare
//! it looks again shortly. After a batch it pauses nine times as long as the batch held its
//! connection, so that purging takes at most a tenth of one connection's time.

use super::PgStore;
use super::commit::lane_key;
use crate::domain::Millis;
use crate::store::Result;
use crate::store::purge::{ConversationCursor, Purge, PurgeBatch, Purged};
use async_trait::async_trait;
use sqlx::pool::PoolConnection;
use sqlx::{Acquire, PgConnection, Postgres, Row};
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, MutexGuard};

/// Small enough that a batch holds its connection and row locks a few milliseconds.
const BATCH: PurgeBatch = PurgeBatch {
    deliveries: 500,
    conversations: 20,
};
/// The pause after a batch, in multiples of the time it held its connection.
const PAUSE_FACTOR: u32 = 9;
/// How long to wait before looking again for a spare connection.
const RETRY: Duration = Duration::from_millis(10);

/// One batch at a time in this process, and when the next may start.
#[derive(Default)]
pub(super) struct Pace {
    next: Mutex<Option<Instant>>,
}

/// A batch's turn: the connection it runs on, and the pace to set when it is over.
struct Turn<'a> {
    conn: PoolConnection<Postgres>,
    next: MutexGuard<'a, Option<Instant>>,
    at: Instant,
}

impl Turn<'_> {
    /// The batch is over: the next waits nine times as long as this one took.
    fn done(mut self) {
        *self.next = Some(Instant::now() + self.at.elapsed() * PAUSE_FACTOR);
    }
}

impl PgStore {
    /// Waits for this process's previous batch and its pause, then for a spare connection.
    async fn turn(&self) -> Result<Turn<'_>> {
        let next = self.pace.next.lock().await;
        if let Some(at) = *next {
            tokio::time::sleep_until(at.into()).await;
        }
        loop {
            if let Some(conn) = self.spare().await? {
                let at = Instant::now();
                return Ok(Turn { conn, next, at });
            }
            tokio::time::sleep(RETRY).await;
        }
    }

    /// A connection nobody else wants: an idle one no caller is waiting for, or a new one
    /// while the pool has room and none idle. `None` when every connection is taken.
    async fn spare(&self) -> Result<Option<PoolConnection<Postgres>>> {
        if let Some(conn) = self.pool.try_acquire() {
            return Ok(Some(conn));
        }
        let max = self.pool.options().get_max_connections();
        if self.pool.num_idle() == 0 && self.pool.size() < max {
            return Ok(Some(self.pool.acquire().await?));
        }
        Ok(None)
    }
}

/// Whether `n` counts rows (never negative).
fn count(n: i64) -> u64 {
    n.max(0) as u64
}

#[async_trait]
impl Purge for PgStore {
    fn purge_batch(&self) -> PurgeBatch {
        BATCH
    }

    async fn purge_due(&self, before: Millis) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM deliveries
             WHERE state IN ('delivered', 'failed') AND next_attempt_at < $1",
        )
        .bind(before.0)
        .fetch_one(&self.pool)
        .await?;
        Ok(count(n))
    }

    async fn purge_deliveries(&self, before: Millis, limit: u32) -> Result<Purged> {
        let mut turn = self.turn().await?;
        let mut tx = turn.conn.begin().await?;
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
        turn.done();
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
        let mut turn = self.turn().await?;
        let mut tx = turn.conn.begin().await?;
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
        turn.done();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testdb::{self, TempDatabase};
    use std::sync::Arc;

    /// With every connection of the pool taken (API calls under load), a batch finds none to
    /// spare and waits for one instead of queueing; a caller already waiting gets a returned
    /// connection before the purge does; once the pool is quiet the batch runs.
    #[tokio::test]
    async fn a_batch_takes_only_a_connection_nobody_waits_for() {
        let Some(server) = testdb::server_url() else {
            return;
        };
        let db = TempDatabase::create(&server).await.unwrap();
        let store = Arc::new(PgStore::open(&db.url, 3).await.unwrap());
        let mut held = Vec::new();
        while store.pool.size() < 3 || store.pool.num_idle() > 0 {
            held.push(store.pool.acquire().await.unwrap());
        }
        assert!(store.spare().await.unwrap().is_none(), "the pool is full");
        let purge = tokio::spawn({
            let store = store.clone();
            async move { store.purge_deliveries(Millis::now(), 10).await }
        });

        // An API call queues for a connection; one comes back: it is the caller's.
        let (asked, mut asking) = tokio::sync::oneshot::channel();
        let caller = tokio::spawn({
            let store = store.clone();
            async move {
                let _ = asked.send(());
                store.pool.acquire().await.unwrap()
            }
        });
        (&mut asking).await.unwrap();
        tokio::task::yield_now().await;
        held.pop();
        let caller = caller.await.unwrap();
        assert!(!purge.is_finished(), "the purge took a caller's connection");

        drop((held, caller));
        let purged = purge.await.unwrap().unwrap();
        assert_eq!(purged, Purged::default());
    }
}
