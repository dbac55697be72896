//! One attempt's Web API calls: each checked against the rate limits Slack gave and against the
//! attempt's time, logged for the attempt record, and its answer sorted into what the steps act
//! on; with the writes the steps make (the channel map, the delivery's progress).

use super::limits::Limits;
use crate::slack::{BotToken, SlackClient, SlackOutcome};
use crate::store::{SlackChannel, Store};
use serde_json::Value;
use std::time::{Duration, Instant};

/// A rate limit ending within this is waited for in the attempt rather than ending it.
const WAIT_IN_PLACE: Duration = Duration::from_millis(250);

/// Why a call gave no answer to go on with.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// `ok: false` with Slack's `error` code: a step may handle it (`name_taken`,
    /// `not_in_channel`, …), else it ends the attempt.
    Slack { method: String, code: String },
    /// Slack limits the method: it answered `429` (`called`), or an earlier `429` this process
    /// got still holds (the method was not called). Wait `after`.
    Limited {
        method: String,
        after: Duration,
        called: bool,
    },
    /// No answer to go by: network, HTTP 5xx, a transient Slack error, the attempt's time up.
    Down { method: String, why: String },
}

impl Fault {
    /// Slack's error code, if Slack answered one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Fault::Slack { code, .. } => Some(code),
            _ => None,
        }
    }

    pub fn method(&self) -> &str {
        match self {
            Fault::Slack { method, .. }
            | Fault::Limited { method, .. }
            | Fault::Down { method, .. } => method,
        }
    }
}

/// The calls of one attempt of one delivery.
pub struct Session<'a> {
    client: &'a SlackClient,
    limits: &'a Limits,
    store: &'a dyn Store,
    token: BotToken,
    team_seq: i64,
    deadline: Instant,
    /// One line per call (and per step skipped), for the attempt record.
    pub log: Vec<String>,
    /// The HTTP status and answer of the last call (the failing one, when one failed).
    pub last_status: Option<u16>,
    pub last_body: String,
}

impl<'a> Session<'a> {
    pub fn new(
        client: &'a SlackClient,
        limits: &'a Limits,
        store: &'a dyn Store,
        token: BotToken,
        team_seq: i64,
        deadline: Instant,
    ) -> Self {
        Session {
            client,
            limits,
            store,
            token,
            team_seq,
            deadline,
            log: Vec::new(),
            last_status: None,
            last_body: String::new(),
        }
    }

    /// Calls `method`, unless Slack limits it or the attempt's time is up.
    pub async fn call(&mut self, method: &str, args: Value) -> Result<Value, Fault> {
        let method_name = method.to_string();
        if let Some(after) = self.limits.remaining(self.team_seq, method) {
            let left = self.deadline.saturating_duration_since(Instant::now());
            if after <= WAIT_IN_PLACE && after < left {
                // Nearly over: not worth ending the attempt for.
                tokio::time::sleep(after).await;
            } else {
                self.log.push(format!(
                    "{method}: not called, Slack limits it for {} ms more",
                    after.as_millis()
                ));
                (self.last_status, self.last_body) = (None, String::new());
                return Err(Fault::Limited {
                    method: method_name,
                    after,
                    called: false,
                });
            }
        }
        let left = self.deadline.saturating_duration_since(Instant::now());
        let down = |why: String| Fault::Down {
            method: method_name.clone(),
            why,
        };
        if left.is_zero() {
            self.log.push(format!("{method}: not called, out of time"));
            (self.last_status, self.last_body) = (None, String::new());
            return Err(down("the attempt ran out of time".into()));
        }
        let call = self.client.call(&self.token, method, &args);
        let Ok(reply) = tokio::time::timeout(left, call).await else {
            self.log.push(format!("{method}: no answer in time"));
            return Err(down(format!(
                "no answer within the attempt's remaining {} ms",
                left.as_millis()
            )));
        };
        self.last_status = reply.status;
        self.last_body = reply.body;
        let transient = reply.outcome.is_retryable();
        match reply.outcome {
            SlackOutcome::Ok(answer) => {
                self.log.push(format!("{method}: ok{}", brief(&answer)));
                Ok(answer)
            }
            SlackOutcome::Error(code) if transient => {
                self.log.push(format!("{method}: {code}"));
                Err(down(format!("Slack answered {code}")))
            }
            SlackOutcome::Error(code) => {
                self.log.push(format!("{method}: {code}"));
                Err(Fault::Slack {
                    method: method_name,
                    code,
                })
            }
            SlackOutcome::RateLimited { retry_after } => {
                self.limits.limited(self.team_seq, method, retry_after);
                self.log.push(format!(
                    "{method}: rate limited, Retry-After {} s",
                    retry_after.as_secs()
                ));
                Err(Fault::Limited {
                    method: method_name,
                    after: retry_after,
                    called: true,
                })
            }
            SlackOutcome::Failed(why) => {
                self.log.push(format!("{method}: {why}"));
                Err(down(why))
            }
        }
    }

    /// Remembers where the channel `name` is. A failed write is only logged: the channel is
    /// found again by its name next time.
    pub async fn remember(&self, name: &str, channel: SlackChannel) {
        if let Err(e) = self
            .store
            .put_slack_channel(self.team_seq, name, channel)
            .await
        {
            tracing::warn!(error = %e, channel = name, "could not remember a Slack channel");
        }
    }

    /// Forgets the channel `name`: Slack no longer knows its id.
    pub async fn forget(&self, name: &str) {
        if let Err(e) = self.store.forget_slack_channel(self.team_seq, name).await {
            tracing::warn!(error = %e, channel = name, "could not forget a Slack channel");
        }
    }

    /// Records that the delivery's first `steps` steps reached Slack. A failed write is only
    /// logged: a retry then posts them again.
    pub async fn progress(&self, delivery_seq: i64, steps: i64) {
        if let Err(e) = self.store.set_slack_progress(delivery_seq, steps).await {
            tracing::warn!(error = %e, delivery_seq, "could not record a Slack delivery's progress");
        }
    }
}

/// What an answer is about, for the log: ` C… 1700000000.000100`.
fn brief(answer: &Value) -> String {
    let channel = answer["channel"]
        .as_str()
        .or_else(|| answer["channel"]["id"].as_str());
    let mut out = String::new();
    if let Some(c) = channel {
        out.push(' ');
        out.push_str(c);
    }
    if let Some(ts) = answer["ts"].as_str() {
        out.push(' ');
        out.push_str(ts);
    }
    out
}
