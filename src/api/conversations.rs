//! Conversations, as agents see them: list, read, join, write, end.

use super::auth::TeamAuth;
use super::extract::{Body, List};
use super::query::{ConversationQuery, Query};
use super::session_auth::{Caller, acting_as};
use super::{ApiError, ApiResult, AppState, answer, json};
use crate::chat::{AgentMessageOut, ConversationView, TranscriptMessage};
use crate::domain::{Command, Identity};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get_one))
        .routes(routes!(join))
        .routes(routes!(end))
        .routes(routes!(message))
}

/// The conversation's id in the path.
const ID: &str = "The conversation's id (`c_…`)";

/// A conversation in a list: its summary and its newest message (for previews), if any.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ConversationListItem)]
struct ListItem {
    #[serde(flatten)]
    summary: ConversationView,
    last_message: Option<TranscriptMessage>,
}

/// Conversations, newest first
#[utoipa::path(get, path = "/conversations", tag = "conversations", operation_id = "listConversations",
    security(("apiKey" = []), ("session" = [])),
    params(ConversationQuery),
    responses((status = 200, description = "A page of conversations", body = List<ListItem>)))]
async fn list(
    State(s): State<AppState>,
    TeamAuth(t): TeamAuth,
    Query(q): Query<ConversationQuery>,
) -> ApiResult<Response> {
    let page = super::query::page(q.limit, q.cursor.as_deref())?;
    let status = q.status.map(|f| f.as_str());
    let rows = s.store.conversations(t.seq, status, page).await?;
    let list = List::new(rows, page.limit, |c| c.conversation.seq);
    let data: Vec<ListItem> = list
        .data
        .iter()
        .map(|c| ListItem {
            summary: ConversationView::new(
                &c.conversation,
                &c.visitor_id,
                &c.visitor_name,
                &c.channel_name,
            ),
            last_message: c
                .last_message
                .as_ref()
                .map(|m| TranscriptMessage::new(&c.conversation.id, m)),
        })
        .collect();
    Ok(json(
        StatusCode::OK,
        &List {
            data,
            next_cursor: list.next_cursor,
        },
    ))
}

/// A conversation with what is known of its visitor, its agent, its messages and notes.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ConversationDetail)]
struct Detail {
    #[serde(flatten)]
    summary: ConversationView,
    identity: Identity,
    /// The agent in charge: their Slack user object; `null` while none entered.
    #[schema(value_type = Option<super::agents::AgentDoc>)]
    agent: Option<Box<RawValue>>,
    /// The transcript as the payload's `messages`, each with its id and `from` (visitor or agent).
    messages: Vec<TranscriptMessage>,
    /// Private notes between agents: never the visitor's nor the webhooks'.
    notes: Vec<Note>,
}

/// A private note, as the console shows it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct Note {
    agent_id: String,
    user_name: String,
    text: String,
    #[schema(format = DateTime)]
    created_at: String,
}

impl From<crate::store::NoteRecord> for Note {
    fn from(n: crate::store::NoteRecord) -> Self {
        Note {
            agent_id: n.agent_id,
            user_name: n.user_name,
            text: n.text,
            created_at: n.created_at.iso(),
        }
    }
}

/// A conversation with its identity, agent, messages and notes
#[utoipa::path(get, path = "/conversations/{id}", tag = "conversations", operation_id = "getConversation",
    security(("apiKey" = []), ("session" = [])),
    params(("id" = String, Path, description = ID)),
    responses(
        (status = 200, description = "The conversation", body = Detail),
        (status = 404, description = "No conversation of this team has this id"),
    ))]
async fn get_one(
    State(s): State<AppState>,
    TeamAuth(t): TeamAuth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let c = s
        .store
        .conversation(t.seq, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("conversation"))?;
    let v = s
        .store
        .visitor(c.visitor_seq)
        .await?
        .ok_or_else(|| ApiError::not_found("visitor"))?;
    let messages = s.store.messages(c.seq).await?;
    let notes = s.store.notes(c.seq).await?;
    let detail = Detail {
        summary: ConversationView::new(&c, &v.id, &v.name, &v.channel_name),
        identity: v.identity,
        agent: c.agent.clone().and_then(|a| RawValue::from_string(a).ok()),
        messages: messages
            .iter()
            .map(|m| TranscriptMessage::new(&c.id, m))
            .collect(),
        notes: notes.into_iter().map(Note::from).collect(),
    };
    Ok(json(StatusCode::OK, &detail))
}

