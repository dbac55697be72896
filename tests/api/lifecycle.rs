//! Process lifecycle: health endpoints, graceful SIGTERM, restart on the same data dir.

use std::time::Duration;

use reqwest::Method;

use crate::fixtures::named;
use crate::helpers::{TestApp, WAIT};
use crate::receiver::{Receiver, Reply};
use crate::stores::{TestStore, on_every_store};

on_every_store!(
    health_and_readiness_answer,
    sigterm_on_an_idle_server_exits_0,
    sigterm_with_a_delivery_in_flight_exits_0_and_loses_nothing,
);

async fn health_and_readiness_answer(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let health = app.call(Method::GET, "/healthz").send().await;
    assert_eq!(
        health.expect_json(200),
        serde_json::json!({ "status": "ok" })
    );
    app.call(Method::GET, "/readyz")
        .send()
        .await
        .expect_status(200);
    let openapi = app.call(Method::GET, "/api/v1/openapi.json").send().await;
    assert_eq!(openapi.expect_json(200)["openapi"], "3.1.0");
    let team = app.api(Method::GET, "/team").send().await.expect_json(200);
    for key in ["id", "name", "siteKey"] {
        assert!(team[key].is_string(), "GET /team lacks {key}: {team}");
    }
}

/// A clean stop also leaves SQLite's write-ahead log empty: everything is in `palaver.db`.
async fn sigterm_on_an_idle_server_exits_0(store: TestStore) {
    let sqlite = matches!(store, TestStore::Sqlite);
    let app = TestApp::spawn(store).await;
    app.visitor_start(named("Moss"), Some("Hello")).await;
    let wal = app.data_dir().join("palaver.db-wal");
    if sqlite {
        let size = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        assert!(size > 0, "the running server writes through its log");
    }
    let status = app.terminate(Duration::from_secs(5)).await;
    assert_eq!(
        status.code(),
        Some(0),
        "exit status after SIGTERM: {status}"
    );
    if sqlite {
        let size = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        assert_eq!(size, 0, "the log is copied and emptied at a clean stop");
    }
}

/// A delivery in flight at SIGTERM is finished or handed back: after a restart it is sent
/// again under the same webhook-id, and the process still exits 0 promptly.
async fn sigterm_with_a_delivery_in_flight_exits_0_and_loses_nothing(store: TestStore) {
    let app = TestApp::builder(store)
        .retry_schedule("200ms,200ms")
        .delivery_timeout("3s")
        .spawn()
        .await;
    let receiver = Receiver::start().await;
    receiver.script([Reply::Hang]);
    let hook = app.create_webhook(&receiver.url(), Some(&["start"])).await;
    let v = app.visitor_start(named("Moss"), None).await;
    let first = receiver.wait_for(1, WAIT).await;

    let status = app.terminate(Duration::from_secs(10)).await;
    assert_eq!(
        status.code(),
        Some(0),
        "exit status after SIGTERM: {status}"
    );
    app.restart().await;
    let reqs = receiver.wait_for(2, WAIT).await;
    assert_eq!(
        reqs[1].webhook_id(),
        first[0].webhook_id(),
        "the same delivery again"
    );
    reqs[1].assert_signed(&hook.secret);
    app.wait_delivery_status(&hook.id, reqs[1].webhook_id(), "delivered")
        .await;
    let conv = app.conversation(&v.conversation_id).await;
    assert_eq!(
        conv["status"], "waiting",
        "state survives the restart: {conv}"
    );
}
