//! No secret or token in any log line: a full run of the real server at `RUST_LOG=trace` (every
//! crate, every level) — the team's API key, a webhook's secret made and rotated, signed
//! deliveries (one retried), a visitor's token (in the header and in the live stream's query
//! string), an agent's console password, sign-in and session (cookie and CSRF token), an admin's
//! sign-in with the key, Slack connected (bot token, signing secret) with posts made and an event
//! received, a restart — then the whole log is searched for each secret, as written and in the
//! forms it could be logged in (a webhook secret's base64 key and its bytes in hex), and the
//! test fails naming the line.

use base64::Engine;
use reqwest::Method;
use serde_json::json;

use crate::console_auth::client::Console;
use crate::console_auth::{agent_with_email, set_password};
use crate::fake_slack::FakeSlack;
use crate::fake_slack::events::{callback, message, now, sign};
use crate::fixtures::{random_token, scarlet_identity};
use crate::helpers::{TestApp, WAIT};
use crate::receiver::{Receiver, Reply};
use crate::slack::connect_body;
use crate::slack_events::post;
use crate::stores::{TestStore, on_every_store};

on_every_store!(no_secret_reaches_the_log_at_trace_level);

/// One secret and what it is, for the failure message.
struct Secret {
    what: String,
    value: String,
}

/// The secrets of the run, each in every form it could be logged in.
#[derive(Default)]
struct Secrets(Vec<Secret>);

impl Secrets {
    fn add(&mut self, what: &str, value: &str) {
        assert!(
            value.len() >= 8,
            "{what} is too short to search for: {value:?}"
        );
        self.0.push(Secret {
            what: what.to_owned(),
            value: value.to_owned(),
        });
    }

    /// A `whsec_` secret: as written, its base64 key, and the key's bytes in hex.
    fn add_webhook_secret(&mut self, what: &str, secret: &str) {
        self.add(what, secret);
        let key = secret.strip_prefix("whsec_").expect("a whsec_ secret");
        self.add(&format!("{what} (base64 key)"), key);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(key)
            .expect("the key is base64");
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        self.add(&format!("{what} (key in hex)"), &hex);
    }

    /// Fails naming the first log line that shows a secret (the secret masked in the message).
    fn assert_absent_from(&self, log: &str) {
        let lines = log.lines().count();
        assert!(
            lines > 200,
            "a trace-level run logs a lot; got {lines} lines"
        );
        for (n, line) in log.lines().enumerate() {
            for s in &self.0 {
                if line.contains(&s.value) {
                    let shown = line.replace(&s.value, "<SECRET>");
                    let shown: String = shown.chars().take(2_000).collect();
                    panic!(
                        "line {} of the server log shows the {}:\n{shown}",
                        n + 1,
                        s.what
                    );
                }
            }
        }
    }
}

