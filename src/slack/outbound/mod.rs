//! Palaver → Slack: the team's Slack endpoint's deliveries turned into Web API calls.
//!
//! # Riding the outbox
//! Connecting Slack gives the team an endpoint of kind Slack ([`endpoint`]), subscribed to
//! `start`, `email`, `messageVisitor`, `messageAgent` and `end`. Every later event gets a delivery
//! to it in the event's own transaction, like a webhook's: per-visitor lanes keep the order, claims
//! are leases, attempts are recorded and retried on the schedule. The workers route a claim of
//! that endpoint to [`SlackCourier`] (a [`Courier`]) instead of POSTing it; it reads the stored
//! event and makes the calls ([`plan`]): the channel named `channelName` made or reused, the
//! visitor's header and the announcement on `start`, messages under their author's name,
//! notices, the archive on `end`. An agent's message written in Slack (`messages.origin` =
//! `slack:<ts>`) is never posted back.
//!
//! # Failures
//! - no answer (network, HTTP 5xx, Slack's `internal_error`…), or a Slack error a person may fix
//!   (`channel_not_found` of a notification channel id, `missing_scope`, …): retried on the
//!   schedule;
//! - `429` with `Retry-After`: the delivery waits at least that long, uncounted against the
//!   schedule, and this process calls that method of that workspace no more until then
//!   ([`limits`]); deliveries needing other methods go on;
//! - a refused token (`invalid_auth`, `account_inactive`, `token_revoked`, …) or a request Slack
//!   can never take: the delivery fails at once, with the reason and a log line.
//!
//! # What a retry does not repeat, and what it may
//! Where a channel is goes to the channel map as soon as Slack answers, so a retry finds the
//! channel rather than making a second one (and a lost map entry only costs a `name_taken` and a
//! look-up). A delivery of several posts (`start`: header then announcement; `end`: notice then
//! archive) records each post that reached Slack before the next; its retry goes on from there.
//! What can still repeat is the one call in flight when an attempt ended without Slack's answer
//! (a timeout, a dropped connection, the process killed before the answer or before its record
//! was written): Slack may have done it, Palaver cannot know, and does it again — at least once,
//! as for webhooks. Chat messages have no idempotency key in Slack's Web API.

mod channels;
pub mod endpoint;
mod event;
mod limits;
mod lookup;
mod plan;
mod render;
mod session;

use crate::delivery::{Attempted, Courier, Verdict};
use crate::domain::Millis;
use crate::slack::{BotToken, SlackClient};
use crate::store::{AttemptRecord, Claimed, Store};
use async_trait::async_trait;
use channels::Channels;
use plan::{Plan, Step};
use session::{Fault, Session};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Slack errors that say the token is dead: no retry can succeed until Slack is connected again.
const TOKEN_DEAD: &[&str] = &[
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "team_access_not_granted",
    "ekm_access_denied",
    "org_login_required",
];

/// Slack errors about the request itself: sent again, it would be refused again.
const REQUEST_REFUSED: &[&str] = &[
    "invalid_arguments",
    "invalid_arg_name",
    "invalid_array_arg",
    "invalid_charset",
    "invalid_form_data",
    "invalid_post_type",
    "missing_post_type",
    "invalid_blocks",
    "invalid_blocks_format",
    "msg_too_long",
    "no_text",
    "too_many_attachments",
    "invalid_name",
    "invalid_name_maxlength",
    "invalid_name_punctuation",
    "invalid_name_required",
    "invalid_name_specials",
    "unknown_method",
    "method_deprecated",
    "deprecated_endpoint",
];

/// How long a delivery of a disconnected team waits before it is looked at again.
const NOT_CONNECTED_WAIT: Duration = Duration::from_secs(60);
/// How much of the calls' log an attempt record keeps (as webhooks keep of the answer).
const KEEP_BYTES: usize = 1024;

/// Sends the Slack endpoint's deliveries (see the module docs).
pub struct SlackCourier {
    store: Arc<dyn Store>,
    client: Arc<SlackClient>,
    limits: limits::Limits,
}

impl SlackCourier {
    pub fn new(store: Arc<dyn Store>, client: Arc<SlackClient>) -> Self {
        SlackCourier {
            store,
            client,
            limits: limits::Limits::default(),
        }
    }
}

/// How an attempt ended, before it becomes a record.
struct Ended {
    verdict: Verdict,
    error: Option<String>,
    status: Option<u16>,
    body: String,
}

impl Ended {
    fn early(verdict: Verdict, error: String) -> Self {
        Ended {
            verdict,
            error: Some(error),
            status: None,
            body: String::new(),
        }
    }
}

