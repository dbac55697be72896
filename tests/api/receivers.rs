//! The receivers of docs/receiving-webhooks.md (`examples/receiver.rs`, `.py`, `.js`), each run
//! as its own process against real deliveries of the real server: a captured delivery replayed
//! is accepted once and then seen as a duplicate; altered, stale, future, unsigned or signed with
//! another secret, it gets a 4xx; deliveries straight from the server during a secret rotation
//! (two signatures, the receiver knowing only the old secret) are accepted, and a redelivery is
//! recognised by its `webhook-id`.

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{OnceCell, watch};

use crate::fixtures::named;
use crate::helpers::{TestApp, WAIT};
use crate::receiver::{Received, Receiver};
use crate::signature::sign;
use crate::stores::{TestStore, on_every_store};

on_every_store!(the_rust_receiver, the_python_receiver, the_node_receiver);

async fn the_rust_receiver(store: TestStore) {
    let binary = built_rust_example().await;
    exercise(store, Command::new(binary)).await;
}

async fn the_python_receiver(store: TestStore) {
    let mut cmd = Command::new("python3");
    cmd.arg(repo().join("examples/receiver.py"));
    exercise(store, cmd).await;
}

async fn the_node_receiver(store: TestStore) {
    let mut cmd = Command::new("node");
    cmd.arg(repo().join("examples/receiver.js"));
    exercise(store, cmd).await;
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The example's binary: `cargo test` builds it (as it builds every example); when it is
/// missing or older than its source (a run of `cargo test --test api` alone), `cargo build
/// --example receiver` first, once per run.
async fn built_rust_example() -> PathBuf {
    static BUILT: OnceCell<PathBuf> = OnceCell::const_new();
    BUILT
        .get_or_init(|| async {
            let palaver = PathBuf::from(env!("CARGO_BIN_EXE_palaver"));
            let binary = palaver.parent().unwrap().join("examples/receiver");
            let modified = |p: &PathBuf| std::fs::metadata(p).and_then(|m| m.modified()).ok();
            let source = modified(&repo().join("examples/receiver.rs"));
            if modified(&binary).is_some_and(|built| Some(built) >= source) {
                return binary;
            }
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let out = Command::new(cargo)
                .args(["build", "--example", "receiver"])
                .current_dir(repo())
                .output();
            let out = tokio::time::timeout(Duration::from_secs(900), out)
                .await
                .expect("cargo build --example receiver in time")
                .expect("run cargo");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                out.status.success(),
                "cargo build --example receiver: {stderr}"
            );
            binary
        })
        .await
        .clone()
}

/// A receiver process, its address and what it printed.
struct Example {
    url: String,
    lines: Arc<Mutex<Vec<String>>>,
    printed: watch::Receiver<usize>,
    http: reqwest::Client,
    _child: Child,
}

impl Example {
    async fn start(mut cmd: Command, secret: &str) -> Example {
        cmd.env("WEBHOOK_SECRET", secret)
            .env("PORT", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().expect("start the receiver");
        let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = tokio::time::timeout(WAIT, out.next_line()).await;
        let first = first
            .expect("the receiver started")
            .unwrap()
            .unwrap_or_default();
        let url = first
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("first line: {first:?}"))
            .to_owned();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (tx, printed) = watch::channel(0);
        let log = lines.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = out.next_line().await {
                log.lock().unwrap().push(line);
                tx.send_modify(|n| *n += 1);
            }
        });
        let http = reqwest::Client::new();
        Example {
            url: format!("{url}/hook"),
            lines,
            printed,
            http,
            _child: child,
        }
    }

    /// Awaits a printed line starting with `prefix`.
    async fn wait_line(&self, prefix: &str) {
        let mut printed = self.printed.clone();
        let found = tokio::time::timeout(WAIT, async {
            loop {
                if self
                    .lines
                    .lock()
                    .unwrap()
                    .iter()
                    .any(|l| l.starts_with(prefix))
                {
                    return;
                }
                printed.changed().await.expect("the receiver is running");
            }
        });
        if found.await.is_err() {
            panic!(
                "no line {prefix:?}; printed: {:?}",
                self.lines.lock().unwrap()
            );
        }
    }

    /// POSTs `body` with the given webhook headers; the status.
    async fn post(&self, headers: &[(&str, &str)], body: &[u8]) -> u16 {
        let mut req = self.http.post(&self.url).body(body.to_vec());
        req = req.header("content-type", "application/json");
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        req.send()
            .await
            .expect("the receiver answers")
            .status()
            .as_u16()
    }
}

