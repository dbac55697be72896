//! Deliveries queued by people rather than by events: a webhook's test event, a redelivery and
//! a recovery of failed deliveries (worked in batches).

use super::super::lanes;
use super::super::rows::Columns;
use super::super::{Endpoint, PARKED, Result};
use super::commit::lock_lane;
use super::outbox::promote;
use crate::domain::Millis;
use sqlx::{PgConnection, Row};

/// A sample event for one endpoint, in a lane of its own.
pub async fn enqueue_test(
    conn: &mut PgConnection,
    e: &Endpoint,
    body: String,
    now: Millis,
) -> Result<String> {
    let event_seq: i64 = sqlx::query_scalar(
        "INSERT INTO events (id, team_seq, conversation_seq, name, created_at, body)
         VALUES ($1, $2, NULL, 'messageAgent', $3, $4) RETURNING seq",
    )
    .bind(crate::domain::new_id("evt_"))
    .bind(e.team_seq)
    .bind(now.0)
    .bind(body)
    .fetch_one(&mut *conn)
    .await?;
    let id = crate::domain::new_id("msg_");
    sqlx::query(
        "INSERT INTO deliveries (id, endpoint_seq, event_seq, lane, state, next_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, 'ready', $5, $5)",
    )
    .bind(&id).bind(e.seq).bind(event_seq).bind(format!("test:{id}")).bind(now.0)
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// Queues a delivered or failed delivery again, behind its lane's pending ones; a pending one
/// waiting for its next retry (not in flight, not parked in a batch) is tried now instead.
pub async fn redeliver(conn: &mut PgConnection, seq: i64, now: Millis) -> Result<()> {
    let lane: Option<String> = sqlx::query_scalar("SELECT lane FROM deliveries WHERE seq = $1")
        .bind(seq)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(lane) = lane else { return Ok(()) };
    lock_lane(conn, &lane).await?;
    let row = sqlx::query(
        "UPDATE deliveries SET state = 'waiting', tries = 0, next_attempt_at = $1, batch_id = NULL
         WHERE seq = $2 AND state IN ('delivered', 'failed') RETURNING endpoint_seq",
    )
    .bind(now.0)
    .bind(seq)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(r) = row {
        promote(conn, r.get(0), &lane, now).await?;
        return Ok(());
    }
    sqlx::query(
        "UPDATE deliveries SET next_attempt_at = $1
         WHERE seq = $2 AND state = 'ready' AND NOT leased AND next_attempt_at > $1 AND next_attempt_at <> $3",
    )
    .bind(now.0)
    .bind(seq)
    .bind(PARKED.0)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records a recovery of an endpoint's failed deliveries since `since`.
pub async fn create_recovery(
    conn: &mut PgConnection,
    endpoint_seq: i64,
    since: Millis,
    now: Millis,
) -> Result<u64> {
    let (count, upto): (i64, Option<i64>) = sqlx::query_as(
        "SELECT COUNT(*), MAX(seq) FROM deliveries WHERE endpoint_seq = $1 AND state = 'failed' AND created_at >= $2",
    )
    .bind(endpoint_seq)
    .bind(since.0)
    .fetch_one(&mut *conn)
    .await?;
    if let Some(upto) = upto {
        sqlx::query("INSERT INTO recoveries (endpoint_seq, since, after_seq, upto_seq, created_at) VALUES ($1, $2, 0, $3, $4)")
            .bind(endpoint_seq).bind(since.0).bind(upto).bind(now.0)
            .execute(&mut *conn)
            .await?;
    }
    Ok(count as u64)
}

/// Queues the next `batch` failed deliveries of the oldest recovery no other process is working.
pub async fn recovery_step(conn: &mut PgConnection, now: Millis, batch: u32) -> Result<bool> {
    let Some(r) = sqlx::query(
        "SELECT seq, endpoint_seq, since, after_seq, upto_seq FROM recoveries ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED",
    )
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(false);
    };
    let (rseq, endpoint, since, after, upto) = (
        r.int("seq"),
        r.int("endpoint_seq"),
        r.int("since"),
        r.int("after_seq"),
        r.int("upto_seq"),
    );
    let page: Vec<(i64, String)> = sqlx::query_as(
        "SELECT seq, lane FROM deliveries
         WHERE endpoint_seq = $1 AND seq > $2 AND seq <= $3 AND state = 'failed' AND created_at >= $4
         ORDER BY seq LIMIT $5",
    )
    .bind(endpoint).bind(after).bind(upto).bind(since).bind(batch as i64)
    .fetch_all(&mut *conn)
    .await?;
    let mut lanes: Vec<&str> = page.iter().map(|(_, l)| l.as_str()).collect();
    lanes.sort_unstable();
    lanes.dedup();
    for lane in &lanes {
        lock_lane(conn, lane).await?;
    }
    let seqs: Vec<i64> = page.iter().map(|(s, _)| *s).collect();
    sqlx::query("UPDATE deliveries SET state = 'waiting', tries = 0, next_attempt_at = $1, batch_id = NULL WHERE seq = ANY($2)")
        .bind(now.0)
        .bind(&seqs)
        .execute(&mut *conn)
        .await?;
    // Queued again, they keep their place: a newer head of the lane not yet sent waits again
    // (the page's first of a lane is its oldest), so the lane's oldest goes first.
    for lane in lanes {
        let oldest = page.iter().find(|(_, l)| l == lane).map_or(0, |(s, _)| *s);
        sqlx::query(lanes::on_postgres::HOLD_NEWER_HEAD)
            .bind(endpoint)
            .bind(lane)
            .bind(PARKED.0)
            .bind(oldest)
            .execute(&mut *conn)
            .await?;
        promote(conn, endpoint, lane, now).await?;
    }
    match page.last() {
        Some((last, _)) if page.len() == batch as usize => {
            sqlx::query("UPDATE recoveries SET after_seq = $1 WHERE seq = $2")
                .bind(last)
                .bind(rseq)
                .execute(&mut *conn)
                .await?;
        }
        _ => {
            sqlx::query("DELETE FROM recoveries WHERE seq = $1")
                .bind(rseq)
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(true)
}
