//! Disabling and enabling endpoints on PostgreSQL (see [`crate::store::Disabled`]).

use super::super::{PARKED, Result};
use crate::domain::Millis;
use sqlx::PgConnection;

/// See [`crate::store::Outbox::disable_endpoint`].
pub async fn disable(
    conn: &mut PgConnection,
    endpoint_seq: i64,
    reason: &str,
    at: Millis,
) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE endpoints SET enabled = false, disabled_reason = $1, disabled_at = $2,
                probe_at = NULL, probe_seq = NULL
         WHERE seq = $3 AND (enabled OR probe_at IS NOT NULL)",
    )
    .bind(reason)
    .bind(at.0)
    .bind(endpoint_seq)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// See [`crate::store::Outbox::enable_endpoint`].
pub async fn enable(conn: &mut PgConnection, endpoint_seq: i64, at: Millis) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE endpoints SET enabled = true, disabled_reason = NULL, disabled_at = NULL,
                probe_at = NULL, probe_seq = NULL, failing_since = NULL
         WHERE seq = $1 AND NOT enabled",
    )
    .bind(endpoint_seq)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if n == 1 {
        release(conn, endpoint_seq, at).await?;
    }
    Ok(n == 1)
}

/// Makes the held deliveries of an endpoint enabled again due at once: each lane's head, in
/// order (the rest of each lane follows behind it, as ever).
pub async fn release(conn: &mut PgConnection, endpoint_seq: i64, now: Millis) -> Result<()> {
    sqlx::query(
        "UPDATE deliveries SET next_attempt_at = $1
         WHERE endpoint_seq = $2 AND state = 'ready' AND NOT leased
           AND next_attempt_at > $1 AND next_attempt_at <> $3",
    )
    .bind(now.0)
    .bind(endpoint_seq)
    .bind(PARKED.0)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
