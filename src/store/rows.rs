//! Row mapping shared by the backends: each backend's row type reads columns the same way.

use super::*;
use crate::domain::{ConversationStatus, Millis};
use sqlx::Row;

/// Typed column access, implemented for each backend's row type.
pub trait Columns {
    fn int(&self, c: &str) -> i64;
    fn opt_int(&self, c: &str) -> Option<i64>;
    fn text(&self, c: &str) -> String;
    fn opt_text(&self, c: &str) -> Option<String>;
    fn flag(&self, c: &str) -> bool;
}

macro_rules! columns {
    ($row:ty) => {
        impl Columns for $row {
            fn int(&self, c: &str) -> i64 {
                self.get(c)
            }
            fn opt_int(&self, c: &str) -> Option<i64> {
                self.get(c)
            }
            fn text(&self, c: &str) -> String {
                self.get(c)
            }
            fn opt_text(&self, c: &str) -> Option<String> {
                self.get(c)
            }
            fn flag(&self, c: &str) -> bool {
                self.get(c)
            }
        }
    };
}

columns!(sqlx::sqlite::SqliteRow);
columns!(sqlx::postgres::PgRow);

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

pub fn team(r: &impl Columns) -> Result<Team> {
    Ok(Team {
        seq: r.int("seq"),
        id: r.text("id"),
        name: r.text("name"),
        site_key: r.text("site_key"),
        widget: serde_json::from_str(&r.text("widget")).map_err(|_| corrupt("team widget"))?,
    })
}

pub fn endpoint(r: &impl Columns) -> Result<Endpoint> {
    Ok(Endpoint {
        seq: r.int("seq"),
        id: r.text("id"),
        team_seq: r.int("team_seq"),
        kind: EndpointKind::parse(&r.text("kind")).ok_or_else(|| corrupt("endpoint kind"))?,
        url: r.text("url"),
        events: r.int("events"),
        description: r.text("description"),
        enabled: r.flag("enabled"),
        secret: r.text("secret"),
        previous_secret: r.opt_text("previous_secret"),
        previous_secret_until: r.opt_int("previous_secret_until").map(Millis),
        batch_size: r.int("batch_size"),
        limits: Limits::of_columns(r.opt_int("max_in_flight"), r.opt_int("max_per_second")),
        created_at: Millis(r.int("created_at")),
        disabled: r.opt_text("disabled_reason").map(|reason| Disabled {
            reason,
            at: r.opt_int("disabled_at").map(Millis),
            probe_at: r.opt_int("probe_at").map(Millis),
        }),
    })
}

pub fn visitor(r: &impl Columns) -> Result<VisitorRecord> {
    Ok(VisitorRecord {
        seq: r.int("seq"),
        id: r.text("id"),
        team_seq: r.int("team_seq"),
        name: r.text("name"),
        channel_name: r.text("channel_name"),
        identity: serde_json::from_str(&r.text("identity"))
            .map_err(|_| corrupt("visitor identity"))?,
        version: r.int("version"),
    })
}

pub fn conversation(r: &impl Columns) -> Result<ConversationRecord> {
    Ok(ConversationRecord {
        seq: r.int("seq"),
        id: r.text("id"),
        team_seq: r.int("team_seq"),
        visitor_seq: r.int("visitor_seq"),
        status: ConversationStatus::parse(&r.text("status"))
            .ok_or_else(|| corrupt("conversation status"))?,
        agent_id: r.opt_text("agent_id"),
        agent: r.opt_text("agent"),
        started_at: Millis(r.int("started_at")),
        ended_at: r.opt_int("ended_at").map(Millis),
    })
}

pub fn conversation_summary(r: &impl Columns) -> Result<ConversationSummary> {
    Ok(ConversationSummary {
        conversation: conversation(r)?,
        visitor_id: r.text("visitor_id"),
        visitor_name: r.text("visitor_name"),
        channel_name: r.text("channel_name"),
        last_message_seq: r.opt_int("last_message_seq"),
        last_message: None,
    })
}

pub fn message(r: &impl Columns) -> MessageRecord {
    MessageRecord {
        seq: r.int("seq"),
        id: r.text("id"),
        agent_id: r.opt_text("agent_id"),
        user_name: r.text("user_name"),
        user_picture: r.text("user_picture"),
        text: r.text("text"),
        created_at: Millis(r.int("created_at")),
        origin: r.text("origin"),
    }
}

pub fn attempt(r: &impl Columns) -> AttemptRecord {
    AttemptRecord {
        n: r.int("n"),
        at: Millis(r.int("at")),
        status_code: r.opt_int("status_code").map(|c| c as u16),
        duration_ms: r.int("duration_ms"),
        error: r.opt_text("error"),
        response_body: r.text("response_body"),
    }
}

/// A delivery with its last attempt (columns of [`DELIVERY_COLUMNS`]).
pub fn delivery(r: &impl Columns) -> DeliveryRecord {
    let status = DeliveryStatus::from_state(&r.text("state"));
    DeliveryRecord {
        seq: r.int("seq"),
        id: r.text("id"),
        endpoint_id: r.text("endpoint_id"),
        event_id: r.text("event_id"),
        event: r.text("event"),
        conversation_id: r.opt_text("conversation_id"),
        channel_name: r.opt_text("channel_name"),
        status,
        attempts: r.int("attempts"),
        next_attempt_at: (status == DeliveryStatus::Pending)
            .then(|| Millis(r.int("next_attempt_at"))),
        created_at: Millis(r.int("created_at")),
        batch_id: r.opt_text("batch_id"),
        last_attempt: r.opt_int("n").map(|_| attempt(r)),
    }
}

/// The select list and joins behind [`delivery`]; the same SQL on every backend. A parked batch
/// member ([`super::PARKED`]) shows its batch's next attempt.
pub const DELIVERY_COLUMNS: &str =
    "SELECT d.seq, d.id, p.id AS endpoint_id, ev.id AS event_id, ev.name AS event,
        c.id AS conversation_id, v.channel_name, d.state, d.attempts, d.created_at, d.batch_id,
        CASE WHEN d.next_attempt_at = 9000000000000000
             THEN (SELECT MIN(b.next_attempt_at) FROM deliveries b WHERE b.batch_id = d.batch_id)
             ELSE d.next_attempt_at END AS next_attempt_at,
        a.n, a.at, a.status_code, a.duration_ms, a.error, a.response_body
    FROM deliveries d
    JOIN endpoints p ON p.seq = d.endpoint_seq
    JOIN events ev ON ev.seq = d.event_seq
    LEFT JOIN conversations c ON c.seq = ev.conversation_seq
    LEFT JOIN visitors v ON v.seq = c.visitor_seq
    LEFT JOIN attempts a ON a.delivery_seq = d.seq AND a.n = d.attempts";

/// The states a delivery status filter covers.
pub fn states(status: Option<DeliveryStatus>) -> &'static [&'static str] {
    match status {
        None => &["ready", "waiting", "delivered", "failed"],
        Some(DeliveryStatus::Pending) => &["ready", "waiting"],
        Some(DeliveryStatus::Delivered) => &["delivered"],
        Some(DeliveryStatus::Failed) => &["failed"],
    }
}
