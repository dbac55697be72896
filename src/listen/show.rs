//! A delivery's events as a person reads them: for each, its name, time and channel, the
//! visitor, the agent, and what it brought (the new message, the email, who entered or ended).

use serde_json::Value;
use std::fmt::Write;

/// The lines printed for one verified delivery (no trailing newline).
pub fn delivery(id: &str, body: &[u8]) -> String {
    let events = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Array(events)) => events,
        Ok(_) | Err(_) => {
            let text = String::from_utf8_lossy(body);
            let shown: String = text.chars().take(300).collect();
            return format!(
                "ok {id}: verified, but the body is not a JSON array of events: {shown}"
            );
        }
    };
    let mut out = match events.len() {
        1 => format!("ok {id}: verified"),
        n => format!("ok {id}: verified, a batch of {n} events"),
    };
    for event in &events {
        out.push('\n');
        out.push_str(&one(event));
    }
    out
}

/// One event: a heading line, then indented details.
fn one(e: &Value) -> String {
    let s = |k: &str| e[k].as_str().unwrap_or("?");
    let name = s("event");
    let mut out = format!("{name}  {}  {}", s("createdAt"), s("channelName"));
    let mut line = |label: &str, text: &str| {
        let text = text.replace('\n', "\n             ");
        let _ = write!(out, "\n    {label:<8} {text}");
    };
    line(
        "visitor",
        &format!("{} ({})", s("visitorName"), s("visitorId")),
    );
    let agent = agent_name(&e["agent"]);
    line("agent", agent.as_deref().unwrap_or("none yet"));
    let last = e["messages"].as_array().and_then(|m| m.last());
    match name {
        "messageVisitor" | "messageAgent" => match last {
            Some(m) => line("message", &said(m)),
            None => line("message", "(no messages)"),
        },
        "start" => line("started", "a new conversation, waiting for an agent"),
        "open" => line(
            "opened",
            &format!("{} entered", agent.as_deref().unwrap_or("an agent")),
        ),
        "end" => line(
            "ended",
            &format!("by {}", agent.as_deref().unwrap_or("an agent")),
        ),
        "email" => line("email", e["identity"]["email"].as_str().unwrap_or("?")),
        _ => {}
    }
    let count = e["messages"].as_array().map_or(0, Vec::len);
    if count > 0 {
        let plural = if count == 1 { "" } else { "s" };
        line(
            "so far",
            &format!("{count} message{plural} in this conversation"),
        );
    }
    out
}

/// `Moss (U0F2Z1234)`: the Slack user's real name, else its name, and its id.
fn agent_name(agent: &Value) -> Option<String> {
    let obj = agent.as_object()?;
    let text = |k: &str| obj.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    let name = text("real_name").or_else(|| text("name")).unwrap_or("?");
    Some(match text("id") {
        Some(id) => format!("{name} ({id})"),
        None => name.to_owned(),
    })
}

/// `userName: text` of one of `messages`.
fn said(m: &Value) -> String {
    let s = |k: &str| m[k].as_str().unwrap_or("?");
    format!("{}: {}", s("userName"), s("text"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = include_str!("../api/sample-event.json");

    #[test]
    fn the_seeds_example_reads_as_moss_answering_scarlet() {
        let text = delivery("msg_1", SEED.as_bytes());
        let expected = "ok msg_1: verified\n\
            messageAgent  2016-01-09T11:09:09.111Z  z-33123456789\n    \
            visitor  +33123456789 (a3W7EEfSWanTWyGkg)\n    \
            agent    Moss (U0F2Z1234)\n    \
            message  Moss: Yes! Go to <http://developer.talkus.io/>\n    \
            so far   2 messages in this conversation";
        assert_eq!(text, expected);
    }

    #[test]
    fn batches_show_each_event_and_what_changed() {
        let mut seed: Vec<Value> = serde_json::from_str(SEED).unwrap();
        let mut start = seed[0].clone();
        start["event"] = "start".into();
        start["agent"] = Value::Null;
        start["messages"] = Value::Array(vec![]);
        let mut visitor = seed[0].clone();
        visitor["event"] = "messageVisitor".into();
        visitor["messages"].as_array_mut().unwrap().pop();
        let mut email = seed[0].clone();
        email["event"] = "email".into();
        let mut end = seed.remove(0);
        end["event"] = "end".into();
        let body = serde_json::to_vec(&[start, visitor, email, end]).unwrap();
        let text = delivery("msg_2", &body);
        assert!(text.starts_with("ok msg_2: verified, a batch of 4 events\nstart  "));
        assert!(text.contains("agent    none yet\n    started  a new conversation"));
        // A message's lines stay under its label.
        let said = "message  +33123456789: \n             Hi! Do you have any doc to your API?";
        assert!(text.contains(said), "{text}");
        assert!(text.contains("\n    email    scar@let.com"));
        assert!(text.contains("\n    ended    by Moss (U0F2Z1234)"));
    }

    #[test]
    fn a_body_that_is_not_events_is_shown_as_it_is() {
        let text = delivery("msg_3", b"{\"hello\":1}");
        assert_eq!(
            text,
            "ok msg_3: verified, but the body is not a JSON array of events: {\"hello\":1}"
        );
    }
}
