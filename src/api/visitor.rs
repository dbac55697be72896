//! The visitor API, called by the widget from browsers of any origin (CORS open; a team may
//! restrict the origins: see [`super::origin`]): read the widget's settings, start or resume a
//! conversation, read it, write, give an email.

use super::auth::{SiteAuth, VisitorAuth};
use super::extract::Body;
use super::{ApiResult, AppState, answer, json};
use crate::chat::{AgentCard, IdentityInput, StartInput, TranscriptMessage};
use crate::domain::net::client_ip;
use axum::Router;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderName, Method, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post, put};
use serde::Deserialize;
use serde_json::json as j;
use std::net::SocketAddr;
use std::time::Duration;
use tower_http::cors::{Any, CorsLayer};

/// How long browsers may reuse a preflight's answer (Chromium keeps at most 2 hours).
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(2 * 3600);

/// The visitor routes; each request counts against its address's rate limit first (CORS
/// preflights, answered by the CORS layer, do not), then its site's once the site is known.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/widget", get(super::team_widget::public))
        .route("/conversations", post(start))
        .route("/conversations/{id}", get(get_one))
        .route("/conversations/{id}/messages", post(message))
        .route("/conversations/{id}/email", put(email))
        .route("/conversations/{id}/events", get(super::live::events))
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            super::rate_limit::per_address,
        ))
        .layer(cors())
}

/// Any origin may call (the allowed origins are checked with the caller's team, answering a
/// readable 403); the headers are listed, since `Authorization` is never covered by `*`.
fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST, Method::PUT])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("idempotency-key"),
            HeaderName::from_static("x-site-key"),
            HeaderName::from_static("last-event-id"),
        ])
        .expose_headers([
            HeaderName::from_static("idempotent-replayed"),
            header::RETRY_AFTER,
        ])
        .max_age(PREFLIGHT_MAX_AGE)
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct StartBody {
    identity: IdentityInput,
    visitor_token: Option<String>,
    message: Option<String>,
}

async fn start(
    State(s): State<AppState>,
    SiteAuth(team): SiteAuth,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body<StartBody>,
) -> ApiResult<Response> {
    let idem = body.idempotency("site");
    let b = body.value;
    let user_agent = headers
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let input = StartInput {
        identity: b.identity,
        token: b.visitor_token,
        message: b.message,
        user_agent,
        ip: client_ip(peer.ip(), forwarded_for(&headers), &s.trusted_proxies).to_string(),
    };
    Ok(answer(s.chat.start(team.seq, input, idem.as_ref()).await?))
}

async fn get_one(
    State(s): State<AppState>,
    VisitorAuth(v): VisitorAuth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (c, messages) = s.chat.visitor_view(&v, &id).await?;
    let messages: Vec<_> = messages
        .iter()
        .map(|m| TranscriptMessage::new(&c.id, m))
        .collect();
    let agent = AgentCard::of(&c);
    Ok(json(
        StatusCode::OK,
        &j!({"status": c.status.as_str(), "agent": agent, "messages": messages}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TextBody {
    text: String,
}

async fn message(
    State(s): State<AppState>,
    VisitorAuth(v): VisitorAuth,
    Path(id): Path<String>,
    body: Body<TextBody>,
) -> ApiResult<Response> {
    let idem = body.idempotency(&v.id);
    Ok(answer(
        s.chat
            .visitor_message(&v, &id, &body.value.text, idem.as_ref())
            .await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmailBody {
    email: String,
}

async fn email(
    State(s): State<AppState>,
    VisitorAuth(v): VisitorAuth,
    Path(id): Path<String>,
    body: Body<EmailBody>,
) -> ApiResult<Response> {
    let idem = body.idempotency(&v.id);
    Ok(answer(
        s.chat
            .set_email(&v, &id, &body.value.email, idem.as_ref())
            .await?,
    ))
}

/// The `X-Forwarded-For` values of the request, in order.
pub fn forwarded_for(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
}
