//! Deliveries queued by people rather than by events: a webhook's test event, a redelivery and
//! a recovery of failed deliveries (worked in batches). Every function runs in the writer's
//! transaction.

use super::super::lanes;
use super::super::{Endpoint, PARKED, Result};
use super::outbox::promote;
use crate::domain::Millis;
use rusqlite::{Connection, OptionalExtension, params};

/// A sample event for one endpoint, in a lane of its own.
pub fn enqueue_test(conn: &Connection, e: &Endpoint, body: &str, now: Millis) -> Result<String> {
    conn.prepare_cached(
        "INSERT INTO events (id, team_seq, conversation_seq, name, created_at, body) VALUES (?, ?, NULL, 'messageAgent', ?, ?)",
    )?
    .execute(params![crate::domain::new_id("evt_"), e.team_seq, now.0, body])?;
    let event_seq = conn.last_insert_rowid();
    let id = crate::domain::new_id("msg_");
    conn.prepare_cached(
        "INSERT INTO deliveries (id, endpoint_seq, event_seq, lane, state, next_attempt_at, created_at)
         VALUES (?1, ?2, ?3, ?4, 'ready', ?5, ?5)",
    )?
    .execute(params![id, e.seq, event_seq, format!("test:{id}"), now.0])?;
    Ok(id)
}

/// Queues a delivered or failed delivery again, behind its lane's pending ones; a pending one
/// waiting for its next retry (not in flight, not parked in a batch) is tried now instead.
pub fn redeliver(conn: &Connection, seq: i64, now: Millis) -> Result<()> {
    let row: Option<(i64, String)> = conn
        .prepare_cached(
            "UPDATE deliveries SET state = 'waiting', tries = 0, next_attempt_at = ?, batch_id = NULL
             WHERE seq = ? AND state IN ('delivered', 'failed') RETURNING endpoint_seq, lane",
        )?
        .query_row(params![now.0, seq], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    if let Some((endpoint, lane)) = row {
        promote(conn, endpoint, &lane, now)?;
        return Ok(());
    }
    conn.prepare_cached(
        "UPDATE deliveries SET next_attempt_at = ?1
         WHERE seq = ?2 AND state = 'ready' AND leased = 0 AND next_attempt_at > ?1 AND next_attempt_at <> ?3",
    )?
    .execute(params![now.0, seq, PARKED.0])?;
    Ok(())
}

/// Records a recovery of an endpoint's failed deliveries since `since`.
pub fn create_recovery(
    conn: &Connection,
    endpoint_seq: i64,
    since: Millis,
    now: Millis,
) -> Result<u64> {
    let (count, upto): (i64, Option<i64>) = conn
        .prepare_cached("SELECT COUNT(*), MAX(seq) FROM deliveries WHERE endpoint_seq = ? AND state = 'failed' AND created_at >= ?")?
        .query_row(params![endpoint_seq, since.0], |r| Ok((r.get(0)?, r.get(1)?)))?;
    if let Some(upto) = upto {
        conn.prepare_cached("INSERT INTO recoveries (endpoint_seq, since, after_seq, upto_seq, created_at) VALUES (?, ?, 0, ?, ?)")?
            .execute(params![endpoint_seq, since.0, upto, now.0])?;
    }
    Ok(count as u64)
}

/// Queues the next `batch` failed deliveries of the oldest recovery; false when none is open.
pub fn recovery_step(conn: &Connection, now: Millis, batch: u32) -> Result<bool> {
    let Some((rseq, endpoint, since, after, upto)) = conn
        .prepare_cached("SELECT seq, endpoint_seq, since, after_seq, upto_seq FROM recoveries ORDER BY seq LIMIT 1")?
        .query_row([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?, r.get::<_, i64>(3)?, r.get::<_, i64>(4)?)))
        .optional()?
    else {
        return Ok(false);
    };
    let page: Vec<(i64, String)> = conn
        .prepare_cached(
            "SELECT seq, lane FROM deliveries
             WHERE endpoint_seq = ? AND seq > ? AND seq <= ? AND state = 'failed' AND created_at >= ?
             ORDER BY seq LIMIT ?",
        )?
        .query_map(params![endpoint, after, upto, since, batch], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut requeue = conn.prepare_cached(
        "UPDATE deliveries SET state = 'waiting', tries = 0, next_attempt_at = ?, batch_id = NULL WHERE seq = ?",
    )?;
    for (seq, _) in &page {
        requeue.execute(params![now.0, seq])?;
    }
    let mut lanes: Vec<&str> = page.iter().map(|(_, l)| l.as_str()).collect();
    lanes.sort_unstable();
    lanes.dedup();
    // Queued again, they keep their place: a newer head of the lane not yet sent waits again
    // (the page's first of a lane is its oldest), so the lane's oldest goes first.
    let mut behind = conn.prepare_cached(lanes::on_sqlite::HOLD_NEWER_HEAD)?;
    for lane in lanes {
        let oldest = page.iter().find(|(_, l)| l == lane).map_or(0, |(s, _)| *s);
        behind.execute(params![endpoint, lane, PARKED.0, oldest])?;
        promote(conn, endpoint, lane, now)?;
    }
    match page.last() {
        Some((last, _)) if page.len() == batch as usize => {
            conn.prepare_cached("UPDATE recoveries SET after_seq = ? WHERE seq = ?")?
                .execute(params![last, rseq])?;
        }
        _ => {
            conn.prepare_cached("DELETE FROM recoveries WHERE seq = ?")?
                .execute([rseq])?;
        }
    }
    Ok(true)
}