#[async_trait]
impl Courier for SlackCourier {
    async fn attempt(&self, c: &Claimed, budget: Duration) -> Attempted {
        let at = Millis::now();
        let started = Instant::now();
        let ended = self.run(c, started + budget).await;
        Attempted {
            record: AttemptRecord {
                n: c.attempt,
                at,
                status_code: ended.status,
                duration_ms: started.elapsed().as_millis() as i64,
                error: ended.error,
                response_body: keep(ended.body),
            },
            verdict: ended.verdict,
        }
    }
}

impl SlackCourier {
    async fn run(&self, c: &Claimed, deadline: Instant) -> Ended {
        let facts = match self.store.slack_send(c.seq).await {
            Ok(Some(facts)) => facts,
            Ok(None) => {
                return Ended::early(Verdict::Failed, "not sent: the delivery is gone".into());
            }
            Err(e) => return Ended::early(Verdict::Retry, format!("not sent: {e}")),
        };
        let Some(connection) = facts.connection else {
            let why = "not sent: Slack is not connected (PUT /api/v1/slack)".to_string();
            return Ended::early(Verdict::Wait(NOT_CONNECTED_WAIT), why);
        };
        let event = match event::parse(&c.body) {
            Ok(event) => event,
            Err(why) => return Ended::early(Verdict::Failed, format!("not sent: {why}")),
        };
        let steps = match plan::plan(&event, &facts.origin, connection.archive_on_end) {
            Plan::Steps(steps) => steps,
            Plan::Nothing(why) => {
                return Ended {
                    verdict: Verdict::Delivered,
                    error: None,
                    status: None,
                    body: why,
                };
            }
        };
        let token = BotToken::new(connection.bot_token.clone());
        let mut s = Session::new(
            &self.client,
            &self.limits,
            &*self.store,
            token,
            facts.team_seq,
            deadline,
        );
        let mut channels = Channels {
            visitor_name: event.channel_name.clone(),
            visitor: facts.channel,
            notify_name: connection.notify_channel.clone(),
            notify: facts.notify,
        };
        let total = steps.len();
        for (i, step) in steps.into_iter().enumerate() {
            let posted_before = (i as i64) < facts.steps_done && step != Step::Channel;
            if posted_before {
                s.log
                    .push(format!("step {}: done by an earlier attempt", i + 1));
                continue;
            }
            let done = match step {
                Step::Channel => channels.visitor_channel(&mut s).await.map(drop),
                Step::Post { args, plain } => {
                    channels.post_visitor(&mut s, args, plain).await.map(drop)
                }
                Step::Announce => match channels.visitor_channel(&mut s).await {
                    Ok(id) => {
                        let args = render::announcement(&event, &id);
                        channels.announce(&mut s, args).await
                    }
                    Err(f) => Err(f),
                },
                Step::Archive => channels.archive(&mut s).await,
            };
            if let Err(fault) = done {
                return failed(c, facts.team_seq, s, fault);
            }
            if i > 0 && i + 1 < total {
                s.progress(c.seq, i as i64 + 1).await;
            }
        }
        Ended {
            verdict: Verdict::Delivered,
            error: None,
            status: s.last_status,
            body: s.log.join("\n"),
        }
    }
}

/// The end of an attempt that met `fault`.
fn failed(c: &Claimed, team_seq: i64, s: Session<'_>, fault: Fault) -> Ended {
    let method = fault.method().to_string();
    let (verdict, error) = match &fault {
        Fault::Limited {
            after,
            called: true,
            ..
        } => (
            Verdict::Wait(*after),
            format!(
                "{method}: rate limited by Slack (429, Retry-After {} s)",
                after.as_secs()
            ),
        ),
        Fault::Limited { after, .. } => (
            Verdict::Wait(*after),
            format!(
                "{method}: not called, Slack limits it for {} ms more",
                after.as_millis()
            ),
        ),
        Fault::Down { why, .. } => (Verdict::Retry, format!("{method}: {why}")),
        Fault::Slack { code, .. } if TOKEN_DEAD.contains(&code.as_str()) => {
            tracing::error!(
                team_seq,
                delivery = %c.id,
                method = %method,
                error = %code,
                "Slack refused the bot token: the delivery failed; connect Slack again with a valid token (PUT /api/v1/slack)"
            );
            let why =
                format!("{method}: {code} (Slack refused the bot token; connect Slack again)");
            (Verdict::Failed, why)
        }
        Fault::Slack { code, .. } if REQUEST_REFUSED.contains(&code.as_str()) => {
            (Verdict::Failed, format!("{method}: {code}"))
        }
        Fault::Slack { code, .. } => (Verdict::Retry, format!("{method}: {code}")),
    };
    let mut body = s.log.join("\n");
    if !s.last_body.is_empty() {
        body.push_str("\n\n");
        body.push_str(&s.last_body);
    }
    Ended {
        verdict,
        error: Some(error),
        status: s.last_status,
        body,
    }
}

/// The first [`KEEP_BYTES`] of `text`, cut on a character.
fn keep(mut text: String) -> String {
    if text.len() > KEEP_BYTES {
        let mut end = KEEP_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}
