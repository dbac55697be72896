//! Finding and opening channels: a channel by name (`conversations.list`, page by page), made
//! usable (unarchived, joined), and the small readings of Slack's answers these need.

use super::session::{Fault, Session};
use serde_json::{Value, json};

/// Most pages of `conversations.list` read to find a channel (200 channels each).
const MAX_PAGES: usize = 50;

/// A channel `conversations.list` (or `conversations.info`) showed.
pub struct Found {
    pub id: String,
    pub archived: bool,
    pub member: bool,
}

/// Whether the admin gave the notification channel as an id (`C…`, `G…`) rather than a name.
pub fn is_channel_id(channel: &str) -> bool {
    (channel.starts_with('C') || channel.starts_with('G'))
        && channel
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

pub fn channel_id(answer: &Value, method: &str) -> Result<String, Fault> {
    answer["channel"]["id"]
        .as_str()
        .or_else(|| answer["channel"].as_str())
        .map(str::to_string)
        .ok_or_else(|| Fault::Down {
            method: method.into(),
            why: "Slack answered without the channel's id".into(),
        })
}

pub fn found(channel: &Value) -> Option<Found> {
    Some(Found {
        id: channel["id"].as_str()?.to_string(),
        archived: channel["is_archived"].as_bool().unwrap_or(false),
        member: channel["is_member"].as_bool().unwrap_or(false),
    })
}

/// The public channel named `name`, read from `conversations.list` page by page.
pub async fn find(s: &mut Session<'_>, name: &str) -> Result<Option<Found>, Fault> {
    let mut cursor = String::new();
    for _ in 0..MAX_PAGES {
        let args = json!({"types": "public_channel", "exclude_archived": false,
            "limit": 200, "cursor": cursor});
        let page = s.call("conversations.list", args).await?;
        let channels = page["channels"].as_array().cloned().unwrap_or_default();
        if let Some(c) = channels.iter().find(|c| c["name"] == name) {
            return Ok(found(c));
        }
        cursor = page["response_metadata"]["next_cursor"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if cursor.is_empty() {
            break;
        }
    }
    Ok(None)
}

/// A found channel made usable: unarchived, the bot in it.
pub async fn reopen(s: &mut Session<'_>, c: &Found) -> Result<(), Fault> {
    if c.archived {
        unarchive(s, &c.id).await?;
    }
    if !c.member || c.archived {
        join(s, &c.id).await?;
    }
    Ok(())
}

pub async fn unarchive(s: &mut Session<'_>, id: &str) -> Result<(), Fault> {
    match s
        .call("conversations.unarchive", json!({"channel": id}))
        .await
    {
        Err(f) if f.code() != Some("not_archived") => Err(f),
        _ => Ok(()),
    }
}

pub async fn join(s: &mut Session<'_>, id: &str) -> Result<(), Fault> {
    match s.call("conversations.join", json!({"channel": id})).await {
        Err(f) if f.code() != Some("already_in_channel") => Err(f),
        _ => Ok(()),
    }
}
