//! Endpoint health that heals: what a batch of recorded outcomes does to its endpoints, decided
//! here once for both backends (their SQL applies it in the outcomes' own transaction).
//!
//! - An endpoint whose every attempt failed for [`HealthRules::disable_after`] (5 days by
//!   default) is disabled by Palaver, with the reason and the time, and probed: every
//!   [`HealthRules::probe_interval`] one held delivery (the oldest lane head) is tried. A
//!   success enables it again; its held deliveries then go out in order.
//! - Nothing is discarded because it was down: disabling it queues again (a recovery) its
//!   deliveries that failed for good since the clock started, held in their place in their
//!   lanes; healing then sends every one in order.
//! - Any success resets the clock (`endpoints.failing_since`: the first failed attempt after
//!   the last success).
//! - A failed attempt of a disabled endpoint's delivery (a probe, or one in flight when it was
//!   disabled) spends none of its retries: the delivery is held again, uncounted.
//! - The change is announced in the team's Slack notification channel, when Slack is connected,
//!   by a delivery to the team's Slack endpoint written in the same transaction.

use super::{EndpointKind, NextStep, Outcome};
use crate::domain::Millis;
use std::collections::BTreeMap;
use std::time::Duration;

/// When Palaver disables a failing endpoint, and how often it probes it then.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HealthRules {
    /// Every attempt failing for this long disables the endpoint; zero never does.
    pub disable_after: Duration,
    /// How often a disabled endpoint gets one held delivery tried.
    pub probe_interval: Duration,
}

impl Default for HealthRules {
    fn default() -> Self {
        HealthRules {
            disable_after: Duration::from_secs(5 * 24 * 3600),
            probe_interval: Duration::from_secs(3600),
        }
    }
}

/// An endpoint as the recording of outcomes reads it.
#[derive(Clone, Debug)]
pub struct EndpointState {
    pub seq: i64,
    pub team_seq: i64,
    pub id: String,
    pub url: String,
    pub description: String,
    pub enabled: bool,
    pub failing_since: Option<Millis>,
    /// Set while Palaver disabled it for failing (it is probed).
    pub probe_at: Option<Millis>,
}

/// What one batch of outcomes says of one webhook endpoint.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Attempts {
    pub succeeded: bool,
    /// The first failed attempt after the batch's last success (or the first failed one).
    pub first_failure: Option<Millis>,
    /// The last failed attempt's error.
    pub last_error: Option<String>,
}

/// The webhook endpoints of `outcomes`, each with what its attempts came to.
pub fn attempts_by_endpoint(outcomes: &[Outcome]) -> BTreeMap<i64, Attempts> {
    let mut sorted: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.claimed.kind == EndpointKind::Webhook)
        .collect();
    sorted.sort_by_key(|o| o.attempt.at);
    let mut out: BTreeMap<i64, Attempts> = BTreeMap::new();
    for o in sorted {
        let a = out.entry(o.claimed.endpoint_seq).or_default();
        if o.next == NextStep::Delivered {
            a.succeeded = true;
            a.first_failure = None;
        } else {
            a.first_failure.get_or_insert(o.attempt.at);
            a.last_error = o.attempt.error.clone();
        }
    }
    out
}

/// The endpoints every outcome of the batch belongs to (webhooks or not).
pub fn endpoints_of(outcomes: &[Outcome]) -> Vec<i64> {
    let mut seqs: Vec<i64> = outcomes.iter().map(|o| o.claimed.endpoint_seq).collect();
    seqs.sort_unstable();
    seqs.dedup();
    seqs
}

/// Failed attempts of disabled endpoints' deliveries are held again, uncounted: a probe's
/// failure, or one in flight when its endpoint was disabled, spends none of the delivery's
/// retries. They wait for the next probe (its time shown as the next attempt's) or for their
/// endpoint to be enabled. Answers the held ones, (endpoint, delivery): no longer probes.
pub fn hold_failures(
    outcomes: &mut [Outcome],
    states: &[EndpointState],
    now: Millis,
) -> Vec<(i64, i64)> {
    let mut held = Vec::new();
    for o in outcomes.iter_mut() {
        if o.next == NextStep::Delivered {
            continue;
        }
        let Some(s) = states.iter().find(|s| s.seq == o.claimed.endpoint_seq) else {
            continue;
        };
        if !s.enabled {
            o.next = NextStep::WaitUntil(s.probe_at.unwrap_or(now).max(now));
            held.push((s.seq, o.claimed.seq));
        }
    }
    held
}

/// What the batch changes about one endpoint.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// Its failing clock moves (`None`: reset by a success).
    FailingSince(Option<Millis>),
    /// Every attempt failed for long enough: disabled (and probed), with this reason.
    Disable {
        failing_since: Millis,
        reason: String,
    },
    /// Disabled for failing, it took a delivery: enabled again.
    Enable { failing_since: Option<Millis> },
}

/// What `attempts` changes about the endpoint `state` at `now`, if anything.
pub fn decide(
    state: &EndpointState,
    attempts: &Attempts,
    now: Millis,
    rules: &HealthRules,
) -> Option<Change> {
    if attempts.succeeded {
        if state.probe_at.is_some() {
            return Some(Change::Enable {
                failing_since: attempts.first_failure,
            });
        }
        return (state.failing_since != attempts.first_failure)
            .then_some(Change::FailingSince(attempts.first_failure));
    }
    let since = state.failing_since.or(attempts.first_failure)?;
    let after = rules.disable_after.as_millis() as i64;
    if state.enabled && after > 0 && since.0 <= now.0 - after {
        let last = attempts.last_error.as_deref().unwrap_or("it failed");
        return Some(Change::Disable {
            failing_since: since,
            reason: format!(
                "every delivery failed for {} (failing since {}; the last attempt: {last})",
                in_words(rules.disable_after),
                since.iso()
            ),
        });
    }
    (state.failing_since.is_none()).then_some(Change::FailingSince(Some(since)))
}

/// A duration in words, in its largest whole unit: "5 days", "36 hours", "2 seconds".
pub fn in_words(d: Duration) -> String {
    let ms = d.as_millis() as u64;
    let units = [
        (86_400_000, "day"),
        (3_600_000, "hour"),
        (60_000, "minute"),
        (1000, "second"),
        (1, "millisecond"),
    ];
    for (size, name) in units {
        if ms >= size && ms.is_multiple_of(size) {
            let n = ms / size;
            return format!("{n} {name}{}", if n == 1 { "" } else { "s" });
        }
    }
    "0 seconds".into()
}

/// Where a webhook sends, for people: scheme, host and port only (its path, query or
/// credentials may hold secrets).
pub fn destination(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => match (u.host_str(), u.port()) {
            (Some(host), Some(port)) => format!("{}://{host}:{port}", u.scheme()),
            (Some(host), None) => format!("{}://{host}", u.scheme()),
            _ => u.scheme().to_string(),
        },
        Err(_) => "(an invalid URL)".into(),
    }
}

/// The body of the event that announces a change of endpoint `e` in Slack (see
/// `slack::outbound::notice`): `endpointDisabled` or `endpointEnabled`.
pub fn notice_body(
    name: &str,
    e: &EndpointState,
    reason: Option<&str>,
    now: Millis,
    rules: &HealthRules,
) -> String {
    let event = serde_json::json!([{
        "event": name,
        "createdAt": now.iso(),
        "endpoint": {
            "id": e.id,
            "destination": destination(&e.url),
            "description": e.description,
            "reason": reason,
            "probeEvery": in_words(rules.probe_interval),
        },
    }]);
    event.to_string()
}

#[cfg(test)]
mod tests;
