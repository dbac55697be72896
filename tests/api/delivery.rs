//! Delivery attempts: retries on non-2xx, timeouts, what the attempt log records.

use std::time::Duration;

use serde_json::Value;

use crate::checks::check_request;
use crate::fixtures::{agent, named};
use crate::helpers::{TestApp, WAIT};
use crate::receiver::{Received, Receiver, Reply};
use crate::stores::{TestStore, on_every_store};

on_every_store!(
    retries_after_500s_until_delivered,
    a_hanging_receiver_times_out_and_is_retried,
    exhausted_retries_fail_then_recover_and_redeliver,
    bodies_read_back_are_the_bytes_first_sent,
    credentials_in_the_url_are_sent_as_basic_auth,
);

/// The `attemptLog` of a delivery, asserting its numbering.
fn attempt_log(delivery: &Value) -> Vec<Value> {
    let log = delivery["attemptLog"]
        .as_array()
        .unwrap_or_else(|| panic!("delivery without attemptLog: {delivery}"))
        .clone();
    for (i, attempt) in log.iter().enumerate() {
        assert_eq!(attempt["n"], i + 1, "attempts numbered from 1: {delivery}");
    }
    log
}

fn assert_same_delivery(reqs: &[std::sync::Arc<Received>], secret: &str) {
    for r in reqs {
        check_request(r, secret);
        assert_eq!(
            r.webhook_id(),
            reqs[0].webhook_id(),
            "same webhook-id on every retry"
        );
        assert_eq!(r.body, reqs[0].body, "same bytes on every retry");
    }
}

async fn retries_after_500s_until_delivered(store: TestStore) {
    let app = TestApp::builder(store)
        .retry_schedule("200ms,200ms,200ms")
        .spawn()
        .await;
    let receiver = Receiver::start().await;
    receiver.script([Reply::Status(500), Reply::Status(500)]);
    let hook = app.create_webhook(&receiver.url(), Some(&["start"])).await;
    app.visitor_start(named("Denholm"), None).await;

    let reqs = receiver.wait_for(3, WAIT).await;
    assert_same_delivery(&reqs, &hook.secret);
    for pair in reqs.windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(
            gap >= Duration::from_millis(150),
            "retry after 200ms ± 20%, got {gap:?}"
        );
    }
    let id = reqs[0].webhook_id();
    let d = app.wait_delivery_status(&hook.id, id, "delivered").await;
    assert_eq!(d["id"], id);
    assert_eq!(d["event"], "start");
    assert_eq!(d["attempts"], 3, "{d}");
    let sent: Value = serde_json::from_slice(&reqs[0].body).unwrap();
    assert_eq!(d["payload"], sent, "payload is the body as sent");
    let log = attempt_log(&d);
    let codes: Vec<&Value> = log.iter().map(|a| &a["statusCode"]).collect();
    assert_eq!(codes, [500, 500, 200], "{d}");
    for attempt in &log[..2] {
        assert_eq!(
            attempt["responseBody"].as_str().unwrap_or(""),
            format!(
                "receiver says 500 Internal Server Error to request {}",
                attempt["n"].as_u64().unwrap() - 1
            ),
            "{attempt}"
        );
    }
    assert_eq!(d["lastAttempt"]["statusCode"], 200, "{d}");
    assert_eq!(receiver.count(), 3, "nothing sent after the 200");
    let listed = app.deliveries(&hook.id).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["status"], "delivered");
    assert_eq!(listed[0]["attempts"], 3);
}

