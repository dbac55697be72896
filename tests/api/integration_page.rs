//! What the console's Integration page needs from the API and from the web side: errors that
//! name their field, delivery records with their channel, the secret readable again with its
//! rotation's overlap, the endpoint's health; and the pages themselves, for admins only.

use reqwest::Method;
use serde_json::{Value, json};

use crate::fixtures::named;
use crate::helpers::TestApp;
use crate::receiver::{Receiver, Reply};
use crate::stores::{TestStore, on_every_store};

mod pages;

on_every_store!(
    deliveries_carry_their_channel,
    health_counts_the_last_day,
    redeliver_tries_a_waiting_retry_now,
    the_secret_reads_again_and_rotation_says_until_when,
);

/// `detail` starts with the field in backquotes, which the console puts beside that input.
fn names_field(problem: &Value, field: &str) {
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(
        detail.starts_with(&format!("`{field}`")),
        "the detail names `{field}` first: {problem}"
    );
}

#[tokio::test]
async fn validation_errors_name_their_field() {
    let app = TestApp::builder(TestStore::Sqlite)
        .allow_private_destinations(false)
        .spawn()
        .await;
    let bad = [
        (json!({"url": "http://10.1.2.3/hook"}), "url"),
        (json!({"url": "http://localhost:9/hook"}), "url"),
        (json!({"url": "ftp://example.com/hook"}), "url"),
        (json!({"url": "not a url"}), "url"),
        (
            json!({"url": "https://example.com/h", "events": ["start", "closed"]}),
            "events",
        ),
        (
            json!({"url": "https://example.com/h", "events": []}),
            "events",
        ),
        (
            json!({"url": "https://example.com/h", "batchSize": 0}),
            "batchSize",
        ),
        (
            json!({"url": "https://example.com/h", "batchSize": 101}),
            "batchSize",
        ),
    ];
    for (body, field) in &bad {
        let p = app
            .create_webhook_call(body)
            .send()
            .await
            .expect_problem(422);
        names_field(&p, field);
    }
    let p = app
        .create_webhook_call(&json!({"url": "http://10.1.2.3/hook"}))
        .send()
        .await
        .expect_problem(422);
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("not a public address"),
        "the reason is kept: {p}"
    );
    let hook = app.create_webhook("https://example.com/hook", None).await;
    let path = format!("/webhooks/{}", hook.id);
    for (body, field) in [
        (json!({"url": "http://192.168.0.1/"}), "url"),
        (json!({"events": ["messageBot"]}), "events"),
        (json!({"batchSize": -1}), "batchSize"),
    ] {
        let p = app
            .api(Method::PATCH, &path)
            .json(&body)
            .send()
            .await
            .expect_problem(422);
        names_field(&p, field);
    }
}

async fn deliveries_carry_their_channel(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let receiver = Receiver::start().await;
    let hook = app.create_webhook(&receiver.url(), Some(&["start"])).await;
    let visitor = app.visitor_start(named("Scarlet"), None).await;
    let log = app
        .wait_until_deliveries(&hook.id, |log| log.len() == 1)
        .await;
    assert_eq!(
        log[0]["channelName"],
        visitor.channel_name.as_str(),
        "{}",
        log[0]
    );
    let one = app.delivery(&hook.id, log[0]["id"].as_str().unwrap()).await;
    assert_eq!(one["channelName"], visitor.channel_name.as_str(), "{one}");

    let test = app
        .api(Method::POST, &format!("/webhooks/{}/test", hook.id))
        .send()
        .await
        .expect_json(202);
    let sample = app
        .delivery(&hook.id, test["deliveryId"].as_str().unwrap())
        .await;
    assert!(
        sample["channelName"].is_null(),
        "a test event has no channel: {sample}"
    );
    assert!(sample["conversationId"].is_null(), "{sample}");
}

