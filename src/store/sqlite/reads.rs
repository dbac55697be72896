//! SQLite's own read queries (the shared ones are in `store::shared_reads`), run on the read pool.

use super::super::rows::{self, DELIVERY_COLUMNS};
use super::super::*;
use sqlx::SqlitePool;

pub async fn deliveries(
    pool: &SqlitePool,
    endpoint_seq: i64,
    status: Option<DeliveryStatus>,
    page: Page,
) -> Result<Vec<DeliveryRecord>> {
    let sql = format!(
        "{DELIVERY_COLUMNS} WHERE d.endpoint_seq = ? AND d.seq < ? AND d.state IN (SELECT value FROM json_each(?))
         ORDER BY d.seq DESC LIMIT ?"
    );
    let rows = sqlx::query(&sql)
        .bind(endpoint_seq)
        .bind(page.before.unwrap_or(i64::MAX))
        .bind(serde_json::to_string(rows::states(status)).expect("strings serialize"))
        .bind(page.limit as i64)
        .fetch_all(pool)
        .await?;
    Ok(rows.iter().map(rows::delivery).collect())
}
