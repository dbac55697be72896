//! Endpoint health that heals, against the real binary with short rules (disabled after 2 s of
//! failures, probed every 300 ms): a failing webhook is disabled with the reason and the time,
//! its held deliveries are not sent, failed probes spend no retries, the receiver recovering
//! enables it again and every held delivery arrives once, in per-channel order; the change is
//! announced in Slack's notification channel.

use std::sync::Arc;

use reqwest::Method;
use serde_json::Value;

use crate::api::eventually;
use crate::endpoint_health::accepted;
use crate::fake_slack::FakeSlack;
use crate::fixtures::named;
use crate::helpers::{TestApp, WAIT};
use crate::payload::assert_iso_millis;
use crate::receiver::{Received, Receiver, Reply};
use crate::slack_outbound_kit::{connect, text};
use crate::stores::{TestStore, on_every_store};

on_every_store!(
    a_failing_webhook_is_disabled_held_probed_and_healed,
    disabling_and_healing_are_announced_in_slack,
);

/// Nine attempts 400 ms apart (±20%), 3.2 s in all: a delivery failing all along is still
/// pending when its webhook is disabled (2 s), with at most four attempts left.
const SCHEDULE: &str = "400ms,400ms,400ms,400ms,400ms,400ms,400ms,400ms";

async fn server(store: TestStore, slack: Option<&FakeSlack>) -> TestApp {
    let mut app = TestApp::builder(store)
        .retry_schedule(SCHEDULE)
        .env("PALAVER_ENDPOINT_DISABLE_AFTER", "2s")
        .env("PALAVER_ENDPOINT_PROBE_INTERVAL", "300ms");
    if let Some(slack) = slack {
        app = app.env("PALAVER_SLACK_API_URL", &slack.api_url());
    }
    app.spawn().await
}

/// Polls the webhook until `done` holds for it.
async fn wait_webhook(app: &TestApp, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let path = format!("/webhooks/{id}");
    eventually(what, WAIT, || async {
        let got = app.api(Method::GET, &path).send().await.expect_json(200);
        if done(&got) { Ok(got) } else { Err(got) }
    })
    .await
}

fn ids(reqs: &[Arc<Received>]) -> Vec<String> {
    reqs.iter().map(|r| r.webhook_id().to_owned()).collect()
}

