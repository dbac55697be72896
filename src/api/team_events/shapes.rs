//! What the team stream sends for each event of the team feed: the event names and JSON data
//! documented in the OpenAPI description (`GET /events`). Every event's data carries the
//! conversation's id and the event's time (`at`); the rest is what changed, as it was then.

use crate::chat::{ConversationView, MessageOut};
use crate::domain::payload::agent_author;
use crate::store::FeedEvent;
use axum::response::sse::Event;
use serde::Serialize;
use serde_json::{Value, json};

/// A message as the team API shows it, with who wrote it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TeamMessage {
    #[serde(flatten)]
    message: MessageOut,
    /// `visitor` or `agent`.
    from: &'static str,
    /// The agent who wrote it; `null` for the visitor.
    agent_id: Option<String>,
}

/// The agent in charge, as a console shows them: PAYLOAD.md's author name and picture, with
/// the id the API's agent calls take.
#[derive(Serialize)]
struct AgentCard {
    id: String,
    name: String,
    /// A URL, or `""` when the profile has none.
    picture: String,
}

impl AgentCard {
    fn of(profile: &Value) -> Self {
        let (name, picture) = agent_author(profile);
        let id = profile
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        AgentCard {
            id: id.to_string(),
            name,
            picture,
        }
    }
}

/// The SSE event for a feed event, with its position as the id; `None` for an event a console
/// has no use for (or a message event written before its message was recorded with it).
pub fn event(e: &FeedEvent) -> Option<Event> {
    let conversation = e.conversation_id.as_str();
    let at = e.at.iso();
    let agent = || e.facts.agent.as_ref().map(AgentCard::of);
    let (name, data) = match e.name.as_str() {
        "start" => {
            let view = ConversationView {
                id: conversation.to_string(),
                channel_name: e.facts.channel_name.clone(),
                visitor_id: e.facts.visitor_id.clone(),
                visitor_name: e.facts.visitor_name.clone(),
                status: "waiting",
                started_at: e.started_at.iso(),
                ended_at: None,
            };
            let data = json!({"conversationId": conversation, "at": at, "conversation": view});
            ("start", data)
        }
        "messageVisitor" | "messageAgent" => {
            let m = e.message.as_ref()?;
            let message = TeamMessage {
                message: MessageOut::new(conversation, m),
                from: if m.agent_id.is_some() {
                    "agent"
                } else {
                    "visitor"
                },
                agent_id: m.agent_id.clone(),
            };
            let data = json!({"conversationId": conversation, "at": at, "message": message});
            ("message", data)
        }
        "open" => {
            let data = json!({"conversationId": conversation, "at": at, "status": "open",
                "agent": agent()});
            ("open", data)
        }
        "end" => {
            let data = json!({"conversationId": conversation, "at": at, "status": "ended",
                "endedAt": at, "agent": agent()});
            ("end", data)
        }
        "email" => {
            let data = json!({"conversationId": conversation, "at": at,
                "visitorId": e.facts.visitor_id, "email": e.facts.identity.email});
            ("email", data)
        }
        _ => return None,
    };
    let id = e.position.seq.to_string();
    Some(Event::default().event(name).id(id).data(data.to_string()))
}