async fn health_counts_the_last_day(store: TestStore) {
    let app = TestApp::builder(store).retry_schedule("50ms").spawn().await;
    let receiver = Receiver::start().await;
    let hook = app.create_webhook(&receiver.url(), None).await;
    let health_path = format!("/webhooks/{}/health", hook.id);
    let quiet = app
        .api(Method::GET, &health_path)
        .send()
        .await
        .expect_json(200);
    assert_eq!(quiet["deliveries"], 0, "{quiet}");
    assert_eq!(quiet["failedAttempts"], 0, "{quiet}");
    assert!(quiet["lastError"].is_null(), "{quiet}");
    assert!(quiet["lastSuccessAt"].is_null(), "{quiet}");
    assert_eq!(quiet["capped"], false);
    crate::payload::assert_iso_millis(quiet["since"].as_str().unwrap());

    // The first test event fails twice (two attempts, then it gives up), the second succeeds.
    receiver.script([Reply::Status(500), Reply::Status(503)]);
    let test_path = format!("/webhooks/{}/test", hook.id);
    let first = app
        .api(Method::POST, &test_path)
        .send()
        .await
        .expect_json(202);
    let first = first["deliveryId"].as_str().unwrap().to_owned();
    app.wait_delivery_status(&hook.id, &first, "failed").await;
    let second = app
        .api(Method::POST, &test_path)
        .send()
        .await
        .expect_json(202);
    let second = second["deliveryId"].as_str().unwrap().to_owned();
    app.wait_delivery_status(&hook.id, &second, "delivered")
        .await;

    let h = app
        .api(Method::GET, &health_path)
        .send()
        .await
        .expect_json(200);
    assert_eq!(h["deliveries"], 2, "{h}");
    assert_eq!(h["delivered"], 1, "{h}");
    assert_eq!(h["failed"], 1, "{h}");
    assert_eq!(h["pending"], 0, "{h}");
    assert_eq!(h["failedAttempts"], 2, "{h}");
    let last = &h["lastError"];
    assert_eq!(last["deliveryId"], first.as_str(), "{h}");
    assert_eq!(last["statusCode"], 503, "the newest failure: {h}");
    assert!(last["error"].as_str().unwrap().contains("503"), "{h}");
    crate::payload::assert_iso_millis(last["at"].as_str().unwrap());
    crate::payload::assert_iso_millis(h["lastSuccessAt"].as_str().unwrap());

    let other = app.create_webhook(&receiver.url(), None).await;
    let h = app
        .api(Method::GET, &format!("/webhooks/{}/health", other.id))
        .send()
        .await
        .expect_json(200);
    assert_eq!(
        h["deliveries"], 0,
        "another endpoint's deliveries are not counted: {h}"
    );
    app.api(Method::GET, "/webhooks/ep_nope/health")
        .send()
        .await
        .expect_problem(404);
}

async fn the_secret_reads_again_and_rotation_says_until_when(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let hook = app.create_webhook("https://example.com/hook", None).await;
    let path = format!("/webhooks/{}", hook.id);
    let got = app.api(Method::GET, &path).send().await.expect_json(200);
    assert_eq!(got["secret"], hook.json["secret"], "readable again: {got}");
    assert!(got.get("previousSecretExpiresAt").is_none(), "{got}");

    let rotated = app.rotate_secret(&hook.id).await;
    let got = app.api(Method::GET, &path).send().await.expect_json(200);
    assert_eq!(got["secret"], rotated.as_str());
    let until = got["previousSecretExpiresAt"].as_str().expect("an overlap");
    crate::payload::assert_iso_millis(until);
    let until = chrono::DateTime::parse_from_rfc3339(until).unwrap();
    let left = until.signed_duration_since(chrono::Utc::now());
    assert!(
        left > chrono::Duration::hours(23) && left <= chrono::Duration::hours(24),
        "the old secret signs for 24 h: {left}"
    );
}

/// "Redeliver" on a delivery waiting for its next retry (the receiver is fixed) tries it now
/// instead of at the scheduled time.
async fn redeliver_tries_a_waiting_retry_now(store: TestStore) {
    let app = TestApp::builder(store).retry_schedule("1h").spawn().await;
    let receiver = Receiver::start().await;
    receiver.script([Reply::Status(500)]);
    let hook = app.create_webhook(&receiver.url(), None).await;
    let test_path = format!("/webhooks/{}/test", hook.id);
    let queued = app
        .api(Method::POST, &test_path)
        .send()
        .await
        .expect_json(202);
    let id = queued["deliveryId"].as_str().unwrap().to_owned();
    let waiting = app
        .wait_delivery(&hook.id, &id, "the first attempt to fail", |d| {
            d["attempts"] == 1 && d["lastAttempt"]["statusCode"] == 500
        })
        .await;
    assert_eq!(waiting["status"], "pending", "{waiting}");
    let next = waiting["nextAttemptAt"].as_str().expect("a next retry");
    let next = chrono::DateTime::parse_from_rfc3339(next).unwrap();
    assert!(
        next > chrono::Utc::now() + chrono::Duration::minutes(30),
        "the retry waits an hour: {waiting}"
    );

    let path = format!("/webhooks/{}/deliveries/{id}/redeliver", hook.id);
    app.api(Method::POST, &path).send().await.expect_json(202);
    let done = app.wait_delivery_status(&hook.id, &id, "delivered").await;
    assert_eq!(done["attempts"], 2, "tried once more, now: {done}");
    assert_eq!(receiver.count(), 2, "no other request");
}
