//! Checks every webhook request of the tests goes through.

use crate::payload;
use crate::receiver::Received;

/// Headers (Standard Webhooks + ours), a valid signature for `secret`, and the body's form.
pub fn check_request(req: &Received, secret: &str) {
    let content_type = req.header("content-type");
    assert!(
        content_type.starts_with("application/json"),
        "content-type {content_type:?}"
    );
    let user_agent = req.header("user-agent");
    assert!(
        user_agent.starts_with("Palaver/"),
        "user-agent {user_agent:?}"
    );
    assert!(!req.webhook_id().is_empty(), "empty webhook-id");
    req.assert_signed(secret);
    payload::check_body(req);
}

/// `check_request` on each, returning their events in arrival order.
pub fn checked_events(reqs: &[std::sync::Arc<Received>], secret: &str) -> Vec<serde_json::Value> {
    reqs.iter()
        .map(|r| {
            check_request(r, secret);
            r.event()
        })
        .collect()
}

/// The `event` names, in order.
pub fn names(events: &[serde_json::Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["event"].as_str().unwrap_or(""))
        .collect()
}
