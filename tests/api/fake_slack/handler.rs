//! The fake's HTTP side: a call's arguments (JSON or form), a scripted failure if one is due,
//! the token check, then the workspace's answer; every call recorded.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::{Shared, SlackCall};

/// Methods Slack takes form-encoded only; the fake refuses JSON for them as Slack ignores it.
pub const FORM_ONLY: &[&str] = &[
    "chat.getPermalink",
    "conversations.info",
    "conversations.list",
    "users.info",
];

/// A scripted failure, taken by the next matching call.
#[derive(Clone, Debug)]
pub(super) enum Failure {
    /// This HTTP status, with a body that is not Slack's JSON.
    Status(u16),
    /// HTTP 429 with `Retry-After: secs`.
    RateLimited(u64),
    /// `{"ok": false, "error": code}`.
    Error(String),
}

pub(super) struct Scripted {
    /// `None`: any method.
    pub(super) method: Option<String>,
    pub(super) failure: Failure,
}

/// The arguments of a call: a JSON object, or form fields as strings (query string included).
fn arguments(headers: &HeaderMap, query: Option<&str>, body: &[u8]) -> (Value, bool) {
    let is_json = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        let args = serde_json::from_slice(body).unwrap_or(Value::Null);
        return (args, true);
    }
    let mut fields = Map::new();
    let pairs = url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .chain(url::form_urlencoded::parse(body));
    for (k, v) in pairs {
        fields.insert(k.into_owned(), Value::String(v.into_owned()));
    }
    (Value::Object(fields), false)
}

pub(super) async fn call(
    State(shared): State<Arc<Shared>>,
    Path(method): Path<String>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (args, is_json) = arguments(&headers, uri.query(), &body);
    if let Some(delay) = delay(&shared, &method) {
        tokio::time::sleep(delay).await;
    }
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (status, answer, retry_after) = answer(&shared, &method, &args, is_json, &authorization);
    {
        let mut calls = shared.calls.lock().unwrap();
        let seq = calls.len();
        calls.push(SlackCall {
            seq,
            method,
            args,
            json: is_json,
            authorization,
            status,
            answer: answer.clone(),
        });
        shared.count.send_replace(seq + 1);
    }
    let status = StatusCode::from_u16(status).expect("a status");
    let mut response = match answer {
        Value::String(html) => (status, html).into_response(),
        json => (status, axum::Json(json)).into_response(),
    };
    if let Some(secs) = retry_after {
        response
            .headers_mut()
            .insert("retry-after", secs.to_string().parse().expect("a header"));
    }
    response
}

/// How late this call of `method` is to be answered, if a delay is scripted for it.
fn delay(shared: &Shared, method: &str) -> Option<std::time::Duration> {
    let mut delays = shared.delays.lock().unwrap();
    let i = delays.iter().position(|(m, n, _)| m == method && *n > 0)?;
    delays[i].1 -= 1;
    Some(delays[i].2)
}

/// What Slack would answer: a scripted failure first, then the token check, then the method.
fn answer(
    shared: &Shared,
    method: &str,
    args: &Value,
    is_json: bool,
    authorization: &Option<String>,
) -> (u16, Value, Option<u64>) {
    let failure = {
        let mut script = shared.script.lock().unwrap();
        let i = script
            .iter()
            .position(|s| s.method.as_deref().is_none_or(|m| m == method));
        i.and_then(|i| script.remove(i)).map(|s| s.failure)
    };
    match failure {
        Some(Failure::Status(s)) => {
            let html = format!("<html><body>{s} upstream trouble</body></html>");
            return (s, Value::String(html), None);
        }
        Some(Failure::RateLimited(secs)) => {
            return (
                429,
                json!({"ok": false, "error": "ratelimited"}),
                Some(secs),
            );
        }
        Some(Failure::Error(code)) => return (200, json!({"ok": false, "error": code}), None),
        None => {}
    }
    let error = |code: &str| (200, json!({"ok": false, "error": code}), None);
    match authorization
        .as_deref()
        .and_then(|a| a.strip_prefix("Bearer "))
    {
        None => return error("not_authed"),
        Some(token) if token != shared.token => return error("invalid_auth"),
        Some(_) => {}
    }
    if is_json && FORM_ONLY.contains(&method) {
        // Slack ignores a JSON body for these methods: their required arguments are missing.
        return error("invalid_arguments");
    }
    let mut workspace = shared.workspace.lock().unwrap();
    match workspace.call(method, args) {
        Ok(mut fields) => {
            let mut ok = Map::new();
            ok.insert("ok".into(), Value::Bool(true));
            ok.append(&mut fields);
            (200, Value::Object(ok), None)
        }
        Err(code) => error(&code),
    }
}
