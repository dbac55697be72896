//! What Palaver posts in Slack, as `chat.postMessage` arguments (without `channel`): the
//! visitor's header (Block Kit), the announcement, messages under their author's name and
//! picture, and notices. Visitors' words are escaped (`&`, `<`, `>`), so that a visitor cannot
//! mention `@channel` or forge links; agents' messages are posted as written (Slack markup, as in
//! the seed's `<http://developer.talkus.io/>`).

use super::event::Event;
use crate::domain::MessageView;
use serde_json::{Value, json};

/// Most characters of a posted text (Slack truncates at 40,000).
const MAX_TEXT: usize = 39_000;
/// Most characters of a header block's text (Slack: 150).
const MAX_HEADER: usize = 150;
/// Most characters of a section field (Slack: 2,000).
const MAX_FIELD: usize = 1_900;
/// Most characters of a `username` (Slack shows 80).
const MAX_USERNAME: usize = 80;

/// Escapes the three characters Slack's markup gives meaning to.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

/// `url` if it is an http(s) URL Slack can link to or fetch.
fn web_url(url: &str) -> Option<&str> {
    let ok = (url.starts_with("https://") || url.starts_with("http://"))
        && !url.contains(['|', '<', '>', ' ']);
    ok.then_some(url)
}

/// The visitor's header, first in their channel: who they are, where they are, their browser.
/// Answers the Block Kit message and a plain one in case Slack refuses the blocks.
pub fn header(e: &Event) -> (Value, Value) {
    let id = &e.identity;
    let name = if e.visitor_name.is_empty() {
        "Visitor"
    } else {
        &e.visitor_name
    };
    let text = format!("New conversation with {}", escape(name));
    let mut facts: Vec<(&str, String)> = Vec::new();
    let mut push = |label, value: &str, shown: String| {
        if !value.is_empty() {
            facts.push((label, shown));
        }
    };
    push("Name", &id.name, escape(&id.name));
    push("Email", &id.email, escape(&id.email));
    push("Phone", &id.phone, escape(&id.phone));
    let page_label = if id.title.is_empty() {
        &id.location
    } else {
        &id.title
    };
    let page = match web_url(&id.location) {
        Some(url) => format!("<{url}|{}>", escape(page_label)),
        None => escape(page_label),
    };
    push("Page", page_label, page);
    push("Languages", &id.languages, escape(&id.languages));
    push("IP", &id.ip, escape(&id.ip));
    push("Browser", &id.user_agent, escape(&id.user_agent));
    let lines: Vec<String> = facts
        .iter()
        .map(|(label, value)| format!("*{label}:* {value}"))
        .collect();
    let mut blocks = vec![json!({
        "type": "header",
        "text": {"type": "plain_text", "text": cut(name, MAX_HEADER), "emoji": false},
    })];
    if !facts.is_empty() {
        let fields: Vec<Value> = facts
            .iter()
            .map(|(label, value)| {
                json!({"type": "mrkdwn", "text": cut(&format!("*{label}*\n{value}"), MAX_FIELD)})
            })
            .collect();
        blocks.push(json!({"type": "section", "fields": fields}));
    }
    let visitor = format!("Visitor `{}` · channel `{}`", e.visitor_id, e.channel_name);
    blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": visitor}]}));
    let rich = json!({"text": text, "blocks": blocks, "unfurl_links": false});
    let plain_text = std::iter::once(format!("*{text}*"))
        .chain(lines)
        .collect::<Vec<_>>()
        .join("\n");
    let plain = json!({"text": cut(&plain_text, MAX_TEXT), "unfurl_links": false});
    (rich, plain)
}

