//! `/metrics` counts the Slack bridge's deliveries like webhooks' (they ride the same outbox),
//! under `kind="slack"`.

use crate::fake_slack::FakeSlack;
use crate::fixtures::named;
use crate::metrics::Metrics;
use crate::slack_outbound_kit::{connect, server, wait_slack_deliveries};
use crate::stores::{TestStore, on_every_store};

on_every_store!(slack_deliveries_are_counted_under_their_kind);

async fn slack_deliveries_are_counted_under_their_kind(store: TestStore) {
    let slack = FakeSlack::start().await;
    let app = server(store, &slack, "100ms,200ms,500ms").await;
    connect(&app, &slack, false).await;
    slack.fail(1, 500);
    let v = app.visitor_start(named("Counted"), Some("hello")).await;
    app.visitor_message(&v.token, &v.conversation_id, "again")
        .await;
    let log = wait_slack_deliveries(&app, |log| {
        log.len() == 3 && log.iter().all(|d| d["status"] == "delivered")
    })
    .await;
    let attempts: u64 = log.iter().map(|d| d["attempts"].as_u64().unwrap()).sum();
    assert!(attempts > 3, "the failed call was an attempt: {log:#?}");

    let m = Metrics::scrape(&app).await;
    let slack_ = |outcome| [("kind", "slack"), ("outcome", outcome)];
    let counted = |o| m.value("palaver_delivery_attempts_total", &slack_(o));
    assert_eq!(counted("delivered"), 3.0);
    assert_eq!(counted("retried"), (attempts - 3) as f64);
    assert_eq!(counted("failed"), 0.0);
    let calls = m.histogram(
        "palaver_delivery_attempt_duration_seconds",
        &[("kind", "slack")],
    );
    assert_eq!(calls.last().unwrap().count, attempts as f64);
    let kind = [("kind", "slack")];
    assert_eq!(m.value("palaver_deliveries_pending", &kind), 0.0);
    assert_eq!(m.value("palaver_endpoint_enabled", &kind), 1.0);
}
