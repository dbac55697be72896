//! Checks of the Talkus payload's form (PAYLOAD.md) that hold for every event.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::receiver::Received;

pub const EVENT_KEYS: [&str; 9] = [
    "event",
    "createdAt",
    "channelName",
    "visitorName",
    "visitorId",
    "identity",
    "agent",
    "message",
    "messages",
];
pub const IDENTITY_KEYS: [&str; 9] = [
    "name",
    "phone",
    "email",
    "picture",
    "userAgent",
    "title",
    "location",
    "ip",
    "languages",
];
pub const EVENTS: [&str; 6] = [
    "start",
    "open",
    "end",
    "email",
    "messageVisitor",
    "messageAgent",
];
const VISITOR_ID_ALPHABET: &str = "23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz";

/// A JSON object's members in the order they were written.
pub struct OrderedObject(pub Vec<(String, Box<RawValue>)>);

impl OrderedObject {
    pub fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(k, _)| k.as_str()).collect()
    }

    pub fn raw(&self, key: &str) -> &str {
        let member = self.0.iter().find(|(k, _)| k == key);
        member.unwrap_or_else(|| panic!("no member {key}")).1.get()
    }
}

impl<'de> Deserialize<'de> for OrderedObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OrderedObject;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedObject, A::Error> {
                let mut members = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    members.push((key, map.next_value::<Box<RawValue>>()?));
                }
                Ok(OrderedObject(members))
            }
        }
        d.deserialize_map(V)
    }
}

/// Asserts `2016-01-09T11:09:09.111Z` form.
pub fn assert_iso_millis(s: &str) {
    let digits = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22];
    let fixed = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    let b = s.as_bytes();
    let ok = b.len() == 24
        && digits.iter().all(|&i| b[i].is_ascii_digit())
        && fixed.iter().all(|&(i, c)| b[i] == c)
        && b[19] == b'.'
        && b[23] == b'Z';
    assert!(
        ok,
        "{s:?} is not a UTC time with milliseconds like 2016-01-09T11:09:09.111Z"
    );
}

/// Asserts 17 characters of the Meteor-style id alphabet.
pub fn assert_visitor_id(s: &str) {
    assert!(
        s.chars().count() == 17 && s.chars().all(|c| VISITOR_ID_ALPHABET.contains(c)),
        "visitorId {s:?} is not 17 characters of {VISITOR_ID_ALPHABET}"
    );
}

/// `userName + ": " + text`, joined with newlines.
pub fn transcript(messages: &[Value]) -> String {
    let lines: Vec<String> = messages
        .iter()
        .map(|m| format!("{}: {}", str_of(&m["userName"]), str_of(&m["text"])))
        .collect();
    lines.join("\n")
}

fn str_of(v: &Value) -> &str {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string, got {v}"))
}

/// The `text` of each message of an event.
pub fn texts(event: &Value) -> Vec<String> {
    messages(event)
        .iter()
        .map(|m| str_of(&m["text"]).to_owned())
        .collect()
}

pub fn messages(event: &Value) -> Vec<Value> {
    event["messages"]
        .as_array()
        .unwrap_or_else(|| panic!("messages is not an array: {event}"))
        .clone()
}

/// Every rule of PAYLOAD.md that holds for any single event.
pub fn check_event(e: &Value) {
    let obj = e
        .as_object()
        .unwrap_or_else(|| panic!("event is not an object: {e}"));
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    let mut expected = EVENT_KEYS.to_vec();
    keys.sort_unstable();
    expected.sort_unstable();
    assert_eq!(keys, expected, "event keys: {e}");
    assert!(EVENTS.contains(&str_of(&e["event"])), "unknown event: {e}");
    assert_iso_millis(str_of(&e["createdAt"]));
    assert_visitor_id(str_of(&e["visitorId"]));
    let name = str_of(&e["channelName"]);
    assert!(
        name.starts_with("z-") && name.len() <= 80,
        "channelName {name:?}"
    );
    let identity = e["identity"].as_object().expect("identity object");
    assert_eq!(identity.len(), IDENTITY_KEYS.len(), "identity keys: {e}");
    for key in IDENTITY_KEYS {
        assert!(
            identity[key].is_string(),
            "identity.{key} not a string: {e}"
        );
    }
    assert!(e["agent"].is_null() || e["agent"].is_object(), "agent: {e}");
    for m in messages(e) {
        let mut keys: Vec<&String> = m.as_object().expect("message object").keys().collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["createdAt", "text", "userName", "userPicture"],
            "{m}"
        );
        assert_iso_millis(str_of(&m["createdAt"]));
        str_of(&m["userPicture"]);
    }
    assert_eq!(
        str_of(&e["message"]),
        transcript(&messages(e)),
        "message must be the transcript: {e}"
    );
}

/// Every rule about a request body's bytes: compact JSON array, keys in the seed's order.
pub fn check_body(req: &Received) {
    assert_compact(&req.body);
    let events: Vec<OrderedObject> = serde_json::from_slice(&req.body)
        .unwrap_or_else(|e| panic!("body is not an array of objects ({e}): {}", req.body_text()));
    assert!(!events.is_empty(), "empty event array");
    for event in &events {
        assert_eq!(event.keys(), EVENT_KEYS, "key order of {}", req.body_text());
        let identity: OrderedObject =
            serde_json::from_str(event.raw("identity")).expect("identity");
        assert_eq!(identity.keys(), IDENTITY_KEYS, "identity key order");
    }
    for event in req.events() {
        check_event(&event);
    }
}

/// Asserts no whitespace outside JSON strings.
pub fn assert_compact(body: &[u8]) {
    let (mut in_string, mut escaped) = (false, false);
    for (i, &b) in body.iter().enumerate() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else if b == b'"' {
            in_string = true;
        } else {
            assert!(
                !b.is_ascii_whitespace(),
                "body is not compact JSON: whitespace at byte {i}: {}",
                String::from_utf8_lossy(body)
            );
        }
    }
}

#[cfg(test)]
mod checks_reject {
    use super::*;

    #[test]
    #[should_panic(expected = "not compact")]
    fn pretty_json() {
        assert_compact(b"[{\"a\": 1}]");
    }

    #[test]
    fn compact_json_with_spaces_in_strings() {
        assert_compact(br#"[{"a":"x: \"y z\" "}]"#);
    }

    #[test]
    #[should_panic(expected = "milliseconds")]
    fn times_without_milliseconds() {
        assert_iso_millis("2016-01-09T11:09:09Z");
    }

    #[test]
    #[should_panic(expected = "visitorId")]
    fn visitor_ids_with_ambiguous_characters() {
        assert_visitor_id("a3W7EEfSWanTWyGk1");
    }

    #[test]
    fn the_seed_example() {
        assert_iso_millis("2016-01-09T11:09:09.111Z");
        assert_visitor_id("a3W7EEfSWanTWyGkg");
        let seed = crate::fixtures::seed_example();
        check_event(&seed[0]);
    }
}
