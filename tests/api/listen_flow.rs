//! `palaver listen` against real deliveries: a conversation's events verified and printed, the
//! forwarding of exact bytes and headers with the target's status passed back (so Palaver
//! retries through it), and a secret rotation's two signatures.

use reqwest::Method;
use serde_json::Value;

use crate::checks::check_request;
use crate::fixtures::{MOSS_ID, moss, scarlet_identity};
use crate::helpers::{TestApp, WAIT};
use crate::listen::{Listen, Stream};
use crate::receiver::{Receiver, Reply};
use crate::signature;
use crate::stores::TestStore;

const EVENTS: [&str; 6] = [
    "start",
    "messageVisitor",
    "open",
    "messageAgent",
    "email",
    "end",
];

/// A webhook pointed at a new `palaver listen` started with its secret and `args`.
async fn hook_to_listen(app: &TestApp, args: &[&str]) -> (crate::api::Webhook, Listen) {
    // The secret comes with the webhook; its URL is set once listen has a port.
    let hook = app.create_webhook("http://127.0.0.1:9/", None).await;
    let mut argv = vec!["--secret", hook.secret.as_str()];
    argv.extend_from_slice(args);
    let listen = Listen::start(&argv).await;
    let patch = serde_json::json!({ "url": listen.url });
    app.patch_webhook(&hook.id, &patch).await;
    (hook, listen)
}

/// The event headings listen printed, in order.
fn headings(lines: &[String]) -> Vec<String> {
    let is_event = |l: &&String| EVENTS.iter().any(|e| l.starts_with(&format!("{e}  ")));
    let first_word = |l: &String| l.split(' ').next().unwrap().to_owned();
    lines.iter().filter(is_event).map(first_word).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_is_verified_and_printed_event_by_event() {
    let app = TestApp::spawn(TestStore::Sqlite).await;
    let (hook, listen) = hook_to_listen(&app, &[]).await;
    assert!(
        listen.url.starts_with("http://127.0.0.1:"),
        "{}",
        listen.url
    );
    let banner = listen.output();
    assert!(
        banner.contains(&format!("\"url\": \"{}\"", listen.url)),
        "{banner}"
    );

    app.put_agent(&moss()).await.expect_status(201);
    let v = app
        .visitor_start(scarlet_identity(), Some("Hi! Any doc?"))
        .await;
    let c = &v.conversation_id;
    app.agent_message(c, MOSS_ID, "Yes! Go to <http://developer.talkus.io/>")
        .await;
    app.set_email(&v.token, c, "scarlet@example.com").await;
    app.end(c, MOSS_ID).await;

    // The end's block is printed last (in one write, read line by line).
    let ended = |l: &String| l.starts_with("    ended ");
    let lines = listen
        .wait_until("six verified events", |l| l.iter().any(ended))
        .await;
    assert_eq!(headings(&lines), EVENTS, "{}", listen.output());
    let out = listen.output();
    let expect = [
        "start  ".to_owned(),
        format!("    visitor  {} ({})", v.visitor_name, v.visitor_id),
        "    message  +33123456789: Hi! Any doc?".to_owned(),
        "    opened   Moss (U0F2Z1234) entered".to_owned(),
        "    message  Moss: Yes! Go to <http://developer.talkus.io/>".to_owned(),
        "    email    scarlet@example.com".to_owned(),
        "    ended    by Moss (U0F2Z1234)".to_owned(),
    ];
    for line in expect {
        assert!(out.contains(&line), "no {line:?} in:\n{out}");
    }
    assert!(out.contains(&v.channel_name), "{out}");
    assert!(!out.contains("x 401"), "{out}");
    // Palaver recorded each as delivered, with listen's answer.
    let log = app
        .wait_until_deliveries(&hook.id, |d| {
            d.len() == 6 && d.iter().all(|d| d["status"] == "delivered")
        })
        .await;
    let answer = &log[0]["lastAttempt"];
    assert_eq!(answer["statusCode"], 200, "{answer}");
    assert!(
        answer["responseBody"]
            .as_str()
            .unwrap()
            .contains("verified by palaver listen")
    );
}

/// `--forward-to` a receiver that fails once: it gets the exact bytes and headers both times,
/// its 500 reaches Palaver, which retries; `--json` prints each body as it came.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarding_passes_bytes_headers_and_the_targets_status() {
    let app = TestApp::spawn(TestStore::Sqlite).await;
    let receiver = Receiver::start().await;
    receiver.script([Reply::Status(500)]);
    let target = receiver.url();
    let (hook, listen) = hook_to_listen(&app, &["--forward-to", &target, "--json"]).await;

    app.visitor_start(scarlet_identity(), None).await;
    let reqs = receiver.wait_for(2, WAIT).await;
    for r in &reqs {
        // The signature covers webhook-id, webhook-timestamp and the body: it verifying with
        // the webhook's secret proves all three arrived as Palaver sent them.
        check_request(r, &hook.secret);
        assert_eq!(r.path, "/hook");
        assert_eq!(r.event()["event"], "start");
    }
    assert_eq!(
        reqs[0].webhook_id(),
        reqs[1].webhook_id(),
        "a retry of one delivery"
    );

    let delivery = &app.deliveries(&hook.id).await[0];
    let id = delivery["id"].as_str().unwrap();
    let d = app.wait_delivery_status(&hook.id, id, "delivered").await;
    let attempts = d["attemptLog"].as_array().unwrap();
    assert_eq!(attempts.len(), 2, "{d}");
    assert_eq!(attempts[0]["statusCode"], 500, "{d}");
    let said = attempts[0]["responseBody"].as_str().unwrap();
    assert!(
        said.contains("receiver says 500"),
        "the target's body passed back: {d}"
    );
    assert_eq!(attempts[1]["statusCode"], 200, "{d}");

    // --json: stdout is the bodies, byte for byte; the rest went to stderr.
    let printed = listen
        .wait_until("two bodies", |_| listen.lines(Stream::Stdout).len() >= 2)
        .await;
    let stdout = listen.lines(Stream::Stdout);
    assert_eq!(stdout.len(), 2, "{printed:?}");
    for (line, r) in stdout.iter().zip(&reqs) {
        assert_eq!(line.as_bytes(), &r.body[..]);
    }
    let forwarded = format!("  forwarded to {target}: 500");
    let line = listen
        .wait_for_line("the forwarding line", |l| l.starts_with(&forwarded))
        .await;
    assert!(
        listen.lines(Stream::Stderr).contains(&line),
        "not on stdout"
    );
}

