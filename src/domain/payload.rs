//! The Talkus webhook payload (PAYLOAD.md), rendered once per event.
//!
//! A conversation's transcript is kept pre-rendered ([`Transcript`]): appending a message costs
//! the message's own bytes, so an event in a 2,000-message conversation costs little more than
//! copying its payload.

use super::{EventName, Millis};
use serde::{Deserialize, Serialize};

/// What is known of a visitor, always all nine keys in the seed's order, `""` when unknown.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct Identity {
    pub name: String,
    pub phone: String,
    pub email: String,
    pub picture: String,
    pub user_agent: String,
    pub title: String,
    pub location: String,
    pub ip: String,
    pub languages: String,
}

/// One message as the payload shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    pub user_name: String,
    pub user_picture: String,
    pub created_at: String,
    pub text: String,
}

/// An agent's name and picture in messages: `real_name` (else `name`) and `profile.image_48`.
pub fn agent_author(agent: &serde_json::Value) -> (String, String) {
    let real = str_at(agent.get("real_name"));
    let name = if real.is_empty() {
        str_at(agent.get("name"))
    } else {
        real
    };
    let picture = str_at(agent.get("profile").and_then(|p| p.get("image_48")));
    (name.to_string(), picture.to_string())
}

fn str_at(v: Option<&serde_json::Value>) -> &str {
    v.and_then(|v| v.as_str()).unwrap_or("")
}

/// The `messages` and `message` of a conversation so far, pre-rendered as JSON fragments.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Transcript {
    /// The message objects, comma-separated, without the enclosing brackets.
    messages: String,
    /// The `message` transcript's JSON-escaped characters, without the enclosing quotes.
    message: String,
    /// How many messages.
    count: usize,
}

impl Transcript {
    /// Appends one message.
    pub fn push(&mut self, m: &MessageView) {
        if self.count > 0 {
            self.messages.push(',');
            self.message.push_str("\\n");
        }
        self.messages
            .push_str(&serde_json::to_string(m).expect("a message serializes"));
        push_escaped(&mut self.message, &m.user_name);
        self.message.push_str(": ");
        push_escaped(&mut self.message, &m.text);
        self.count += 1;
    }

    pub fn len(&self) -> usize {
        self.count
    }

    /// The bytes it holds (its buffers' capacity).
    pub fn bytes(&self) -> usize {
        self.messages.capacity() + self.message.capacity()
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The `messages` array as JSON.
    pub fn messages_json(&self) -> String {
        format!("[{}]", self.messages)
    }

    /// Bytes the rendered transcript takes (both fields).
    pub fn rendered_len(&self) -> usize {
        self.messages.len() + self.message.len()
    }
}

/// A request body: a JSON array holding one event object.
///
/// Everything after [`head_len`](Self::head_len) bytes is the transcript and the closing
/// brackets, so the store keeps only the head and the transcript's length, and rebuilds the rest
/// from the conversation's messages with [`assemble`]: an event of a 2,000-message conversation
/// takes a few hundred bytes on disk instead of the whole transcript again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventBody {
    pub text: String,
    /// Where the transcript starts (just inside the `message` string).
    pub head_len: usize,
    /// The transcript's length in messages.
    pub transcript_len: usize,
}

/// A body from its head (see [`EventBody`]) and the transcript it was rendered with: the same
/// bytes, byte for byte.
pub fn assemble(head: &str, transcript: &Transcript) -> String {
    let mut out = String::with_capacity(head.len() + transcript.rendered_len() + 20);
    out.push_str(head);
    push_tail(&mut out, transcript);
    out
}

/// What follows the head: the transcript's two fields and the closing brackets.
fn push_tail(out: &mut String, t: &Transcript) {
    out.push_str(&t.message);
    out.push_str("\",\"messages\":[");
    out.push_str(&t.messages);
    out.push_str("]}]");
}

/// JSON-escapes `s` (without quotes) onto `out`.
fn push_escaped(out: &mut String, s: &str) {
    let quoted = serde_json::to_string(s).expect("a string serializes");
    out.push_str(&quoted[1..quoted.len() - 1]);
}

/// Everything an event's payload is made of.
pub struct EventContext<'a> {
    pub event: EventName,
    pub created_at: Millis,
    pub channel_name: &'a str,
    pub visitor_name: &'a str,
    pub visitor_id: &'a str,
    pub identity: &'a Identity,
    /// The agent's Slack user object as compact JSON, verbatim; `None` renders `null`.
    pub agent: Option<&'a str>,
    pub transcript: &'a Transcript,
}

impl EventContext<'_> {
    /// The event object as compact JSON, keys in the seed's order.
    pub fn render(&self) -> String {
        let body = self.body().text;
        body[1..body.len() - 1].to_string()
    }

    /// The request body: `[` the event object `]`.
    pub fn body(&self) -> EventBody {
        let identity = serde_json::to_string(self.identity).expect("identity serializes");
        let agent = self.agent.unwrap_or("null");
        let t = self.transcript;
        let mut out = String::with_capacity(
            200 + identity.len() + agent.len() + t.rendered_len() + self.visitor_name.len() * 2,
        );
        out.push_str("[{\"event\":\"");
        out.push_str(self.event.as_str());
        out.push_str("\",\"createdAt\":\"");
        out.push_str(&self.created_at.iso());
        out.push_str("\",\"channelName\":");
        out.push_str(&json_str(self.channel_name));
        out.push_str(",\"visitorName\":");
        out.push_str(&json_str(self.visitor_name));
        out.push_str(",\"visitorId\":");
        out.push_str(&json_str(self.visitor_id));
        out.push_str(",\"identity\":");
        out.push_str(&identity);
        out.push_str(",\"agent\":");
        out.push_str(agent);
        out.push_str(",\"message\":\"");
        let head_len = out.len();
        push_tail(&mut out, t);
        EventBody {
            text: out,
            head_len,
            transcript_len: t.len(),
        }
    }
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).expect("a string serializes")
}

#[cfg(test)]
mod tests;
