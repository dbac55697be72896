//! Row mapping and the read queries, run on the read pool (never on the writer).

use super::super::*;
use crate::domain::{ConversationStatus, Millis};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

pub fn team(r: &SqliteRow) -> Team {
    Team {
        seq: r.get("seq"),
        id: r.get("id"),
        name: r.get("name"),
        site_key: r.get("site_key"),
    }
}

pub fn endpoint(r: &SqliteRow) -> Endpoint {
    Endpoint {
        seq: r.get("seq"),
        id: r.get("id"),
        team_seq: r.get("team_seq"),
        url: r.get("url"),
        events: r.get("events"),
        description: r.get("description"),
        enabled: r.get("enabled"),
        secret: r.get("secret"),
        previous_secret: r.get("previous_secret"),
        previous_secret_until: r.get::<Option<i64>, _>("previous_secret_until").map(Millis),
        created_at: Millis(r.get("created_at")),
    }
}

pub fn visitor(r: &SqliteRow) -> Result<VisitorRecord> {
    Ok(VisitorRecord {
        seq: r.get("seq"),
        id: r.get("id"),
        team_seq: r.get("team_seq"),
        name: r.get("name"),
        channel_name: r.get("channel_name"),
        identity: serde_json::from_str(r.get("identity"))
            .map_err(|_| corrupt("visitor identity"))?,
        version: r.get("version"),
    })
}

pub fn conversation(r: &SqliteRow) -> Result<ConversationRecord> {
    Ok(ConversationRecord {
        seq: r.get("seq"),
        id: r.get("id"),
        team_seq: r.get("team_seq"),
        visitor_seq: r.get("visitor_seq"),
        status: ConversationStatus::parse(r.get("status"))
            .ok_or_else(|| corrupt("conversation status"))?,
        agent_id: r.get("agent_id"),
        agent: r.get("agent"),
        started_at: Millis(r.get("started_at")),
        ended_at: r.get::<Option<i64>, _>("ended_at").map(Millis),
    })
}

pub fn message(r: &SqliteRow) -> MessageRecord {
    MessageRecord {
        seq: r.get("seq"),
        id: r.get("id"),
        agent_id: r.get("agent_id"),
        user_name: r.get("user_name"),
        user_picture: r.get("user_picture"),
        text: r.get("text"),
        created_at: Millis(r.get("created_at")),
    }
}

pub fn attempt(r: &SqliteRow) -> AttemptRecord {
    AttemptRecord {
        n: r.get("n"),
        at: Millis(r.get("at")),
        status_code: r.get::<Option<i64>, _>("status_code").map(|c| c as u16),
        duration_ms: r.get("duration_ms"),
        error: r.get("error"),
        response_body: r.get("response_body"),
    }
}

fn delivery(r: &SqliteRow) -> DeliveryRecord {
    let status = DeliveryStatus::from_state(r.get("state"));
    let last = r.get::<Option<i64>, _>("n").map(|_| attempt(r));
    DeliveryRecord {
        seq: r.get("seq"),
        id: r.get("id"),
        endpoint_id: r.get("endpoint_id"),
        event_id: r.get("event_id"),
        event: r.get("event"),
        conversation_id: r.get("conversation_id"),
        status,
        attempts: r.get("attempts"),
        next_attempt_at: (status == DeliveryStatus::Pending)
            .then(|| Millis(r.get("next_attempt_at"))),
        created_at: Millis(r.get("created_at")),
        last_attempt: last,
    }
}

const DELIVERY_SELECT: &str =
    "SELECT d.seq, d.id, p.id AS endpoint_id, ev.id AS event_id, ev.name AS event,
        c.id AS conversation_id, d.state, d.attempts, d.next_attempt_at, d.created_at,
        a.n, a.at, a.status_code, a.duration_ms, a.error, a.response_body
    FROM deliveries d
    JOIN endpoints p ON p.seq = d.endpoint_seq
    JOIN events ev ON ev.seq = d.event_seq
    LEFT JOIN conversations c ON c.seq = ev.conversation_seq
    LEFT JOIN attempts a ON a.delivery_seq = d.seq AND a.n = d.attempts";

pub async fn deliveries(
    pool: &SqlitePool,
    endpoint_seq: i64,
    status: Option<DeliveryStatus>,
    page: Page,
) -> Result<Vec<DeliveryRecord>> {
    let states: &[&str] = match status {
        None => &["ready", "waiting", "delivered", "failed"],
        Some(DeliveryStatus::Pending) => &["ready", "waiting"],
        Some(DeliveryStatus::Delivered) => &["delivered"],
        Some(DeliveryStatus::Failed) => &["failed"],
    };
    let sql = format!(
        "{DELIVERY_SELECT} WHERE d.endpoint_seq = ? AND d.seq < ? AND d.state IN (SELECT value FROM json_each(?))
         ORDER BY d.seq DESC LIMIT ?"
    );
    let rows = sqlx::query(&sql)
        .bind(endpoint_seq)
        .bind(page.before.unwrap_or(i64::MAX))
        .bind(serde_json::to_string(states).expect("strings serialize"))
        .bind(page.limit as i64)
        .fetch_all(pool)
        .await?;
    Ok(rows.iter().map(delivery).collect())
}

pub async fn delivery_by_id(
    pool: &SqlitePool,
    endpoint_seq: i64,
    id: &str,
) -> Result<Option<DeliveryRecord>> {
    let sql = format!("{DELIVERY_SELECT} WHERE d.endpoint_seq = ? AND d.id = ?");
    let row = sqlx::query(&sql)
        .bind(endpoint_seq)
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok(row.as_ref().map(delivery))
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
    rows.iter()
        .map(|r| {
            Ok(ConversationSummary {
                conversation: conversation(r)?,
                visitor_id: r.get("visitor_id"),
                visitor_name: r.get("visitor_name"),
                channel_name: r.get("channel_name"),
            })
        })
        .collect()
}
