//! One webhook request (a delivery alone or a batch) and what its answer leads to: the next step
//! of each member, and what the answer tells the endpoint's [`Pace`].

use super::client::Http;
use super::courier::UNCOUNTED_WAITS;
use super::pace::{Pace, Request};
use super::send::{self, Answer};
use super::{DeliveryConfig, RetrySchedule, batch};
use crate::domain::{Millis, new_id};
use crate::store::{AttemptRecord, Claimed, NextStep, Outcome, PARKED, Store};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// What a request needs besides its members.
pub struct Context<'a> {
    pub store: &'a dyn Store,
    pub http: &'a Http,
    pub config: &'a DeliveryConfig,
    pub pace: &'a Mutex<Pace>,
    /// Wakes the dispatcher when the pace has work for it.
    pub wake: &'a Notify,
}

/// One request: a delivery alone, a batch sent before (`batch_id`), or a new batch of a
/// batching endpoint's deliveries (made durable first). Answers every member's outcome.
pub async fn send(cx: &Context<'_>, r: Request) -> Vec<Outcome> {
    let Request {
        batch_id,
        mut members,
    } = r;
    if batch_id.is_none() && members.len() == 1 {
        let c = members.pop().expect("one member");
        return vec![attempt(cx, c).await];
    }
    let batch_id = match batch_id {
        Some(id) => id,
        None => {
            let id = new_id("msg_");
            let pairs: Vec<(i64, i64)> = members.iter().map(|c| (c.seq, c.attempt)).collect();
            match cx.store.form_batch(&id, &pairs).await {
                Ok(joined) => members.retain(|c| joined.contains(&c.seq)),
                Err(e) => {
                    // Nothing sent: the leases run out and the deliveries are claimed again.
                    tracing::error!(error = %e, "forming a batch failed");
                    return Vec::new();
                }
            }
            if members.is_empty() {
                return Vec::new();
            }
            id
        }
    };
    let request = Claimed {
        id: batch_id,
        body: batch::join_bodies(&members),
        tries: members.iter().map(|c| c.tries).max().unwrap_or(1),
        ..members[0].clone()
    };
    let sent = attempt(cx, request).await;
    members
        .into_iter()
        .enumerate()
        .map(|(i, member)| {
            let next = match sent.next {
                // The leader carries the batch's schedule; the others wait parked behind it.
                NextStep::RetryAt(_) if i > 0 => NextStep::RetryAt(PARKED),
                NextStep::WaitUntil(_) if i > 0 => NextStep::WaitUntil(PARKED),
                next => next,
            };
            let mut attempt = sent.attempt.clone();
            attempt.n = member.attempt;
            Outcome {
                claimed: Claimed {
                    body: String::new(),
                    ..member
                },
                attempt,
                next,
            }
        })
        .collect()
}

/// The outcomes of a request handed back unsent, due at `at` (see [`NextStep::Deferred`]): a
/// batch's members other than its leader stay parked behind it.
pub fn deferred(r: Request, at: Millis) -> Vec<Outcome> {
    let parked = r.batch_id.is_some();
    r.members
        .into_iter()
        .enumerate()
        .map(|(i, c)| Outcome {
            attempt: AttemptRecord {
                n: c.attempt,
                at: Millis::now(),
                status_code: None,
                duration_ms: 0,
                error: None,
                response_body: String::new(),
            },
            next: NextStep::Deferred(if parked && i > 0 { PARKED } else { at }),
            claimed: Claimed {
                body: String::new(),
                ..c
            },
        })
        .collect()
}

/// The failed outcome of a delivery that cannot be sent ([`Claimed::unsendable`]): recorded as
/// an attempt that sent nothing, with the reason.
pub fn not_sent(c: Claimed) -> Outcome {
    let reason = c.unsendable.clone().unwrap_or_default();
    tracing::error!(delivery = %c.id, attempt = c.attempt, "{reason}: the delivery fails unsent");
    Outcome {
        attempt: AttemptRecord {
            n: c.attempt,
            at: Millis::now(),
            status_code: None,
            duration_ms: 0,
            error: Some(format!("not sent: {reason}")),
            response_body: String::new(),
        },
        next: NextStep::Failed,
        claimed: c,
    }
}

