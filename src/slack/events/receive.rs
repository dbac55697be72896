//! `POST /slack/events`, the Events API request URL. A request is believed only when its
//! signature verifies with a connected team's signing secret (checked before the body is even
//! parsed; 401 otherwise). `url_verification` is answered with its challenge; an
//! `event_callback` is queued durably with its seen mark (a retry of a seen `event_id` is
//! answered 200 and dropped) and answered at once: the work happens in the inbox worker, well
//! within Slack's 3 seconds.

use super::kind::channel_of;
use crate::domain::Millis;
use crate::slack::signature::{Rejected, verify};
use crate::store::{SlackConnection, Store};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::Value;
use std::sync::Arc;
use tokio::sync::Notify;

/// Slack's event requests are small; anything near this is not Slack's.
const MAX_BODY: usize = 1 << 20;

#[derive(Clone)]
struct Receiver {
    store: Arc<dyn Store>,
    wake: Arc<Notify>,
}

/// The Events API receiver; `wake` is told when an event was queued.
pub fn router(store: Arc<dyn Store>, wake: Arc<Notify>) -> Router {
    Router::new()
        .route("/slack/events", post(receive))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(Receiver { store, wake })
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (timestamp, signature) = (
        header("x-slack-request-timestamp"),
        header("x-slack-signature"),
    );
    if timestamp.is_none() || signature.is_none() {
        return refuse(Rejected::BadSignature);
    }
    let connections = match r.store.slack_connections().await {
        Ok(c) => c,
        Err(e) => return unavailable(&e),
    };
    let now = Millis::now().0 / 1000;
    let mut signed_by = Vec::new();
    let mut why = Rejected::Mismatch;
    for c in connections {
        match verify(&c.signing_secret, timestamp, signature, &body, now) {
            Ok(()) => signed_by.push(c),
            Err(e) => why = e,
        }
    }
    if signed_by.is_empty() {
        return refuse(why);
    }
    match read(&body) {
        Request::NotJson => (StatusCode::BAD_REQUEST, "the body is not JSON").into_response(),
        Request::UrlVerification { challenge } => {
            axum::Json(serde_json::json!({ "challenge": challenge })).into_response()
        }
        Request::Event(event) => queue(&r, &signed_by, event).await,
        Request::IncompleteEvent => (
            StatusCode::BAD_REQUEST,
            "an event_callback without event_id or event",
        )
            .into_response(),
        Request::RateLimited { minute } => {
            tracing::warn!(
                minute = %minute,
                "Slack is dropping this app's events for a minute (over 30,000 an hour)"
            );
            StatusCode::OK.into_response()
        }
        Request::Other(kind) => {
            tracing::debug!(kind = %kind, "Slack request ignored");
            StatusCode::OK.into_response()
        }
    }
}

/// What a (verified) Events API request body asks.
#[derive(Debug, PartialEq)]
pub enum Request {
    NotJson,
    /// Slack checking the request URL: answer its challenge.
    UrlVerification {
        challenge: String,
    },
    /// An `event_callback` to queue.
    Event(Queued),
    /// An `event_callback` without `event_id` or an `event` object.
    IncompleteEvent,
    /// `app_rate_limited`: Slack drops this app's events for the minute given.
    RateLimited {
        minute: String,
    },
    /// Any other type, ignored.
    Other(String),
}

/// An `event_callback` as the inbox keeps it.
#[derive(Debug, PartialEq)]
pub struct Queued {
    pub event_id: String,
    /// The workspace (`team_id`) that sent it, `""` if none.
    pub workspace: String,
    /// Its lane: [`channel_of`] the event.
    pub channel: String,
    /// The `event` object, as stored and later read by the worker.
    pub body: String,
}

/// Reads a request body (after its signature verified).
pub fn read(body: &[u8]) -> Request {
    let Ok(envelope) = serde_json::from_slice::<Value>(body) else {
        return Request::NotJson;
    };
    let text = |key: &str| envelope[key].as_str().unwrap_or_default().to_string();
    match envelope["type"].as_str().unwrap_or_default() {
        "url_verification" => Request::UrlVerification {
            challenge: text("challenge"),
        },
        "event_callback" => {
            let (Some(event_id), Some(event)) = (
                envelope["event_id"].as_str(),
                envelope.get("event").filter(|e| e.is_object()),
            ) else {
                return Request::IncompleteEvent;
            };
            Request::Event(Queued {
                event_id: event_id.to_string(),
                workspace: text("team_id"),
                channel: channel_of(event).to_string(),
                body: serde_json::to_string(event).expect("JSON serializes"),
            })
        }
        "app_rate_limited" => Request::RateLimited {
            minute: envelope["minute_rate_limited"].to_string(),
        },
        other => Request::Other(other.to_string()),
    }
}

/// Queues an `event_callback` for the team of the workspace that sent it.
async fn queue(r: &Receiver, signed_by: &[SlackConnection], event: Queued) -> Response {
    let c = signed_by
        .iter()
        .find(|c| c.workspace_id == event.workspace)
        .unwrap_or(&signed_by[0]);
    let queued = r
        .store
        .queue_slack_event(
            &event.event_id,
            c.team_seq,
            &event.channel,
            &event.body,
            Millis::now(),
        )
        .await;
    match queued {
        Ok(true) => {
            r.wake.notify_one();
            StatusCode::OK.into_response()
        }
        Ok(false) => {
            tracing::debug!(event_id = %event.event_id, "Slack retried an event already queued");
            StatusCode::OK.into_response()
        }
        Err(e) => unavailable(&e),
    }
}

fn refuse(why: Rejected) -> Response {
    tracing::info!(reason = %why, "Slack events request refused");
    (
        StatusCode::UNAUTHORIZED,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        why.to_string(),
    )
        .into_response()
}

/// The store failed: Slack retries what is not answered 2xx.
fn unavailable(e: &crate::store::StoreError) -> Response {
    tracing::error!(error = %e, "a Slack event could not be queued; Slack will retry it");
    StatusCode::SERVICE_UNAVAILABLE.into_response()
}