/// The agent who acts.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = AgentRef, example = json!({"agentId": "U0F2Z1234"}))]
pub(crate) struct AgentBody {
    /// An agent of the team (PUT /agents/{agentId}); an agent's session acts only as itself.
    pub(crate) agent_id: String,
}

/// An agent's message.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = AgentMessage, example = json!({"agentId": "U0F2Z1234", "text": "Yes! Go to <http://developer.talkus.io/>"}))]
pub(crate) struct MessageBody {
    /// An agent of the team (PUT /agents/{agentId}); an agent's session acts only as itself.
    pub(crate) agent_id: String,
    /// 1 to 10,000 characters, not only spaces, no NUL; exactly `.end` ends the conversation.
    #[schema(min_length = 1, max_length = 10000)]
    pub(crate) text: String,
}

/// An agent enters (fires `open` if it was waiting)
#[utoipa::path(post, path = "/conversations/{id}/join", tag = "conversations", operation_id = "joinConversation",
    security(("apiKey" = []), ("session" = [])),
    params(("id" = String, Path, description = ID)),
    request_body = AgentBody,
    responses(
        (status = 200, description = "The conversation as it is now", body = ConversationView),
        (status = 404, description = "No conversation of this team has this id"),
        (status = 409, description = "The conversation has ended"),
        (status = 422, description = "`agentId` is not an agent of the team"),
    ))]
async fn join(
    s: State<AppState>,
    caller: Caller,
    id: Path<String>,
    body: Body<AgentBody>,
) -> ApiResult<Response> {
    agent_command(s, caller, id, body, Command::Join).await
}

/// An agent ends the conversation (fires `end`)
#[utoipa::path(post, path = "/conversations/{id}/end", tag = "conversations", operation_id = "endConversation",
    security(("apiKey" = []), ("session" = [])),
    params(("id" = String, Path, description = ID)),
    request_body = AgentBody,
    responses(
        (status = 200, description = "The conversation as it is now", body = ConversationView),
        (status = 404, description = "No conversation of this team has this id"),
        (status = 409, description = "The conversation has already ended"),
        (status = 422, description = "`agentId` is not an agent of the team"),
    ))]
async fn end(
    s: State<AppState>,
    caller: Caller,
    id: Path<String>,
    body: Body<AgentBody>,
) -> ApiResult<Response> {
    agent_command(s, caller, id, body, Command::End).await
}

/// Join and end: an agent's command without text (an agent's session acts only as itself).
async fn agent_command(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Body<AgentBody>,
    cmd: Command,
) -> ApiResult<Response> {
    let idem = body.idempotency("api");
    let agent = &body.value.agent_id;
    acting_as(&caller, agent)?;
    Ok(answer(
        s.chat
            .agent_command(caller.team.seq, &id, agent, cmd, idem.as_ref())
            .await?,
    ))
}

/// An agent writes (fires `messageAgent`, after `open` if it was waiting)
///
/// A text of exactly `.end` ends the conversation instead (fires `end`) and answers 200 with it.
#[utoipa::path(post, path = "/conversations/{id}/messages", tag = "conversations", operation_id = "postAgentMessage",
    security(("apiKey" = []), ("session" = [])),
    params(("id" = String, Path, description = ID)),
    request_body = MessageBody,
    responses(
        (status = 201, description = "The message", body = AgentMessageOut),
        (status = 200, description = "`.end`: the ended conversation", body = AgentMessageOut),
        (status = 404, description = "No conversation of this team has this id"),
        (status = 409, description = "The conversation has ended"),
        (status = 422, description = "`agentId` is not an agent of the team, or the text is empty or too long"),
    ))]
async fn message(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Body<MessageBody>,
) -> ApiResult<Response> {
    let idem = body.idempotency("api");
    let b = &body.value;
    acting_as(&caller, &b.agent_id)?;
    let t = &caller.team;
    let a = s
        .chat
        .agent_message(t.seq, &id, &b.agent_id, &b.text, idem.as_ref())
        .await?;
    Ok(answer(a))
}
