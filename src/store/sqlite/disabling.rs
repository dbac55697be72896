//! Disabling and enabling endpoints on SQLite (see [`crate::store::Disabled`]). Every function
//! runs in the writer's transaction.

use super::super::{PARKED, Result};
use crate::domain::Millis;
use rusqlite::{Connection, params};

/// See [`crate::store::Outbox::disable_endpoint`].
pub fn disable(conn: &Connection, endpoint_seq: i64, reason: &str, at: Millis) -> Result<bool> {
    let n = conn
        .prepare_cached(
            "UPDATE endpoints SET enabled = 0, disabled_reason = ?, disabled_at = ?,
                    probe_at = NULL, probe_seq = NULL
             WHERE seq = ? AND (enabled = 1 OR probe_at IS NOT NULL)",
        )?
        .execute(params![reason, at.0, endpoint_seq])?;
    Ok(n == 1)
}

/// See [`crate::store::Outbox::enable_endpoint`].
pub fn enable(conn: &Connection, endpoint_seq: i64, at: Millis) -> Result<bool> {
    let n = conn
        .prepare_cached(
            "UPDATE endpoints SET enabled = 1, disabled_reason = NULL, disabled_at = NULL,
                    probe_at = NULL, probe_seq = NULL, failing_since = NULL
             WHERE seq = ? AND enabled = 0",
        )?
        .execute([endpoint_seq])?;
    if n == 1 {
        release(conn, endpoint_seq, at)?;
    }
    Ok(n == 1)
}

/// Makes the held deliveries of an endpoint enabled again due at once: each lane's head, in
/// order (the rest of each lane follows behind it, as ever).
pub fn release(conn: &Connection, endpoint_seq: i64, now: Millis) -> Result<()> {
    conn.prepare_cached(
        "UPDATE deliveries INDEXED BY deliveries_lane SET next_attempt_at = ?1
         WHERE endpoint_seq = ?2 AND state IN ('ready', 'waiting') AND state = 'ready'
           AND leased = 0 AND next_attempt_at > ?1 AND next_attempt_at <> ?3",
    )?
    .execute(params![now.0, endpoint_seq, PARKED.0])?;
    Ok(())
}