async fn no_secret_reaches_the_log_at_trace_level(store: TestStore) {
    let slack = FakeSlack::start().await;
    let app = TestApp::builder(store)
        .env("PALAVER_SLACK_API_URL", &slack.api_url())
        .env("RUST_LOG", "trace")
        .spawn()
        .await;
    let mut secrets = Secrets::default();
    secrets.add("team API key", &app.api_key);

    // A webhook, its secret rotated; its first delivery fails once and is retried.
    let hooks = Receiver::start().await;
    hooks.script([Reply::Status(500)]);
    let webhook = app.create_webhook(&hooks.url(), None).await;
    secrets.add_webhook_secret("webhook secret", &webhook.secret);
    let rotated = app.rotate_secret(&webhook.id).await;
    secrets.add_webhook_secret("rotated webhook secret", &rotated);

    // Webhooks whose URLs carry credentials and a token: one answering 500, one not there.
    let refusing = Receiver::start().await;
    refusing.set_default(Reply::Status(500));
    let (user_pw, query_token) = (random_token(16), random_token(20));
    let url = |port_url: &str| {
        let rest = port_url.strip_prefix("http://").expect("http");
        format!("http://hooks:{user_pw}@{rest}?token={query_token}")
    };
    app.create_webhook(&url(&refusing.url()), None).await;
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let closed_url = format!("http://{}/hook", closed.local_addr().unwrap());
    drop(closed);
    app.create_webhook(&url(&closed_url), None).await;
    secrets.add("password in a webhook URL", &user_pw);
    secrets.add("token in a webhook URL's query", &query_token);

    // Slack connected.
    app.api(Method::PUT, "/slack")
        .json(&connect_body(&slack))
        .send()
        .await
        .expect_status(200);
    secrets.add("Slack bot token", slack.token());
    secrets.add("Slack signing secret", &slack.signing_secret);

    // An agent with a console password signs in and acts with the session's CSRF token.
    let moss = agent_with_email("U0MOSS001", "Moss", "moss@reynholm.example");
    app.put_agent(&moss).await.expect_status(201);
    let password = format!("pw-{}", random_token(20));
    set_password(&app, "U0MOSS001", &password).await;
    secrets.add("agent's console password", &password);
    let mut agent = Console::new(&app);
    let form_csrf = agent.open_sign_in(false).await;
    secrets.add("sign-in form's CSRF token", &form_csrf);
    let r = agent
        .sign_in_agent("moss@reynholm.example", &password)
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let session = agent.session().expect("a session cookie");
    secrets.add("agent's session cookie", &session);
    let csrf = agent.csrf().await;
    secrets.add("agent's session CSRF token", &csrf);

    // An admin signs in with the API key through the form.
    let mut admin = Console::new(&app);
    let r = admin.sign_in_admin(&app.api_key).await;
    assert_eq!(r.status, 303, "{}", r.text());
    secrets.add(
        "admin's session cookie",
        &admin.session().expect("a session"),
    );
    let admin_csrf = admin.csrf().await;
    secrets.add("admin's session CSRF token", &admin_csrf);

    // A visitor: the token in the header, then in the live stream's query string.
    let visitor = app.visitor_start(scarlet_identity(), Some("Hello")).await;
    secrets.add("visitor token", &visitor.token);
    let conv = &visitor.conversation_id;
    let path = format!(
        "/api/v1/visitor/conversations/{conv}/events?visitorToken={}",
        visitor.token
    );
    let stream = app.call(Method::GET, &path).open().await;
    assert_eq!(
        stream.status(),
        200,
        "the stream opens with the query token"
    );
    app.visitor_message(&visitor.token, conv, "Anyone there?")
        .await;
    app.visitor_conversation(&visitor.token, conv).await;
    drop(stream);

    // Moss joins and answers from his console session; the admin ends it from hers.
    let path = format!("/conversations/{conv}/join");
    let body = json!({ "agentId": "U0MOSS001" });
    let r = agent
        .api(Method::POST, &path, Some(&body), Some(&csrf))
        .await;
    assert!(r.status < 300, "join: {} {}", r.status, r.text());
    let path = format!("/conversations/{conv}/messages");
    let body = json!({ "agentId": "U0MOSS001", "text": "Have you tried turning it off?" });
    let r = agent
        .api(Method::POST, &path, Some(&body), Some(&csrf))
        .await;
    assert!(r.status < 300, "message: {} {}", r.status, r.text());

    // Slack sends an event, signed with the signing secret.
    let name = visitor.channel_name.clone();
    let made = |_: &[crate::fake_slack::SlackCall]| slack.channels().iter().any(|c| c.name == name);
    slack.wait_until("the visitor's channel", WAIT, made).await;
    let channel = slack
        .channels()
        .into_iter()
        .find(|c| c.name == visitor.channel_name)
        .expect("the visitor's channel")
        .id;
    let event = message(&channel, "U0MOSS001", "From Slack", "1700000000.000100");
    let id = format!("Ev{}", random_token(10).to_uppercase());
    let signed = sign(&slack.signing_secret, &callback(&id, event), now());
    post(&app, &signed).await.expect_status(200);

    let path = format!("/conversations/{conv}/end");
    let body = json!({ "agentId": "U0MOSS001" });
    let r = admin
        .api(Method::POST, &path, Some(&body), Some(&admin_csrf))
        .await;
    assert!(r.status < 300, "end: {} {}", r.status, r.text());

    // Every webhook signed and delivered (the first after a 500), Slack told of the end.
    let received = hooks
        .wait_until("the end webhook", WAIT, |all| {
            all.iter()
                .filter(|r| r.status.get() == Some(&200))
                .any(|r| r.events().iter().any(|e| e["event"] == "end"))
        })
        .await;
    for r in received.iter().filter(|r| r.status.get() == Some(&200)) {
        r.assert_signed(&rotated);
    }
    slack.wait_for("conversations.archive", 0, WAIT).await;
    slack.wait_for("chat.postMessage", 3, WAIT).await;

    // The delivery log read back, sign-out, and a restart.
    let deliveries = app.deliveries(&webhook.id).await;
    assert!(!deliveries.is_empty());
    let r = agent
        .post_form("/admin/sign-out", &[("csrf", csrf.as_str())])
        .await;
    assert!(r.status < 400, "sign-out: {} {}", r.status, r.text());
    app.terminate(WAIT).await;
    app.restart().await;
    app.api(Method::GET, "/webhooks")
        .send()
        .await
        .expect_status(200);

    secrets.assert_absent_from(&app.log());
}

/// The data dir (the database with webhook and Slack secrets, the admin key's file) is the
/// owner's alone.
#[tokio::test]
async fn the_data_dir_is_its_owners_alone() {
    use std::os::unix::fs::PermissionsExt;
    let app = TestApp::spawn(TestStore::Sqlite).await;
    let mode = std::fs::metadata(app.data_dir())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o777,
        0o700,
        "the data dir's mode is {:o}",
        mode & 0o777
    );
}
