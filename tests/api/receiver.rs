//! A real HTTP webhook receiver on 127.0.0.1:0 that records every request and answers from a
//! script (a queue of replies, then a default reply). Every webhook body it gets (a request with
//! a `webhook-id`) is checked against the JSON Schema of `schemas/webhook.json`; a test whose
//! server sent one that does not match fails when its receiver is dropped.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tokio::sync::watch;

use crate::{schema, signature};

/// How the receiver answers one request.
#[derive(Clone, Debug)]
pub enum Reply {
    /// Answer at once with this status.
    Status(u16),
    /// Never answer.
    Hang,
    /// Answer 200 after a random delay of up to this many milliseconds.
    RandomDelay(u64),
    /// Answer with this status after this many milliseconds.
    After(u64, u16),
    /// Answer at once with this status and these headers.
    WithHeaders(u16, Vec<(&'static str, String)>),
}

/// One request as it arrived.
#[derive(Debug)]
pub struct Received {
    /// 0-based arrival rank.
    pub seq: usize,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// When the request arrived.
    pub at: Instant,
    /// When the receiver's answer was ready (unset while it hangs).
    pub answered_at: OnceLock<Instant>,
    /// The status it answered (unset while it hangs).
    pub status: OnceLock<u16>,
}

impl Received {
    /// A header's value, failing if it is absent.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("webhook request #{} lacks header {name}", self.seq))
            .to_str()
            .expect("ascii header")
    }

    pub fn webhook_id(&self) -> &str {
        self.header("webhook-id")
    }

    /// The body: a JSON array of events.
    pub fn events(&self) -> Vec<Value> {
        let body: Value = serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("webhook body is not JSON ({e}): {:?}", self.body_text()));
        body.as_array()
            .unwrap_or_else(|| panic!("webhook body is not an array: {body}"))
            .clone()
    }

    /// The only event of the body.
    pub fn event(&self) -> Value {
        let events = self.events();
        assert_eq!(
            events.len(),
            1,
            "expected one event per request: {events:?}"
        );
        events.into_iter().next().expect("one event")
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Asserts the Standard Webhooks signature verifies with `secret`.
    pub fn assert_signed(&self, secret: &str) {
        let valid = signature::valid_signatures(self, secret);
        assert!(
            valid >= 1,
            "webhook #{} ({}) has no signature valid for its secret; header {:?}",
            self.seq,
            self.body_text(),
            self.headers.get("webhook-signature")
        );
    }
}

/// The requests that arrived on `path`.
pub fn on_path(reqs: &[Arc<Received>], path: &str) -> Vec<Arc<Received>> {
    reqs.iter().filter(|r| r.path == path).cloned().collect()
}

struct Shared {
    log: Mutex<Vec<Arc<Received>>>,
    count: watch::Sender<usize>,
    script: Mutex<VecDeque<Reply>>,
    default: Mutex<Reply>,
    /// Webhook bodies that do not match the schema, with why.
    off_schema: Mutex<Vec<String>>,
    /// Requests being answered now, and the most there ever were at once.
    concurrent: Mutex<(usize, usize)>,
}

/// The receiver; its server task stops when it is dropped.
pub struct Receiver {
    port: u16,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    /// A receiver answering 200 to everything.
    pub async fn start() -> Receiver {
        let shared = Arc::new(Shared {
            log: Mutex::new(Vec::new()),
            count: watch::channel(0).0,
            script: Mutex::new(VecDeque::new()),
            default: Mutex::new(Reply::Status(200)),
            off_schema: Mutex::new(Vec::new()),
            concurrent: Mutex::new((0, 0)),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind receiver");
        let port = listener.local_addr().expect("receiver address").port();
        let app = axum::Router::new()
            .fallback(record)
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("receiver serve");
        });
        Receiver { port, shared, task }
    }

    /// `http://127.0.0.1:PORT/hook`.
    pub fn url(&self) -> String {
        self.url_with_path("/hook")
    }

    pub fn url_with_path(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Replies for the next requests, in order; the default reply comes after them.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.shared.script.lock().unwrap().extend(replies);
    }

    pub fn set_default(&self, reply: Reply) {
        *self.shared.default.lock().unwrap() = reply;
    }

