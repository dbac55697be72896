//! What the console's Integration page needs from the API and from the web side: errors that
//! name their field, delivery records with their channel, the secret readable again with its
//! rotation's overlap, the endpoint's health; and the pages themselves, for admins only.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::fixtures::{agent, named};
use crate::helpers::TestApp;
use crate::receiver::{Receiver, Reply};
use crate::stores::{TestStore, on_every_store};

on_every_store!(
    deliveries_carry_their_channel,
    health_counts_the_last_day,
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

/// A client that shows redirects instead of following them, and keeps its cookies.
struct Browser {
    client: reqwest::Client,
    base: String,
    cookies: Mutex<BTreeMap<String, String>>,
}

impl Browser {
    fn new(app: &TestApp) -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let cookies = Mutex::default();
        Browser {
            client,
            base: app.address(),
            cookies,
        }
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> reqwest::Response {
        let jar: Vec<String> = self
            .cookies
            .lock()
            .unwrap()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let r = req.header("cookie", jar.join("; ")).send().await.unwrap();
        for set in r.headers().get_all("set-cookie") {
            let pair = set.to_str().unwrap().split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            self.cookies
                .lock()
                .unwrap()
                .insert(name.to_owned(), value.to_owned());
        }
        r
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.send(self.client.get(format!("{}{path}", self.base)))
            .await
    }

    /// Signs in through the form: its cookie and hidden `csrf` field, then the credentials.
    async fn sign_in(&self, fields: &[(&str, &str)]) {
        let form = self.get("/admin/sign-in").await;
        assert_eq!(form.status(), 200);
        let html = form.text().await.unwrap();
        let csrf = html
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("a csrf field")
            .to_owned();
        let mut body: Vec<(&str, &str)> = vec![("csrf", &csrf)];
        body.extend_from_slice(fields);
        let post = self
            .client
            .post(format!("{}/admin/sign-in", self.base))
            .form(&body);
        let r = self.send(post).await;
        assert_eq!(r.status(), 303, "signed in: {:?}", r.headers());
    }
}

fn location(r: &reqwest::Response) -> &str {
    r.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_pages_are_for_signed_in_admins() {
    let app = TestApp::spawn(TestStore::Sqlite).await;
    let hook = app.create_webhook("https://example.com/hook", None).await;
    let pages = [
        "/admin/integration".to_owned(),
        format!("/admin/integration/webhooks/{}", hook.id),
        format!("/admin/integration/webhooks/{}/deliveries/msg_x", hook.id),
    ];

    let anonymous = Browser::new(&app);
    for page in &pages {
        let r = anonymous.get(page).await;
        assert!(r.status().is_redirection(), "{page}: {}", r.status());
        assert!(
            location(&r).starts_with("/admin/sign-in"),
            "{page}: {}",
            location(&r)
        );
    }

    let admin = Browser::new(&app);
    admin.sign_in(&[("api_key", &app.api_key)]).await;
    for page in &pages {
        let r = admin.get(page).await;
        assert_eq!(r.status(), 200, "{page}");
        let html = r.text().await.unwrap();
        assert!(html.contains("data-test="), "{page} is the page: {html}");
        assert!(
            html.contains(r#"name="csrf-token""#),
            "{page} has the frame"
        );
    }
    let html = admin.get(&pages[1]).await.text().await.unwrap();
    assert!(html.contains(&hook.id), "the webhook's page knows its id");
    let r = admin.get("/admin/integration/webhooks/ep_nope").await;
    assert_eq!(r.status(), 404, "an unknown webhook");
    assert!(r.text().await.unwrap().contains("Back to Integration"));

    let mut moss = agent("U0MOSS", "Moss");
    moss["profile"]["email"] = json!("moss@example.com");
    app.put_agent(&moss).await.expect_status(201);
    app.api(Method::PUT, "/agents/U0MOSS/password")
        .json(&json!({"password": "correct horse battery"}))
        .send()
        .await
        .expect_status(204);
    let moss = Browser::new(&app);
    moss.sign_in(&[
        ("email", "moss@example.com"),
        ("password", "correct horse battery"),
    ])
    .await;
    for page in &pages {
        let r = moss.get(page).await;
        assert!(r.status().is_redirection(), "{page}: {}", r.status());
        assert_eq!(location(&r), "/admin/conversations", "{page}");
    }
    let r = moss
        .get(&format!("/api/v1/webhooks/{}/health", hook.id))
        .await;
    assert_eq!(r.status(), 403, "the health is an admin's");
}
