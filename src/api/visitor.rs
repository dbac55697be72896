//! The visitor API, called by the widget from browsers (CORS open): start or resume a
//! conversation, read it, write, give an email.

use super::auth::{SiteAuth, VisitorAuth};
use super::extract::Body;
use super::{ApiResult, AppState, answer, json};
use crate::chat::{IdentityInput, StartInput, message_view};
use axum::Router;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post, put};
use serde::Deserialize;
use serde_json::json as j;
use std::net::{IpAddr, SocketAddr};
use tower_http::cors::{Any, CorsLayer};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/conversations", post(start))
        .route("/conversations/{id}", get(get_one))
        .route("/conversations/{id}/messages", post(message))
        .route("/conversations/{id}/email", put(email))
        .route("/conversations/{id}/events", get(super::live::events))
        .layer(
            CorsLayer::new()
                .allow_origin(Any)
                .allow_methods(Any)
                .allow_headers(Any),
        )
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct StartBody {
    identity: IdentityInput,
    visitor_token: Option<String>,
    message: Option<String>,
}

/// The visitor's address: the peer, or behind a trusted proxy the nearest untrusted forwarded one.
fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    forwarded
        .rsplit(',')
        .filter_map(|s| s.trim().parse::<IpAddr>().ok())
        .find(|ip| !trusted.contains(ip))
        .unwrap_or(peer)
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
        ip: client_ip(peer.ip(), &headers, &s.trusted_proxies).to_string(),
    };
    Ok(answer(s.chat.start(team.seq, input, idem.as_ref()).await?))
}

async fn get_one(
    State(s): State<AppState>,
    VisitorAuth(v): VisitorAuth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (c, messages) = s.chat.visitor_view(&v, &id).await?;
    let messages: Vec<_> = messages.iter().map(message_view).collect();
    Ok(json(
        StatusCode::OK,
        &j!({"status": c.status.as_str(), "messages": messages}),
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

#[cfg(test)]
mod tests {
    use super::client_ip;
    use axum::http::HeaderMap;

    #[test]
    fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "203.0.113.9, 10.0.0.2".parse().unwrap());
        let proxy = "10.0.0.1".parse().unwrap();
        let trusted = vec![proxy, "10.0.0.2".parse().unwrap()];
        assert_eq!(client_ip(proxy, &h, &trusted).to_string(), "203.0.113.9");
        let stranger = "198.51.100.7".parse().unwrap();
        assert_eq!(client_ip(stranger, &h, &trusted), stranger);
    }
}
