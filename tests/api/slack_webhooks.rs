//! A Slack endpoint (`endpoints.kind = 'slack'`, which the bridge's outbound phase creates per
//! connection) is no webhook: `/webhooks` neither lists it nor lets it be read, changed, deleted,
//! tested, rotated or asked for deliveries, recovery or health, while webhooks work beside it.

use reqwest::Method;
use serde_json::json;

use crate::helpers::TestApp;
use crate::receiver::Receiver;
use crate::stores::{TestStore, on_every_store};

on_every_store!(webhook_calls_ignore_a_slack_endpoint);

const SLACK_ENDPOINT: &str = "ep_slack_endpoint_0001";

/// Inserts a Slack endpoint `id` for the default team straight into the server's database
/// (disabled, so that nothing is sent to it meanwhile); answers the rows inserted.
async fn insert_slack_endpoint(app: &TestApp, id: &str) -> Result<u64, sqlx::Error> {
    let insert = "INSERT INTO endpoints (id, team_seq, kind, url, events, description, enabled,
                    secret, batch_size, created_at)
                  SELECT $1, seq, 'slack', 'slack:', 63, 'Slack', $2, 'whsec_AAAA', 1, 0
                  FROM teams WHERE is_default";
    match &app.config.store {
        TestStore::Sqlite => {
            let options = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(app.data_dir().join("palaver.db"))
                .busy_timeout(std::time::Duration::from_secs(10));
            let pool = sqlx::SqlitePool::connect_with(options).await?;
            let query = sqlx::query(insert).bind(id).bind(false);
            let r = query.execute(&pool).await.map(|r| r.rows_affected());
            pool.close().await;
            r
        }
        TestStore::Postgres(db) => {
            let pool = sqlx::PgPool::connect(&db.url).await?;
            let query = sqlx::query(insert).bind(id).bind(false);
            let r = query.execute(&pool).await.map(|r| r.rows_affected());
            pool.close().await;
            r
        }
    }
}

async fn webhook_calls_ignore_a_slack_endpoint(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let receiver = Receiver::start().await;
    let hook = app.create_webhook(&receiver.url(), None).await;
    assert_eq!(
        insert_slack_endpoint(&app, SLACK_ENDPOINT).await.unwrap(),
        1
    );

    let listed = app.list("/webhooks").await;
    let ids: Vec<&str> = listed.iter().map(|w| w["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [hook.id.as_str()], "only the webhook is listed");

    let path = format!("/webhooks/{SLACK_ENDPOINT}");
    let calls = [
        (Method::GET, path.clone(), None),
        (
            Method::PATCH,
            path.clone(),
            Some(json!({ "enabled": true })),
        ),
        (Method::POST, format!("{path}/rotate-secret"), None),
        (Method::POST, format!("{path}/test"), None),
        (Method::GET, format!("{path}/deliveries"), None),
        (Method::GET, format!("{path}/deliveries/dl_none"), None),
        (
            Method::POST,
            format!("{path}/recover"),
            Some(json!({ "since": "2020-01-01T00:00:00.000Z" })),
        ),
        (Method::GET, format!("{path}/health"), None),
        (Method::DELETE, path.clone(), None),
    ];
    for (method, path, body) in calls {
        let mut call = app.api(method, &path);
        if let Some(body) = &body {
            call = call.json(body);
        }
        call.send().await.expect_problem(404);
    }
    // The webhook beside it is untouched, and the Slack endpoint is still there (not deleted).
    let got = app
        .api(Method::GET, &format!("/webhooks/{}", hook.id))
        .send()
        .await;
    assert_eq!(got.expect_json(200)["id"], hook.id.as_str());
    let second = insert_slack_endpoint(&app, "ep_slack_endpoint_0002").await;
    assert!(
        second.is_err(),
        "still there (one Slack endpoint per team): {second:?}"
    );
}
