//! Retention against the real binary: `--retention` purges finished deliveries, never pending
//! ones; `--message-retention` purges ended conversations, never one a pending delivery needs.
//! Run with retentions of a second: the sweep then comes every second, and the tests poll the
//! API (with a deadline) until it has been.

use reqwest::Method;
use serde_json::Value;

use crate::api::eventually;
use crate::fixtures::{agent, named};
use crate::helpers::{TestApp, WAIT};
use crate::receiver::{Receiver, Reply};
use crate::stores::{TestStore, on_every_store};

on_every_store!(
    delivered_deliveries_are_purged_and_pending_ones_stay,
    ended_conversations_are_purged_unless_a_pending_delivery_needs_them,
);

/// The status of `GET path` (admin API).
async fn status(app: &TestApp, path: &str) -> u16 {
    app.api(Method::GET, path).send().await.status
}

fn ids(log: &[Value]) -> Vec<&str> {
    log.iter().map(|d| d["id"].as_str().unwrap()).collect()
}

async fn delivered_deliveries_are_purged_and_pending_ones_stay(store: TestStore) {
    let app = TestApp::builder(store)
        .retry_schedule("1h")
        .env("PALAVER_RETENTION", "1s")
        .spawn()
        .await;
    let (ok, down) = (Receiver::start().await, Receiver::start().await);
    down.set_default(Reply::Status(500));
    let hook = app.create_webhook(&ok.url(), Some(&["start"])).await;
    let failing = app.create_webhook(&down.url(), Some(&["start"])).await;

    let jen = app.visitor_start(named("Jen"), None).await;
    let first = ok.wait_for(1, WAIT).await[0].webhook_id().to_string();
    app.wait_delivery_status(&hook.id, &first, "delivered")
        .await;
    let pending = down.wait_for(1, WAIT).await[0].webhook_id().to_string();
    app.wait_delivery(&failing.id, &pending, "an attempt logged", |d| {
        d["attempts"] == 1
    })
    .await;
    // A newer delivery (SQLite never purges a table's newest row, so that its id is not reused).
    app.visitor_start(named("Roy"), None).await;
    ok.wait_for(2, WAIT).await;

    app.wait_until_deliveries(&hook.id, |log| !ids(log).contains(&first.as_str()))
        .await;
    let kept = app.delivery(&failing.id, &pending).await;
    assert_eq!(kept["status"], "pending", "{kept}");
    assert_eq!(kept["attemptLog"].as_array().unwrap().len(), 1, "{kept}");
    let purged = format!("/webhooks/{}/deliveries/{first}", hook.id);
    assert_eq!(status(&app, &purged).await, 404);
    // Conversations are the customer's records: kept unless --message-retention says otherwise.
    let conversation = format!("/conversations/{}", jen.conversation_id);
    assert_eq!(status(&app, &conversation).await, 200);
    assert!(
        app.log().contains("purged what is past its retention"),
        "one line per sweep:\n{}",
        app.log()
    );
}

async fn ended_conversations_are_purged_unless_a_pending_delivery_needs_them(store: TestStore) {
    let app = TestApp::builder(store)
        .retry_schedule("1h")
        .env("PALAVER_MESSAGE_RETENTION", "1s")
        .spawn()
        .await;
    app.put_agent(&agent("U1", "Moss")).await.expect_status(201);
    let ok = Receiver::start().await;
    let hook = app.create_webhook(&ok.url(), None).await;
    let jen = app.visitor_start(named("Jen"), Some("hello")).await;
    app.set_email(&jen.token, &jen.conversation_id, "jen@example.com")
        .await;
    app.join(&jen.conversation_id, "U1").await;
    app.end(&jen.conversation_id, "U1").await;
    ok.wait_for_event("end", WAIT).await;

    // Roy's conversation ends while its `end` cannot be delivered: it is kept.
    let down = Receiver::start().await;
    down.set_default(Reply::Status(500));
    app.create_webhook(&down.url(), Some(&["end"])).await;
    let roy = app.visitor_start(named("Roy"), Some("hi")).await;
    app.end(&roy.conversation_id, "U1").await;
    down.wait_for(1, WAIT).await;
    // Open, and the newest of everything (SQLite never purges a table's newest row).
    let ann = app.visitor_start(named("Ann"), Some("still here")).await;

    let jens = format!("/conversations/{}", jen.conversation_id);
    eventually("Jen's ended conversation to be purged", WAIT, || async {
        match status(&app, &jens).await {
            404 => Ok(()),
            other => Err(other),
        }
    })
    .await;
    for kept in [&roy.conversation_id, &ann.conversation_id] {
        let c = app.conversation(kept).await;
        assert_eq!(c["messages"].as_array().map(Vec::len), Some(1), "{c}");
    }
    let log = app.deliveries(&hook.id).await;
    assert!(
        log.iter()
            .all(|d| d["conversationId"] != jen.conversation_id.as_str()),
        "Jen's deliveries went with it: {log:?}"
    );
    assert!(
        log.iter()
            .any(|d| d["conversationId"] == roy.conversation_id.as_str()),
        "{log:?}"
    );
    // Jen keeps her visitor token, but her conversation is gone for her too.
    let path = format!("/api/v1/visitor/conversations/{}", jen.conversation_id);
    let gone = app.call(Method::GET, &path).bearer(&jen.token).send().await;
    assert_eq!(gone.status, 404);
    let email = app.set_email_call(&jen.token, &jen.conversation_id, "jen@example.org");
    assert_eq!(email.send().await.status, 404);
}
