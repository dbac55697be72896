//! The visitor API, called by the widget from browsers of any origin (CORS open; a team may
//! restrict the origins: see [`super::origin`]): read the widget's settings, start or resume a
//! conversation, read it, write, give an email.

use super::auth::{SiteAuth, VisitorAuth};
use super::extract::Body;
use super::{ApiResult, AppState, answer, json};
use crate::chat::{
    AgentCard, EmailView, IdentityInput, MessageOut, StartInput, StartView, TranscriptMessage,
};
use crate::domain::ConversationStatus;
use crate::domain::net::client_ip;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderName, Method, StatusCode, header};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::time::Duration;
use tower_http::cors::{Any, CorsLayer};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// How long browsers may reuse a preflight's answer (Chromium keeps at most 2 hours).
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(2 * 3600);

/// The visitor routes; each request counts against its address's rate limit first (CORS
/// preflights, answered by the CORS layer, do not), then its site's once the site is known.
pub fn router(state: AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(super::team_widget::public))
        .routes(routes!(start))
        .routes(routes!(get_one))
        .routes(routes!(message))
        .routes(routes!(email))
        .routes(routes!(super::live::events))
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

/// The conversation's id in the path.
pub(super) const ID: &str =
    "The conversation's id (`c_…`), as POST /visitor/conversations answered it";

/// What a visitor starts with: all optional.
#[derive(Deserialize, Default, ToSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"identity": {"name": "Scarlet", "email": "scar@let.com", "languages": "en"}, "message": "Hi! Do you have any doc to your API?"}))]
pub(crate) struct StartBody {
    pub(crate) identity: IdentityInput,
    /// A returning visitor's token, to stay the same visitor (and get their active conversation).
    pub(crate) visitor_token: Option<String>,
    /// A first message (fires `messageVisitor` after `start`): 1 to 10,000 characters.
    #[schema(min_length = 1, max_length = 10000)]
    pub(crate) message: Option<String>,
}

/// A visitor starts (or gets back) a conversation
///
/// Fires `start`, then `messageVisitor` when `message` is given. A returning visitor sends their
/// `visitorToken` and gets their active conversation back (200) if they have one.
#[utoipa::path(post, path = "/conversations", tag = "visitor", operation_id = "startConversation",
    security(("siteKey" = [])),
    request_body = StartBody,
    responses(
        (status = 201, description = "A new conversation", body = StartView, links(
            ("GetVisitorConversation" = (operation_id = "getVisitorConversation", parameters(("id" = "$response.body#/conversationId")))),
            ("PostVisitorMessage" = (operation_id = "postVisitorMessage", parameters(("id" = "$response.body#/conversationId")))),
            ("SetVisitorEmail" = (operation_id = "setVisitorEmail", parameters(("id" = "$response.body#/conversationId")))),
            ("VisitorEvents" = (operation_id = "visitorEvents", parameters(("id" = "$response.body#/conversationId"), ("visitorToken" = "$response.body#/visitorToken")))),
            ("ResumeAsTheSameVisitor" = (operation_id = "startConversation", request_body = json!({"visitorToken": "$response.body#/visitorToken"}), description = "POST /visitor/conversations with `{\"visitorToken\": …}`: the same visitor")),
            ("GetConversation" = (operation_id = "getConversation", parameters(("id" = "$response.body#/conversationId")))),
            ("JoinConversation" = (operation_id = "joinConversation", parameters(("id" = "$response.body#/conversationId")))),
            ("PostAgentMessage" = (operation_id = "postAgentMessage", parameters(("id" = "$response.body#/conversationId")))),
            ("EndConversation" = (operation_id = "endConversation", parameters(("id" = "$response.body#/conversationId")))),
        )),
        (status = 200, description = "The returning visitor's active conversation", body = StartView),
        (status = 401, description = "The `visitorToken` is not valid for this site"),
        (status = 422, description = "An identity field or the message is invalid (the field is named)"),
    ))]
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

/// The conversation's status, agent and messages
#[utoipa::path(get, path = "/conversations/{id}", tag = "visitor", operation_id = "getVisitorConversation",
    security(("visitorToken" = []), ("visitorToken" = [], "siteKey" = [])),
    params(("id" = String, Path, description = ID)),
    responses(
        (status = 200, description = "The conversation", body = VisitorConversation),
        (status = 404, description = "The visitor has no conversation with this id"),
    ))]
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
    let view = VisitorConversation {
        status: c.status,
        agent: AgentCard::of(&c),
        messages,
    };
    Ok(json(StatusCode::OK, &view))
}

/// A conversation as its visitor sees it.
#[derive(Serialize, ToSchema)]
struct VisitorConversation {
    #[serde(serialize_with = "status_str")]
    status: ConversationStatus,
    /// Who is in charge; `null` while no agent entered.
    agent: Option<AgentCard>,
    messages: Vec<TranscriptMessage>,
}

fn status_str<S: serde::Serializer>(s: &ConversationStatus, to: S) -> Result<S::Ok, S::Error> {
    to.serialize_str(s.as_str())
}

/// A visitor's message.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = VisitorMessage, example = json!({"text": "Hi! Do you have any doc to your API?"}))]
pub(crate) struct TextBody {
    /// 1 to 10,000 characters, not only spaces, no NUL.
    #[schema(min_length = 1, max_length = 10000)]
    pub(crate) text: String,
}

/// The visitor writes (fires `messageVisitor`; `start` first if it had ended)
#[utoipa::path(post, path = "/conversations/{id}/messages", tag = "visitor", operation_id = "postVisitorMessage",
    security(("visitorToken" = []), ("visitorToken" = [], "siteKey" = [])),
    params(("id" = String, Path, description = ID)),
    request_body = TextBody,
    responses(
        (status = 201, description = "The message", body = MessageOut),
        (status = 404, description = "The visitor has no conversation with this id"),
        (status = 422, description = "The text is empty or too long"),
    ))]
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

/// The visitor's email.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "scar@let.com"}))]
pub(crate) struct EmailBody {
    /// An email address.
    #[schema(max_length = 254)]
    pub(crate) email: String,
}

/// The visitor gives an email (fires `email` when valid and changed)
#[utoipa::path(put, path = "/conversations/{id}/email", tag = "visitor", operation_id = "setVisitorEmail",
    security(("visitorToken" = []), ("visitorToken" = [], "siteKey" = [])),
    params(("id" = String, Path, description = ID)),
    request_body = EmailBody,
    responses(
        (status = 200, description = "The email, and whether it changed", body = EmailView),
        (status = 404, description = "The visitor has no conversation with this id"),
        (status = 422, description = "Not an email address (`invalid-email`)"),
    ))]
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
