//! `POST /slack/events`, the Events API receiver, against requests signed like Slack's:
//! `url_verification` answered with its challenge once a team is connected; bad signatures,
//! stale or future timestamps, missing headers and tampered bodies refused with 401 and never
//! acted on (nor marked seen); an event Slack sends again (same `event_id`, signed again, even
//! after a restart) acted on once. The bridge's helpers for the other `slack_events_*` files.
//! The conversation from Slack is in `slack_events_flow.rs`, Slack failing in
//! `slack_events_outage.rs`.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::api::Webhook;
use crate::client::ApiResponse;
use crate::fake_slack::FakeSlack;
use crate::fake_slack::events::{self, SignedEvent, callback, message, now, sign};
use crate::fixtures::{MOSS_ID, random_token, scarlet_identity};
use crate::helpers::TestApp;
use crate::receiver::Receiver;
use crate::slack::{app_with, connect_body};
use crate::stores::{TestStore, on_every_store};

on_every_store!(
    url_verification_needs_a_connected_teams_signature,
    unsigned_stale_and_tampered_requests_are_refused_and_never_acted_on,
    an_event_slack_sends_again_is_acted_on_once,
);

pub const WAIT: Duration = Duration::from_secs(30);

/// A server connected to a fake Slack, with a webhook receiver subscribed to every event.
pub struct Bridge {
    pub slack: FakeSlack,
    pub app: TestApp,
    pub hooks: Receiver,
    pub webhook: Webhook,
}

impl Bridge {
    pub async fn start(store: TestStore) -> Bridge {
        let slack = FakeSlack::start().await;
        let app = app_with(store, &slack).await;
        let put = app.api(Method::PUT, "/slack").json(&connect_body(&slack));
        put.send().await.expect_status(200);
        let hooks = Receiver::start().await;
        let webhook = app.create_webhook(&hooks.url(), None).await;
        Bridge {
            slack,
            app,
            hooks,
            webhook,
        }
    }

    /// Posts a signed (or not) request to `/slack/events`.
    pub async fn post(&self, e: &SignedEvent) -> ApiResponse {
        post(&self.app, e).await
    }

    /// Sends `event` in an `event_callback` as Slack does (signed now); expects 200 within
    /// Slack's 3 seconds. Answers the event id.
    pub async fn send(&self, event: Value) -> String {
        let id = format!("Ev{}", random_token(10).to_uppercase());
        self.send_as(&id, event).await;
        id
    }

    /// Like [`Bridge::send`] with the event id given.
    pub async fn send_as(&self, event_id: &str, event: Value) {
        let signed = sign(
            &self.slack.signing_secret,
            &callback(event_id, event),
            now(),
        );
        let started = std::time::Instant::now();
        let r = self.post(&signed).await;
        r.expect_status(200);
        let took = started.elapsed();
        assert!(took < Duration::from_secs(3), "answered in {took:?}");
    }

    /// A visitor (Scarlet) starts a conversation; answers it and the id of the Slack channel
    /// Palaver made for them.
    pub async fn visitor(&self, first: &str) -> (crate::api::VisitorSession, String) {
        let v = self
            .app
            .visitor_start(scarlet_identity(), Some(first))
            .await;
        let name = v.channel_name.clone();
        let made = |_: &[crate::fake_slack::SlackCall]| {
            self.slack.channels().iter().any(|c| c.name == name)
        };
        self.slack
            .wait_until("the visitor's channel", WAIT, made)
            .await;
        let channel = self.channel(&v.channel_name);
        (v, channel)
    }

    /// The id of the workspace's channel `name`, created if it does not exist yet.
    pub fn channel(&self, name: &str) -> String {
        match self.slack.channels().into_iter().find(|c| c.name == name) {
            Some(c) => c.id,
            None => self.slack.add_channel(name, false, true),
        }
    }

    /// The events the receiver got so far, in order.
    pub fn events(&self) -> Vec<Value> {
        self.hooks
            .received()
            .iter()
            .flat_map(|r| r.events())
            .collect()
    }

    /// Awaits a `messageAgent` webhook whose last message is `text`.
    pub async fn agent_said(&self, text: &str) -> Value {
        let what = format!("a messageAgent webhook saying {text:?}");
        let said = |e: &Value| e["event"] == "messageAgent" && last_text(e) == text;
        self.hooks
            .wait_until(&what, WAIT, |all| {
                all.iter().flat_map(|r| r.events()).any(|e| said(&e))
            })
            .await;
        self.events().into_iter().find(said).expect("found")
    }
}

/// The text of an event's last message.
pub fn last_text(e: &Value) -> String {
    let messages = e["messages"].as_array().cloned().unwrap_or_default();
    let last = messages.last().cloned().unwrap_or(Value::Null);
    last["text"].as_str().unwrap_or_default().to_owned()
}

pub async fn post(app: &TestApp, e: &SignedEvent) -> ApiResponse {
    let mut call = app
        .call(Method::POST, "/slack/events")
        .raw(e.body.clone(), "application/json");
    for (name, value) in e.headers() {
        call = call.header(name, &value);
    }
    call.send().await
}

/// `(text, origin)` of every stored message, oldest first, read from the server's database.
pub async fn stored_origins(app: &TestApp) -> Vec<(String, String)> {
    pairs(app, "SELECT text, origin FROM messages ORDER BY seq").await
}

/// `(event_id, last_error)` of the events waiting in the server's Slack inbox.
pub async fn inbox(app: &TestApp) -> Vec<(String, String)> {
    pairs(
        app,
        "SELECT event_id, last_error FROM slack_inbox ORDER BY seq",
    )
    .await
}

