//! Standard Webhooks' HTTP semantics as a receiver sees them: redirects are failures, never
//! followed; `429`/`502`/`503`/`504` pause the whole endpoint for their `Retry-After` (seconds or
//! an HTTP date, clamped) and no other endpoint; timeouts back off harder than fast failures.
//! Times asserted are the receiver's records of real requests.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use reqwest::Method;
use serde_json::{Value, json};

use crate::api::eventually;
use crate::fixtures::named;
use crate::helpers::{TestApp, WAIT};
use crate::payload::assert_iso_millis;
use crate::receiver::{Received, Receiver, Reply};
use crate::stores::{TestStore, on_every_store};

on_every_store!(
    a_redirect_is_a_failure_and_never_followed,
    a_410_disables_the_webhook_with_the_reason_and_holds_its_deliveries,
    a_429_pauses_its_endpoint_for_retry_after_and_no_other,
    a_503_pauses_the_endpoints_other_lanes_too,
    retry_after_as_an_http_date,
    retry_after_is_clamped_to_a_second_and_an_hour,
    waits_asked_with_retry_after_do_not_use_up_retries,
    a_timeout_backs_off_harder_than_a_500,
);

fn with_retry_after(status: u16, value: &str) -> Reply {
    Reply::WithHeaders(status, vec![("retry-after", value.to_owned())])
}

/// When the receiver had answered `r`.
fn answered(r: &Received) -> Instant {
    *r.answered_at.get().expect("answered")
}

/// Awaits the delivery of `r` recording the attempt `r` was (the server has acted on it).
async fn recorded(app: &TestApp, hook: &str, r: &Received, attempts: usize) -> Value {
    let what = format!("{attempts} attempts of {} recorded", r.webhook_id());
    app.wait_delivery(hook, r.webhook_id(), &what, |d| {
        d["attemptLog"]
            .as_array()
            .is_some_and(|l| l.len() >= attempts)
    })
    .await
}

async fn a_redirect_is_a_failure_and_never_followed(store: TestStore) {
    let app = TestApp::builder(store)
        .retry_schedule("100ms")
        .spawn()
        .await;
    let receiver = Receiver::start().await;
    let elsewhere = receiver.url_with_path("/elsewhere");
    for status in [301, 302, 307, 308] {
        receiver.script([Reply::WithHeaders(
            status,
            vec![("location", elsewhere.clone())],
        )]);
    }
    receiver.set_default(Reply::WithHeaders(
        308,
        vec![("location", elsewhere.clone())],
    ));
    let hook = app.create_webhook(&receiver.url(), Some(&["start"])).await;
    app.visitor_start(named("Moss"), None).await;
    let reqs = receiver.wait_for(2, WAIT).await;
    let d = app
        .wait_delivery_status(&hook.id, reqs[0].webhook_id(), "failed")
        .await;
    let codes: Vec<&Value> = d["attemptLog"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["statusCode"])
        .collect();
    assert_eq!(codes, [301, 302], "{d}");
    assert!(
        receiver.received().iter().all(|r| r.path == "/hook"),
        "never followed"
    );
}

