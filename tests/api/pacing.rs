//! Per-endpoint limits: `maxInFlight` and `maxPerSecond` on the webhook, validated, shown and
//! enforced, as the receiver sees them.

use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use reqwest::Method;
use serde_json::json;

use crate::fixtures::named;
use crate::helpers::{TestApp, WAIT};
use crate::receiver::{Receiver, Reply};
use crate::stores::{TestStore, on_every_store};

on_every_store!(
    limits_are_validated_shown_and_cleared_with_null,
    max_in_flight_caps_the_attempts_at_once,
    max_per_second_spaces_the_attempts,
    a_stop_hands_back_what_waits_for_a_limit_uncounted,
);

async fn limits_are_validated_shown_and_cleared_with_null(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let receiver = Receiver::start().await;
    let hook = app.create_webhook(&receiver.url(), None).await;
    assert!(hook.json["maxInFlight"].is_null(), "{}", hook.json);
    assert!(hook.json["maxPerSecond"].is_null(), "{}", hook.json);
    let path = format!("/webhooks/{}", hook.id);
    for field in ["maxInFlight", "maxPerSecond"] {
        for bad in [
            json!(0),
            json!(-1),
            json!(1001),
            json!(2.5),
            json!("3"),
            json!(true),
        ] {
            let problem = app
                .api(Method::PATCH, &path)
                .json(&json!({ field: bad }))
                .send()
                .await
                .expect_problem(422);
            let detail = problem["detail"].as_str().unwrap_or_default();
            assert!(
                detail.starts_with(&format!("`{field}`")),
                "{field} {bad}: {problem}"
            );
            let created = app
                .create_webhook_call(&json!({ "url": receiver.url(), field: bad }))
                .send()
                .await
                .expect_problem(422);
            assert!(
                created["detail"].as_str().unwrap().contains(field),
                "{created}"
            );
        }
    }
    let limited = app
        .patch_webhook(&hook.id, &json!({ "maxInFlight": 3, "maxPerSecond": 1000 }))
        .await;
    assert_eq!(
        (&limited["maxInFlight"], &limited["maxPerSecond"]),
        (&json!(3), &json!(1000))
    );
    // Left out keeps; null clears.
    let same = app
        .patch_webhook(&hook.id, &json!({ "description": "x" }))
        .await;
    assert_eq!(same["maxInFlight"], 3, "{same}");
    let cleared = app
        .patch_webhook(&hook.id, &json!({ "maxInFlight": null }))
        .await;
    assert!(cleared["maxInFlight"].is_null(), "{cleared}");
    assert_eq!(cleared["maxPerSecond"], 1000);
    let read = app.api(Method::GET, &path).send().await.expect_json(200);
    assert!(
        read["maxInFlight"].is_null() && read["maxPerSecond"] == 1000,
        "{read}"
    );
    let listed = app.list("/webhooks").await;
    assert_eq!(listed[0]["maxPerSecond"], 1000, "{listed:?}");
    let created = app
        .create_webhook_call(
            &json!({ "url": receiver.url(), "maxInFlight": 2, "maxPerSecond": null }),
        )
        .send()
        .await
        .expect_json(201);
    assert_eq!(created["maxInFlight"], 2);
    assert!(created["maxPerSecond"].is_null());
}

/// Starts `n` conversations at once (each its own channel, so each its own lane).
async fn start_many(app: &Arc<TestApp>, n: usize) {
    let starts = (0..n).map(|i| {
        let app = app.clone();
        async move {
            app.visitor_start(named(&format!("Visitor {i}")), None)
                .await
        }
    });
    join_all(starts).await;
}

