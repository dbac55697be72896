//! Endpoint health that heals, what is not discarded and what a person decides, against the real
//! binary with short rules (three attempts 100 ms apart, disabled after 2 s of failures, probed
//! every 300 ms): deliveries that failed for good while the receiver was down are queued again
//! when a probe enables the webhook, each channel still in order, every event arriving once; a
//! person disabling a webhook Palaver disabled for failing makes it disabled by hand, unprobed.

use std::collections::{BTreeMap, HashSet};

use reqwest::Method;
use serde_json::{Value, json};

use crate::api::eventually;
use crate::fixtures::named;
use crate::helpers::{TestApp, WAIT};
use crate::receiver::{Receiver, Reply};
use crate::stores::{TestStore, on_every_store};

on_every_store!(
    deliveries_failed_while_down_are_queued_again_when_it_heals,
    disabling_by_hand_stops_the_probes,
);

async fn server(store: TestStore) -> TestApp {
    TestApp::builder(store)
        .retry_schedule("100ms,100ms")
        .env("PALAVER_ENDPOINT_DISABLE_AFTER", "2s")
        .env("PALAVER_ENDPOINT_PROBE_INTERVAL", "300ms")
        .spawn()
        .await
}

async fn webhook(app: &TestApp, id: &str) -> Value {
    app.api(Method::GET, &format!("/webhooks/{id}"))
        .send()
        .await
        .expect_json(200)
}

/// Starts a visitor (a channel of its own) whenever the last one's delivery failed for good,
/// until the webhook is disabled: the failing clock runs out only at an attempt.
async fn fail_until_disabled(app: &TestApp, id: &str) -> Value {
    let mut n = 0;
    eventually("the webhook disabled", WAIT, || {
        n += 1;
        let n = n;
        async move {
            let w = webhook(app, id).await;
            if w["enabled"] == false {
                return Ok(w);
            }
            let log = app.deliveries(id).await;
            if log.iter().all(|d| d["status"] != "pending") {
                app.visitor_start(named(&format!("Poke {n}")), None).await;
            }
            Err(w)
        }
    })
    .await
}

async fn deliveries_failed_while_down_are_queued_again_when_it_heals(store: TestStore) {
    let app = server(store).await;
    let receiver = Receiver::start().await;
    receiver.set_default(Reply::Status(500));
    let hook = app.create_webhook(&receiver.url(), None).await;
    let ann = app.visitor_start(named("Ann"), Some("one")).await;
    app.wait_until_deliveries(&hook.id, |l| {
        l.len() == 2 && l.iter().all(|d| d["status"] == "failed")
    })
    .await;

    fail_until_disabled(&app, &hook.id).await;
    let failed = app
        .deliveries(&hook.id)
        .await
        .iter()
        .filter(|d| d["status"] == "failed")
        .count();
    assert!(failed >= 3, "Ann's two and a poke's failed for good");

    // Held while it is disabled: Ann's channel (behind her failed ones) and a new one.
    app.visitor_message(&ann.token, &ann.conversation_id, "two")
        .await;
    app.visitor_start(named("Cy"), Some("hi")).await;
    let total = app.deliveries(&hook.id).await.len();

    receiver.set_default(Reply::Status(200));
    let log = app
        .wait_until_deliveries(&hook.id, |l| {
            l.len() == total && l.iter().all(|d| d["status"] == "delivered")
        })
        .await;
    let on = webhook(&app, &hook.id).await;
    assert_eq!(on["enabled"], true, "{on}");

    // Every event once (deduplicated by webhook-id), each channel in order.
    let mut seen = HashSet::new();
    let mut lanes: BTreeMap<String, Vec<(String, usize)>> = BTreeMap::new();
    for r in receiver.received() {
        if r.status.get() != Some(&200) {
            continue;
        }
        assert!(seen.insert(r.webhook_id().to_owned()), "accepted twice");
        let e = r.event();
        let messages = e["messages"].as_array().map_or(0, Vec::len);
        lanes
            .entry(e["channelName"].as_str().unwrap().to_owned())
            .or_default()
            .push((e["event"].as_str().unwrap().to_owned(), messages));
    }
    assert_eq!(seen.len(), total, "every delivery accepted: {log:#?}");
    let ids: HashSet<String> = log
        .iter()
        .map(|d| d["id"].as_str().unwrap().into())
        .collect();
    assert_eq!(seen, ids);
    let events = |lane: &str| -> Vec<(String, usize)> { lanes[lane].clone() };
    let a = events(&ann.channel_name);
    assert_eq!(
        a.iter().map(|(e, _)| e.as_str()).collect::<Vec<_>>(),
        ["start", "messageVisitor", "messageVisitor"],
        "Ann's channel in order, her failed events first: {a:?}"
    );
    assert!(a[1].1 < a[2].1, "\"one\" before \"two\": {a:?}");
    for (lane, got) in &lanes {
        assert_eq!(got[0].0, "start", "{lane} starts with start: {got:?}");
        assert!(
            got.windows(2).all(|w| w[0].1 <= w[1].1),
            "{lane} in order: {got:?}"
        );
    }
}

async fn disabling_by_hand_stops_the_probes(store: TestStore) {
    let app = server(store).await;
    let patched = Receiver::start().await;
    patched.set_default(Reply::Status(500));
    let control = Receiver::start().await;
    control.set_default(Reply::Status(500));
    let hook = app.create_webhook(&patched.url(), None).await;
    let other = app.create_webhook(&control.url(), None).await;
    let off = fail_until_disabled(&app, &hook.id).await;
    fail_until_disabled(&app, &other.id).await;
    assert!(off["nextProbeAt"].is_string(), "probed: {off}");

    let got = app
        .api(Method::PATCH, &format!("/webhooks/{}", hook.id))
        .json(&json!({ "enabled": false }))
        .send()
        .await
        .expect_json(200);
    assert_eq!(got["enabled"], false);
    assert_eq!(got["disabledReason"], "disabled by hand", "{got}");
    assert!(got["nextProbeAt"].is_null(), "no more probes: {got}");
    assert!(
        got["disabledAt"].as_str() > off["disabledAt"].as_str(),
        "disabled again now: {got} (was {off})"
    );
    assert_eq!(webhook(&app, &hook.id).await, got);

    // Three probes of the other webhook (900 ms at least): the patched one had none but the
    // one that may have been in flight.
    let before = patched.count();
    let seen = control.count();
    control.wait_for(seen + 3, WAIT).await;
    assert!(
        patched.count() <= before + 1,
        "no probe after the PATCH: {} then {}",
        before,
        patched.count()
    );
    let still = webhook(&app, &hook.id).await;
    assert_eq!(still["disabledReason"], "disabled by hand", "{still}");
    assert_eq!(still["disabledAt"], got["disabledAt"]);
}
