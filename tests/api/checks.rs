//! Checks every webhook request of the tests goes through.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::payload::{self, texts};
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
    crate::schema::assert_valid(&req.body);
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

/// The same event may arrive twice (at least once), but only as the same delivery. Returns how
/// many requests repeated an earlier one.
pub fn assert_duplicates_share_their_webhook_id(reqs: &[Arc<Received>], secret: &str) -> usize {
    let mut ids_per_event: HashMap<String, HashSet<String>> = HashMap::new();
    let mut times_per_id: HashMap<String, usize> = HashMap::new();
    for r in reqs {
        r.assert_signed(secret);
        let e = r.event();
        let key = format!("{} {} {:?}", e["visitorId"], e["event"], texts(&e).pop());
        ids_per_event
            .entry(key)
            .or_default()
            .insert(r.webhook_id().to_owned());
        *times_per_id.entry(r.webhook_id().to_owned()).or_default() += 1;
    }
    let repeated: Vec<_> = times_per_id.iter().filter(|(_, n)| **n > 1).collect();
    eprintln!(
        "{} requests, {} deliveries sent more than once, e.g. {:?}",
        reqs.len(),
        repeated.len(),
        &repeated[..repeated.len().min(10)]
    );
    for (event, ids) in ids_per_event {
        assert_eq!(
            ids.len(),
            1,
            "{event} was delivered under several webhook-ids: {ids:?}"
        );
    }
    reqs.len() - times_per_id.len()
}