async fn a_410_disables_the_webhook_with_the_reason_and_holds_its_deliveries(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let gone = Receiver::start().await;
    gone.script([Reply::Status(410)]);
    let control = Receiver::start().await;
    let hook = app.create_webhook(&gone.url(), Some(&["start"])).await;
    app.create_webhook(&control.url(), Some(&["start"])).await;
    app.visitor_start(named("Moss"), None).await;
    let first = gone.wait_for(1, WAIT).await.remove(0);

    let path = format!("/webhooks/{}", hook.id);
    let off = eventually("the webhook disabled", WAIT, || async {
        let w = app.api(Method::GET, &path).send().await.expect_json(200);
        if w["enabled"] == false { Ok(w) } else { Err(w) }
    })
    .await;
    let reason = off["disabledReason"].as_str().unwrap_or_default();
    let at = reason
        .strip_prefix("the receiver answered 410 Gone at ")
        .unwrap_or_else(|| panic!("the reason says why: {off}"));
    assert_iso_millis(at);
    assert_iso_millis(off["disabledAt"].as_str().expect("disabledAt"));
    assert!(
        off["nextProbeAt"].is_null(),
        "the receiver said gone: no probes: {off}"
    );
    // The retry schedule (100 ms, …) would have tried it again by the time the other webhook
    // got a later event: it is held instead, its attempt not counted.
    app.visitor_start(named("Roy"), None).await;
    control.wait_for(2, WAIT).await;
    let held = app.delivery(&hook.id, first.webhook_id()).await;
    assert_eq!(held["status"], "pending", "{held}");
    assert_eq!(held["attemptLog"][0]["statusCode"], 410, "{held}");
    assert_eq!(gone.count(), 1, "nothing more sent to it");

    let on = app
        .patch_webhook(&hook.id, &json!({ "enabled": true }))
        .await;
    assert!(on["disabledReason"].is_null(), "{on}");
    let reqs = gone.wait_for(2, WAIT).await;
    assert_eq!(
        reqs[1].webhook_id(),
        first.webhook_id(),
        "the held delivery, again"
    );
    app.wait_delivery_status(&hook.id, first.webhook_id(), "delivered")
        .await;
}

async fn a_429_pauses_its_endpoint_for_retry_after_and_no_other(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let limited = Receiver::start().await;
    limited.script([with_retry_after(429, "2")]);
    let other = Receiver::start().await;
    let hook = app.create_webhook(&limited.url(), Some(&["start"])).await;
    app.create_webhook(&other.url(), Some(&["start"])).await;

    app.visitor_start(named("Jen"), None).await;
    let first = limited.wait_for(1, WAIT).await.remove(0);
    let d = recorded(&app, &hook.id, &first, 1).await;
    assert_eq!(d["attemptLog"][0]["statusCode"], 429, "{d}");
    app.visitor_start(named("Roy"), None).await;
    other.wait_for(2, WAIT).await;
    let reqs = limited.wait_for(3, WAIT).await;
    let paused_until = answered(&first) + Duration::from_millis(1950);
    for r in &reqs[1..] {
        assert!(
            r.at >= paused_until,
            "request #{} came {:?} after the 429",
            r.seq,
            r.at - answered(&first)
        );
    }
    let resumed = reqs[1].at;
    assert!(
        other.received().iter().all(|r| r.at < resumed),
        "the other endpoint did not wait"
    );
}

async fn a_503_pauses_the_endpoints_other_lanes_too(store: TestStore) {
    let app = Arc::new(TestApp::spawn(store).await);
    let receiver = Receiver::start().await;
    receiver.script([with_retry_after(503, "2")]);
    let hook = app.create_webhook(&receiver.url(), Some(&["start"])).await;
    app.visitor_start(named("Denholm"), None).await;
    let first = receiver.wait_for(1, WAIT).await.remove(0);
    recorded(&app, &hook.id, &first, 1).await;
    for name in ["Richmond", "Douglas", "Jen"] {
        app.visitor_start(named(name), None).await;
    }
    let reqs = receiver.wait_for(5, WAIT).await;
    for r in &reqs[1..] {
        let after = r.at - answered(&first);
        assert!(
            after >= Duration::from_millis(1950),
            "request #{} {after:?} after the 503",
            r.seq
        );
    }
    let channels: std::collections::HashSet<String> = reqs
        .iter()
        .map(|r| r.event()["channelName"].to_string())
        .collect();
    assert_eq!(channels.len(), 4, "four lanes, all held back");
}

async fn retry_after_as_an_http_date(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let receiver = Receiver::start().await;
    // Whole seconds, some of them spent before the request comes: at least 4 s after it.
    let date = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(6));
    receiver.script([with_retry_after(503, &date)]);
    let hook = app.create_webhook(&receiver.url(), Some(&["start"])).await;
    app.visitor_start(named("Roy"), None).await;
    let reqs = receiver.wait_for(2, WAIT).await;
    // Not understood, the date would be no `Retry-After`: a second's pause for a 503.
    let gap = reqs[1].at - answered(&reqs[0]);
    assert!(
        gap >= Duration::from_millis(2500),
        "{gap:?} after `Retry-After: {date}`"
    );
    let d = recorded(&app, &hook.id, &reqs[1], 2).await;
    assert_eq!(d["attemptLog"][0]["statusCode"], 503, "{d}");
}

