//! Conversations, as agents see them: list, read, join, write, end.

use super::auth::TeamAuth;
use super::extract::{Body, List, PageQuery};
use super::session_auth::{Caller, acting_as};
use super::{ApiError, ApiResult, AppState, answer, json};
use crate::chat::ConversationView;
use crate::domain::{Command, ConversationStatus};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::json as j;
use serde_json::value::RawValue;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/conversations", get(list))
        .route("/conversations/{id}", get(get_one))
        .route("/conversations/{id}/join", post(join))
        .route("/conversations/{id}/end", post(end))
        .route("/conversations/{id}/messages", post(message))
}

/// A conversation in a list: its summary and its newest message (for previews), if any.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ListItem {
    #[serde(flatten)]
    summary: ConversationView,
    last_message: Option<crate::chat::TranscriptMessage>,
}

async fn list(
    State(s): State<AppState>,
    TeamAuth(t): TeamAuth,
    Query(q): Query<PageQuery>,
) -> ApiResult<Response> {
    if let Some(st) = q.status.as_deref() {
        ConversationStatus::parse(st).ok_or_else(|| {
            ApiError::bad_request(format!("`status` is waiting, open or ended, not {st:?}"))
        })?;
    }
    let page = q.page()?;
    let rows = s
        .store
        .conversations(t.seq, q.status.as_deref(), page)
        .await?;
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
                .map(|m| crate::chat::TranscriptMessage::new(&c.conversation.id, m)),
        })
        .collect();
    Ok(json(
        StatusCode::OK,
        &j!({"data": data, "nextCursor": list.next_cursor}),
    ))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Detail {
    #[serde(flatten)]
    summary: ConversationView,
    identity: crate::domain::Identity,
    agent: Option<Box<RawValue>>,
    /// The transcript as the payload's `messages`, each with its id and `from` (visitor or agent).
    messages: Vec<crate::chat::TranscriptMessage>,
    /// Private notes between agents: never the visitor's nor the webhooks'.
    notes: Vec<Note>,
}

/// A private note, as the console shows it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Note {
    agent_id: String,
    user_name: String,
    text: String,
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
            .map(|m| crate::chat::TranscriptMessage::new(&c.id, m))
            .collect(),
        notes: notes.into_iter().map(Note::from).collect(),
    };
    Ok(json(StatusCode::OK, &detail))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct AgentBody {
    agent_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct MessageBody {
    agent_id: String,
    text: String,
}

async fn join(
    s: State<AppState>,
    caller: Caller,
    id: Path<String>,
    body: Body<AgentBody>,
) -> ApiResult<Response> {
    agent_command(s, caller, id, body, Command::Join).await
}

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
