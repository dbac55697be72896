//! `/healthz` (the process answers) and `/readyz` (the store answers).

use super::{ApiError, AppState, json};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json as j;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/healthz",
            get(|| async { json(StatusCode::OK, &j!({"status": "ok"})) }),
        )
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
}

async fn ready(State(s): State<AppState>) -> Result<Response, ApiError> {
    s.store.ping().await.map_err(|e| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not-ready",
            format!("the store does not answer: {e}"),
        )
    })?;
    Ok(json(StatusCode::OK, &j!({"status": "ready"})))
}

/// Prometheus text format: the process's counters and the pending deliveries.
async fn metrics(State(s): State<AppState>) -> Response {
    let pending = s.store.pending_deliveries().await.ok();
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        crate::metrics::render(pending),
    )
        .into_response()
}
