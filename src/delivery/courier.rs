//! Deliveries that are not webhook requests. An endpoint of another kind (the Slack bridge's)
//! turns each of its claimed deliveries into calls of its own; the workers route such a claim to
//! the kind's [`Courier`] instead of POSTing it, and record what it answers like any attempt:
//! the same lanes, leases, retry schedule and attempt log as webhooks.

use super::{DeliveryConfig, RetrySchedule};
use crate::domain::Millis;
use crate::store::{AttemptRecord, Claimed, EndpointKind, NextStep, Outcome};
use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

/// Sends the deliveries of one endpoint kind.
#[async_trait]
pub trait Courier: Send + Sync {
    /// One attempt at `c`, within `budget` (the delivery timeout: the lease covers no more).
    async fn attempt(&self, c: &Claimed, budget: Duration) -> Attempted;
}

/// What an attempt came to, and what it says about the next one.
#[derive(Clone, Debug)]
pub struct Attempted {
    pub record: AttemptRecord,
    pub verdict: Verdict,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Delivered,
    /// Failed this time: tried again on the retry schedule, as a webhook is.
    Retry,
    /// Not to be tried again for this long (the destination's rate limit): the attempt does
    /// not count against the retry schedule (up to [`UNCOUNTED_WAITS`] attempts).
    Wait(Duration),
    /// Failed for good: no retry can succeed.
    Failed,
}

/// Past this many attempts of one delivery, waits count against the retry schedule too, so that
/// a destination that never stops limiting cannot keep a delivery pending for ever.
pub const UNCOUNTED_WAITS: i64 = 60;

/// The couriers of the endpoint kinds that are not webhooks.
#[derive(Clone, Default)]
pub struct Couriers {
    pub slack: Option<Arc<dyn Courier>>,
}

impl Couriers {
    /// Sends each of `claims` (deliveries of kinds other than webhooks are never batched: one
    /// at a time) within the delivery timeout; answers their outcomes.
    pub async fn send_each(&self, claims: Vec<Claimed>, config: &DeliveryConfig) -> Vec<Outcome> {
        let mut outcomes = Vec::with_capacity(claims.len());
        for c in claims {
            outcomes.push(self.send(c, &config.schedule, config.timeout).await);
        }
        outcomes
    }

    /// Sends `c` with its kind's courier; one without a courier waits (a minute, uncounted)
    /// for a process that has one.
    async fn send(&self, c: Claimed, schedule: &RetrySchedule, budget: Duration) -> Outcome {
        let courier = match c.kind {
            EndpointKind::Slack => self.slack.as_ref(),
            EndpointKind::Webhook => None,
        };
        let attempted = match courier {
            Some(courier) => {
                let started = std::time::Instant::now();
                let attempted = courier.attempt(&c, budget).await;
                crate::metrics::attempt_took(c.endpoint_seq, started.elapsed());
                attempted
            }
            None => Attempted {
                record: AttemptRecord {
                    n: c.attempt,
                    at: Millis::now(),
                    status_code: None,
                    duration_ms: 0,
                    error: Some(format!(
                        "not sent: this process cannot send {} deliveries",
                        c.kind.as_str()
                    )),
                    response_body: String::new(),
                },
                verdict: Verdict::Wait(Duration::from_secs(60)),
            },
        };
        let next = next_step(attempted.verdict, &c, schedule);
        let error = attempted.record.error.as_deref().unwrap_or("");
        match next {
            NextStep::Delivered => {
                tracing::debug!(delivery = %c.id, attempt = c.attempt, kind = c.kind.as_str(), "delivered")
            }
            _ => {
                tracing::info!(delivery = %c.id, attempt = c.attempt, kind = c.kind.as_str(), error, ?next, "attempt failed")
            }
        }
        Outcome {
            claimed: Claimed {
                body: String::new(),
                ..c
            },
            attempt: attempted.record,
            next,
        }
    }
}

/// The step after an attempt of `c` whose verdict is `verdict`.
fn next_step(verdict: Verdict, c: &Claimed, schedule: &RetrySchedule) -> NextStep {
    let after = |d: Duration| Millis::now().plus_ms(d.as_millis() as i64);
    let scheduled = || schedule.delay_after(c.tries);
    match verdict {
        Verdict::Delivered => NextStep::Delivered,
        Verdict::Failed => NextStep::Failed,
        Verdict::Retry => scheduled().map_or(NextStep::Failed, |d| NextStep::RetryAt(after(d))),
        Verdict::Wait(d) if c.attempt <= UNCOUNTED_WAITS => NextStep::WaitUntil(after(d)),
        Verdict::Wait(d) => {
            scheduled().map_or(NextStep::Failed, |s| NextStep::RetryAt(after(s.max(d))))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claimed(attempt: i64, tries: i64) -> Claimed {
        Claimed {
            seq: 1,
            id: "msg_1".into(),
            endpoint_seq: 1,
            kind: EndpointKind::Slack,
            lane: "v".into(),
            attempt,
            tries,
            lease_until: Millis(0),
            url: "slack:T1".into(),
            secrets: vec![],
            body: String::new(),
            batch_size: 1,
            limits: Default::default(),
            batch_id: None,
            unsendable: None,
        }
    }

    #[test]
    fn waits_are_uncounted_until_there_were_too_many() {
        let schedule = RetrySchedule::parse("10s").unwrap();
        let wait = Verdict::Wait(Duration::from_secs(30));
        assert!(matches!(
            next_step(wait, &claimed(3, 3), &schedule),
            NextStep::WaitUntil(_)
        ));
        match next_step(wait, &claimed(UNCOUNTED_WAITS + 1, 1), &schedule) {
            NextStep::RetryAt(at) => assert!(at.0 >= Millis::now().0 + 29_000, "the longer"),
            other => panic!("{other:?}"),
        }
        let spent = claimed(UNCOUNTED_WAITS + 1, 2);
        assert_eq!(next_step(wait, &spent, &schedule), NextStep::Failed);
        assert_eq!(
            next_step(Verdict::Retry, &claimed(1, 2), &schedule),
            NextStep::Failed
        );
        assert!(matches!(
            next_step(Verdict::Retry, &claimed(1, 1), &schedule),
            NextStep::RetryAt(_)
        ));
    }
}