async fn a_failing_webhook_is_disabled_held_probed_and_healed(store: TestStore) {
    let app = server(store, None).await;
    let receiver = Receiver::start().await;
    receiver.set_default(Reply::Status(500));
    let hook = app.create_webhook(&receiver.url(), None).await;
    app.visitor_start(named("Ann"), Some("one")).await;

    let off = wait_webhook(&app, &hook.id, "the webhook disabled", |w| {
        w["enabled"] == false
    })
    .await;
    let reason = off["disabledReason"].as_str().expect("a reason");
    assert!(
        reason.starts_with("every delivery failed for 2 seconds"),
        "{reason}"
    );
    assert!(reason.contains("the receiver answered 500"), "{reason}");
    assert_iso_millis(off["disabledAt"].as_str().expect("disabledAt"));
    assert_iso_millis(off["nextProbeAt"].as_str().expect("probed"));
    assert_eq!(app.list("/webhooks").await[0]["disabledReason"], reason);

    // While it is disabled, events are still queued for it, and held.
    app.visitor_start(named("Bob"), Some("two")).await;
    let before = receiver.count();
    let first = receiver.received()[0].webhook_id().to_owned();
    // Probes: the oldest held delivery (Ann's start) alone, again and again, failing; five of
    // them would have failed it for good had they been counted.
    let reqs = receiver.wait_for(before + 5, WAIT).await;
    assert!(
        ids(&reqs[before..]).iter().all(|id| *id == first),
        "only the probed delivery is sent: {:?} (the first: {first}) {:#?}",
        ids(&reqs[before..]),
        app.deliveries(&hook.id).await
    );
    let log = app.deliveries(&hook.id).await;
    assert_eq!(log.len(), 4, "{log:#?}");
    assert!(
        log.iter().all(|d| d["status"] == "pending"),
        "nothing failed for good: {log:#?}"
    );
    let bob = log.iter().filter(|d| d["attempts"] == 0).count();
    assert_eq!(
        bob, 3,
        "Ann's message and Bob's two events never tried: {log:#?}"
    );
    let still = wait_webhook(&app, &hook.id, "still disabled", |_| true).await;
    assert_eq!(
        (still["enabled"].clone(), still["disabledAt"].clone()),
        (Value::Bool(false), off["disabledAt"].clone())
    );

    // The receiver recovers: the next probe gets through, the webhook is enabled again, and
    // every held delivery arrives once, each channel in order.
    receiver.set_default(Reply::Status(200));
    let reqs = receiver
        .wait_until("the four deliveries accepted", WAIT, |r| {
            accepted(r).len() >= 4
        })
        .await;
    let got = accepted(&reqs);
    assert_eq!(got[0].0, first, "the probe first");
    let per = |events: [&str; 2]| -> Vec<String> {
        got.iter()
            .filter(|(_, e)| events.contains(&e.as_str()))
            .map(|(id, _)| id.clone())
            .collect()
    };
    assert_eq!(per(["start", "messageVisitor"]).len(), 4);
    let on = wait_webhook(&app, &hook.id, "enabled again", |w| w["enabled"] == true).await;
    assert!(
        on["disabledReason"].is_null() && on["nextProbeAt"].is_null(),
        "{on}"
    );
    let log = app
        .wait_until_deliveries(&hook.id, |l| l.iter().all(|d| d["status"] == "delivered"))
        .await;
    let mut lanes: Vec<(String, Vec<String>)> = Vec::new();
    for (id, event) in &got {
        let d = log.iter().find(|d| d["id"] == id.as_str()).expect("logged");
        let lane = d["channelName"].as_str().unwrap().to_owned();
        match lanes.iter_mut().find(|(l, _)| *l == lane) {
            Some((_, events)) => events.push(event.clone()),
            None => lanes.push((lane, vec![event.clone()])),
        }
    }
    for (lane, events) in &lanes {
        assert_eq!(events, &["start", "messageVisitor"], "{lane} in order");
    }
    assert_eq!(accepted(&receiver.received()).len(), 4, "each once");
    let ann = log.iter().find(|d| d["id"] == first.as_str()).unwrap();
    let tries = ids(&receiver.received())
        .iter()
        .filter(|id| **id == first)
        .count();
    assert_eq!(
        ann["attempts"], tries as i64,
        "every probe is in its attempt log: {ann}"
    );
}

async fn disabling_and_healing_are_announced_in_slack(store: TestStore) {
    let slack = FakeSlack::start().await;
    let app = server(store, Some(&slack)).await;
    connect(&app, &slack, false).await;
    let receiver = Receiver::start().await;
    receiver.set_default(Reply::Status(500));
    let hook = app
        .create_webhook(&receiver.url_with_path("/crm?token=sekrit"), None)
        .await;
    app.visitor_start(named("Ann"), Some("one")).await;
    wait_webhook(&app, &hook.id, "the webhook disabled", |w| {
        w["enabled"] == false
    })
    .await;
    let posted = |needle: &'static str| {
        move |s: &FakeSlack| {
            s.channels()
                .iter()
                .flat_map(|c| c.messages.iter().map(|(_, a)| text(a)))
                .find(|t| t.contains(needle))
        }
    };
    let found = posted("disabled the webhook");
    slack
        .wait_until("the notice of the disabled webhook", WAIT, |_| {
            found(&slack).is_some()
        })
        .await;
    let notice = found(&slack).unwrap();
    assert!(
        notice.contains(&hook.id) && notice.contains("every delivery failed for 2 seconds"),
        "{notice}"
    );
    assert!(notice.contains("every 300 milliseconds"), "{notice}");
    assert!(
        !notice.contains("sekrit") && !notice.contains("/crm"),
        "no path or query: {notice}"
    );
    let channels: Vec<String> = slack
        .channels()
        .into_iter()
        .filter(|c| {
            c.messages
                .iter()
                .any(|(_, a)| text(a).contains("disabled the webhook"))
        })
        .map(|c| c.name)
        .collect();
    assert_eq!(channels.len(), 1, "one notification channel: {channels:?}");
    assert!(
        !channels[0].starts_with("z-"),
        "not a visitor's channel: {channels:?}"
    );

    receiver.set_default(Reply::Status(200));
    let healed = posted("takes deliveries again");
    slack
        .wait_until("the notice of the healed webhook", WAIT, |_| {
            healed(&slack).is_some()
        })
        .await;
    assert!(healed(&slack).unwrap().contains(&hook.id));
}
