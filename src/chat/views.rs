//! What commands answer: the JSON shapes of API.md, so that an idempotent replay can store them.

use super::state::VisitorState;
use crate::domain::Millis;
use crate::store::{ConversationRecord, MessageRecord};
use serde::Serialize;

/// The answer to `POST /visitor/conversations`: the visitor's conversation and their token.
#[derive(Serialize, Clone, Debug, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = VisitorStart)]
pub struct StartView {
    pub conversation_id: String,
    pub visitor_id: String,
    pub visitor_name: String,
    pub channel_name: String,
    /// What authorizes the visitor's later calls (`Authorization: Bearer <visitorToken>`); send
    /// it back in a later start to stay the same visitor.
    pub visitor_token: String,
    #[schema(value_type = crate::domain::ConversationStatus)]
    pub status: &'static str,
}

/// A message as the API answers it.
#[derive(Serialize, Clone, Debug, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Message)]
pub struct MessageOut {
    pub id: String,
    pub conversation_id: String,
    /// The author's name, as in the payload.
    pub user_name: String,
    /// The author's picture (a URL), or `""`.
    pub user_picture: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    pub text: String,
}

impl MessageOut {
    pub fn new(conversation_id: &str, m: &MessageRecord) -> Self {
        MessageOut {
            id: m.id.clone(),
            conversation_id: conversation_id.to_string(),
            user_name: m.user_name.clone(),
            user_picture: m.user_picture.clone(),
            created_at: m.created_at.iso(),
            text: m.text.clone(),
        }
    }
}

/// A message in the visitor's transcript: the API's message and who wrote it, so that the
/// widget can tell the two sides apart.
#[derive(Serialize, Clone, Debug, utoipa::ToSchema)]
pub struct TranscriptMessage {
    #[serde(flatten)]
    pub message: MessageOut,
    /// `visitor` or `agent`.
    #[schema(pattern = "^(visitor|agent)$")]
    pub from: &'static str,
}

impl TranscriptMessage {
    pub fn new(conversation_id: &str, m: &MessageRecord) -> Self {
        TranscriptMessage {
            message: MessageOut::new(conversation_id, m),
            from: if m.agent_id.is_some() {
                "agent"
            } else {
                "visitor"
            },
        }
    }
}

/// The agent a visitor sees in charge of their conversation: who last entered or wrote, as
/// PAYLOAD.md names them (`real_name`, else `name`; `profile.image_48`).
#[derive(Serialize, Clone, Debug, PartialEq, Eq, utoipa::ToSchema)]
#[schema(as = VisitorAgent)]
pub struct AgentCard {
    pub name: String,
    /// A URL, or `""` when the profile has none.
    pub picture: String,
}

impl AgentCard {
    /// The conversation's agent, if one entered.
    pub fn of(c: &ConversationRecord) -> Option<Self> {
        let (name, picture) = super::state::agent_view(c.agent.as_deref()?);
        Some(AgentCard { name, picture })
    }
}

/// A conversation as lists show it.
#[derive(Serialize, Clone, Debug, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Conversation)]
pub struct ConversationView {
    pub id: String,
    /// The visitor's channel, as in the payload.
    pub channel_name: String,
    pub visitor_id: String,
    pub visitor_name: String,
    #[schema(value_type = crate::domain::ConversationStatus)]
    pub status: &'static str,
    #[schema(format = DateTime)]
    pub started_at: String,
    #[schema(format = DateTime)]
    pub ended_at: Option<String>,
}

impl ConversationView {
    pub fn new(
        c: &ConversationRecord,
        visitor_id: &str,
        visitor_name: &str,
        channel_name: &str,
    ) -> Self {
        ConversationView {
            id: c.id.clone(),
            channel_name: channel_name.to_string(),
            visitor_id: visitor_id.to_string(),
            visitor_name: visitor_name.to_string(),
            status: c.status.as_str(),
            started_at: c.started_at.iso(),
            ended_at: c.ended_at.map(Millis::iso),
        }
    }

    /// The visitor's current conversation.
    pub fn of(state: &VisitorState) -> Self {
        let v = &state.visitor;
        let c = &state
            .conversation
            .as_ref()
            .expect("a conversation exists")
            .record;
        Self::new(c, &v.id, &v.name, &v.channel_name)
    }
}

/// The answer to `PUT /visitor/conversations/{id}/email`.
#[derive(Serialize, Clone, Debug, utoipa::ToSchema)]
pub struct EmailView {
    pub email: String,
    /// Whether it was new (and `email` fired).
    pub changed: bool,
}
