//! An endpoint's health for the Integration page: its recent deliveries counted by outcome, its
//! failed attempts, its last error and its last success. Bounded work: only the endpoint's
//! newest [`HEALTH_WINDOW_ROWS`] deliveries are looked at (through the `(endpoint_seq, seq)`
//! index), so that a busy endpoint's health stays cheap; `capped` says when the window held more.

use super::*;

/// Most deliveries one health reading looks at.
pub const HEALTH_WINDOW_ROWS: i64 = 10_000;

/// An endpoint's deliveries created since a time, and its recent failures.
#[derive(Clone, Debug, Default)]
pub struct EndpointHealth {
    /// Deliveries created since then (at most [`HEALTH_WINDOW_ROWS`]).
    pub deliveries: i64,
    pub delivered: i64,
    pub failed: i64,
    pub pending: i64,
    /// Failed attempts made since then.
    pub failed_attempts: i64,
    /// Whether more deliveries than [`HEALTH_WINDOW_ROWS`] were created since then.
    pub capped: bool,
    /// The newest failed attempt of the recent deliveries, with its delivery's id.
    pub last_error: Option<(String, AttemptRecord)>,
    /// When a recent delivery last succeeded.
    pub last_success_at: Option<Millis>,
}

/// The newest deliveries of endpoint `$1`, at most `$2` (its window).
const RECENT: &str =
    "SELECT seq FROM deliveries WHERE endpoint_seq = $1 ORDER BY seq DESC LIMIT $2";

macro_rules! health_on {
    ($pool:ty) => {
        use super::*;
        use crate::store::rows;

        /// The health of endpoint `endpoint_seq` since `since`.
        pub async fn endpoint_health(
            pool: &$pool,
            endpoint_seq: i64,
            since: Millis,
        ) -> Result<EndpointHealth> {
            let counts: (i64, i64, i64) = sqlx::query_as(
                "WITH recent AS (SELECT state, created_at FROM deliveries WHERE endpoint_seq = $1
                                 ORDER BY seq DESC LIMIT $2)
                 SELECT COUNT(*),
                        COALESCE(SUM(CASE WHEN state = 'delivered' THEN 1 ELSE 0 END), 0),
                        COALESCE(SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END), 0)
                 FROM recent WHERE created_at >= $3",
            )
            .bind(endpoint_seq)
            .bind(HEALTH_WINDOW_ROWS)
            .bind(since.0)
            .fetch_one(pool)
            .await?;
            let (deliveries, delivered, failed) = counts;
            let failed_attempts: i64 = sqlx::query_scalar(&format!(
                "SELECT COUNT(*) FROM attempts
                 WHERE delivery_seq IN ({RECENT}) AND at >= $3 AND error IS NOT NULL"
            ))
            .bind(endpoint_seq)
            .bind(HEALTH_WINDOW_ROWS)
            .bind(since.0)
            .fetch_one(pool)
            .await?;
            let last_error = sqlx::query(&format!(
                "SELECT d.id AS delivery_id, a.* FROM attempts a JOIN deliveries d ON d.seq = a.delivery_seq
                 WHERE a.delivery_seq IN ({RECENT}) AND a.error IS NOT NULL
                 ORDER BY a.at DESC LIMIT 1"
            ))
            .bind(endpoint_seq)
            .bind(HEALTH_WINDOW_ROWS)
            .fetch_optional(pool)
            .await?;
            let last_success_at: Option<i64> = sqlx::query_scalar(&format!(
                "SELECT MAX(at) FROM attempts WHERE delivery_seq IN ({RECENT}) AND error IS NULL"
            ))
            .bind(endpoint_seq)
            .bind(HEALTH_WINDOW_ROWS)
            .fetch_one(pool)
            .await?;
            Ok(EndpointHealth {
                deliveries,
                delivered,
                failed,
                pending: deliveries - delivered - failed,
                failed_attempts,
                capped: deliveries >= HEALTH_WINDOW_ROWS,
                last_error: last_error
                    .as_ref()
                    .map(|r| (rows::Columns::text(r, "delivery_id"), rows::attempt(r))),
                last_success_at: last_success_at.map(Millis),
            })
        }
    };
}

pub mod on_sqlite {
    health_on!(sqlx::SqlitePool);
}

pub mod on_postgres {
    health_on!(sqlx::PgPool);
}
