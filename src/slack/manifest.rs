//! `palaver slack manifest`: the Slack app manifest to paste into Slack's "Create New App →
//! From a manifest", so that connecting a workspace asks the admin for no choice of scopes or
//! events. Printed as YAML with each scope's reason beside it (the default), or as JSON.

use serde_json::{Value, json};

/// The bot token scopes the bridge uses, and why. Visitors' channels are public, as in Talkus,
/// so no `groups:*` scope is asked for: a private notification channel works when given by id
/// with the bot invited to it (`chat:write` posts wherever the bot is a member).
pub const BOT_SCOPES: &[(&str, &str)] = &[
    (
        "channels:manage",
        "create each visitor's channel (conversations.create), unarchive a reused one, archive it on end when asked",
    ),
    (
        "channels:read",
        "find a channel whose name is taken (conversations.list, conversations.info) and see who joins it (member_joined_channel)",
    ),
    (
        "channels:join",
        "join the notification channel and reused visitor channels (conversations.join)",
    ),
    (
        "channels:history",
        "receive what agents write in visitors' channels (message.channels events)",
    ),
    (
        "chat:write",
        "post visitors' messages, the visitor's header, notices and announcements (chat.postMessage)",
    ),
    (
        "chat:write.customize",
        "post a visitor's messages under the visitor's name and picture (username, icon_url)",
    ),
    (
        "users:read",
        "read an agent's Slack profile (users.info): the payload's `agent` object",
    ),
    (
        "users:read.email",
        "include the agent's email in that profile (profile.email, as in Talkus)",
    ),
    (
        "files:read",
        "turn files an agent shares into their permalinks for the visitor",
    ),
];

/// The Events API events the bridge subscribes to, and why.
pub const BOT_EVENTS: &[(&str, &str)] = &[
    (
        "message.channels",
        "an agent's message in a visitor's channel (a reply, `.end`, a thread note)",
    ),
    (
        "member_joined_channel",
        "an agent entering a visitor's channel opens the conversation",
    ),
];

/// The path Slack sends events to, below the server's public URL.
pub const EVENTS_PATH: &str = "/slack/events";

/// The manifest for a server reachable at `public_url` (`https://chat.example.com`, perhaps
/// with a path prefix), its bot called `name`.
pub fn manifest(public_url: &str, name: &str) -> Result<Value, String> {
    let request_url = events_url(public_url)?;
    let scopes: Vec<&str> = BOT_SCOPES.iter().map(|(s, _)| *s).collect();
    let events: Vec<&str> = BOT_EVENTS.iter().map(|(e, _)| *e).collect();
    Ok(json!({
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": name,
            "description": "Live chat from your website, answered in Slack (one channel per visitor)",
            "background_color": "#2c2d30"
        },
        "features": {
            "bot_user": {"display_name": name, "always_online": true}
        },
        "oauth_config": {
            "scopes": {"bot": scopes}
        },
        "settings": {
            "event_subscriptions": {
                "request_url": request_url,
                "bot_events": events
            },
            "org_deploy_enabled": false,
            "socket_mode_enabled": false,
            "token_rotation_enabled": false
        }
    }))
}

/// `public_url` + [`EVENTS_PATH`]; refuses what is not an http(s) URL of a host.
pub fn events_url(public_url: &str) -> Result<String, String> {
    let example = "like https://chat.example.com";
    let url = url::Url::parse(public_url.trim()).map_err(|e| {
        format!("--url {public_url:?} is not a URL ({e}); give the server's public URL, {example}")
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!(
            "--url {public_url:?} is not an http(s) URL; give the server's public URL, {example}"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(format!(
            "--url {public_url:?} must be the server's public URL alone (no credentials, query or fragment), {example}"
        ));
    }
    let base = url.as_str().trim_end_matches('/');
    Ok(format!("{base}{EVENTS_PATH}"))
}

/// The manifest as JSON, indented.
pub fn to_json(manifest: &Value) -> String {
    serde_json::to_string_pretty(manifest).expect("JSON serializes")
}

/// The manifest as YAML, each scope and event followed by its reason as a comment. Scalars are
/// written as JSON (a double-quoted JSON string is a YAML string).
pub fn to_yaml(manifest: &Value) -> String {
    let mut out = String::from(
        "# Palaver's Slack app: paste into https://api.slack.com/apps → Create New App → From a manifest\n",
    );
    yaml(&mut out, manifest, 0);
    out
}

fn reason(item: &str) -> Option<&'static str> {
    BOT_SCOPES
        .iter()
        .chain(BOT_EVENTS)
        .find(|(name, _)| *name == item)
        .map(|(_, why)| *why)
}

fn yaml(out: &mut String, value: &Value, indent: usize) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match v {
                    Value::Object(_) | Value::Array(_) => {
                        out.push_str(&format!("{pad}{key}:\n"));
                        yaml(out, v, indent + 2);
                    }
                    scalar => out.push_str(&format!("{pad}{key}: {scalar}\n")),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                out.push_str(&format!("{pad}- {item}"));
                if let Some(why) = item.as_str().and_then(reason) {
                    out.push_str(&format!("  # {why}"));
                }
                out.push('\n');
            }
        }
        scalar => out.push_str(&format!("{pad}{scalar}\n")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_url_is_below_the_public_url() {
        let cases = [
            (
                "https://chat.example.com",
                "https://chat.example.com/slack/events",
            ),
            (
                "https://chat.example.com/",
                "https://chat.example.com/slack/events",
            ),
            (
                "https://example.com/palaver/",
                "https://example.com/palaver/slack/events",
            ),
            ("http://10.0.0.1:8080", "http://10.0.0.1:8080/slack/events"),
        ];
        for (given, expected) in cases {
            assert_eq!(events_url(given).unwrap(), expected);
        }
        for bad in [
            "chat.example.com",
            "ftp://x.example",
            "https://x.example/?a=1",
            "mailto:a@b.c",
            "",
        ] {
            let err = events_url(bad).unwrap_err();
            assert!(err.contains("--url"), "{bad}: {err}");
        }
    }

    #[test]
    fn yaml_carries_the_same_settings_with_reasons() {
        let m = manifest("https://chat.example.com", "Palaver").unwrap();
        let text = to_yaml(&m);
        assert!(text.contains("    request_url: \"https://chat.example.com/slack/events\"\n"));
        assert!(text.contains("      - \"chat:write.customize\"  # post a visitor's messages"));
        assert!(text.contains("      - \"member_joined_channel\"  # "));
        assert!(text.contains("  bot_user:\n    display_name: \"Palaver\"\n"));
        assert_eq!(
            m["oauth_config"]["scopes"]["bot"].as_array().unwrap().len(),
            9
        );
    }
}
