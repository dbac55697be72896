//! Managing endpoints: create/read/update/delete, event filters, disabling, secret rotation,
//! the test delivery, and the delivery log's listing.

use std::collections::BTreeSet;
use std::sync::Arc;

use reqwest::Method;
use serde_json::{Value, json};

use crate::api::list_data;
use crate::checks::{check_request, checked_events, names};
use crate::fixtures::{agent, named, seed_example};
use crate::helpers::{TestApp, WAIT};
use crate::payload::{EVENTS, assert_iso_millis};
use crate::receiver::{Received, Receiver, on_path};
use crate::signature;
use crate::stores::{TestStore, on_every_store};

on_every_store!(
    create_read_update_delete,
    event_filters_and_disabled_endpoints,
    during_rotation_both_secrets_sign,
    the_test_delivery_sends_the_seed_example,
    delivery_listing_filters_and_pages,
);

const AGENT: &str = "U0ADMIN01";

async fn create_read_update_delete(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let receiver = Receiver::start().await;
    let hook = app.create_webhook(&receiver.url(), None).await;
    let created = &hook.json;
    let events: BTreeSet<&str> = created["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        EVENTS.into_iter().collect(),
        "all six by default: {created}"
    );
    assert_eq!(created["enabled"], true);
    assert_eq!(created["url"], receiver.url().as_str());
    assert_iso_millis(created["createdAt"].as_str().expect("createdAt"));
    let path = format!("/webhooks/{}", hook.id);
    let got = app.api(Method::GET, &path).send().await.expect_json(200);
    assert_eq!(got["id"], hook.id.as_str());
    assert_eq!(got["url"], created["url"]);
    let listed = app.list("/webhooks").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], hook.id.as_str());

    let patch = json!({ "description": "ops", "events": ["end", "start"] });
    let patched = app.patch_webhook(&hook.id, &patch).await;
    assert_eq!(patched["description"], "ops");
    let events: BTreeSet<&str> = patched["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert_eq!(events, ["end", "start"].into_iter().collect(), "{patched}");
    let got = app.api(Method::GET, &path).send().await.expect_json(200);
    assert_eq!(got["description"], "ops", "PATCH persisted: {got}");
    assert_eq!(got["url"], created["url"], "untouched fields kept");

    app.api(Method::DELETE, &path)
        .send()
        .await
        .expect_status(204);
    app.api(Method::GET, &path).send().await.expect_problem(404);
    assert!(app.list("/webhooks").await.is_empty());
}

async fn event_filters_and_disabled_endpoints(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let receiver = Receiver::start().await;
    app.put_agent(&agent(AGENT, "Jen")).await.expect_status(201);
    let all = app
        .create_webhook(&receiver.url_with_path("/all"), None)
        .await;
    let ends = app
        .create_webhook(&receiver.url_with_path("/ends"), Some(&["end"]))
        .await;
    let off = app
        .create_webhook(&receiver.url_with_path("/off"), None)
        .await;
    let patched = app
        .patch_webhook(&off.id, &json!({ "enabled": false }))
        .await;
    assert_eq!(patched["enabled"], false);

    let v = app.visitor_start(named("Filter"), Some("hi")).await;
    app.join(&v.conversation_id, AGENT).await;
    app.end(&v.conversation_id, AGENT).await;
    let done = |reqs: &[Arc<Received>]| {
        on_path(reqs, "/all").len() == 4 && !on_path(reqs, "/ends").is_empty()
    };
    let reqs = receiver
        .wait_until("the ends of /all and /ends", WAIT, done)
        .await;
    let of = |path: &str| on_path(&reqs, path);
    let events = checked_events(&of("/all"), &all.secret);
    assert_eq!(names(&events), ["start", "messageVisitor", "open", "end"]);
    let events = checked_events(&of("/ends"), &ends.secret);
    assert_eq!(
        names(&events),
        ["end"],
        "an endpoint for `end` gets only `end`"
    );
    assert!(
        of("/off").is_empty(),
        "a disabled endpoint receives nothing"
    );
    let listed = app.deliveries(&off.id).await;
    assert!(
        listed.iter().all(|d| d["status"] != "delivered"),
        "{listed:?}"
    );
    let path = format!("/webhooks/{}/test", off.id);
    app.api(Method::POST, &path)
        .send()
        .await
        .expect_problem(409);
}

