//! A fake Slack Web API on 127.0.0.1:0 that speaks Slack's JSON (`ok`, `error`, `channel`,
//! `user`, `ts`): it checks the bot token (`invalid_auth` otherwise), keeps a small workspace
//! (channels, members, posted messages, users), records every call, and can be told to fail.
//!
//! Point a server at it with `.env("PALAVER_SLACK_API_URL", &slack.api_url())`. Script failures
//! with [`FakeSlack::fail`] (HTTP 500 for the next N calls), [`FakeSlack::rate_limit`] (429 with
//! `Retry-After` for one method) and [`FakeSlack::error`] (a Slack `error` for one method).
//! Events API requests are built and signed like Slack's with [`events`].

pub mod events;
mod handler;
mod workspace;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::watch;

use crate::fixtures::random_token;
use handler::{Failure, Scripted};

pub use workspace::Channel;

/// The workspace every fake is: what `auth.test` answers.
pub const TEAM_ID: &str = "T0PALAVER";
pub const TEAM_NAME: &str = "Palaver Test";
pub const TEAM_URL: &str = "https://palaver-test.slack.com/";
pub const BOT_USER_ID: &str = "U0PALBOT1";
pub const BOT_ID: &str = "B0PALBOT1";

/// One call as it arrived.
#[derive(Clone, Debug)]
pub struct SlackCall {
    /// 0-based arrival rank.
    pub seq: usize,
    /// `chat.postMessage`, …
    pub method: String,
    /// The arguments: the JSON body, or the form's fields as strings.
    pub args: Value,
    /// Whether the arguments came as JSON (else form-encoded).
    pub json: bool,
    /// The `Authorization` header as sent.
    pub authorization: Option<String>,
    /// The HTTP status answered.
    pub status: u16,
    /// The body answered.
    pub answer: Value,
}

impl SlackCall {
    /// An argument as text (`""` when absent).
    pub fn arg(&self, name: &str) -> String {
        match &self.args[name] {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        }
    }
}

/// What the server task and the test share.
struct Shared {
    token: String,
    calls: Mutex<Vec<SlackCall>>,
    count: watch::Sender<usize>,
    script: Mutex<VecDeque<Scripted>>,
    /// Calls of a method answered late: `(method, calls left, delay)`.
    delays: Mutex<Vec<(String, usize, Duration)>>,
    workspace: Mutex<workspace::Workspace>,
}

/// The fake; its server stops when it is dropped.
pub struct FakeSlack {
    port: u16,
    shared: Arc<Shared>,
    /// The app's signing secret, for signing Events API requests ([`events`]).
    pub signing_secret: String,
    task: tokio::task::JoinHandle<()>,
}

impl FakeSlack {
    /// A workspace with `#general`, `#palaver-support` (the bot not a member) and the seed's
    /// agent Moss as a user.
    pub async fn start() -> FakeSlack {
        let shared = Arc::new(Shared {
            token: format!("xoxb-{}-{}", random_token(10), random_token(24)),
            calls: Mutex::new(Vec::new()),
            count: watch::channel(0).0,
            script: Mutex::new(VecDeque::new()),
            delays: Mutex::new(Vec::new()),
            workspace: Mutex::new(workspace::Workspace::new()),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake Slack");
        let port = listener.local_addr().expect("fake Slack address").port();
        let app = axum::Router::new()
            .route(
                "/api/{method}",
                axum::routing::post(handler::call).get(handler::call),
            )
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("fake Slack serve");
        });
        FakeSlack {
            port,
            shared,
            signing_secret: random_token(32).to_lowercase(),
            task,
        }
    }

    /// The base URL to give `--slack-api-url`: `http://127.0.0.1:PORT/api`.
    pub fn api_url(&self) -> String {
        format!("http://127.0.0.1:{}/api", self.port)
    }

    /// The bot token it accepts (anything else is `invalid_auth`).
    pub fn token(&self) -> &str {
        &self.shared.token
    }

    /// The next `n` calls, of any method, answer HTTP `status` (e.g. 500) with an HTML body.
    pub fn fail(&self, n: usize, status: u16) {
        self.push(None, Failure::Status(status), n);
    }

    /// The next `n` calls of `method` answer 429 with `Retry-After: retry_after_secs`.
    pub fn rate_limit(&self, method: &str, n: usize, retry_after_secs: u64) {
        self.push(Some(method), Failure::RateLimited(retry_after_secs), n);
    }

    /// The next call of `method` answers `{"ok": false, "error": code}`.
    pub fn error(&self, method: &str, code: &str) {
        self.push(Some(method), Failure::Error(code.to_owned()), 1);
    }

    /// The next `n` calls of `method` are answered only after `delay` (a slow Slack).
    pub fn delay(&self, method: &str, n: usize, delay: Duration) {
        let mut delays = self.shared.delays.lock().unwrap();
        delays.push((method.to_owned(), n, delay));
    }

    fn push(&self, method: Option<&str>, failure: Failure, n: usize) {
        let mut script = self.shared.script.lock().unwrap();
        for _ in 0..n {
            script.push_back(Scripted {
                method: method.map(str::to_owned),
                failure: failure.clone(),
            });
        }
    }

    /// Every call so far, in arrival order.
    pub fn calls(&self) -> Vec<SlackCall> {
        self.shared.calls.lock().unwrap().clone()
    }

    /// The calls of one method so far.
    pub fn calls_to(&self, method: &str) -> Vec<SlackCall> {
        self.calls()
            .into_iter()
            .filter(|c| c.method == method)
            .collect()
    }

    /// The workspace's channels (created by calls or by [`FakeSlack::add_channel`]).
    pub fn channels(&self) -> Vec<Channel> {
        self.shared.workspace.lock().unwrap().channels.clone()
    }

    /// Adds a channel as if someone had created it in Slack; answers its id.
    pub fn add_channel(&self, name: &str, archived: bool, bot_member: bool) -> String {
        self.shared
            .workspace
            .lock()
            .unwrap()
            .add_channel(name, archived, bot_member)
    }

    /// Adds (or replaces) a user `users.info` knows: a Slack user object with its `id`.
    pub fn add_user(&self, user: Value) {
        self.shared.workspace.lock().unwrap().add_user(user);
    }

    /// Awaits until `done` holds for the calls so far; fails after `timeout`.
    pub async fn wait_until(
        &self,
        what: &str,
        timeout: Duration,
        mut done: impl FnMut(&[SlackCall]) -> bool,
    ) -> Vec<SlackCall> {
        let mut rx = self.shared.count.subscribe();
        let wait = async {
            loop {
                rx.borrow_and_update();
                let all = self.calls();
                if done(&all) {
                    return all;
                }
                rx.changed().await.expect("the fake Slack is alive");
            }
        };
        match tokio::time::timeout(timeout, wait).await {
            Ok(all) => all,
            Err(_) => panic!(
                "timed out after {timeout:?} waiting for {what}; Slack calls: {:#?}",
                self.calls()
                    .iter()
                    .map(|c| format!("{} {} -> {}", c.method, c.args, c.answer))
                    .collect::<Vec<_>>()
            ),
        }
    }

    /// Awaits at least `n` calls of `method`.
    pub async fn wait_for(&self, method: &str, n: usize, timeout: Duration) -> Vec<SlackCall> {
        let what = format!("{n} {method} calls");
        self.wait_until(&what, timeout, |calls| {
            calls.iter().filter(|c| c.method == method).count() >= n
        })
        .await;
        self.calls_to(method)
    }
}

impl Drop for FakeSlack {
    fn drop(&mut self) {
        self.task.abort();
    }
}
