//! The read queries that take more than a line, run on the read pool (never on the writer).

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

pub async fn delivery_by_id(
    pool: &SqlitePool,
    endpoint_seq: i64,
    id: &str,
) -> Result<Option<DeliveryRecord>> {
    let sql = format!("{DELIVERY_COLUMNS} WHERE d.endpoint_seq = ? AND d.id = ?");
    let row = sqlx::query(&sql)
        .bind(endpoint_seq)
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok(row.as_ref().map(rows::delivery))
}

pub async fn conversations(
    pool: &SqlitePool,
    team_seq: i64,
    status: Option<&str>,
    page: Page,
) -> Result<Vec<ConversationSummary>> {
    let rows = sqlx::query(
        "SELECT c.*, v.id AS visitor_id, v.name AS visitor_name, v.channel_name
         FROM conversations c JOIN visitors v ON v.seq = c.visitor_seq
         WHERE c.team_seq = ?1 AND c.seq < ?2 AND (?3 IS NULL OR c.status = ?3)
         ORDER BY c.seq DESC LIMIT ?4",
    )
    .bind(team_seq)
    .bind(page.before.unwrap_or(i64::MAX))
    .bind(status)
    .bind(page.limit as i64)
    .fetch_all(pool)
    .await?;
    rows.iter().map(rows::conversation_summary).collect()
}
