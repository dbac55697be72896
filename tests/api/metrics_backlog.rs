//! `/metrics`' backlog, read from the store at scrape time: pending and failed deliveries by
//! endpoint, the age of the oldest pending one, how late the most overdue one is, and whether
//! each endpoint is enabled.

use serde_json::json;

use crate::api::eventually;
use crate::fixtures::named;
use crate::helpers::{TestApp, WAIT};
use crate::metrics::Metrics;
use crate::receiver::{Receiver, Reply};
use crate::stores::{TestStore, on_every_store};

on_every_store!(
    the_backlog_of_a_stopped_receiver_is_its_pending_deliveries,
    the_oldest_due_delivery_shows_the_workers_falling_behind,
    a_new_delivery_waiting_for_the_worker_counts_as_due,
);

/// A URL nothing listens on: every attempt fails to connect.
fn stopped_receiver_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}/hook")
}

async fn the_backlog_of_a_stopped_receiver_is_its_pending_deliveries(store: TestStore) {
    let app = TestApp::builder(store).retry_schedule("1h").spawn().await;
    let healthy = Receiver::start().await;
    let up = app.create_webhook(&healthy.url(), None).await;
    let down = app.create_webhook(&stopped_receiver_url(), None).await;
    // Two conversations: two lanes, each with its head tried once and the rest behind it.
    let a = app.visitor_start(named("Ada"), Some("one")).await;
    app.visitor_message(&a.token, &a.conversation_id, "two")
        .await;
    app.visitor_start(named("Bob"), Some("three")).await;
    app.wait_until_deliveries(&up.id, |log| {
        log.len() == 5 && log.iter().all(|d| d["status"] == "delivered")
    })
    .await;

    let retried = [("endpoint", down.id.as_str()), ("outcome", "retried")];
    let m = eventually("both lane heads tried", WAIT, || async {
        let m = Metrics::scrape(&app).await;
        let tried = m.value("palaver_delivery_attempts_total", &retried);
        if tried == 2.0 { Ok(m) } else { Err(tried) }
    })
    .await;
    let pending = app
        .deliveries(&down.id)
        .await
        .iter()
        .filter(|d| d["status"] == "pending")
        .count();
    assert_eq!(pending, 5, "start and message of two visitors, one more");
    let gauge = |m: &Metrics, name: &str, hook: &str| {
        m.value(name, &[("endpoint", hook), ("kind", "webhook")])
    };
    assert_eq!(
        gauge(&m, "palaver_deliveries_pending", &down.id),
        pending as f64
    );
    assert_eq!(gauge(&m, "palaver_deliveries_pending", &up.id), 0.0);
    assert_eq!(gauge(&m, "palaver_deliveries_failed", &down.id), 0.0);
    assert!(gauge(&m, "palaver_oldest_pending_delivery_age_seconds", &down.id) > 0.0);
    assert_eq!(
        gauge(&m, "palaver_oldest_pending_delivery_age_seconds", &up.id),
        0.0
    );
    // Their next attempts are an hour away: nothing is due.
    assert_eq!(m.value("palaver_oldest_due_delivery_age_seconds", &[]), 0.0);
    assert_eq!(gauge(&m, "palaver_endpoint_enabled", &down.id), 1.0);

    app.patch_webhook(&down.id, &json!({ "enabled": false }))
        .await;
    let m = Metrics::scrape(&app).await;
    assert_eq!(gauge(&m, "palaver_endpoint_enabled", &down.id), 0.0);
    assert_eq!(gauge(&m, "palaver_endpoint_enabled", &up.id), 1.0);
    assert_eq!(
        gauge(&m, "palaver_deliveries_pending", &down.id),
        pending as f64
    );
}

/// One worker slot, held by an attempt that hangs until its timeout: the other endpoint's
/// retry falls due meanwhile and waits, and the gauge says how late it is.
async fn the_oldest_due_delivery_shows_the_workers_falling_behind(store: TestStore) {
    let app = TestApp::builder(store)
        .retry_schedule("100ms,100ms,100ms,100ms,100ms,100ms,100ms,100ms")
        .delivery_timeout("2s")
        .env("PALAVER_DELIVERY_CONCURRENCY", "1")
        .spawn()
        .await;
    let hanging = Receiver::start().await;
    hanging.set_default(Reply::Hang);
    let failing = Receiver::start().await;
    failing.set_default(Reply::Status(500));
    let slow = app.create_webhook(&hanging.url(), None).await;
    app.create_webhook(&failing.url(), None).await;
    app.visitor_start(named("Late"), None).await;

    let late = eventually("a due delivery waiting for the worker", WAIT, || async {
        let m = Metrics::scrape(&app).await;
        let late = m.value("palaver_oldest_due_delivery_age_seconds", &[]);
        if late > 0.0 { Ok(late) } else { Err(late) }
    })
    .await;
    assert!(late < WAIT.as_secs_f64(), "{late}");
    // The attempt-duration buckets end at the delivery timeout.
    let m = Metrics::scrape(&app).await;
    let buckets = m.histogram(
        "palaver_delivery_attempt_duration_seconds",
        &[("endpoint", &slow.id)],
    );
    assert_eq!(buckets[buckets.len() - 2].less_than, 2.0);
}

/// The only worker slot hangs on one conversation's delivery; another conversation's delivery,
/// ready at once (on SQLite handed straight to the workers by its commit, under a lease), waits
/// for it, and counts as due all the same.
async fn a_new_delivery_waiting_for_the_worker_counts_as_due(store: TestStore) {
    let app = TestApp::builder(store)
        .retry_schedule("1h")
        .delivery_timeout("5s")
        .env("PALAVER_DELIVERY_CONCURRENCY", "1")
        .spawn()
        .await;
    let hanging = Receiver::start().await;
    hanging.set_default(Reply::Hang);
    app.create_webhook(&hanging.url(), None).await;
    app.visitor_start(named("First"), None).await;
    hanging.wait_for(1, WAIT).await;
    let m = Metrics::scrape(&app).await;
    assert_eq!(m.value("palaver_oldest_due_delivery_age_seconds", &[]), 0.0);
    app.visitor_start(named("Second"), None).await;
    eventually("the second delivery waiting, late", WAIT, || async {
        let m = Metrics::scrape(&app).await;
        let late = m.value("palaver_oldest_due_delivery_age_seconds", &[]);
        if late > 0.0 { Ok(late) } else { Err(late) }
    })
    .await;
    assert_eq!(hanging.count(), 1, "the second one is still waiting");
}
