//! The Slack bridge's delivery log (admins only): `GET /slack/deliveries` and
//! `/slack/deliveries/{id}` in the shapes of a webhook's, each attempt's `error` naming the
//! failing Web API method and Slack's error; `POST …/{id}/redeliver` queues one again. The log
//! stays readable after a disconnection.

use super::auth::AdminAuth;
use super::deliveries::{DELIVERY_ID, list_of, one_of, redeliver_of};
use super::query::{DeliveryQuery, Query};
use super::{ApiError, ApiResult, AppState};
use crate::store::Endpoint;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get_one))
        .routes(routes!(redeliver))
}

/// The team's Slack endpoint, whose deliveries these are.
async fn slack_endpoint(s: &AppState, team_seq: i64) -> ApiResult<Endpoint> {
    s.store.slack_endpoint(team_seq).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "Slack was never connected, so there are no Slack deliveries; connect it with PUT /api/v1/slack",
        )
    })
}

/// The Slack bridge's deliveries, newest first (admins only)
///
/// In the webhook log's shapes; each attempt's `error` names the failing Web API method and
/// Slack's error.
#[utoipa::path(get, path = "/slack/deliveries", tag = "slack", operation_id = "listSlackDeliveries",
    security(("apiKey" = []), ("session" = [])),
    params(DeliveryQuery),
    responses(
        (status = 200, description = "A page of deliveries", body = crate::api::extract::List<crate::api::deliveries::DeliveryView>),
        (status = 404, description = "Slack was never connected"),
    ))]
async fn list(
    State(s): State<AppState>,
    AdminAuth(t): AdminAuth,
    Query(q): Query<DeliveryQuery>,
) -> ApiResult<Response> {
    let e = slack_endpoint(&s, t.seq).await?;
    list_of(&s, e.seq, q).await
}

/// A Slack delivery with its event and every attempt (admins only)
#[utoipa::path(get, path = "/slack/deliveries/{deliveryId}", tag = "slack", operation_id = "getSlackDelivery",
    security(("apiKey" = []), ("session" = [])),
    params(("deliveryId" = String, Path, description = DELIVERY_ID)),
    responses(
        (status = 200, description = "The delivery", body = crate::api::deliveries::DeliveryView),
        (status = 404, description = "Slack was never connected, or no such delivery"),
    ))]
async fn get_one(
    State(s): State<AppState>,
    AdminAuth(t): AdminAuth,
    Path(delivery_id): Path<String>,
) -> ApiResult<Response> {
    let e = slack_endpoint(&s, t.seq).await?;
    one_of(&s, e.seq, &delivery_id).await
}

/// Queue a Slack delivery again now (admins only)
#[utoipa::path(post, path = "/slack/deliveries/{deliveryId}/redeliver", tag = "slack", operation_id = "redeliverSlackDelivery",
    security(("apiKey" = []), ("session" = [])),
    params(("deliveryId" = String, Path, description = DELIVERY_ID)),
    responses(
        (status = 202, description = "Queued", body = crate::api::webhooks::Queued),
        (status = 404, description = "Slack was never connected, or no such delivery"),
    ))]
async fn redeliver(
    State(s): State<AppState>,
    AdminAuth(t): AdminAuth,
    Path(delivery_id): Path<String>,
) -> ApiResult<Response> {
    let e = slack_endpoint(&s, t.seq).await?;
    redeliver_of(&s, e.seq, &delivery_id).await
}
