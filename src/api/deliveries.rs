//! A webhook's delivery log: list, read with every attempt, redeliver, recover; and the
//! endpoint's health (its last 24 hours). The log's reads serve the Slack endpoint's too
//! (`/slack/deliveries`).

pub(crate) mod shapes;

use super::auth::AdminAuth;
use super::extract::{Body, List};
use super::query::{DeliveryQuery, Query};
use super::webhooks::{ID, Queued, find};
use super::{ApiError, ApiResult, AppState, json};
use crate::domain::Millis;
use crate::store::{DeliveryRecord, DeliveryStatus};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::value::RawValue;
pub(super) use shapes::DeliveryView;
use shapes::{AttemptView, Health, LastError, Recover, Recovered};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get_one))
        .routes(routes!(redeliver))
        .routes(routes!(recover))
        .routes(routes!(health))
}

/// The delivery's id in the path.
pub(super) const DELIVERY_ID: &str = "The delivery's id (`msg_…`), as listed";

/// How far back the health reading looks.
const HEALTH_PERIOD_MS: i64 = 24 * 3600 * 1000;

/// A webhook's deliveries, newest first
#[utoipa::path(get, path = "/webhooks/{id}/deliveries", tag = "webhooks", operation_id = "listDeliveries",
    security(("apiKey" = []), ("session" = [])),
    params(("id" = String, Path, description = ID), DeliveryQuery),
    responses(
        (status = 200, description = "A page of deliveries", body = List<DeliveryView>),
        (status = 404, description = "No webhook of this team has this id"),
    ))]
async fn list(
    State(s): State<AppState>,
    AdminAuth(t): AdminAuth,
    Path(id): Path<String>,
    Query(q): Query<DeliveryQuery>,
) -> ApiResult<Response> {
    let e = find(&s, t.seq, &id).await?;
    list_of(&s, e.seq, q).await
}

/// An endpoint's delivery log, newest first (webhooks' and the Slack endpoint's).
pub(super) async fn list_of(
    s: &AppState,
    endpoint_seq: i64,
    q: DeliveryQuery,
) -> ApiResult<Response> {
    let status = q
        .status
        .map(|f| DeliveryStatus::parse(f.as_str()).expect("the filters are statuses"));
    let page = super::query::page(q.limit, q.cursor.as_deref())?;
    let list = List::new(
        s.store.deliveries(endpoint_seq, status, page).await?,
        page.limit,
        |d| d.seq,
    );
    let data: Vec<DeliveryView> = list.data.iter().map(DeliveryView::from).collect();
    Ok(json(
        StatusCode::OK,
        &List {
            data,
            next_cursor: list.next_cursor,
        },
    ))
}

async fn delivery(s: &AppState, endpoint_seq: i64, delivery_id: &str) -> ApiResult<DeliveryRecord> {
    s.store
        .delivery(endpoint_seq, delivery_id)
        .await?
        .ok_or_else(|| ApiError::not_found("delivery"))
}

/// A delivery with its payload and every attempt
#[utoipa::path(get, path = "/webhooks/{id}/deliveries/{deliveryId}", tag = "webhooks", operation_id = "getDelivery",
    security(("apiKey" = []), ("session" = [])),
    params(("id" = String, Path, description = ID), ("deliveryId" = String, Path, description = DELIVERY_ID)),
    responses(
        (status = 200, description = "The delivery", body = DeliveryView),
        (status = 404, description = "No such webhook, or no such delivery of it"),
    ))]
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

/// Queue a delivery again now (the same `webhook-id`)
#[utoipa::path(post, path = "/webhooks/{id}/deliveries/{deliveryId}/redeliver", tag = "webhooks", operation_id = "redeliver",
    security(("apiKey" = []), ("session" = [])),
    params(("id" = String, Path, description = ID), ("deliveryId" = String, Path, description = DELIVERY_ID)),
    responses(
        (status = 202, description = "Queued", body = Queued),
        (status = 404, description = "No such webhook, or no such delivery of it"),
    ))]
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
    Ok(json(StatusCode::ACCEPTED, &Queued { delivery_id: d.id }))
}

/// Queue again every failed delivery since a time
#[utoipa::path(post, path = "/webhooks/{id}/recover", tag = "webhooks", operation_id = "recoverDeliveries",
    security(("apiKey" = []), ("session" = [])),
    params(("id" = String, Path, description = ID)),
    request_body = Recover,
    responses(
        (status = 202, description = "Queued", body = Recovered),
        (status = 404, description = "No webhook of this team has this id"),
        (status = 422, description = "`since` is not an ISO-8601 time"),
    ))]
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
    Ok(json(StatusCode::ACCEPTED, &Recovered { queued }))
}

/// A webhook's health: its last 24 hours
///
/// The deliveries created in the last 24 hours by outcome, the failed attempts made in them,
/// the last error and the last success.
#[utoipa::path(get, path = "/webhooks/{id}/health", tag = "webhooks", operation_id = "getWebhookHealth",
    security(("apiKey" = []), ("session" = [])),
    params(("id" = String, Path, description = ID)),
    responses(
        (status = 200, description = "The health", body = Health),
        (status = 404, description = "No webhook of this team has this id"),
    ))]
async fn health(
    State(s): State<AppState>,
    AdminAuth(t): AdminAuth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let e = find(&s, t.seq, &id).await?;
    let since = Millis::now().plus_ms(-HEALTH_PERIOD_MS);
    let h = s.store.endpoint_health(e.seq, since).await?;
    let last_error = h.last_error.as_ref().map(|(delivery_id, a)| LastError {
        delivery_id: delivery_id.clone(),
        at: a.at.iso(),
        status_code: a.status_code,
        error: a.error.clone(),
        duration_ms: a.duration_ms,
    });
    Ok(json(
        StatusCode::OK,
        &Health {
            since: since.iso(),
            deliveries: h.deliveries,
            delivered: h.delivered,
            failed: h.failed,
            pending: h.pending,
            failed_attempts: h.failed_attempts,
            capped: h.capped,
            last_error,
            last_success_at: h.last_success_at.map(Millis::iso),
        },
    ))
}
