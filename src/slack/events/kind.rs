//! What a Slack event asks of Palaver, told from the event alone (no I/O): an agent entering a
//! channel, writing to the visitor, writing a private note (a reply in a thread), or nothing.
//! Whether the channel is a visitor's and the user a human is found out later.

use crate::store::SlackConnection;
use serde_json::Value;

/// `message` subtypes acted on; every other subtype is ignored (see [`IGNORED_SUBTYPES`]).
pub const ACTED_SUBTYPES: &[&str] = &["file_share", "thread_broadcast", "me_message"];

/// The `message` subtypes Slack documents that Palaver ignores, for the README and the logs;
/// unknown subtypes are ignored too.
pub const IGNORED_SUBTYPES: &[&str] = &[
    "message_changed",
    "message_deleted",
    "message_replied",
    "bot_message",
    "channel_join",
    "channel_leave",
    "channel_topic",
    "channel_purpose",
    "channel_name",
    "channel_archive",
    "channel_unarchive",
    "pinned_item",
    "unpinned_item",
    "reminder_add",
    "ekm_access_denied",
    "tombstone",
];

/// A file shared with a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SharedFile {
    pub id: String,
    /// The link to give the visitor: the public one when the file was made public, else its
    /// permalink (for people signed in to the workspace); `None` when Slack sent only the id
    /// (`file_access: check_file_info`): `files.info` has it.
    pub link: Option<String>,
}

/// What an event asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `user` entered `channel`.
    Joined { channel: String, user: String },
    /// `user` wrote in `channel`: to the visitor, or (`note`) in a thread, between agents.
    Wrote {
        channel: String,
        user: String,
        text: String,
        ts: String,
        files: Vec<SharedFile>,
        note: bool,
    },
    /// Nothing to do, and why.
    Ignored(String),
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_default()
}

/// The channel an event is about (its lane in the inbox), `""` if none.
pub fn channel_of(event: &Value) -> &str {
    text(event, "channel")
}

/// Tells what `event` (an `event_callback`'s `event`) asks of the team connected as `c`.
pub fn kind(event: &Value, c: &SlackConnection) -> Kind {
    let ignored = |why: &str| Kind::Ignored(why.to_string());
    let (channel, user) = (channel_of(event), text(event, "user"));
    if channel.is_empty() {
        return ignored("no channel");
    }
    match text(event, "type") {
        "member_joined_channel" if user.is_empty() => ignored("no user"),
        "member_joined_channel" if user == c.bot_user_id => ignored("the bot joined"),
        "member_joined_channel" => Kind::Joined {
            channel: channel.into(),
            user: user.into(),
        },
        "message" => message(event, c, channel, user),
        other => Kind::Ignored(format!("event type {other:?}")),
    }
}

fn message(event: &Value, c: &SlackConnection, channel: &str, user: &str) -> Kind {
    let subtype = text(event, "subtype");
    if !subtype.is_empty() && !ACTED_SUBTYPES.contains(&subtype) {
        return Kind::Ignored(format!("message subtype {subtype:?}"));
    }
    if event["hidden"] == Value::Bool(true) {
        return Kind::Ignored("a hidden message".into());
    }
    let from_bot = !text(event, "bot_id").is_empty()
        || event.get("bot_profile").is_some_and(|b| !b.is_null())
        || user == c.bot_user_id;
    if from_bot {
        return Kind::Ignored("a bot's message".into());
    }
    if user.is_empty() {
        return Kind::Ignored("no user".into());
    }
    let ts = text(event, "ts");
    if ts.is_empty() {
        return Kind::Ignored("no ts".into());
    }
    let files: Vec<SharedFile> = event["files"]
        .as_array()
        .map(|files| files.iter().filter_map(shared_file).collect())
        .unwrap_or_default();
    let body = text(event, "text");
    if body.trim().is_empty() && files.is_empty() {
        return Kind::Ignored("an empty message".into());
    }
    let thread = text(event, "thread_ts");
    Kind::Wrote {
        channel: channel.into(),
        user: user.into(),
        text: body.into(),
        ts: ts.into(),
        files,
        note: !thread.is_empty() && thread != ts,
    }
}

fn shared_file(f: &Value) -> Option<SharedFile> {
    let id = text(f, "id");
    if id.is_empty() || text(f, "mode") == "tombstone" {
        return None;
    }
    let public = f["public_url_shared"] == Value::Bool(true);
    let link = match (public, text(f, "permalink_public"), text(f, "permalink")) {
        (true, p, _) if !p.is_empty() => Some(p),
        (_, _, p) if !p.is_empty() => Some(p),
        _ => None,
    };
    Some(SharedFile {
        id: id.into(),
        link: link.map(str::to_string),
    })
}

/// A message's text followed by its files' links, one per line.
pub fn with_links(text: &str, links: &[String]) -> String {
    let mut out = text.to_string();
    for link in links {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(link);
    }
    out
}

#[cfg(test)]
#[path = "kind_tests.rs"]
mod tests;
