//! The outbox's writes: claims under a lease, fenced outcomes, lane promotion, redelivery and
//! recovery. Every function runs in the writer's transaction.

use super::super::{Claimed, Endpoint, NextStep, Outcome, Result};
use crate::domain::Millis;
use sqlx::{Row, SqliteConnection};

/// Claims up to `limit` due deliveries of enabled endpoints, oldest due first.
pub async fn claim(
    conn: &mut SqliteConnection,
    now: Millis,
    lease_until: Millis,
    limit: u32,
) -> Result<Vec<Claimed>> {
    let rows = sqlx::query(
        "UPDATE deliveries SET attempts = attempts + 1, tries = tries + 1, next_attempt_at = ?1, leased = 1
         WHERE seq IN (SELECT d.seq FROM deliveries d JOIN endpoints e ON e.seq = d.endpoint_seq
                       WHERE d.state = 'ready' AND d.next_attempt_at <= ?2 AND e.enabled = 1
                       ORDER BY d.next_attempt_at LIMIT ?3)
         RETURNING seq",
    )
    .bind(lease_until.0)
    .bind(now.0)
    .bind(limit as i64)
    .fetch_all(&mut *conn)
    .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let seqs: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    let seqs = serde_json::to_string(&seqs).expect("integers serialize");
    let rows = sqlx::query(
        "SELECT d.seq, d.id, d.endpoint_seq, d.lane, d.attempts, d.tries, e.url, e.secret,
                e.previous_secret, e.previous_secret_until, ev.body
         FROM deliveries d JOIN endpoints e ON e.seq = d.endpoint_seq JOIN events ev ON ev.seq = d.event_seq
         WHERE d.seq IN (SELECT value FROM json_each(?1))",
    )
    .bind(seqs)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let mut secrets = vec![r.get::<String, _>("secret")];
            let until: Option<i64> = r.get("previous_secret_until");
            if let (Some(prev), Some(until)) =
                (r.get::<Option<String>, _>("previous_secret"), until)
                && until > now.0
            {
                secrets.push(prev);
            }
            Claimed {
                seq: r.get("seq"),
                id: r.get("id"),
                endpoint_seq: r.get("endpoint_seq"),
                lane: r.get("lane"),
                attempt: r.get("attempts"),
                tries: r.get("tries"),
                url: r.get("url"),
                secrets,
                body: r.get("body"),
            }
        })
        .collect())
}

