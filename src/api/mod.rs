//! The HTTP API under `/api/v1`: axum routers, auth, problem+json errors. Thin: parse, call
//! chat or the store, answer.

pub(crate) mod agent_passwords;
mod agents;
pub mod auth;
pub(crate) mod conversations;
pub(crate) mod deliveries;
pub mod error;
pub(crate) mod extract;
mod health;
mod idempotency;
mod live;
mod method_guard;
mod openapi;
mod origin;
pub(crate) mod query;
pub mod rate_limit;
mod schemas;
pub mod session_auth;
pub(crate) mod slack;
mod slack_deliveries;
mod team_events;
mod team_widget;
pub(crate) mod visitor;
pub(crate) mod webhooks;

use crate::chat::{Answer, Chat};
use crate::store::Store;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::net::IpAddr;
use std::sync::Arc;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use error::{ApiError, ApiResult};

/// What handlers share: one `Arc`, so that each extractor's copy is one increment.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The parts of [`AppState`].
pub struct Shared {
    pub chat: Arc<Chat>,
    pub store: Arc<dyn Store>,
    /// Whether webhook URLs may point at non-public addresses.
    pub allow_private: bool,
    /// Proxies whose `X-Forwarded-For` is believed for the visitor's address.
    pub trusted_proxies: Arc<Vec<IpAddr>>,
    /// The visitor API's rate limits, per client address and per site.
    pub visitor_limits: rate_limit::VisitorLimits,
    /// Who keys and tokens belong to, remembered for a minute.
    pub auth: Arc<auth::AuthCache>,
    /// How long an unused console session lives.
    pub session_idle: std::time::Duration,
    /// Slack's Web API, to check a workspace's token when it is connected.
    pub slack: Arc<crate::slack::SlackClient>,
    /// Turns true when the server stops: long-lived streams end.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
}

/// The whole HTTP surface.
pub fn app(state: AppState) -> Router {
    let (v1, doc) = v1(&state).split_for_parts();
    let routes = method_guard::Routes::of(&openapi::finish(doc));
    Router::new()
        .nest("/api/v1", v1)
        .merge(health::router())
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "no-route",
                "no such route; the API is under /api/v1",
            )
        })
        .layer(DefaultBodyLimit::max(extract::MAX_BODY))
        .layer(axum::middleware::from_fn(extract::refuse_large))
        .layer(axum::middleware::from_fn_with_state(
            routes,
            method_guard::guard,
        ))
        .with_state(state)
}

/// The calls under `/api/v1`, each with its description (see [`openapi`]).
fn v1(state: &AppState) -> OpenApiRouter<AppState> {
    let team_api = OpenApiRouter::new()
        .merge(agents::router())
        .merge(webhooks::router())
        .merge(deliveries::router())
        .merge(conversations::router())
        .merge(team_widget::router())
        .merge(team_events::router())
        .merge(slack::router())
        .merge(slack_deliveries::router())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            idempotency::layer,
        ));
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(team_api)
        .nest("/visitor", visitor::router(state.clone()))
        .routes(routes!(openapi::document))
        .merge(schemas::router())
}

/// JSON with a status.
pub fn json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    let bytes = serde_json::to_vec(body).expect("answers serialize");
    (status, [(header::CONTENT_TYPE, "application/json")], bytes).into_response()
}

/// A command's answer, fresh or replayed.
pub fn answer<T: Serialize>(a: Answer<T>) -> Response {
    match a {
        Answer::Fresh(r) => json(
            StatusCode::from_u16(r.status).unwrap_or(StatusCode::OK),
            &r.body,
        ),
        Answer::Replayed(stored) => (
            StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK),
            [
                (header::CONTENT_TYPE, "application/json"),
                (
                    header::HeaderName::from_static("idempotent-replayed"),
                    "true",
                ),
            ],
            stored.body,
        )
            .into_response(),
    }
}
