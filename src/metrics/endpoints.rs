//! Per-endpoint counters and attempt durations, keyed by the endpoint's internal seq; the
//! exposition names endpoints by their public id, read from the store at scrape time. A deleted
//! endpoint's series go with it.

use super::histogram::Histogram;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{LazyLock, OnceLock, RwLock};
use std::time::Duration;

/// What an attempt meant for its delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// Failed this time; tried again later.
    Retried,
    /// Failed for good: no more attempts.
    Failed,
}

impl Outcome {
    pub const ALL: [Outcome; 3] = [Outcome::Delivered, Outcome::Retried, Outcome::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::Retried => "retried",
            Outcome::Failed => "failed",
        }
    }
}

/// One endpoint's figures.
pub struct EndpointMetrics {
    outcomes: [AtomicU64; 3],
    /// Attempt durations in microseconds.
    pub duration: Histogram,
}

impl EndpointMetrics {
    fn new() -> Self {
        EndpointMetrics {
            outcomes: Default::default(),
            duration: Histogram::new(attempt_bounds(), 1e6),
        }
    }

    pub fn outcomes(&self, outcome: Outcome) -> u64 {
        self.outcomes[outcome as usize].load(Relaxed)
    }
}

static ENDPOINTS: LazyLock<RwLock<HashMap<i64, EndpointMetrics>>> = LazyLock::new(Default::default);

/// The attempt-duration buckets, in microseconds: 1 ms to 10 s, then the delivery timeout.
static ATTEMPT_BOUNDS: OnceLock<Vec<u64>> = OnceLock::new();

const STEPS_MS: [u64; 13] = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000];

/// Sets the last attempt-duration bucket to the delivery timeout (before any attempt; later
/// calls change nothing). An attempt that timed out lands just above it.
pub fn set_timeout(timeout: Duration) {
    let _ = ATTEMPT_BOUNDS.set(bounds_up_to(timeout));
}

fn bounds_up_to(timeout: Duration) -> Vec<u64> {
    let top = (timeout.as_micros() as u64).max(1_000);
    let mut bounds: Vec<u64> = STEPS_MS
        .iter()
        .map(|ms| ms * 1000)
        .filter(|&b| b < top)
        .collect();
    bounds.push(top);
    bounds
}

fn attempt_bounds() -> &'static [u64] {
    ATTEMPT_BOUNDS.get_or_init(|| bounds_up_to(Duration::from_secs(15)))
}

/// Runs `f` on the endpoint's figures, made on first use. The common case takes a read lock.
fn with(endpoint_seq: i64, f: impl FnOnce(&EndpointMetrics)) {
    {
        let map = ENDPOINTS.read().expect("metrics lock poisoned");
        if let Some(m) = map.get(&endpoint_seq) {
            return f(m);
        }
    }
    let mut map = ENDPOINTS.write().expect("metrics lock poisoned");
    f(map.entry(endpoint_seq).or_insert_with(EndpointMetrics::new));
}

pub fn outcome(endpoint_seq: i64, outcome: Outcome) {
    with(endpoint_seq, |m| {
        m.outcomes[outcome as usize].fetch_add(1, Relaxed);
    });
}

pub fn attempt_took(endpoint_seq: i64, took: Duration) {
    with(endpoint_seq, |m| {
        m.duration.observe(took.as_micros() as u64)
    });
}

/// Forgets the endpoints not in `live` (deleted ones), then runs `f` on each endpoint's
/// figures (zeros for one without any yet).
pub fn each(live: &[i64], mut f: impl FnMut(i64, &EndpointMetrics)) {
    {
        let mut map = ENDPOINTS.write().expect("metrics lock poisoned");
        map.retain(|seq, _| live.contains(seq));
        for seq in live {
            map.entry(*seq).or_insert_with(EndpointMetrics::new);
        }
    }
    let map = ENDPOINTS.read().expect("metrics lock poisoned");
    for seq in live {
        if let Some(m) = map.get(seq) {
            f(*seq, m);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timeout_is_the_last_bucket() {
        let b = bounds_up_to(Duration::from_secs(3));
        assert_eq!(b.first(), Some(&1_000));
        assert_eq!(b[b.len() - 2..], [2_500_000, 3_000_000]);
        assert!(b.windows(2).all(|w| w[0] < w[1]));
        let b = bounds_up_to(Duration::from_secs(30));
        assert_eq!(b[b.len() - 2..], [10_000_000, 30_000_000]);
    }
}
