//! [`Purge`] on SQLite: each batch is an idle job of the writer ([`super::idle`]): it runs only
//! when no other job is queued, nothing is being committed and the writer has had nothing else
//! to do for a moment, in a lazy transaction of its own (a purge lost in a crash is done again
//! by the next sweep). So a burst that keeps the writer busy is not slowed: the purge waits for
//! it to end. A batch is small enough to hold the writer about a millisecond, so that a job
//! arriving while it runs is hardly delayed.
//!
//! SQLite gives a new row the highest `seq` plus one, so deleting a table's newest row would
//! hand its `seq` to the next one: a team feed's position (an event's `seq`) could then name
//! another event. The newest delivery, event, message and conversation are therefore never
//! purged; the next sweep takes them once newer rows exist.

use super::*;
use crate::store::purge::{ConversationCursor, Purge, PurgeBatch, Purged};
use rusqlite::{Connection, OptionalExtension, params};

/// About a millisecond of the writer's time each: in a store holding a million delivered
/// deliveries with their attempts, a batch of 100 took 0.5 to 0.9 ms of CPU (1,000 took 5 to
/// 11 ms). An ended conversation deletes rows in seven tables (a few dozen for a short chat), so
/// 4 of them are about as much work as 100 deliveries (an estimate, not measured).
const BATCH: PurgeBatch = PurgeBatch {
    deliveries: 100,
    conversations: 4,
};

#[async_trait]
impl Purge for SqliteStore {
    fn purge_batch(&self) -> PurgeBatch {
        BATCH
    }

    async fn purge_due(&self, before: Millis) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM deliveries
             WHERE state IN ('delivered', 'failed') AND next_attempt_at < ?",
        )
        .bind(before.0)
        .fetch_one(&self.read)
        .await?;
        Ok(n.max(0) as u64)
    }

    async fn purge_deliveries(&self, before: Millis, limit: u32) -> Result<Purged> {
        self.writer
            .when_idle(move |c| deliveries(c, before, limit))
            .await
    }

    async fn purge_conversations(
        &self,
        before: Millis,
        after: ConversationCursor,
        limit: u32,
    ) -> Result<(Purged, Option<ConversationCursor>)> {
        self.writer
            .when_idle(move |c| conversations(c, before, after, limit))
            .await
    }
}

fn newest(conn: &Connection, table: &str) -> Result<i64> {
    let sql = format!("SELECT COALESCE(MAX(seq), 0) FROM {table}");
    Ok(conn.prepare_cached(&sql)?.query_row([], |r| r.get(0))?)
}

fn deliveries(conn: &Connection, before: Millis, limit: u32) -> Result<Purged> {
    let newest = newest(conn, "deliveries")?;
    let found: Vec<(i64, i64)> = conn
        .prepare_cached(
            "SELECT seq, event_seq FROM deliveries
             WHERE state IN ('delivered', 'failed') AND next_attempt_at < ?1 AND seq < ?2
             ORDER BY next_attempt_at LIMIT ?3",
        )?
        .query_map(params![before.0, newest, limit], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut purged = Purged::default();
    let mut attempts = conn.prepare_cached("DELETE FROM attempts WHERE delivery_seq = ?")?;
    let mut progress = conn.prepare_cached("DELETE FROM slack_progress WHERE delivery_seq = ?")?;
    let mut delivery = conn.prepare_cached("DELETE FROM deliveries WHERE seq = ?")?;
    for (seq, _) in &found {
        purged.attempts += attempts.execute([seq])? as u64;
        progress.execute([seq])?;
        purged.deliveries += delivery.execute([seq])? as u64;
    }
    let mut events: Vec<i64> = found.iter().map(|(_, e)| *e).collect();
    events.sort_unstable();
    events.dedup();
    let mut event = conn.prepare_cached(
        "DELETE FROM events WHERE seq = ?1 AND conversation_seq IS NULL
         AND NOT EXISTS (SELECT 1 FROM deliveries WHERE event_seq = ?1)",
    )?;
    for seq in events {
        purged.events += event.execute([seq])? as u64;
    }
    Ok(purged)
}

fn conversations(
    conn: &Connection,
    before: Millis,
    after: ConversationCursor,
    limit: u32,
) -> Result<(Purged, Option<ConversationCursor>)> {
    let found: Vec<(i64, i64, i64)> = conn
        .prepare_cached(
            "SELECT ended_at, seq, visitor_seq FROM conversations
             WHERE status = 'ended' AND ended_at < ?1 AND (ended_at, seq) > (?2, ?3)
             ORDER BY ended_at, seq LIMIT ?4",
        )?
        .query_map(params![before.0, after.0, after.1, limit], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let cursor = (found.len() == limit as usize)
        .then(|| found.last().map(|(at, seq, _)| (*at, *seq)))
        .flatten();
    let keep = newest_rows_conversations(conn)?;
    let mut pending = conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM events e JOIN deliveries d ON d.event_seq = e.seq
                        WHERE e.conversation_seq = ? AND d.state NOT IN ('delivered', 'failed'))",
    )?;
    let mut purged = Purged::default();
    for (_, seq, visitor) in found {
        if keep.contains(&seq) || pending.query_row([seq], |r| r.get::<_, bool>(0))? {
            continue;
        }
        purged += conversation(conn, seq, visitor)?;
    }
    Ok((purged, cursor))
}

/// The conversations holding the newest conversation, event or message row (see the module docs).
fn newest_rows_conversations(conn: &Connection) -> Result<Vec<i64>> {
    let mut keep = vec![newest(conn, "conversations")?];
    for sql in [
        "SELECT conversation_seq FROM events WHERE seq = (SELECT MAX(seq) FROM events)",
        "SELECT conversation_seq FROM messages WHERE seq = (SELECT MAX(seq) FROM messages)",
    ] {
        let found: Option<Option<i64>> = conn
            .prepare_cached(sql)?
            .query_row([], |r| r.get(0))
            .optional()?;
        keep.extend(found.flatten());
    }
    Ok(keep)
}

/// Deletes one conversation and everything of it; bumps its visitor's version.
fn conversation(conn: &Connection, seq: i64, visitor: i64) -> Result<Purged> {
    let run = |sql: &str| -> Result<u64> { Ok(conn.prepare_cached(sql)?.execute([seq])? as u64) };
    let mut p = Purged {
        attempts: run("DELETE FROM attempts WHERE delivery_seq IN
                         (SELECT d.seq FROM events e JOIN deliveries d ON d.event_seq = e.seq
                          WHERE e.conversation_seq = ?)")?,
        ..Purged::default()
    };
    run("DELETE FROM slack_progress WHERE delivery_seq IN
           (SELECT d.seq FROM events e JOIN deliveries d ON d.event_seq = e.seq
            WHERE e.conversation_seq = ?)")?;
    p.deliveries = run("DELETE FROM deliveries WHERE event_seq IN
                          (SELECT seq FROM events WHERE conversation_seq = ?)")?;
    p.events = run("DELETE FROM events WHERE conversation_seq = ?")?;
    p.messages = run("DELETE FROM messages WHERE conversation_seq = ?")?;
    p.notes = run("DELETE FROM notes WHERE conversation_seq = ?")?;
    p.conversations = run("DELETE FROM conversations WHERE seq = ?")?;
    conn.prepare_cached("UPDATE visitor_versions SET version = version + 1 WHERE seq = ?")?
        .execute([visitor])?;
    Ok(p)
}