/// Rows of two text columns, read from the server's database.
async fn pairs(app: &TestApp, sql: &str) -> Vec<(String, String)> {
    match &app.config.store {
        TestStore::Sqlite => {
            let options = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(app.data_dir().join("palaver.db"))
                .read_only(true);
            let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
            let rows = sqlx::query_as(sql).fetch_all(&pool).await.unwrap();
            pool.close().await;
            rows
        }
        TestStore::Postgres(db) => {
            let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
            let rows = sqlx::query_as(sql).fetch_all(&pool).await.unwrap();
            pool.close().await;
            rows
        }
    }
}

async fn url_verification_needs_a_connected_teams_signature(store: TestStore) {
    let slack = FakeSlack::start().await;
    let app = app_with(store, &slack).await;
    let challenge =
        events::url_verification("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");
    let signed = sign(&slack.signing_secret, &challenge, now());
    let r = post(&app, &signed).await;
    assert_eq!(r.status, 401, "no team is connected: {}", r.text());
    let put = app.api(Method::PUT, "/slack").json(&connect_body(&slack));
    put.send().await.expect_status(200);
    let r = post(&app, &signed).await;
    assert_eq!(
        r.expect_json(200),
        json!({"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"})
    );
    let forged = sign("another app's secret", &challenge, now());
    assert_eq!(post(&app, &forged).await.status, 401);
}

async fn unsigned_stale_and_tampered_requests_are_refused_and_never_acted_on(store: TestStore) {
    let b = Bridge::start(store).await;
    let (v, channel) = b.visitor("Hello?").await;
    let secret = b.slack.signing_secret.clone();
    let bad = |n: usize| {
        callback(
            &format!("EvBAD{n}"),
            message(
                &channel,
                MOSS_ID,
                &format!("bad {n}"),
                &format!("1700000001.00000{n}"),
            ),
        )
    };
    let mut refused = vec![
        // A minute past the five-minute window either way, so a second ticking between
        // signing here and checking there cannot bring a request back inside it.
        sign(&secret, &bad(1), now() - 360),
        sign(&secret, &bad(2), now() + 360),
        sign("not the signing secret", &bad(3), now()),
    ];
    let mut tampered = sign(&secret, &bad(4), now());
    tampered.body = tampered.body.replace("bad 4", "BAD 4");
    refused.push(tampered);
    let mut unsigned = sign(&secret, &bad(5), now());
    unsigned.signature = String::new();
    refused.push(unsigned);
    let mut v1 = sign(&secret, &bad(6), now());
    v1.signature = v1.signature.replace("v0=", "v1=");
    refused.push(v1);
    for (i, e) in refused.iter().enumerate() {
        let r = b.post(e).await;
        assert_eq!(r.status, 401, "request {i} was believed: {}", r.text());
    }
    // Missing headers altogether.
    let body = bad(7);
    let bare = b
        .app
        .call(Method::POST, "/slack/events")
        .raw(body.clone(), "application/json");
    assert_eq!(bare.send().await.status, 401);
    let only_ts = b
        .app
        .call(Method::POST, "/slack/events")
        .raw(body, "application/json")
        .header("x-slack-request-timestamp", &now().to_string());
    assert_eq!(only_ts.send().await.status, 401);

    b.send(message(&channel, MOSS_ID, "good", "1700000002.000100"))
        .await;
    b.agent_said("good").await;
    let texts: Vec<String> = b.events().iter().map(last_text).collect();
    assert!(
        texts
            .iter()
            .all(|t| !t.contains("bad") && !t.contains("BAD")),
        "a refused request was acted on: {texts:?}"
    );
    let detail = b.app.conversation(&v.conversation_id).await;
    assert_eq!(detail["messages"].as_array().unwrap().len(), 2, "{detail}");

    // A refused request marked nothing seen: the same event, signed right, is acted on.
    b.send_as(
        "EvBAD1",
        message(&channel, MOSS_ID, "bad 1", "1700000003.000100"),
    )
    .await;
    b.agent_said("bad 1").await;
}

async fn an_event_slack_sends_again_is_acted_on_once(store: TestStore) {
    let b = Bridge::start(store).await;
    let (v, channel) = b.visitor("Hello?").await;
    let event = message(&channel, MOSS_ID, "only once", "1700000010.000100");
    let body = callback("EvONCE", event);
    for delay in [0, 1] {
        // Slack's retries: the same body, signed again when sent.
        let signed = sign(&b.slack.signing_secret, &body, now() - delay);
        b.post(&signed).await.expect_status(200);
    }
    b.agent_said("only once").await;
    b.app.restart_after_stop().await;
    let again = sign(&b.slack.signing_secret, &body, now());
    b.post(&again).await.expect_status(200);
    b.send(message(&channel, MOSS_ID, "then this", "1700000011.000100"))
        .await;
    b.agent_said("then this").await;
    let said: Vec<String> = b
        .events()
        .iter()
        .filter(|e| e["event"] == "messageAgent")
        .map(last_text)
        .collect();
    assert_eq!(said, ["only once", "then this"]);
    let detail = b.app.conversation(&v.conversation_id).await;
    let texts: Vec<&str> = detail["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["Hello?", "only once", "then this"]);
}

impl TestApp {
    /// Stops the server (SIGTERM) and starts it again on the same data.
    pub async fn restart_after_stop(&self) {
        let status = self.terminate(Duration::from_secs(20)).await;
        assert!(status.success(), "{status:?}");
        self.restart().await;
    }
}
