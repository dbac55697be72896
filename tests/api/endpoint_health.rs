//! Disabled endpoints hold their deliveries: disabled by hand, nothing is sent to them and their
//! retries are not spent; enabled again, the held deliveries go out in per-channel order, once.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::fixtures::{agent, named};
use crate::helpers::{TestApp, WAIT};
use crate::payload::assert_iso_millis;
use crate::receiver::{Received, Receiver, Reply};
use crate::stores::{TestStore, on_every_store};

on_every_store!(disabled_by_hand_holds_and_enabled_releases);

const AGENT: &str = "U0HEALTH1";

/// The events of the requests the receiver answered 200, in arrival order.
pub fn accepted(reqs: &[Arc<Received>]) -> Vec<(String, String)> {
    reqs.iter()
        .filter(|r| r.status.get() == Some(&200))
        .map(|r| {
            (
                r.webhook_id().to_owned(),
                r.event()["event"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn disabled_by_hand_holds_and_enabled_releases(store: TestStore) {
    // The first retry comes 2 s after the first failure (time to disable the webhook); then
    // two more quick ones: had the deliveries not been held, they would have failed for good.
    let app = TestApp::builder(store)
        .retry_schedule("2s,200ms,200ms")
        .spawn()
        .await;
    let receiver = Receiver::start().await;
    receiver.set_default(Reply::Status(500));
    app.put_agent(&agent(AGENT, "Jen")).await.expect_status(201);
    let hook = app.create_webhook(&receiver.url(), None).await;
    let v = app.visitor_start(named("Held"), Some("hello")).await;
    receiver
        .wait_until("the start's first attempt answered", WAIT, |r| {
            r.first().is_some_and(|r| r.status.get().is_some())
        })
        .await;

    let off = app
        .patch_webhook(&hook.id, &json!({ "enabled": false }))
        .await;
    assert_eq!(off["enabled"], false);
    assert_eq!(off["disabledReason"], "disabled by hand", "{off}");
    assert_iso_millis(off["disabledAt"].as_str().expect("disabledAt"));
    assert!(
        off["nextProbeAt"].is_null(),
        "a person said stop: no probes"
    );
    let path = format!("/webhooks/{}", hook.id);
    let got = app.api(Method::GET, &path).send().await.expect_json(200);
    assert_eq!(got["disabledReason"], "disabled by hand");
    assert_eq!(got["disabledAt"], off["disabledAt"]);
    assert_eq!(
        app.list("/webhooks").await[0]["disabledReason"],
        "disabled by hand"
    );
    // Disabling again changes nothing.
    let again = app
        .patch_webhook(&hook.id, &json!({ "enabled": false }))
        .await;
    assert_eq!(again["disabledAt"], off["disabledAt"]);

    // Disabled by hand, it gets no deliveries for new events.
    app.join(&v.conversation_id, AGENT).await;
    // Held: past every retry the schedule had (2.4 s), nothing more was sent.
    let sent = receiver.count();
    tokio::time::sleep(Duration::from_millis(3000)).await;
    assert_eq!(
        receiver.count(),
        sent,
        "nothing is sent to a disabled webhook"
    );
    let log = app.deliveries(&hook.id).await;
    assert_eq!(log.len(), 2, "start and messageVisitor only: {log:#?}");
    assert!(log.iter().all(|d| d["status"] == "pending"), "{log:#?}");

    receiver.set_default(Reply::Status(200));
    let on = app
        .patch_webhook(&hook.id, &json!({ "enabled": true }))
        .await;
    assert_eq!(on["enabled"], true);
    assert!(
        on["disabledReason"].is_null() && on["disabledAt"].is_null(),
        "{on}"
    );
    let reqs = receiver
        .wait_until("both held deliveries accepted", WAIT, |r| {
            accepted(r).len() >= 2
        })
        .await;
    let got = accepted(&reqs);
    let names: Vec<&str> = got.iter().map(|(_, e)| e.as_str()).collect();
    assert_eq!(names, ["start", "messageVisitor"], "in order");
    let log = app
        .wait_until_deliveries(&hook.id, |l| l.iter().all(|d| d["status"] == "delivered"))
        .await;
    let start = log.iter().find(|d| d["event"] == "start").unwrap();
    assert_eq!(
        start["attempts"],
        sent as i64 + 1,
        "its retries were not spent: {start}"
    );
    assert_eq!(accepted(&receiver.received()).len(), 2, "each once");
}
