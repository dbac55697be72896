//! What the webhook calls take and answer, described for the OpenAPI document.

use crate::domain::{EventName, Millis};
use crate::store::Endpoint;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

/// The names of the six webhook events.
#[derive(ToSchema)]
#[schema(as = EventName)]
#[allow(dead_code)] // only described: the API takes and answers the names as strings
enum EventNameDoc {
    #[schema(rename = "start")]
    Start,
    #[schema(rename = "open")]
    Open,
    #[schema(rename = "end")]
    End,
    #[schema(rename = "email")]
    Email,
    #[schema(rename = "messageVisitor")]
    MessageVisitor,
    #[schema(rename = "messageAgent")]
    MessageAgent,
}

/// A new webhook endpoint.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"url": "https://example.com/palaver-hook", "events": ["start", "messageVisitor", "messageAgent", "end"], "description": "Our CRM"}))]
pub(crate) struct CreateEndpoint {
    /// Where the events are POSTed: http or https, at most 2048 characters; a public address
    /// unless the server allows private destinations.
    #[schema(max_length = 2048, pattern = "^https?://")]
    pub(super) url: String,
    /// The events it receives; all six when absent.
    #[schema(value_type = Option<Vec<EventNameDoc>>, min_items = 1)]
    pub(super) events: Option<Vec<String>>,
    /// A note for people.
    #[serde(default)]
    pub(super) description: String,
    /// Whether it receives events (true when absent); false records it as disabled by hand.
    pub(super) enabled: Option<bool>,
    /// Most events one request carries, 1 (each event alone, the default) to 100.
    #[schema(minimum = 1, maximum = 100)]
    pub(super) batch_size: Option<i64>,
    /// Most requests out to this webhook at once, 1 to 1000; `null` (the default): no limit.
    /// Requests over it wait their turn (not counted as attempts). Enforced by each process on
    /// its own requests.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    pub(super) max_in_flight: Option<serde_json::Value>,
    /// Most requests started per second to this webhook, evenly spaced (no burst), 1 to 1000;
    /// `null` (the default): no limit. Enforced by each process on its own requests.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    pub(super) max_per_second: Option<serde_json::Value>,
}

/// A change of some of a webhook's settings: absent fields stay as they are.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"enabled": false}))]
pub(crate) struct PatchEndpoint {
    #[schema(max_length = 2048, pattern = "^https?://")]
    pub(super) url: Option<String>,
    #[schema(value_type = Option<Vec<EventNameDoc>>, min_items = 1)]
    pub(super) events: Option<Vec<String>>,
    pub(super) description: Option<String>,
    /// false disables an enabled webhook by hand (`disabledReason` "disabled by hand"), and one
    /// Palaver disabled for failing too (no more probes); on one disabled by hand or by its
    /// receiver it changes nothing. true enables it again: its reason is forgotten and its
    /// held deliveries go out at once, in per-channel order.
    pub(super) enabled: Option<bool>,
    #[schema(minimum = 1, maximum = 100)]
    pub(super) batch_size: Option<i64>,
    /// Most requests out to this webhook at once, 1 to 1000; `null` (the default): no limit.
    /// Requests over it wait their turn (not counted as attempts). Enforced by each process on
    /// its own requests. Left out, it stays as it is.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    pub(super) max_in_flight: Option<serde_json::Value>,
    /// Most requests started per second to this webhook, evenly spaced (no burst), 1 to 1000;
    /// `null` (the default): no limit. Enforced by each process on its own requests. Left out, it stays as it is.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    pub(super) max_per_second: Option<serde_json::Value>,
}

/// A field given, `null` included (`Some(Value::Null)`); left out, it is `None`.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(d).map(Some)
}

/// A webhook endpoint, with the secret its deliveries are signed with (Standard Webhooks).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Webhook, example = json!({
    "id": "ep_3BtwB339AQx5NSoJzcKm", "url": "https://example.com/palaver-hook",
    "events": ["start", "open", "end", "email", "messageVisitor", "messageAgent"],
    "description": "Our CRM", "enabled": true, "batchSize": 1,
    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "createdAt": "2026-01-09T11:09:09.111Z"
}))]
pub(in crate::api) struct EndpointView {
    pub(super) id: String,
    pub(super) url: String,
    #[schema(value_type = Vec<EventNameDoc>)]
    pub(super) events: Vec<&'static str>,
    pub(super) description: String,
    pub(super) enabled: bool,
    /// Most events one request carries.
    pub(super) batch_size: i64,
    /// Most attempts in flight at once; `null`: no limit.
    #[schema(minimum = 1, maximum = 1000)]
    pub(super) max_in_flight: Option<u32>,
    /// Most attempts started per second; `null`: no limit.
    #[schema(minimum = 1, maximum = 1000)]
    pub(super) max_per_second: Option<u32>,
    /// The signing secret (`whsec_…`).
    #[schema(pattern = "^whsec_")]
    pub(super) secret: String,
    /// Until when the secret rotated out keeps signing too (absent when none does).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub(super) previous_secret_expires_at: Option<String>,
    #[schema(format = DateTime)]
    pub(super) created_at: String,
    /// Why the webhook is disabled, in words a person can act on: "disabled by hand" (PATCH
    /// enabled=false, or the Integration page), the receiver's 410 Gone, or every delivery
    /// failing for days (Palaver disabled it). `null` while enabled. While disabled, its pending
    /// deliveries are held: not sent, their retries not spent; enabled again, they go out in
    /// per-channel order.
    pub(super) disabled_reason: Option<String>,
    /// When it was disabled; `null` while enabled (and for a webhook disabled before Palaver
    /// recorded when).
    #[schema(format = DateTime)]
    pub(super) disabled_at: Option<String>,
    /// Only while Palaver disabled it for failing: when its oldest held delivery is tried next
    /// (a probe; a failed probe does not spend that delivery's retries). A successful probe
    /// enables it again. `null` otherwise: a webhook disabled by hand or by its receiver is not
    /// probed.
    #[schema(format = DateTime)]
    pub(super) next_probe_at: Option<String>,
}

/// A new secret, and until when the old one keeps signing too.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct Rotated {
    #[schema(pattern = "^whsec_")]
    pub(super) secret: String,
    #[schema(format = DateTime)]
    pub(super) previous_secret_expires_at: String,
}

/// A queued delivery.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(in crate::api) struct Queued {
    pub delivery_id: String,
}

impl From<&Endpoint> for EndpointView {
    fn from(e: &Endpoint) -> Self {
        EndpointView {
            id: e.id.clone(),
            url: e.url.clone(),
            events: EventName::ALL
                .into_iter()
                .filter(|n| e.events & n.bit() != 0)
                .map(EventName::as_str)
                .collect(),
            description: e.description.clone(),
            enabled: e.enabled,
            batch_size: e.batch_size,
            max_in_flight: e.limits.max_in_flight,
            max_per_second: e.limits.max_per_second,
            secret: e.secret.clone(),
            previous_secret_expires_at: e
                .previous_secret_until
                .filter(|until| e.previous_secret.is_some() && *until > Millis::now())
                .map(Millis::iso),
            created_at: e.created_at.iso(),
            disabled_reason: e.disabled.as_ref().map(|d| d.reason.clone()),
            disabled_at: e.disabled.as_ref().and_then(|d| d.at).map(Millis::iso),
            next_probe_at: e
                .disabled
                .as_ref()
                .and_then(|d| d.probe_at)
                .map(Millis::iso),
        }
    }
}