/// Records each attempt; applies its consequence only if the lease is still this attempt's.
pub async fn finish(
    conn: &mut SqliteConnection,
    outcomes: Vec<Outcome>,
    now: Millis,
) -> Result<()> {
    for o in outcomes {
        let a = &o.attempt;
        sqlx::query(
            "INSERT OR REPLACE INTO attempts (delivery_seq, n, at, status_code, duration_ms, error, response_body)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(o.claimed.seq).bind(a.n).bind(a.at.0).bind(a.status_code.map(i64::from))
        .bind(a.duration_ms).bind(&a.error).bind(&a.response_body)
        .execute(&mut *conn)
        .await?;
        let (state, next) = match o.next {
            NextStep::Delivered => ("delivered", now),
            NextStep::Failed => ("failed", now),
            NextStep::RetryAt(at) => ("ready", at),
        };
        let changed = sqlx::query(
            "UPDATE deliveries SET state = ?, next_attempt_at = ?, leased = 0
             WHERE seq = ? AND attempts = ? AND state = 'ready'",
        )
        .bind(state)
        .bind(next.0)
        .bind(o.claimed.seq)
        .bind(o.claimed.attempt)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if changed == 1 && state != "ready" {
            promote(conn, o.claimed.endpoint_seq, &o.claimed.lane, now).await?;
        }
    }
    Ok(())
}

/// Hands back every lease: due again now. Only for a store no other process delivers from.
pub async fn release_leases(conn: &mut SqliteConnection, now: Millis) -> Result<u64> {
    let n = sqlx::query("UPDATE deliveries SET leased = 0, next_attempt_at = ? WHERE leased = 1 AND state = 'ready'")
        .bind(now.0)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(n)
}

/// Makes the oldest waiting delivery of a lane ready, if the lane has no ready one.
pub async fn promote(
    conn: &mut SqliteConnection,
    endpoint_seq: i64,
    lane: &str,
    now: Millis,
) -> Result<()> {
    sqlx::query(
        "UPDATE deliveries SET state = 'ready', next_attempt_at = ?3
         WHERE seq = (SELECT seq FROM deliveries WHERE endpoint_seq = ?1 AND lane = ?2 AND state = 'waiting'
                      ORDER BY seq LIMIT 1)
           AND NOT EXISTS (SELECT 1 FROM deliveries WHERE endpoint_seq = ?1 AND lane = ?2 AND state = 'ready')",
    )
    .bind(endpoint_seq)
    .bind(lane)
    .bind(now.0)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A sample event for one endpoint, in a lane of its own.
pub async fn enqueue_test(
    conn: &mut SqliteConnection,
    e: Endpoint,
    body: String,
    now: Millis,
) -> Result<String> {
    let event_seq: i64 = sqlx::query_scalar(
        "INSERT INTO events (id, team_seq, conversation_seq, name, created_at, body)
         VALUES (?, ?, NULL, 'messageAgent', ?, ?) RETURNING seq",
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
         VALUES (?, ?, ?, ?, 'ready', ?, ?)",
    )
    .bind(&id).bind(e.seq).bind(event_seq).bind(format!("test:{id}")).bind(now.0).bind(now.0)
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// Queues a delivered or failed delivery again, behind its lane's pending ones.
pub async fn redeliver(conn: &mut SqliteConnection, seq: i64, now: Millis) -> Result<()> {
    let row = sqlx::query(
        "UPDATE deliveries SET state = 'waiting', tries = 0, next_attempt_at = ?
         WHERE seq = ? AND state IN ('delivered', 'failed') RETURNING endpoint_seq, lane",
    )
    .bind(now.0)
    .bind(seq)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(r) = row {
        promote(conn, r.get(0), &r.get::<String, _>(1), now).await?;
    }
    Ok(())
}

/// Records a recovery of an endpoint's failed deliveries since `since`.
pub async fn create_recovery(
    conn: &mut SqliteConnection,
    endpoint_seq: i64,
    since: Millis,
    now: Millis,
) -> Result<u64> {
    let (count, upto): (i64, Option<i64>) = sqlx::query_as(
        "SELECT COUNT(*), MAX(seq) FROM deliveries WHERE endpoint_seq = ? AND state = 'failed' AND created_at >= ?",
    )
    .bind(endpoint_seq)
    .bind(since.0)
    .fetch_one(&mut *conn)
    .await?;
    if let Some(upto) = upto {
        sqlx::query(
            "INSERT INTO recoveries (endpoint_seq, since, after_seq, upto_seq, created_at) VALUES (?, ?, 0, ?, ?)",
        )
        .bind(endpoint_seq).bind(since.0).bind(upto).bind(now.0)
        .execute(&mut *conn)
        .await?;
    }
    Ok(count as u64)
}

/// Queues the next `batch` failed deliveries of the oldest recovery; false when none is open.
pub async fn recovery_step(conn: &mut SqliteConnection, now: Millis, batch: u32) -> Result<bool> {
    let Some(r) = sqlx::query(
        "SELECT seq, endpoint_seq, since, after_seq, upto_seq FROM recoveries ORDER BY seq LIMIT 1",
    )
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(false);
    };
    let (rseq, endpoint, since, after, upto): (i64, i64, i64, i64, i64) =
        (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4));
    let page: Vec<(i64, String)> = sqlx::query_as(
        "SELECT seq, lane FROM deliveries
         WHERE endpoint_seq = ? AND seq > ? AND seq <= ? AND state = 'failed' AND created_at >= ?
         ORDER BY seq LIMIT ?",
    )
    .bind(endpoint)
    .bind(after)
    .bind(upto)
    .bind(since)
    .bind(batch as i64)
    .fetch_all(&mut *conn)
    .await?;
    for (seq, _) in &page {
        sqlx::query(
            "UPDATE deliveries SET state = 'waiting', tries = 0, next_attempt_at = ? WHERE seq = ?",
        )
        .bind(now.0)
        .bind(seq)
        .execute(&mut *conn)
        .await?;
    }
    let mut lanes: Vec<&str> = page.iter().map(|(_, l)| l.as_str()).collect();
    lanes.sort_unstable();
    lanes.dedup();
    for lane in lanes {
        promote(conn, endpoint, lane, now).await?;
    }
    match page.last() {
        Some((last, _)) if page.len() == batch as usize => {
            sqlx::query("UPDATE recoveries SET after_seq = ? WHERE seq = ?")
                .bind(last)
                .bind(rseq)
                .execute(&mut *conn)
                .await?;
        }
        _ => {
            sqlx::query("DELETE FROM recoveries WHERE seq = ?")
                .bind(rseq)
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(true)
}