async fn max_in_flight_caps_the_attempts_at_once(store: TestStore) {
    let app = Arc::new(TestApp::spawn(store).await);
    let receiver = Receiver::start().await;
    // Slow answers: without the limit all 30 would be out at once.
    receiver.set_default(Reply::After(250, 200));
    let hook = app.create_webhook(&receiver.url(), Some(&["start"])).await;
    app.patch_webhook(&hook.id, &json!({ "maxInFlight": 3 }))
        .await;
    let free = Receiver::start().await;
    free.set_default(Reply::After(250, 200));
    app.create_webhook(&free.url(), Some(&["start"])).await;

    start_many(&app, 30).await;
    receiver
        .wait_until("30 answered requests", WAIT, |r| {
            r.len() >= 30 && r.iter().all(|x| x.status.get().is_some())
        })
        .await;
    assert_eq!(
        receiver.most_at_once(),
        3,
        "never more than 3, and 3 were used"
    );
    assert_eq!(receiver.count(), 30, "each delivery once");
    // The unlimited endpoint beside it was not held to 3.
    free.wait_for(30, WAIT).await;
    assert!(free.most_at_once() > 3, "{}", free.most_at_once());
    let log = app
        .wait_until_deliveries(&hook.id, |d| {
            d.len() == 30 && d.iter().all(|x| x["status"] == "delivered")
        })
        .await;
    assert!(
        log.iter().all(|d| d["attempts"] == 1),
        "waiting was no attempt: {log:?}"
    );
}

async fn max_per_second_spaces_the_attempts(store: TestStore) {
    let app = Arc::new(TestApp::spawn(store).await);
    let receiver = Receiver::start().await;
    let hook = app.create_webhook(&receiver.url(), Some(&["start"])).await;
    app.patch_webhook(&hook.id, &json!({ "maxPerSecond": 5 }))
        .await;

    start_many(&app, 16).await;
    let reqs = receiver.wait_for(16, WAIT).await;
    let mut arrivals: Vec<_> = reqs.iter().map(|r| r.at).collect();
    arrivals.sort();
    // In any one second from an arrival: at most 5 (starts are 200 ms apart; one more allowed
    // for the transit time of the first to differ from the last's).
    let busiest = (0..arrivals.len())
        .map(|i| {
            let end = arrivals[i] + Duration::from_secs(1);
            arrivals[i..].iter().take_while(|t| **t < end).count()
        })
        .max()
        .unwrap();
    assert!(busiest <= 6, "{busiest} requests within one second");
    assert!(
        busiest >= 3,
        "the limit is 5 a second, not fewer: {busiest}"
    );
    let span = *arrivals.last().unwrap() - arrivals[0];
    assert!(
        span >= Duration::from_millis(2700),
        "16 at 5/s take 3 s: {span:?}"
    );
    let log = app
        .wait_until_deliveries(&hook.id, |d| {
            d.len() == 16 && d.iter().all(|x| x["status"] == "delivered")
        })
        .await;
    assert!(log.iter().all(|d| d["attempts"] == 1), "{log:?}");
}

async fn a_stop_hands_back_what_waits_for_a_limit_uncounted(store: TestStore) {
    let app = Arc::new(TestApp::spawn(store).await);
    let receiver = Receiver::start().await;
    receiver.set_default(Reply::After(1000, 200));
    let hook = app.create_webhook(&receiver.url(), Some(&["start"])).await;
    app.patch_webhook(&hook.id, &json!({ "maxInFlight": 1 }))
        .await;
    start_many(&app, 4).await;
    receiver.wait_for(1, WAIT).await;
    // Stopped while one request is out and the others wait for the limit's room.
    let status = app.terminate(WAIT).await;
    assert!(status.success(), "{status:?}");
    receiver.set_default(Reply::Status(200));
    app.restart().await;
    let log = app
        .wait_until_deliveries(&hook.id, |d| {
            d.len() == 4 && d.iter().all(|x| x["status"] == "delivered")
        })
        .await;
    for d in &log {
        assert_eq!(
            d["attempts"], 1,
            "waiting was no attempt, before or after the stop: {d}"
        );
    }
}
