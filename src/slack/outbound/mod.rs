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
//!   can never take: the delivery fails at once, with the reason and a log line ([`ending`]);
//! - the announcement or the archive refused (a notification channel that is not there,
//!   archiving forbidden): the delivery goes through without it, its record says what was left
//!   undone, so that the visitor's later events are not held back for it.
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
mod ending;
pub mod endpoint;
mod event;
pub mod limits;
mod lookup;
mod notice;
mod plan;
mod render;
mod session;

use crate::delivery::{Attempted, Courier, Verdict};
use crate::domain::Millis;
use crate::slack::{BotToken, SlackClient};
use crate::store::{AttemptRecord, Claimed, Store};
use async_trait::async_trait;
use channels::Channels;
use ending::{Ended, failed, keep, token_dead};
use plan::{Plan, Step};
use session::{Fault, Session};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a delivery of a disconnected team waits before it is looked at again.
const NOT_CONNECTED_WAIT: Duration = Duration::from_secs(60);
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
        let mut undone = Vec::new();
        for (i, step) in steps.into_iter().enumerate() {
            let posted_before = (i as i64) < facts.steps_done && step != Step::Channel;
            if posted_before {
                s.log
                    .push(format!("step {}: done by an earlier attempt", i + 1));
                continue;
            }
            let secondary = matches!(step, Step::Announce | Step::Archive);
            let step_is_archive = step == Step::Archive;
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
                Step::Notice { args } => channels.announce(&mut s, args).await,
            };
            match done {
                Ok(()) => {}
                // The announcement and the archive are not worth holding the visitor's later
                // events back for (a notification channel misnamed, archiving forbidden): the
                // delivery goes through, what was left undone said in its record.
                Err(Fault::Slack { method, code }) if secondary && !token_dead(&code) => {
                    let what = if step_is_archive {
                        "the archive"
                    } else {
                        "the announcement"
                    };
                    tracing::warn!(delivery = %c.id, method = %method, error = %code, "Slack refused {what}; the delivery goes on without it");
                    undone.push(format!("{what} failed ({method}: {code})"));
                }
                Err(fault) => return failed(c, facts.team_seq, s, fault),
            }
            if i > 0 && i + 1 < total {
                s.progress(c.seq, i as i64 + 1).await;
            }
        }
        Ended {
            verdict: Verdict::Delivered,
            error: (!undone.is_empty()).then(|| format!("delivered, but {}", undone.join("; "))),
            status: s.last_status,
            body: s.log.join("\n"),
        }
    }
}