async fn a_hanging_receiver_times_out_and_is_retried(store: TestStore) {
    let app = TestApp::builder(store)
        .retry_schedule("200ms,200ms")
        .delivery_timeout("1s")
        .spawn()
        .await;
    let receiver = Receiver::start().await;
    receiver.script([Reply::Hang]);
    let hook = app.create_webhook(&receiver.url(), Some(&["start"])).await;
    app.visitor_start(named("Jen"), None).await;

    let reqs = receiver.wait_for(2, WAIT).await;
    assert_same_delivery(&reqs, &hook.secret);
    let gap = reqs[1].at - reqs[0].at;
    assert!(
        gap >= Duration::from_millis(1100),
        "timeout 1s then retry after 200ms ± 20%: {gap:?}"
    );
    let d = app
        .wait_delivery_status(&hook.id, reqs[0].webhook_id(), "delivered")
        .await;
    let log = attempt_log(&d);
    assert_eq!(log.len(), 2, "{d}");
    let first = &log[0];
    assert!(
        first["statusCode"].is_null(),
        "no status after a timeout: {first}"
    );
    let error = first["error"].as_str().unwrap_or("").to_lowercase();
    assert!(
        error.contains("timeout") || error.contains("timed out"),
        "the error must mention the timeout: {first}"
    );
    let ms = first["durationMs"].as_u64().unwrap_or(0);
    assert!(
        (900..5000).contains(&ms),
        "the attempt took about 1s: {first}"
    );
    assert_eq!(log[1]["statusCode"], 200, "{d}");
    assert_eq!(d["attempts"], 2);
}

async fn exhausted_retries_fail_then_recover_and_redeliver(store: TestStore) {
    let app = TestApp::builder(store)
        .retry_schedule("100ms,100ms")
        .spawn()
        .await;
    let receiver = Receiver::start().await;
    receiver.set_default(Reply::Status(500));
    let since = chrono::Utc::now() - chrono::Duration::seconds(5);
    let hook = app.create_webhook(&receiver.url(), Some(&["start"])).await;
    app.visitor_start(named("Roy"), None).await;

    let reqs = receiver.wait_for(3, WAIT).await;
    let id = reqs[0].webhook_id().to_owned();
    let failed = app.wait_delivery_status(&hook.id, &id, "failed").await;
    assert_eq!(failed["attempts"], 3, "first attempt + 2 retries: {failed}");
    assert_eq!(attempt_log(&failed).len(), 3);
    assert!(failed["nextAttemptAt"].is_null(), "{failed}");
    assert_eq!(
        receiver.count(),
        3,
        "no attempt after the schedule is exhausted"
    );

    receiver.set_default(Reply::Status(200));
    let since = since.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let body = serde_json::json!({ "since": since });
    let path = format!("/webhooks/{}/recover", hook.id);
    let answer = app
        .api(reqwest::Method::POST, &path)
        .json(&body)
        .send()
        .await;
    let queued = answer.expect_json(202)["queued"].as_u64();
    assert!(queued.unwrap_or(0) >= 1, "recover queued {queued:?}");
    let reqs = receiver.wait_for(4, WAIT).await;
    assert_same_delivery(&reqs, &hook.secret);
    app.wait_delivery_status(&hook.id, &id, "delivered").await;

    let path = format!("/webhooks/{}/deliveries/{id}/redeliver", hook.id);
    let answer = app.api(reqwest::Method::POST, &path).send().await;
    assert_eq!(answer.expect_json(202)["deliveryId"], id.as_str());
    let reqs = receiver.wait_for(5, WAIT).await;
    assert_same_delivery(&reqs, &hook.secret);
    let five_delivered = |d: &Value| d["status"] == "delivered" && attempt_log(d).len() == 5;
    let what = "the redelivery to be logged as the fifth attempt";
    app.wait_delivery(&hook.id, &id, what, five_delivered).await;
}

