//! Lanes moving on after a batch of outcomes on PostgreSQL: every settled lane's next delivery
//! made ready in one statement, and with hand-off on, leased to this process at once and handed
//! to its workers (as a commit's own deliveries are: see [`super::fanout`]) — no claim for them.

use super::super::bodies::Recent;
use super::super::{Claimed, Result};
use super::outbox::{CLAIMED_COLUMNS, claimed, completed};
use crate::domain::Millis;
use sqlx::{PgConnection, Row};

/// What promoting did.
#[derive(Default)]
pub struct Promoted {
    /// Deliveries leased to this process's workers.
    pub handed_off: Vec<Claimed>,
    /// Whether any became ready for a claim (hand-off off, or an endpoint disabled for failing).
    pub claimable: bool,
}

/// Makes the head of each of `lanes` (endpoint, lane) ready if it is waiting (the lane has no
/// ready delivery left). The caller holds the lanes' locks. Each lane's head is found as
/// [`crate::store::lanes`] says: its first entry in the lane index, one descent however long
/// the lane.
pub async fn promote(
    conn: &mut PgConnection,
    lanes: &[(i64, &str)],
    now: Millis,
    lease_until: Option<Millis>,
    recent: &Recent,
) -> Result<Promoted> {
    if lanes.is_empty() {
        return Ok(Promoted::default());
    }
    let endpoints: Vec<i64> = lanes.iter().map(|l| l.0).collect();
    let names: Vec<&str> = lanes.iter().map(|l| l.1).collect();
    let rows = sqlx::query(&format!(
        "WITH s AS (SELECT DISTINCT * FROM unnest($1::bigint[], $2::text[]) AS s(endpoint_seq, lane)),
         heads AS (
             SELECT h.seq, s.endpoint_seq FROM s CROSS JOIN LATERAL (
                 SELECT d.seq, d.state FROM deliveries d
                  WHERE d.endpoint_seq = s.endpoint_seq AND d.lane = s.lane
                    AND d.state IN ('ready', 'waiting')
                  ORDER BY d.state, d.seq LIMIT 1) h
              WHERE h.state = 'waiting'),
         up AS (
             UPDATE deliveries d
                SET state = 'ready', leased = x.hand, attempts = d.attempts + x.hand::int,
                    tries = d.tries + x.hand::int,
                    next_attempt_at = CASE WHEN x.hand THEN $4 ELSE $3 END
               FROM (SELECT heads.seq, e.enabled AND $4::bigint IS NOT NULL AS hand
                       FROM heads JOIN endpoints e ON e.seq = heads.endpoint_seq) x
              WHERE d.seq = x.seq AND d.state = 'waiting'
             RETURNING d.*)
         SELECT {CLAIMED_COLUMNS}, d.leased AS handed
           FROM up d JOIN endpoints e ON e.seq = d.endpoint_seq JOIN events ev ON ev.seq = d.event_seq"
    ))
    .bind(&endpoints)
    .bind(&names)
    .bind(now.0)
    .bind(lease_until.map(|t| t.0))
    .fetch_all(&mut *conn)
    .await?;
    let mut promoted = Promoted::default();
    let mut partial = Vec::new();
    for r in &rows {
        match (r.get::<bool, _>("handed"), lease_until) {
            (true, Some(lease_until)) => partial.push(claimed(r, now, lease_until)),
            _ => promoted.claimable = true,
        }
    }
    if !partial.is_empty() {
        promoted.handed_off = completed(conn, partial, recent).await?;
    }
    Ok(promoted)
}
