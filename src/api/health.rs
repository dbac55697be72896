//! `/healthz` (the process answers) and `/readyz` (the store answers).

use super::{ApiError, AppState, json};
use crate::domain::Millis;
use crate::store::Backlog;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json as j;
use std::time::Duration;

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

/// Prometheus text format: the process's counters and histograms, and the store's backlog read
/// now (two cheap statements, see [`crate::store::backlog`]). A store that does not answer
/// gives `palaver_ready 0` and the counters alone, still with a 200: the scrape itself worked.
async fn metrics(State(s): State<AppState>) -> Response {
    let now = Millis::now();
    let read = async {
        s.store.ping().await?;
        s.store.backlog(now).await
    };
    let backlog = match read.await {
        Ok(b) => {
            let mut gauges = gauges(b, now);
            let handed_off = s.store.handoff_wait(now).unwrap_or_default();
            gauges.oldest_due = gauges.oldest_due.max(handed_off);
            Some(gauges)
        }
        Err(e) => {
            tracing::warn!(error = %e, "metrics: the store does not answer");
            None
        }
    };
    (
        [(
            axum::http::header::CONTENT_TYPE,
            crate::metrics::text::CONTENT_TYPE,
        )],
        crate::metrics::render(backlog.as_ref()),
    )
        .into_response()
}

/// The store's reading as ages at `now`.
fn gauges(b: Backlog, now: Millis) -> crate::metrics::Backlog {
    let age =
        |at: Option<Millis>| Duration::from_millis(at.map_or(0, |at| (now.0 - at.0).max(0)) as u64);
    crate::metrics::Backlog {
        oldest_due: age(b.oldest_due_at),
        endpoints: b
            .endpoints
            .into_iter()
            .map(|e| crate::metrics::EndpointBacklog {
                seq: e.seq,
                id: e.id,
                kind: e.kind.as_str(),
                enabled: e.enabled,
                pending: e.pending.max(0) as u64,
                failed: e.failed.max(0) as u64,
                oldest_pending: age(e.oldest_pending_at),
            })
            .collect(),
    }
}
