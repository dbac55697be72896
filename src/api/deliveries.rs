//! A webhook's delivery log: list, read with every attempt, redeliver, recover; and the
//! endpoint's health (its last 24 hours). The log's reads serve the Slack endpoint's too
//! (`/slack/deliveries`).

use super::auth::AdminAuth;
use super::extract::{Body, List, PageQuery};
use super::webhooks::find;
use super::{ApiError, ApiResult, AppState, json};
use crate::domain::Millis;
use crate::store::{AttemptRecord, DeliveryRecord, DeliveryStatus};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::json as j;
use serde_json::value::RawValue;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/webhooks/{id}/deliveries", get(list))
        .route("/webhooks/{id}/deliveries/{delivery_id}", get(get_one))
        .route(
            "/webhooks/{id}/deliveries/{delivery_id}/redeliver",
            post(redeliver),
        )
        .route("/webhooks/{id}/recover", post(recover))
        .route("/webhooks/{id}/health", get(health))
}

/// How far back the health reading looks.
const HEALTH_PERIOD_MS: i64 = 24 * 3600 * 1000;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AttemptView {
    n: i64,
    at: String,
    status_code: Option<u16>,
    duration_ms: i64,
    error: Option<String>,
    response_body: String,
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

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeliveryView {
    id: String,
    endpoint_id: String,
    event_id: String,
    event: String,
    conversation_id: Option<String>,
    /// The visitor's channel, as in the payload (none for a test event).
    channel_name: Option<String>,
    status: &'static str,
    attempts: i64,
    next_attempt_at: Option<String>,
    created_at: String,
    /// The batch it is sent in: that request's `webhook-id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    batch_id: Option<String>,
    last_attempt: Option<AttemptView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload: Option<Box<RawValue>>,
    /// Why `payload` is absent: the event's body could not be rebuilt.
    #[serde(skip_serializing_if = "Option::is_none")]
    payload_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attempt_log: Option<Vec<AttemptView>>,
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

async fn list(
    State(s): State<AppState>,
    AdminAuth(t): AdminAuth,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> ApiResult<Response> {
    let e = find(&s, t.seq, &id).await?;
    list_of(&s, e.seq, q).await
}

/// An endpoint's delivery log, newest first (webhooks' and the Slack endpoint's).
pub(super) async fn list_of(s: &AppState, endpoint_seq: i64, q: PageQuery) -> ApiResult<Response> {
    let status = match q.status.as_deref() {
        None => None,
        Some(v) => Some(DeliveryStatus::parse(v).ok_or_else(|| {
            ApiError::bad_request(format!(
                "`status` is pending, delivered or failed, not {v:?}"
            ))
        })?),
    };
    let page = q.page()?;
    let list = List::new(
        s.store.deliveries(endpoint_seq, status, page).await?,
        page.limit,
        |d| d.seq,
    );
    let data: Vec<DeliveryView> = list.data.iter().map(DeliveryView::from).collect();
    Ok(json(
        StatusCode::OK,
        &j!({"data": data, "nextCursor": list.next_cursor}),
    ))
}

async fn delivery(s: &AppState, endpoint_seq: i64, delivery_id: &str) -> ApiResult<DeliveryRecord> {
    s.store
        .delivery(endpoint_seq, delivery_id)
        .await?
        .ok_or_else(|| ApiError::not_found("delivery"))
}

async fn get_one(
    State(s): State<AppState>,
    AdminAuth(t): AdminAuth,
    Path((id, delivery_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let e = find(&s, t.seq, &id).await?;
    one_of(&s, e.seq, &delivery_id).await
}

/// One delivery of an endpoint with its payload and every attempt.
pub(super) async fn one_of(
    s: &AppState,
    endpoint_seq: i64,
    delivery_id: &str,
) -> ApiResult<Response> {
    let d = delivery(s, endpoint_seq, delivery_id).await?;
    let mut view = DeliveryView::from(&d);
    // A body that cannot be rebuilt (its messages deleted behind Palaver's back) leaves the
    // rest of the delivery readable.
    match s.store.event_body(d.seq).await {
        Ok(body) => {
            view.payload =
                Some(RawValue::from_string(body).map_err(|e| {
                    ApiError::from(crate::store::StoreError::Corrupt(e.to_string()))
                })?)
        }
        Err(crate::store::StoreError::Corrupt(reason)) => view.payload_error = Some(reason),
        Err(e) => return Err(e.into()),
    }
    view.attempt_log = Some(
        s.store
            .attempts(d.seq)
            .await?
            .iter()
            .map(AttemptView::from)
            .collect(),
    );
    Ok(json(StatusCode::OK, &view))
}

async fn redeliver(
    State(s): State<AppState>,
    AdminAuth(t): AdminAuth,
    Path((id, delivery_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let e = find(&s, t.seq, &id).await?;
    redeliver_of(&s, e.seq, &delivery_id).await
}

/// Queues an endpoint's delivery again (see [`crate::store::Outbox::redeliver`]).
pub(super) async fn redeliver_of(
    s: &AppState,
    endpoint_seq: i64,
    delivery_id: &str,
) -> ApiResult<Response> {
    let d = delivery(s, endpoint_seq, delivery_id).await?;
    s.store.redeliver(d.seq, Millis::now()).await?;
    Ok(json(StatusCode::ACCEPTED, &j!({"deliveryId": d.id})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Recover {
    since: String,
}

async fn recover(
    State(s): State<AppState>,
    AdminAuth(t): AdminAuth,
    Path(id): Path<String>,
    body: Body<Recover>,
) -> ApiResult<Response> {
    let e = find(&s, t.seq, &id).await?;
    let since = Millis::parse(&body.value.since).ok_or_else(|| {
        ApiError::unprocessable(format!(
            "`since` must be an ISO-8601 time such as 2026-01-09T11:09:09.111Z, not {:?}",
            body.value.since
        ))
    })?;
    let queued = s.store.create_recovery(e.seq, since, Millis::now()).await?;
    s.store.work_signal().notify_one();
    Ok(json(StatusCode::ACCEPTED, &j!({"queued": queued})))
}

/// `GET /webhooks/{id}/health`: the deliveries created in the last 24 hours by outcome, the
/// failed attempts made in them, the last error and the last success.
async fn health(
    State(s): State<AppState>,
    AdminAuth(t): AdminAuth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let e = find(&s, t.seq, &id).await?;
    let since = Millis::now().plus_ms(-HEALTH_PERIOD_MS);
    let h = s.store.endpoint_health(e.seq, since).await?;
    let last_error = h.last_error.as_ref().map(|(delivery_id, a)| {
        j!({"deliveryId": delivery_id, "at": a.at.iso(), "statusCode": a.status_code,
            "error": a.error, "durationMs": a.duration_ms})
    });
    Ok(json(
        StatusCode::OK,
        &j!({
            "since": since.iso(),
            "deliveries": h.deliveries,
            "delivered": h.delivered,
            "failed": h.failed,
            "pending": h.pending,
            "failedAttempts": h.failed_attempts,
            "capped": h.capped,
            "lastError": last_error,
            "lastSuccessAt": h.last_success_at.map(Millis::iso),
        }),
    ))
}
