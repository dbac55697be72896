//! The stored event a Slack delivery is about: the Talkus payload (PAYLOAD.md) read back for the
//! Web API calls it becomes. Only the fields the bridge posts are read.

use crate::domain::{Identity, MessageView};
use serde::Deserialize;

/// One event of a delivery's body.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub event: String,
    #[serde(default)]
    pub channel_name: String,
    #[serde(default)]
    pub visitor_name: String,
    #[serde(default)]
    pub visitor_id: String,
    #[serde(default)]
    pub identity: Identity,
    /// The conversation's messages up to this event, oldest first.
    #[serde(default)]
    pub messages: Vec<MessageView>,
    /// The webhook a notice is about (`endpointDisabled`, `endpointEnabled`).
    #[serde(default)]
    pub endpoint: Option<super::notice::EndpointNotice>,
}

impl Event {
    /// The message a message event is about: the transcript's last.
    pub fn last_message(&self) -> Option<&MessageView> {
        self.messages.last()
    }
}

/// The event of a delivery's body (a JSON array holding one event).
pub fn parse(body: &str) -> Result<Event, String> {
    let events: Vec<Event> = serde_json::from_str(body)
        .map_err(|e| format!("the stored event is not a Talkus payload ({e})"))?;
    events
        .into_iter()
        .next()
        .ok_or_else(|| "the stored body holds no event".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_example_reads_back() {
        let seed = include_str!("../../../tests/fixtures/seed-example.json");
        let e = parse(seed).unwrap();
        assert_eq!(e.event, "messageAgent");
        assert_eq!(e.channel_name, "z-33123456789");
        assert_eq!(e.visitor_name, "+33123456789");
        assert_eq!(e.identity.email, "scar@let.com");
        let last = e.last_message().unwrap();
        assert_eq!(last.user_name, "Moss");
        assert_eq!(last.text, "Yes! Go to <http://developer.talkus.io/>");
        assert!(parse("[]").is_err());
        assert!(parse("{").is_err());
    }
}