/// The announcement of a new visitor in the notification channel, linking to their channel.
pub fn announcement(e: &Event, channel_id: &str) -> Value {
    let id = &e.identity;
    let mut text = format!(
        ":wave: New visitor *{}* in <#{channel_id}>",
        escape(&e.visitor_name)
    );
    let about: Vec<String> = [&id.name, &id.email, &id.location]
        .into_iter()
        .filter(|v| !v.is_empty() && **v != e.visitor_name)
        .map(|v| escape(v))
        .collect();
    if !about.is_empty() {
        text.push_str(&format!(" ({})", about.join(" · ")));
    }
    json!({"text": text, "unfurl_links": false, "unfurl_media": false})
}

/// A message under its author's name and picture (`chat:write.customize`); a visitor's text
/// escaped, an agent's as written.
pub fn message(m: &MessageView, from_visitor: bool) -> Value {
    let text = if from_visitor {
        escape(&m.text)
    } else {
        m.text.clone()
    };
    let text = if text.trim().is_empty() {
        "_(empty message)_".to_string()
    } else {
        cut(&text, MAX_TEXT)
    };
    let mut args = json!({
        "text": text,
        "username": cut(&m.user_name, MAX_USERNAME),
        "unfurl_links": false,
        "unfurl_media": false,
    });
    if let Some(url) = web_url(&m.user_picture) {
        args["icon_url"] = json!(url);
    }
    args
}

/// The notice that the visitor gave their email address.
pub fn email_notice(e: &Event) -> Value {
    let text = format!(
        ":email: *{}* gave their email address: {}",
        escape(&e.visitor_name),
        escape(&e.identity.email)
    );
    json!({"text": text})
}

/// The notice that the conversation ended (and the channel is about to be archived).
pub fn end_notice(e: &Event, archiving: bool) -> Value {
    let mut text = format!(
        ":checkered_flag: The conversation with *{}* has ended.",
        escape(&e.visitor_name)
    );
    if archiving {
        text.push_str(" This channel is archived; it comes back if the visitor writes again.");
    }
    json!({"text": text})
}

#[cfg(test)]
mod tests {
    use super::super::event::parse;
    use super::*;

    fn seed() -> Event {
        parse(include_str!("../../../tests/fixtures/seed-example.json")).unwrap()
    }

    #[test]
    fn visitors_cannot_use_slack_markup() {
        let m = MessageView {
            user_name: "Eve".into(),
            user_picture: "javascript:alert(1)".into(),
            created_at: String::new(),
            text: "<!channel> & <http://x|y>".into(),
        };
        let posted = message(&m, true);
        assert_eq!(posted["text"], "&lt;!channel&gt; &amp; &lt;http://x|y&gt;");
        assert!(posted.get("icon_url").is_none(), "not an http(s) picture");
        let agent = message(&m, false);
        assert_eq!(
            agent["text"], "<!channel> & <http://x|y>",
            "agents write Slack markup"
        );
    }

    #[test]
    fn the_header_shows_the_identity() {
        let e = seed();
        let (rich, plain) = header(&e);
        assert_eq!(rich["blocks"][0]["text"]["text"], "+33123456789");
        let fields = rich["blocks"][1]["fields"].to_string();
        for shown in [
            "Scarlet",
            "scar@let.com",
            "+33123456789",
            "localhost:8080",
            "Chrome",
        ] {
            assert!(fields.contains(shown), "{shown} in {fields}");
            assert!(plain["text"].as_str().unwrap().contains(shown));
        }
        assert!(fields.contains("<http://localhost:8080/|http://localhost:8080/>"));
        let m = message(e.last_message().unwrap(), false);
        assert_eq!(m["username"], "Moss");
        assert!(m["icon_url"].as_str().unwrap().ends_with("_48.jpg"));
    }

    #[test]
    fn the_announcement_links_the_channel() {
        let text = announcement(&seed(), "C0000003")["text"].to_string();
        assert!(
            text.contains("<#C0000003>") && text.contains("*+33123456789*"),
            "{text}"
        );
        assert!(text.contains("Scarlet"), "{text}");
    }

    #[test]
    fn long_texts_are_cut_on_characters() {
        assert_eq!(cut("ééé", 2), "éé…");
        assert_eq!(cut("ab", 2), "ab");
    }
}
