//! The Slack bridge's delivery log (admins only): `GET /slack/deliveries` and
//! `/slack/deliveries/{id}` in the shapes of a webhook's, each attempt's `error` naming the
//! failing Web API method and Slack's error; `POST …/{id}/redeliver` queues one again. The log
//! stays readable after a disconnection.

use super::auth::AdminAuth;
use super::deliveries::{list_of, one_of, redeliver_of};
use super::extract::PageQuery;
use super::{ApiError, ApiResult, AppState};
use crate::store::Endpoint;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/slack/deliveries", get(list))
        .route("/slack/deliveries/{delivery_id}", get(get_one))
        .route("/slack/deliveries/{delivery_id}/redeliver", post(redeliver))
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

async fn list(
    State(s): State<AppState>,
    AdminAuth(t): AdminAuth,
    Query(q): Query<PageQuery>,
) -> ApiResult<Response> {
    let e = slack_endpoint(&s, t.seq).await?;
    list_of(&s, e.seq, q).await
}

async fn get_one(
    State(s): State<AppState>,
    AdminAuth(t): AdminAuth,
    Path(delivery_id): Path<String>,
) -> ApiResult<Response> {
    let e = slack_endpoint(&s, t.seq).await?;
    one_of(&s, e.seq, &delivery_id).await
}

async fn redeliver(
    State(s): State<AppState>,
    AdminAuth(t): AdminAuth,
    Path(delivery_id): Path<String>,
) -> ApiResult<Response> {
    let e = slack_endpoint(&s, t.seq).await?;
    redeliver_of(&s, e.seq, &delivery_id).await
}
