//! What the delivery log's calls take and answer, described for the OpenAPI document.

use crate::domain::Millis;
use crate::store::{AttemptRecord, DeliveryRecord};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::ToSchema;

/// One try at sending a delivery.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Attempt)]
pub(super) struct AttemptView {
    /// 1 for the first try.
    pub(super) n: i64,
    #[schema(format = DateTime)]
    pub(super) at: String,
    /// The receiver's status; `null` when it did not answer.
    pub(super) status_code: Option<u16>,
    pub(super) duration_ms: i64,
    /// Why it failed (a network error, a timeout, a refused address…); `null` on success.
    pub(super) error: Option<String>,
    /// The first KiB of the receiver's answer.
    pub(super) response_body: String,
}

impl From<&AttemptRecord> for AttemptView {
    fn from(a: &AttemptRecord) -> Self {
        AttemptView {
            n: a.n,
            at: a.at.iso(),
            status_code: a.status_code,
            duration_ms: a.duration_ms,
            error: a.error.clone(),
            response_body: a.response_body.clone(),
        }
    }
}

/// A delivery of an event to an endpoint; read alone, with its payload and every attempt.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Delivery)]
pub(in crate::api) struct DeliveryView {
    pub(super) id: String,
    pub(super) endpoint_id: String,
    pub(super) event_id: String,
    /// The event's name (`start`, `messageAgent`…).
    pub(super) event: String,
    pub(super) conversation_id: Option<String>,
    /// The visitor's channel, as in the payload (none for a test event).
    pub(super) channel_name: Option<String>,
    #[schema(value_type = crate::api::query::DeliveryFilter)]
    pub(super) status: &'static str,
    pub(super) attempts: i64,
    /// When the next try is due; `null` when none is.
    #[schema(format = DateTime)]
    pub(super) next_attempt_at: Option<String>,
    #[schema(format = DateTime)]
    pub(super) created_at: String,
    /// The batch it is sent in: that request's `webhook-id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) batch_id: Option<String>,
    pub(super) last_attempt: Option<AttemptView>,
    /// What is sent (read alone): the webhook body (see /schemas/webhook.json), or the event a
    /// Slack delivery posts.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<serde_json::Value>)]
    pub(super) payload: Option<Box<RawValue>>,
    /// Why `payload` is absent: the event's body could not be rebuilt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) payload_error: Option<String>,
    /// Every attempt, oldest first (read alone).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) attempt_log: Option<Vec<AttemptView>>,
}

impl From<&DeliveryRecord> for DeliveryView {
    fn from(d: &DeliveryRecord) -> Self {
        DeliveryView {
            id: d.id.clone(),
            endpoint_id: d.endpoint_id.clone(),
            event_id: d.event_id.clone(),
            event: d.event.clone(),
            conversation_id: d.conversation_id.clone(),
            channel_name: d.channel_name.clone(),
            status: d.status.as_str(),
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at.map(Millis::iso),
            created_at: d.created_at.iso(),
            batch_id: d.batch_id.clone(),
            last_attempt: d.last_attempt.as_ref().map(AttemptView::from),
            payload: None,
            payload_error: None,
            attempt_log: None,
        }
    }
}
/// Since when to queue the failed deliveries again.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"since": "2026-01-09T11:09:09.111Z"}))]
pub(crate) struct Recover {
    /// An ISO-8601 time.
    #[schema(format = DateTime)]
    pub(crate) since: String,
}

/// How many failed deliveries were queued again.
#[derive(Serialize, ToSchema)]
pub(super) struct Recovered {
    pub(super) queued: u64,
}
/// A webhook's last 24 hours.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = WebhookHealth)]
pub(super) struct Health {
    /// The start of the period.
    #[schema(format = DateTime)]
    pub(super) since: String,
    /// Deliveries created in it…
    pub(super) deliveries: i64,
    /// …of which delivered…
    pub(super) delivered: i64,
    /// …failed for good…
    pub(super) failed: i64,
    /// …and still pending.
    pub(super) pending: i64,
    /// Failed attempts made at them.
    pub(super) failed_attempts: i64,
    /// Whether the counts stopped at their cap (a very busy endpoint).
    pub(super) capped: bool,
    pub(super) last_error: Option<LastError>,
    #[schema(format = DateTime)]
    pub(super) last_success_at: Option<String>,
}

/// The last failed attempt.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct LastError {
    pub(super) delivery_id: String,
    #[schema(format = DateTime)]
    pub(super) at: String,
    pub(super) status_code: Option<u16>,
    pub(super) error: Option<String>,
    pub(super) duration_ms: i64,
}