/// The store keeps a chat event's body as its head and rebuilds the transcript from the
/// conversation's messages when nothing in memory has it: here, after a crash, every pending
/// delivery is claimed again by a fresh process. Each must be the bytes its first attempt sent,
/// and the delivery log must show the same payload.
async fn bodies_read_back_are_the_bytes_first_sent(store: TestStore) {
    const ROY: &str = "U0ROY";
    let app = TestApp::builder(store)
        .retry_schedule("500ms,500ms")
        .spawn()
        .await;
    let receiver = Receiver::start().await;
    receiver.set_default(Reply::Status(500));
    let hook = app.create_webhook(&receiver.url(), None).await;
    app.put_agent(&agent(ROY, "Roy")).await.expect_status(201);
    let texts = [
        "Hi \"there\"\n",
        "Hello \u{2713} <b>&amp;</b>",
        "line1\nline2\t\\ \u{1F600}",
    ];
    let v = app
        .visitor_start(named("D\u{e9}n \"holm\""), Some(texts[0]))
        .await;
    let c = &v.conversation_id;
    app.join(c, ROY).await;
    app.agent_message(c, ROY, texts[1]).await;
    app.visitor_message(&v.token, c, texts[2]).await;
    app.end(c, ROY).await;
    let events = app.deliveries(&hook.id).await.len();
    assert!(events >= 5, "start, join, two messages, end: {events}");

    // The first event fails; the others wait behind it in the visitor's lane. A crash, then a
    // fresh process with nothing in memory sends them all.
    let first = receiver.wait_for(1, WAIT).await[0].clone();
    app.kill().await;
    receiver.set_default(Reply::Status(200));
    app.restart().await;
    let reqs = receiver
        .wait_until("every event delivered", WAIT, |all| {
            let ids: std::collections::HashSet<&str> = all
                .iter()
                .filter(|r| r.seq > 0)
                .map(|r| r.webhook_id())
                .collect();
            ids.len() >= events
        })
        .await;
    let again: Vec<_> = reqs
        .iter()
        .filter(|r| r.webhook_id() == first.webhook_id())
        .cloned()
        .collect();
    assert!(again.len() >= 2, "the first event is sent again");
    assert_same_delivery(&again, &hook.secret);

    let mut seen = 0;
    let mut last = Value::Null;
    for r in reqs.iter().filter(|r| r.seq > 0) {
        check_request(r, &hook.secret);
        let sent: Value = serde_json::from_slice(&r.body).unwrap();
        let event = &sent[0];
        let messages = event["messages"].as_array().unwrap();
        assert!(messages.len() >= seen, "transcripts only grow: {event}");
        seen = messages.len();
        let shown: Vec<&str> = messages
            .iter()
            .map(|m| m["text"].as_str().unwrap())
            .collect();
        assert_eq!(shown, texts[..seen], "{event}");
        let d = app
            .wait_delivery_status(&hook.id, r.webhook_id(), "delivered")
            .await;
        assert_eq!(
            d["payload"], sent,
            "the delivery log shows the body as sent"
        );
        last = event.clone();
    }
    assert_eq!(
        seen,
        texts.len(),
        "the last event carries the whole transcript"
    );
    assert_eq!(last["event"], "end");
    assert_eq!(
        last["message"],
        "D\u{e9}n \"holm\": Hi \"there\"\n\nRoy: Hello \u{2713} <b>&amp;</b>\nD\u{e9}n \"holm\": line1\nline2\t\\ \u{1F600}"
    );
}