async fn retry_after_is_clamped_to_a_second_and_an_hour(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let quick = Receiver::start().await;
    quick.script([with_retry_after(429, "0")]);
    let slow = Receiver::start().await;
    slow.set_default(with_retry_after(429, "86400"));
    app.create_webhook(&quick.url(), Some(&["start"])).await;
    let hook = app.create_webhook(&slow.url(), Some(&["start"])).await;
    app.visitor_start(named("Moss"), None).await;

    let reqs = quick.wait_for(2, WAIT).await;
    let gap = reqs[1].at - answered(&reqs[0]);
    assert!(
        gap >= Duration::from_millis(950),
        "`Retry-After: 0` waits a second: {gap:?}"
    );
    let first = slow.wait_for(1, WAIT).await.remove(0);
    let d = recorded(&app, &hook.id, &first, 1).await;
    let next = chrono::DateTime::parse_from_rfc3339(d["nextAttemptAt"].as_str().unwrap()).unwrap();
    let after = next.signed_duration_since(chrono::Utc::now()).num_seconds();
    assert!(
        (3500..=3600).contains(&after),
        "a day is clamped to an hour: {after} s; {d}"
    );
    assert_eq!(d["status"], "pending", "{d}");
}

async fn waits_asked_with_retry_after_do_not_use_up_retries(store: TestStore) {
    // One retry, 30 s later: two failures that counted would fail the delivery, and the
    // second attempt would wait 30 s.
    let app = TestApp::builder(store).retry_schedule("30s").spawn().await;
    let asked = Receiver::start().await;
    asked.script([with_retry_after(503, "1"), with_retry_after(429, "1")]);
    let gateway = Receiver::start().await;
    gateway.script([Reply::Status(502)]);
    let hook = app.create_webhook(&asked.url(), Some(&["start"])).await;
    let failing = app.create_webhook(&gateway.url(), Some(&["start"])).await;
    app.visitor_start(named("Jen"), None).await;

    let reqs = asked.wait_for(3, WAIT).await;
    let d = app
        .wait_delivery_status(&hook.id, reqs[0].webhook_id(), "delivered")
        .await;
    assert_eq!(d["attempts"], 3, "{d}");
    let failed = gateway.wait_for(1, WAIT).await.remove(0);
    let f = recorded(&app, &failing.id, &failed, 1).await;
    let next = chrono::DateTime::parse_from_rfc3339(f["nextAttemptAt"].as_str().unwrap()).unwrap();
    let after = next.signed_duration_since(chrono::Utc::now()).num_seconds();
    assert!(
        after >= 20,
        "a 502 without Retry-After is retried on schedule: {f}"
    );
}

async fn a_timeout_backs_off_harder_than_a_500(store: TestStore) {
    let app = TestApp::builder(store)
        .retry_schedule("400ms,30s")
        .delivery_timeout("1s")
        .spawn()
        .await;
    let hanging = Receiver::start().await;
    hanging.script([Reply::Hang]);
    let failing = Receiver::start().await;
    failing.script([Reply::Status(500)]);
    app.create_webhook(&hanging.url(), Some(&["start"])).await;
    app.create_webhook(&failing.url(), Some(&["start"])).await;
    app.visitor_start(named("Roy"), None).await;

    let failed = failing.wait_for(2, WAIT).await;
    let after_500 = failed[1].at - answered(&failed[0]);
    let timed_out = hanging.wait_for(2, WAIT).await;
    // The attempt gave up 1 s after it arrived; what came after that is the delay.
    let after_timeout = timed_out[1].at - timed_out[0].at - Duration::from_secs(1);
    assert!(
        after_timeout >= Duration::from_millis(1280),
        "4 × 400 ms ± 20%: {after_timeout:?}"
    );
    assert!(
        after_timeout > after_500 * 2,
        "{after_timeout:?} vs {after_500:?}"
    );
}
