//! The API's request parsing: JSON bodies as the extractor reads them, then the checks their
//! handlers make; list queries and cursors; the `Idempotency-Key` header.

use super::choice;
use crate::api::extract::{List, idempotency_key as key_of, parse_json};
use crate::api::query::PageQuery;
use crate::api::{agent_passwords, conversations, deliveries, slack, visitor, webhooks};
use crate::domain::conversation::EventName;
use crate::domain::widget::{WidgetPatch, WidgetSettings};
use crate::domain::{Millis, email, password, text};
use axum::extract::Query;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The first byte chooses one of the API's body types; the rest is the body.
pub fn body(data: &[u8]) {
    let (which, bytes) = choice(data);
    match which % 12 {
        0 => {
            if let Some(b) = parse::<visitor::StartBody>(bytes) {
                if b.identity.check().is_ok() {
                    super::visitor::identity_holds(&b.identity);
                }
                if let Some(m) = &b.message {
                    message(m);
                }
            }
        }
        1 => {
            if let Some(b) = parse::<visitor::TextBody>(bytes) {
                message(&b.text);
            }
        }
        2 => {
            if let Some(b) = parse::<visitor::EmailBody>(bytes)
                && email::is_valid(&b.email)
            {
                assert!(b.email.len() <= 254 && b.email.contains('@'));
            }
        }
        3 => {
            parse::<conversations::AgentBody>(bytes);
        }
        4 => {
            if let Some(b) = parse::<conversations::MessageBody>(bytes) {
                message(&b.text);
            }
        }
        5 => {
            if parse::<webhooks::shapes::CreateEndpoint>(bytes).is_some() {
                endpoint(bytes);
            }
        }
        6 => {
            if parse::<webhooks::shapes::PatchEndpoint>(bytes).is_some() {
                endpoint(bytes);
            }
        }
        7 => {
            parse::<slack::PutSlack>(bytes);
        }
        8 => {
            parse::<slack::PatchSlack>(bytes);
        }
        9 => {
            if let Some(b) = parse::<deliveries::shapes::Recover>(bytes)
                && let Some(at) = Millis::parse(&b.since)
            {
                // What the API answers as a time reads back as the same time.
                assert_eq!(Millis::parse(&at.iso()), Some(at), "{:?}", b.since);
            }
        }
        10 => {
            if let Some(b) = parse::<agent_passwords::PasswordBody>(bytes)
                && password::check(&b.password).is_ok()
            {
                let n = b.password.chars().count();
                assert!((password::MIN_LEN..=password::MAX_LEN).contains(&n));
            }
        }
        _ => {
            if let Some(v) = parse::<WidgetPatch>(bytes)
                && let Ok(settings) = WidgetSettings::default().apply(v)
            {
                super::visitor::settings_hold(&settings);
            }
            parse::<Value>(bytes);
        }
    }
}

/// The body parsed as `Body<T>` parses it. Whatever it accepts is JSON (or blank); whatever it
/// refuses is a 400 saying why.
fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    match parse_json::<T>(bytes) {
        Ok(v) => {
            let blank = bytes.iter().all(u8::is_ascii_whitespace);
            assert!(blank || serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok());
            Some(v)
        }
        Err(e) => {
            assert_eq!(e.status, StatusCode::BAD_REQUEST);
            assert!(e.detail.contains("JSON"), "{}", e.detail);
            None
        }
    }
}

/// A message's text as every writer's is checked: accepted means not blank, within the limit
/// and free of NUL.
fn message(t: &str) {
    if text::check_message("text", t).is_ok() {
        assert!(!t.trim().is_empty() && !t.contains('\0'));
        assert!(t.chars().count() <= text::MAX_MESSAGE_CHARS);
    } else {
        assert!(
            text::check_message("text", t)
                .unwrap_err()
                .starts_with("`text`")
        );
    }
}

/// A webhook's fields as the API checks them: the URL by the destination guard, the events by
/// name.
fn endpoint(bytes: &[u8]) {
    let Ok(v) = serde_json::from_slice::<Value>(bytes) else {
        return;
    };
    if let Some(url) = v["url"].as_str() {
        super::delivery::check_destination(url);
    }
    for name in v["events"].as_array().into_iter().flatten() {
        if let Some(e) = name.as_str().and_then(EventName::parse) {
            assert_eq!(Some(e.as_str()), name.as_str());
        }
    }
}

/// A list's query string (`limit`, `cursor`): an accepted page has a limit within
/// 1..=100, and the cursor a page answers reads back as the same position.
pub fn page_query(data: &[u8]) {
    let Ok(q) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(uri) = format!("/api/v1/conversations?{q}").parse::<Uri>() else {
        return;
    };
    let Ok(Query(query)) = Query::<PageQuery>::try_from_uri(&uri) else {
        return;
    };
    match query.page() {
        Ok(page) => {
            assert!((1..=100).contains(&page.limit));
            let given = query.cursor.as_deref().is_some_and(|c| !c.is_empty());
            assert_eq!(page.before.is_some(), given);
            if let Some(before) = page.before {
                let list = List::new(vec![before], 1, |n| *n);
                let next = PageQuery {
                    cursor: list.next_cursor,
                    ..PageQuery::default()
                };
                assert_eq!(next.page().unwrap().before, Some(before));
            }
        }
        Err(e) => assert_eq!(e.status, StatusCode::BAD_REQUEST),
    }
}

/// The `Idempotency-Key` header: accepted exactly when it is 1 to 255 visible ASCII characters
/// or spaces, neither first nor last a space (the OpenAPI document's pattern), and then as sent.
pub fn idempotency_key(data: &[u8]) {
    let Ok(value) = HeaderValue::from_bytes(data) else {
        return;
    };
    let mut headers = HeaderMap::new();
    headers.insert("idempotency-key", value);
    let valid = (1..=255).contains(&data.len())
        && data.iter().all(|b| (b' '..=b'~').contains(b))
        && !data.starts_with(b" ")
        && !data.ends_with(b" ");
    match key_of(&headers) {
        Ok(Some(k)) => {
            assert!(valid, "{data:?}");
            assert_eq!(k.as_bytes(), data);
        }
        Ok(None) => panic!("a present header read as absent"),
        Err(e) => {
            assert_eq!(e.status, StatusCode::BAD_REQUEST);
            assert!(!valid, "{data:?}");
        }
    }
}