    pub fn received(&self) -> Vec<Arc<Received>> {
        self.shared.log.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.shared.log.lock().unwrap().len()
    }

    /// The most requests this receiver was answering at once (from each one's arrival until
    /// its answer was ready).
    pub fn most_at_once(&self) -> usize {
        self.shared.concurrent.lock().unwrap().1
    }

    /// Awaits at least `n` requests; fails after `timeout`.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Arc<Received>> {
        self.wait_until(&format!("{n} webhook requests"), timeout, |r| r.len() >= n)
            .await
    }

    /// Awaits the first request whose only event is `name`.
    pub async fn wait_for_event(&self, name: &str, timeout: Duration) -> Arc<Received> {
        let what = format!("a `{name}` webhook");
        let has = |r: &Received| r.events().iter().any(|e| e["event"] == name);
        let all = self
            .wait_until(&what, timeout, |r| r.iter().any(|x| has(x)))
            .await;
        all.into_iter().find(|r| has(r)).expect("found")
    }

    /// Awaits until `done` holds for the requests received so far; fails after `timeout`.
    pub async fn wait_until(
        &self,
        what: &str,
        timeout: Duration,
        mut done: impl FnMut(&[Arc<Received>]) -> bool,
    ) -> Vec<Arc<Received>> {
        let mut rx = self.shared.count.subscribe();
        let wait = async {
            loop {
                rx.borrow_and_update();
                let all = self.received();
                if done(&all) {
                    return all;
                }
                rx.changed().await.expect("receiver alive");
            }
        };
        match tokio::time::timeout(timeout, wait).await {
            Ok(all) => all,
            Err(_) => panic!(
                "timed out after {timeout:?} waiting for {what}; got {} requests: {:#?}",
                self.count(),
                self.received()
                    .iter()
                    .map(|r| r.body_text())
                    .collect::<Vec<_>>()
            ),
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
        let off_schema = std::mem::take(&mut *self.shared.off_schema.lock().unwrap());
        if !off_schema.is_empty() && !std::thread::panicking() {
            panic!(
                "the server sent webhook bodies that do not match schemas/webhook.json:\n{}",
                off_schema.join("\n")
            );
        }
    }
}

async fn record(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let at = Instant::now();
    {
        let mut c = shared.concurrent.lock().unwrap();
        c.0 += 1;
        c.1 = c.1.max(c.0);
    }
    let received = {
        let mut log = shared.log.lock().unwrap();
        let path = uri.path().to_owned();
        let received = Arc::new(Received {
            seq: log.len(),
            path,
            headers,
            body,
            at,
            answered_at: OnceLock::new(),
            status: OnceLock::new(),
        });
        log.push(received.clone());
        received
    };
    let seq = received.seq;
    if received.headers.contains_key("webhook-id") {
        let errors = schema::violations(&received.body);
        if !errors.is_empty() {
            let body = received.body_text();
            let line = format!("request #{seq}: {}; body: {body}", errors.join("; "));
            shared.off_schema.lock().unwrap().push(line);
        }
    }
    shared.count.send_replace(seq + 1);
    let scripted = shared.script.lock().unwrap().pop_front();
    let reply = scripted.unwrap_or_else(|| shared.default.lock().unwrap().clone());
    let mut extra = Vec::new();
    let status = match reply {
        Reply::Status(status) => status,
        Reply::WithHeaders(status, headers) => {
            extra = headers;
            status
        }
        Reply::Hang => std::future::pending().await,
        Reply::RandomDelay(max_ms) => {
            let ms = rand::random_range(0..=max_ms);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            200
        }
        Reply::After(ms, status) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            status
        }
    };
    let _ = received.status.set(status);
    let status = StatusCode::from_u16(status).expect("valid status");
    let _ = received.answered_at.set(Instant::now());
    shared.concurrent.lock().unwrap().0 -= 1;
    // Waiters look again: what they wait for may depend on answers, not only arrivals.
    shared.count.send_modify(|_| {});
    let mut answer = (status, format!("receiver says {status} to request {seq}")).into_response();
    for (name, value) in extra {
        answer
            .headers_mut()
            .insert(name, value.parse().expect("a header value"));
    }
    answer
}