/// One attempt and what follows from it.
async fn attempt(cx: &Context<'_>, mut c: Claimed) -> Outcome {
    let started = Instant::now();
    let (record, answer) = send::attempt(cx.http, &mut c, cx.config.timeout).await;
    let answered = cx.pace.lock().expect("pace lock").answered(
        c.endpoint_seq,
        answer,
        started.elapsed(),
        Instant::now(),
    );
    if answered.wake {
        cx.wake.notify_one();
    }
    if answer == Answer::Gone {
        gone(cx, &c, record.at).await;
    }
    let next = next_step(answer, answered.pause, &c, &cx.config.schedule);
    match next {
        NextStep::Delivered => tracing::debug!(delivery = %c.id, attempt = c.attempt, "delivered"),
        _ => {
            tracing::info!(delivery = %c.id, attempt = c.attempt, error = record.error.as_deref().unwrap_or(""), ?next, "attempt failed")
        }
    }
    Outcome {
        claimed: c,
        attempt: record,
        next,
    }
}

/// A `410 Gone`: the endpoint is disabled at once, with the reason; its deliveries are held
/// until someone enables it again.
async fn gone(cx: &Context<'_>, c: &Claimed, at: Millis) {
    let reason = format!("the receiver answered 410 Gone at {}", at.iso());
    match cx.store.disable_endpoint(c.endpoint_seq, &reason, at).await {
        Ok(true) => {
            tracing::warn!(endpoint = c.endpoint_seq, delivery = %c.id, "{reason}: the webhook is disabled")
        }
        Ok(false) => {}
        // Its attempt still waits (uncounted); the next 410 tries again.
        Err(e) => {
            tracing::error!(endpoint = c.endpoint_seq, error = %e, "disabling a webhook after a 410 failed")
        }
    }
}

/// The step after an attempt of `c` that got `answer`, its endpoint now paused for `pause`.
///
/// - a `2xx` is delivered;
/// - a `410` waits, uncounted: its endpoint is disabled, and its deliveries wait for it;
/// - a `429`, or any slow-down answer with a `Retry-After`, waits out the pause without
///   counting against the retry schedule (up to [`UNCOUNTED_WAITS`] attempts, then it counts);
/// - a `502`, `503` or `504` without one is a failure, retried on schedule but not before the
///   pause ends;
/// - a timeout is a failure retried [`super::schedule::TIMEOUT_FACTOR`] times later than the schedule says (up
///   to the schedule's longest delay): a receiver that hangs is likely overloaded;
/// - anything else is a failure retried on schedule.
pub fn next_step(
    answer: Answer,
    pause: Option<Duration>,
    c: &Claimed,
    schedule: &RetrySchedule,
) -> NextStep {
    let after = |d: Duration| Millis::now().plus_ms(d.as_millis() as i64);
    let pause = pause.unwrap_or_default();
    let retry = |delay: Option<Duration>| match delay {
        Some(d) => NextStep::RetryAt(after(d.max(pause))),
        None => NextStep::Failed,
    };
    match answer {
        Answer::Delivered => NextStep::Delivered,
        Answer::Gone => NextStep::WaitUntil(after(pause)),
        Answer::SlowDown {
            status,
            retry_after,
        } if (status == 429 || retry_after.is_some()) && c.attempt <= UNCOUNTED_WAITS => {
            NextStep::WaitUntil(after(pause))
        }
        Answer::SlowDown { .. } | Answer::Failed => retry(schedule.delay_after(c.tries)),
        Answer::TimedOut => retry(schedule.delay_after_timeout(c.tries)),
    }
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
