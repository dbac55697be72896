//! What shared code answers for every call of a kind, added to each call's description from
//! here, where the rules are gathered, so that a new handler gets it without saying so:
//!
//! - every change (POST, PUT, PATCH, DELETE) takes `Idempotency-Key` ([`super::super::extract`]
//!   and [`super::super::idempotency`]): a malformed key is a 400, a key used with another
//!   request a 422;
//! - a call with a body or a query may answer 400 (malformed JSON, unknown fields, a bad query),
//!   and a body over 256 KiB is a 413 ([`super::super::extract::refuse_large`]);
//! - a call that needs auth answers 401 without it; a console session's change without its CSRF
//!   token, or an agent's session where only admins may act, is a 403
//!   ([`super::super::session_auth`]), and so is a visitor call from a page of an origin the
//!   team did not allow ([`super::super::origin`]);
//! - visitor calls are rate limited: 429 with `Retry-After` ([`super::super::rate_limit`]);
//! - every error's body is a problem ([`super::super::error::Problem`]).
//!
//! A handler's own errors (its 404s, 409s and validation 422s) are in its `#[utoipa::path]`;
//! what is said here is added to their description.

use crate::api::extract::MAX_BODY;
use serde_json::{Map, Value, json};

/// The methods that change something.
const CHANGES: [&str; 4] = ["post", "put", "patch", "delete"];

/// What an `Idempotency-Key` may be: 1 to 255 visible ASCII characters (a header's value), not
/// starting nor ending with a space (HTTP would drop it). Checked by
/// [`crate::api::extract::idempotency_key`].
pub const IDEMPOTENCY_KEY_PATTERN: &str = "^[!-~]([ -~]{0,253}[!-~])?$";

pub fn complete(doc: &mut Value) {
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            if let Some(op) = op.as_object_mut() {
                operation(path, method, op);
                links(op);
            }
        }
    }
}

fn operation(path: &str, method: &str, op: &mut Map<String, Value>) {
    let changes = CHANGES.contains(&method);
    let visitor = path.starts_with("/visitor/");
    let has_body = op.contains_key("requestBody");
    let has_query = params(op).iter().any(|p| p["in"] == "query");
    let security: Vec<Value> = op
        .get("security")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let secured = security
        .iter()
        .any(|r| r.as_object().is_some_and(|r| !r.is_empty()));
    let session = security.iter().any(|r| r.get("session").is_some());
    if changes {
        idempotency_key(op);
        if session {
            csrf(op);
        }
    }

    let mut bad = Vec::new();
    if has_body {
        bad.push(
            "the body is not JSON of the documented shape (malformed, wrong types, unknown fields)",
        );
    }
    if has_query {
        bad.push("a query parameter is unknown or out of its range");
    }
    if changes {
        bad.push("the `Idempotency-Key` is malformed");
    }
    if !bad.is_empty() {
        error(op, 400, &sentence(&bad));
    }
    if secured {
        let what = if visitor {
            "The credentials are missing or not valid (a site key, or a visitor token, of this server)"
        } else {
            "The API key or the console session is missing, not valid, or ended"
        };
        error(op, 401, what);
    }
    if session {
        let what = if changes {
            "A console session: an agent's where only admins may act or acting as another agent, or a change without the page's `X-CSRF-Token`"
        } else {
            "A console session: an agent's where only admins may act"
        };
        error(op, 403, what);
    }
    if visitor && secured {
        error(
            op,
            403,
            "The page's origin is not in the site's allowed origins (`origin-not-allowed`)",
        );
    }
    if has_body || changes {
        error(
            op,
            413,
            &format!("The body is over {} KiB", MAX_BODY / 1024),
        );
    }
    if changes {
        error(
            op,
            422,
            "The `Idempotency-Key` was used with a different request (`idempotency-key-reused`)",
        );
    }
    if visitor {
        error(
            op,
            429,
            "Too many requests from this address or to this site; try again after `Retry-After` seconds",
        );
        let headers = op["responses"]["429"]
            .as_object_mut()
            .expect("just added")
            .entry("headers")
            .or_insert_with(|| json!({}));
        headers["Retry-After"] = json!({
            "description": "Seconds to wait before trying again",
            "required": true,
            "schema": {"type": "integer", "minimum": 1}
        });
    }
    problems(op);
}

/// utoipa 5 spells a link's fields in snake case; OpenAPI's are camel case.
fn links(op: &mut Map<String, Value>) {
    let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
        return;
    };
    for response in responses.values_mut() {
        let Some(links) = response.get_mut("links").and_then(Value::as_object_mut) else {
            continue;
        };
        for link in links.values_mut().filter_map(Value::as_object_mut) {
            for (from, to) in [
                ("operation_id", "operationId"),
                ("operation_ref", "operationRef"),
                ("request_body", "requestBody"),
            ] {
                if let Some(v) = link.remove(from) {
                    link.insert(to.into(), v);
                }
            }
        }
    }
}

/// The operation's parameters.
fn params(op: &Map<String, Value>) -> Vec<Value> {
    op.get("parameters")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// `a`, `a, and b`…: one sentence of several reasons.
fn sentence(parts: &[&str]) -> String {
    let mut s = parts.join("; or ");
    if let Some(first) = s.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    s
}

fn idempotency_key(op: &mut Map<String, Value>) {
    let list = op
        .entry("parameters")
        .or_insert_with(|| json!([]))
        .as_array_mut()
        .expect("parameters are a list");
    if list.iter().any(|p| p["name"] == "Idempotency-Key") {
        return;
    }
    list.push(json!({
        "name": "Idempotency-Key",
        "in": "header",
        "required": false,
        "description": "Makes the call safe to retry: the same key with the same method, path and body within 24 hours answers the first answer again (with `Idempotent-Replayed: true`) and changes nothing; the same key with another request is a 422. 1 to 255 visible ASCII characters, not starting nor ending with a space. Keys are the caller's own (the team's, or the visitor's).",
        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": IDEMPOTENCY_KEY_PATTERN},
        "example": "3f0c1a5e-9d2b-4c55-8a61-2b7f0d1e4a90"
    }));
}

/// A change made with a console session needs the page's CSRF token too.
fn csrf(op: &mut Map<String, Value>) {
    if let Some(list) = op.get_mut("security").and_then(Value::as_array_mut) {
        for r in list.iter_mut() {
            if let Some(r) = r.as_object_mut()
                && r.contains_key("session")
            {
                r.insert("csrf".into(), json!([]));
            }
        }
    }
}

/// Adds `status` with `why`, or adds `why` to the description the handler gave it.
fn error(op: &mut Map<String, Value>, status: u16, why: &str) {
    let responses = op
        .entry("responses")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .expect("responses are an object");
    let key = status.to_string();
    match responses.get_mut(&key).and_then(Value::as_object_mut) {
        Some(existing) => {
            let described = existing
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if !described.contains(why) {
                let joined = if described.is_empty() {
                    why.to_string()
                } else {
                    format!("{described}; or: {why}")
                };
                existing.insert("description".into(), joined.into());
            }
        }
        None => {
            responses.insert(key, json!({ "description": why }));
        }
    }
}

/// Every error answers a problem.
fn problems(op: &mut Map<String, Value>) {
    let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
        return;
    };
    for (status, response) in responses.iter_mut() {
        let is_error = status.starts_with('4') || status.starts_with('5');
        if is_error && let Some(r) = response.as_object_mut() {
            r.insert(
                "content".into(),
                json!({"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}),
            );
        }
    }
}
