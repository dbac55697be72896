//! What the Slack outbound tests share: a server on the fake Slack, connecting it, reading what
//! was posted where, the Slack delivery log, and a statement on the server's database.

use reqwest::Method;
use serde_json::{Value, json};

use crate::api::eventually;
use crate::fake_slack::{Channel, FakeSlack, SlackCall};
use crate::fixtures::moss;
use crate::helpers::{TestApp, WAIT};
use crate::slack::connect_body;
use crate::stores::TestStore;

/// The seed visitor's first message.
pub const FIRST: &str = "\nHi! Do you have any doc to your API?";

/// A server whose Slack is `slack`, with a retry schedule.
pub async fn server(store: TestStore, slack: &FakeSlack, schedule: &str) -> TestApp {
    TestApp::builder(store)
        .env("PALAVER_SLACK_API_URL", &slack.api_url())
        .retry_schedule(schedule)
        .spawn()
        .await
}

/// Connects the fake's workspace (and registers Moss, the seed's agent).
pub async fn connect(app: &TestApp, slack: &FakeSlack, archive_on_end: bool) {
    let mut body = connect_body(slack);
    body["archiveOnEnd"] = json!(archive_on_end);
    let r = app.api(Method::PUT, "/slack").json(&body).send().await;
    r.expect_status(200);
    app.put_agent(&moss()).await;
}

/// The workspace's channel named `name`, if there is one (asserting there is at most one).
pub fn channel_named(slack: &FakeSlack, name: &str) -> Option<Channel> {
    let named: Vec<Channel> = slack
        .channels()
        .into_iter()
        .filter(|c| c.name == name)
        .collect();
    assert!(named.len() <= 1, "one channel named {name}: {named:#?}");
    named.into_iter().next()
}

/// The texts posted in the channel named `name`, in order.
pub fn texts_in(slack: &FakeSlack, name: &str) -> Vec<String> {
    channel_named(slack, name)
        .map(|c| c.messages.iter().map(|(_, a)| text(a)).collect())
        .unwrap_or_default()
}

pub fn text(args: &Value) -> String {
    args["text"].as_str().unwrap_or_default().to_owned()
}

/// Awaits until the channel named `name` has `n` messages.
pub async fn wait_posted(slack: &FakeSlack, name: &str, n: usize) -> Channel {
    let what = format!("{n} messages in #{name}");
    slack
        .wait_until(&what, WAIT, |_| texts_in(slack, name).len() >= n)
        .await;
    channel_named(slack, name).expect("the channel")
}

/// The successful calls of `method` (Slack answered `ok`).
pub fn ok_calls(slack: &FakeSlack, method: &str) -> Vec<SlackCall> {
    let calls = slack.calls_to(method);
    calls
        .into_iter()
        .filter(|c| c.answer["ok"] == true)
        .collect()
}

/// The Slack delivery log, newest first.
pub async fn slack_deliveries(app: &TestApp) -> Vec<Value> {
    app.list("/slack/deliveries?limit=100").await
}

/// Polls the Slack delivery log until `done` holds (outcomes are recorded on the server's time).
pub async fn wait_slack_deliveries(app: &TestApp, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    eventually("the Slack delivery log", WAIT, || async {
        let log = slack_deliveries(app).await;
        if done(&log) { Ok(log) } else { Err(log) }
    })
    .await
}

/// Runs one statement on the server's database (`$1`… bound to `binds`).
pub async fn execute(app: &TestApp, sql: &str, binds: &[&str]) -> u64 {
    match &app.config.store {
        TestStore::Sqlite => {
            let options = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(app.data_dir().join("palaver.db"))
                .busy_timeout(std::time::Duration::from_secs(10));
            let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
            let mut query = sqlx::query(sql);
            for b in binds {
                query = query.bind(*b);
            }
            let n = query.execute(&pool).await.unwrap().rows_affected();
            pool.close().await;
            n
        }
        TestStore::Postgres(db) => {
            let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
            let mut query = sqlx::query(sql);
            for b in binds {
                query = query.bind(*b);
            }
            let n = query.execute(&pool).await.unwrap().rows_affected();
            pool.close().await;
            n
        }
    }
}
