//! `/healthz` (the process answers) and `/readyz` (the store answers).

use super::{ApiError, AppState, json};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::json as j;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/healthz",
            get(|| async { json(StatusCode::OK, &j!({"status": "ok"})) }),
        )
        .route("/readyz", get(ready))
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
