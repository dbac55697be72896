//! The inbox worker: claims queued events (the oldest of each channel, under a lease), acts on
//! up to [`MAX_IN_FLIGHT`] at once, and settles each: done events leave the inbox, failed ones
//! (Slack down or rate limited, the store busy) are tried again later. Woken by the receiver;
//! otherwise it sleeps until the next retry is due, polling only as a safety net (another
//! process's lease running out).

use super::Failure;
use super::act::Actor;
use crate::domain::Millis;
use crate::store::{InboxEvent, Store};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

/// How long a claimed event is this process's: longer than acting on it can take (two Slack
/// calls at most, 15 s each, and a commit).
const LEASE: Duration = Duration::from_secs(120);
const MAX_IN_FLIGHT: usize = 8;
/// The safety net's period.
const POLL: Duration = Duration::from_secs(30);
/// Waits between attempts; the last one repeats.
const BACKOFF_SECS: &[i64] = &[1, 2, 5, 10, 30, 60];
/// Attempts before an event is given up: about a day of Slack failing.
const MAX_ATTEMPTS: i64 = 1500;

/// How long to wait after the `attempts`-th attempt failed, at least `after` (Slack's
/// `Retry-After`).
pub fn backoff(attempts: i64, after: Option<Duration>) -> Duration {
    let i = usize::try_from(attempts.max(1) - 1).unwrap_or(usize::MAX);
    let secs = BACKOFF_SECS[i.min(BACKOFF_SECS.len() - 1)];
    Duration::from_secs(secs as u64).max(after.unwrap_or_default())
}

/// Runs until `stop` turns true, then lets the events in hand finish.
pub async fn run(
    store: Arc<dyn Store>,
    actor: Arc<Actor>,
    wake: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    match store.release_slack_leases().await {
        Ok(0) => {}
        Ok(n) => tracing::info!(events = n, "resuming Slack events of the previous run"),
        Err(e) => tracing::warn!(error = %e, "could not release the Slack inbox's leases"),
    }
    let mut tasks = JoinSet::new();
    while !*stop.borrow() {
        let room = MAX_IN_FLIGHT - tasks.len();
        let now = Millis::now();
        let mut next = now.plus_ms(POLL.as_millis() as i64);
        if room > 0 {
            let lease_until = now.plus_ms(LEASE.as_millis() as i64);
            match store
                .claim_slack_events(now, lease_until, room as u32)
                .await
            {
                Ok(claim) => {
                    for e in claim.events {
                        tasks.spawn(settle(store.clone(), actor.clone(), e));
                    }
                    next = claim.next_due.map_or(next, |due| due.min(next));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "claiming Slack events failed");
                    next = now.plus_ms(1000);
                }
            }
        }
        let wait = Duration::from_millis((next.0 - Millis::now().0).max(0) as u64);
        tokio::select! {
            _ = wake.notified() => {}
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => {}
        }
    }
    while tasks.join_next().await.is_some() {}
}

/// Acts on `e` and records what became of it.
async fn settle(store: Arc<dyn Store>, actor: Arc<Actor>, e: InboxEvent) {
    let outcome = actor.act(&e).await;
    let recorded = match outcome {
        Ok(()) => store.finish_slack_event(e.seq, e.attempts).await,
        Err(Failure::Drop(why)) => {
            tracing::warn!(event = %e.event_id, error = %why, "Slack event dropped");
            store.finish_slack_event(e.seq, e.attempts).await
        }
        Err(Failure::Retry { why, .. }) if e.attempts >= MAX_ATTEMPTS => {
            tracing::error!(event = %e.event_id, attempts = e.attempts, error = %why,
                "Slack event given up after a day of failures");
            store.finish_slack_event(e.seq, e.attempts).await
        }
        Err(Failure::Retry { why, after }) => {
            let wait = backoff(e.attempts, after);
            tracing::warn!(event = %e.event_id, attempts = e.attempts, error = %why,
                retry_in_s = wait.as_secs(), "Slack event not acted on yet; will retry");
            let at = Millis::now().plus_ms(wait.as_millis() as i64);
            store.retry_slack_event(e.seq, e.attempts, at, &why).await
        }
    };
    if let Err(err) = recorded {
        // The lease runs out and the event is acted on again, which changes nothing.
        tracing::warn!(event = %e.event_id, error = %err, "could not record a Slack event's outcome");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_a_minute_and_honour_retry_after() {
        let secs = |n, after: Option<u64>| backoff(n, after.map(Duration::from_secs)).as_secs();
        assert_eq!(
            [1, 2, 3, 4, 5, 6, 7, 500].map(|n| secs(n, None)),
            [1, 2, 5, 10, 30, 60, 60, 60]
        );
        assert_eq!(secs(1, Some(7)), 7);
        assert_eq!(secs(6, Some(7)), 60);
        assert_eq!(secs(0, None), 1);
    }
}