/// After a rotation Palaver signs with both secrets: listen verifies with either; with a
/// secret of another webhook it refuses, and the delivery log says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotations_two_signatures_verify_with_either_secret() {
    let app = TestApp::spawn(TestStore::Sqlite).await;
    let receiver = Receiver::start().await;
    let target = receiver.url();
    let other = app
        .create_webhook("http://127.0.0.1:9/", Some(&["end"]))
        .await;
    let (hook, old) = hook_to_listen(&app, &["--forward-to", &target]).await;
    let new_secret = app.rotate_secret(&hook.id).await;
    let new = Listen::start(&["--secret", &new_secret, "--forward-to", &target]).await;
    let wrong = Listen::start(&["--secret", &other.secret]).await;

    // One test event through each, the next once the last was answered.
    let test_path = format!("/webhooks/{}/test", hook.id);
    let mut ids = Vec::new();
    for listen in [&old, &new, &wrong] {
        let patch = serde_json::json!({ "url": listen.url });
        app.patch_webhook(&hook.id, &patch).await;
        let queued = app
            .api(Method::POST, &test_path)
            .send()
            .await
            .expect_json(202);
        let id = queued["deliveryId"].as_str().unwrap().to_owned();
        if ids.len() < 2 {
            app.wait_delivery_status(&hook.id, &id, "delivered").await;
            listen
                .wait_for_line("a verified delivery", |l| l.starts_with("ok "))
                .await;
        }
        ids.push(id);
    }
    let reqs = receiver.wait_for(2, WAIT).await;
    for r in &reqs {
        assert_eq!(signature::signatures(r).len(), 2, "two signatures");
        assert_eq!(signature::valid_signatures(r, &hook.secret), 1);
        assert_eq!(signature::valid_signatures(r, &new_secret), 1);
    }

    let refused = app
        .wait_delivery(&hook.id, &ids[2], "a refused attempt", |d| {
            d["attemptLog"].as_array().is_some_and(|a| !a.is_empty())
        })
        .await;
    let first: &Value = &refused["attemptLog"][0];
    assert_eq!(first["statusCode"], 401, "{refused}");
    let why = first["responseBody"].as_str().unwrap();
    assert!(why.contains("no signature matches"), "{why}");
    let printed = wrong
        .wait_for_line("the refusal", |l| l.starts_with("x 401 refused delivery"))
        .await;
    assert!(printed.contains("no signature matches"), "{printed}");
}