/// The three Standard Webhooks headers of a request as it came.
fn headers_of(r: &Received) -> [(&str, &str); 3] {
    ["webhook-id", "webhook-timestamp", "webhook-signature"].map(|h| (h, r.header(h)))
}

async fn exercise(store: TestStore, cmd: Command) {
    let app = TestApp::spawn(store).await;
    let recorder = Receiver::start().await;
    let hook = app.create_webhook(&recorder.url(), None).await;
    let example = Example::start(cmd, &hook.secret).await;

    // A real delivery, replayed byte for byte.
    let v = app.visitor_start(named("Receiver"), Some("hello")).await;
    let real = recorder.wait_for(1, WAIT).await.remove(0);
    let id = real.webhook_id();
    assert_eq!(example.post(&headers_of(&real), &real.body).await, 200);
    example.wait_line(&format!("accepted {id} start")).await;
    assert_eq!(example.post(&headers_of(&real), &real.body).await, 200);
    example.wait_line(&format!("duplicate {id}")).await;

    // Altered or badly signed, it is refused.
    let mut altered = real.body.to_vec();
    altered.push(b' ');
    assert_eq!(example.post(&headers_of(&real), &altered).await, 401);
    let now = chrono::Utc::now().timestamp();
    for (offset, why) in [(-600, "stale"), (600, "future")] {
        let ts = (now + offset).to_string();
        let sig = format!("v1,{}", sign(&hook.secret, id, &ts, &real.body));
        let h = [
            ("webhook-id", id),
            ("webhook-timestamp", &ts),
            ("webhook-signature", &sig),
        ];
        assert_eq!(example.post(&h, &real.body).await, 401, "{why}");
    }
    let other = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let ts = now.to_string();
    let sig = format!("v1,{}", sign(other, id, &ts, &real.body));
    let h = [
        ("webhook-id", id),
        ("webhook-timestamp", &ts),
        ("webhook-signature", &sig),
    ];
    assert_eq!(example.post(&h, &real.body).await, 401, "another secret");
    let unsigned = [("webhook-id", id), ("webhook-timestamp", ts.as_str())];
    assert_eq!(example.post(&unsigned, &real.body).await, 400);

    // Straight from the server during a rotation: signed with the new secret and the old one,
    // which is all this receiver knows.
    app.rotate_secret(&hook.id).await;
    app.patch_webhook(&hook.id, &json!({ "url": example.url }))
        .await;
    app.visitor_message(&v.token, &v.conversation_id, "after the rotation")
        .await;
    app.set_email(&v.token, &v.conversation_id, "receiver@example.com")
        .await;
    let deliveries = app.deliveries(&hook.id).await;
    let email = deliveries.iter().find(|d| d["event"] == "email");
    let email = email.expect("an email delivery")["id"].as_str().unwrap();
    // The channel's last delivery: once it is delivered, so are the others.
    app.wait_delivery_status(&hook.id, email, "delivered").await;
    let to_recorder: HashSet<String> = recorder
        .received()
        .iter()
        .map(|r| r.webhook_id().to_owned())
        .collect();
    let direct: Vec<_> = deliveries
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .filter(|id| !to_recorder.contains(*id))
        .collect();
    assert!(
        direct.len() >= 2,
        "the message and the email went to the receiver"
    );
    for id in direct {
        let d = app.delivery(&hook.id, id).await;
        assert_eq!(d["status"], "delivered", "{d}");
        example.wait_line(&format!("accepted {id} ")).await;
    }

    // A redelivery carries the same webhook-id: handled once.
    let path = format!("/webhooks/{}/deliveries/{email}/redeliver", hook.id);
    let answer = app.api(Method::POST, &path).send().await;
    assert!(answer.status < 300, "redeliver: {}", answer.status);
    example.wait_line(&format!("duplicate {email}")).await;
    let printed = example.lines.lock().unwrap().clone();
    let once = printed
        .iter()
        .filter(|l| l.starts_with(&format!("accepted {email}")));
    assert_eq!(once.count(), 1, "{printed:?}");
}