/// A body that can no longer be rebuilt (its conversation's messages were deleted behind
/// Palaver's back) is never sent wrong and never holds up other deliveries: it is left out of
/// its claim, with an error in the log. SQLite only: the test edits the database file directly.
#[tokio::test]
async fn a_body_that_cannot_be_rebuilt_blocks_nothing_else() {
    let app = TestApp::builder(TestStore::Sqlite)
        .retry_schedule("1s,1s")
        .spawn()
        .await;
    let receiver = Receiver::start().await;
    receiver.set_default(Reply::Status(500));
    let hook = app
        .create_webhook(&receiver.url(), Some(&["messageVisitor"]))
        .await;
    let broken = app.visitor_start(named("Broken"), Some("lost")).await;
    let fine = app.visitor_start(named("Fine"), Some("kept")).await;
    receiver.wait_for(2, WAIT).await;
    app.kill().await;

    let db = rusqlite::Connection::open(app.data_dir().join("palaver.db")).unwrap();
    let deleted = db
        .execute(
            "DELETE FROM messages WHERE conversation_seq =
                 (SELECT seq FROM conversations WHERE id = ?)",
            [&broken.conversation_id],
        )
        .unwrap();
    assert_eq!(deleted, 1);
    drop(db);

    receiver.set_default(Reply::Status(200));
    app.restart().await;
    let arrived = receiver
        .wait_until("the intact event again", WAIT, |all| {
            all.iter()
                .skip(2)
                .any(|r| r.events()[0]["visitorId"] == fine.visitor_id)
        })
        .await;
    for r in arrived.iter().skip(2) {
        check_request(r, &hook.secret);
        assert_eq!(
            r.events()[0]["visitorId"],
            fine.visitor_id,
            "only the intact one"
        );
    }
    crate::api::eventually("the error in the log", WAIT, || async {
        let log = app.log();
        if log.contains("cannot be rebuilt") {
            Ok(())
        } else {
            Err(log)
        }
    })
    .await;
    // It fails at once, the reason in its attempt log, rather than being claimed again at each
    // lease end; reading it still works, without the payload.
    let base = format!("/webhooks/{}/deliveries", hook.id);
    let failed = crate::api::eventually("the broken delivery failed", WAIT, || async {
        let failed = app.list(&format!("{base}?status=failed")).await;
        if failed.len() == 1 {
            Ok(failed)
        } else {
            Err(failed)
        }
    })
    .await;
    let error = failed[0]["lastAttempt"]["error"].as_str().unwrap_or("");
    assert!(
        error.starts_with("not sent: ") && error.contains("cannot be rebuilt"),
        "{}",
        failed[0]
    );
    assert_eq!(failed[0]["lastAttempt"]["statusCode"], Value::Null);
    let id = failed[0]["id"].as_str().expect("id");
    let one = app
        .api(reqwest::Method::GET, &format!("{base}/{id}"))
        .send()
        .await
        .expect_json(200);
    assert!(one.get("payload").is_none(), "{one}");
    assert!(
        one["payloadError"]
            .as_str()
            .is_some_and(|e| e.contains("cannot be rebuilt")),
        "{one}"
    );
    // Not `attempt_log`: the kill above may have lost the first attempt's record (outcomes are
    // flushed with the next durable commit), so the log need not start at 1.
    let log = one["attemptLog"].as_array().expect("attemptLog");
    assert_eq!(
        log.last().expect("an attempt")["error"],
        failed[0]["lastAttempt"]["error"]
    );
}

/// `https://user:password@host/…` works as it does with curl: the credentials (percent-decoded)
/// go as `Authorization: Basic`, not in the request line or `Host`; other URLs send no
/// `Authorization` at all.
async fn credentials_in_the_url_are_sent_as_basic_auth(store: TestStore) {
    use base64::Engine;
    let app = TestApp::builder(store).spawn().await;
    let receiver = Receiver::start().await;
    let with =
        receiver
            .url_with_path("/with?x=1")
            .replacen("http://", "http://hook%40user:p%3Ass@", 1);
    app.create_webhook(&with, Some(&["start"])).await;
    app.create_webhook(&receiver.url_with_path("/without"), Some(&["start"]))
        .await;
    app.visitor_start(named("Basil"), None).await;

    let reqs = receiver.wait_for(2, WAIT).await;
    let with = crate::receiver::on_path(&reqs, "/with");
    let without = crate::receiver::on_path(&reqs, "/without");
    assert_eq!((with.len(), without.len()), (1, 1), "one request each");
    let expected = base64::engine::general_purpose::STANDARD.encode("hook@user:p:ss");
    assert_eq!(with[0].header("authorization"), format!("Basic {expected}"));
    assert!(
        !with[0].header("host").contains('@'),
        "no credentials in Host: {}",
        with[0].header("host")
    );
    assert!(without[0].headers.get("authorization").is_none());
}