async fn during_rotation_both_secrets_sign(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let receiver = Receiver::start().await;
    let hook = app.create_webhook(&receiver.url(), Some(&["start"])).await;
    let new_secret = app.rotate_secret(&hook.id).await;
    assert!(new_secret.starts_with("whsec_") && new_secret != hook.secret);
    app.visitor_start(named("Rotate"), None).await;

    let req = &receiver.wait_for(1, WAIT).await[0];
    check_request(req, &new_secret);
    let sigs = signature::signatures(req);
    assert_eq!(sigs.len(), 2, "one signature per valid secret: {sigs:?}");
    let ts = req.header("webhook-timestamp");
    let by = |secret: &str| signature::sign(secret, req.webhook_id(), ts, &req.body);
    let expected: BTreeSet<String> = [by(&hook.secret), by(&new_secret)].into();
    assert_eq!(sigs.into_iter().collect::<BTreeSet<_>>(), expected);
}

async fn the_test_delivery_sends_the_seed_example(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let receiver = Receiver::start().await;
    let hook = app.create_webhook(&receiver.url(), Some(&["end"])).await;
    let path = format!("/webhooks/{}/test", hook.id);
    let answer = app.api(Method::POST, &path).send().await.expect_json(202);
    let id = answer["deliveryId"].as_str().expect("deliveryId");

    let req = &receiver.wait_for(1, WAIT).await[0];
    check_request(req, &hook.secret);
    assert_eq!(req.webhook_id(), id);
    let mut got: Value = serde_json::from_slice(&req.body).unwrap();
    let mut want = seed_example();
    for v in [&mut got, &mut want] {
        v[0]["createdAt"] = Value::Null;
        for m in v[0]["messages"].as_array_mut().unwrap() {
            m["createdAt"] = Value::Null;
        }
    }
    assert_eq!(got, want, "the seed's example (times aside)");
    app.wait_delivery_status(&hook.id, id, "delivered").await;
}

async fn delivery_listing_filters_and_pages(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let receiver = Receiver::start().await;
    let hook = app.create_webhook(&receiver.url(), Some(&["start"])).await;
    for n in 0..3 {
        app.visitor_start(named(&format!("List {n}")), None).await;
    }
    let reqs = receiver.wait_for(3, WAIT).await;
    for r in &reqs {
        app.wait_delivery_status(&hook.id, r.webhook_id(), "delivered")
            .await;
    }
    let base = format!("/webhooks/{}/deliveries", hook.id);
    let delivered = app.list(&format!("{base}?status=delivered")).await;
    assert_eq!(delivered.len(), 3);
    for d in &delivered {
        assert_eq!(d["event"], "start");
        assert_eq!(d["endpointId"], hook.id.as_str());
        assert_eq!(d["lastAttempt"]["statusCode"], 200, "{d}");
        assert_iso_millis(d["createdAt"].as_str().expect("createdAt"));
    }
    assert!(app.list(&format!("{base}?status=failed")).await.is_empty());
    let first = app
        .api(Method::GET, &format!("{base}?limit=2"))
        .send()
        .await
        .expect_json(200);
    let page = list_data(&first);
    assert_eq!(page.len(), 2);
    let cursor = first["nextCursor"].as_str().expect("a next page");
    let second = app
        .api(Method::GET, &format!("{base}?limit=2&cursor={cursor}"))
        .send()
        .await;
    let rest = list_data(&second.expect_json(200));
    let ids: BTreeSet<&str> = page
        .iter()
        .chain(&rest)
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 3, "pages cover all three once");
}
