//! What an operator watches, at `/metrics` in Prometheus' text format. Counters and histograms
//! live in the process as atomics: counting costs an increment on the hot path, nothing more.
//! The backlog (pending and failed deliveries, how late the oldest is) is the store's, read at
//! scrape time and handed to [`render`].

mod endpoints;
mod histogram;
mod process;
pub mod text;

pub use endpoints::{Outcome, set_timeout as set_delivery_timeout};

use crate::domain::EventName;
use histogram::Histogram;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{LazyLock, Mutex};
use std::time::Duration;
use text::{Kind, Text};

/// Events committed, by name (in [`EventName::ALL`]'s order).
static EVENTS: [AtomicU64; 6] = [const { AtomicU64::new(0) }; 6];
/// Jobs per durable commit.
static COMMIT_GROUP: LazyLock<Histogram> =
    LazyLock::new(|| Histogram::new(&[1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024], 1.0));
/// Flushes of durable commits, in microseconds: 100 µs to 1 s.
static FLUSH: LazyLock<Histogram> = LazyLock::new(|| {
    Histogram::new(
        &[
            100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
            1_000_000,
        ],
        1e6,
    )
});

/// An event was committed (its deliveries are on disk).
pub fn event(name: EventName) {
    let i = EventName::ALL.iter().position(|e| *e == name).unwrap_or(0);
    EVENTS[i].fetch_add(1, Relaxed);
}

/// An attempt at a delivery of endpoint `endpoint_seq` ended this way (each delivery of a
/// batch counts).
pub fn delivery(endpoint_seq: i64, outcome: Outcome) {
    endpoints::outcome(endpoint_seq, outcome);
}

/// An attempt (one request, or one call of a courier) took this long.
pub fn attempt_took(endpoint_seq: i64, took: Duration) {
    endpoints::attempt_took(endpoint_seq, took);
}

/// A durable commit: `jobs` writes shared it.
pub fn commit_group(jobs: usize) {
    COMMIT_GROUP.observe(jobs as u64);
}

/// A durable commit's flush took this long.
pub fn flushed(took: Duration) {
    FLUSH.observe(took.as_micros() as u64);
}

/// What the store says at scrape time.
#[derive(Clone, Debug, Default)]
pub struct Backlog {
    pub endpoints: Vec<EndpointBacklog>,
    /// How late the most overdue delivery is (due, of an enabled endpoint, and not being
    /// sent); zero when none is due.
    pub oldest_due: Duration,
}

/// One endpoint, as the store says.
#[derive(Clone, Debug)]
pub struct EndpointBacklog {
    pub seq: i64,
    /// Its public id: the `endpoint` label.
    pub id: String,
    pub kind: &'static str,
    pub enabled: bool,
    /// Deliveries not yet delivered nor failed.
    pub pending: u64,
    /// Failed deliveries not yet purged.
    pub failed: u64,
    /// Since the oldest pending delivery was created; zero when none is.
    pub oldest_pending: Duration,
}

/// The endpoints of the last reading, to label the counters when the store does not answer.
static LAST_ENDPOINTS: LazyLock<Mutex<Vec<EndpointBacklog>>> = LazyLock::new(Default::default);

/// The exposition: the process's counters, and the store's reading if it answered (`None`:
/// the store is not ready).
pub fn render(backlog: Option<&Backlog>) -> String {
    let mut t = Text::default();
    t.family(
        "palaver_ready",
        Kind::Gauge,
        "1 while the store answers (as /readyz), else 0.",
    );
    t.sample("palaver_ready", &[], backlog.is_some() as u8 as f64);
    t.family(
        "palaver_build_info",
        Kind::Gauge,
        "The running version, as a label; always 1.",
    );
    t.sample(
        "palaver_build_info",
        &[("version", env!("CARGO_PKG_VERSION"))],
        1.0,
    );
    t.family(
        "palaver_events_total",
        Kind::Counter,
        "Events committed (their deliveries queued), by name.",
    );
    for (e, n) in EventName::ALL.iter().zip(&EVENTS) {
        t.sample(
            "palaver_events_total",
            &[("event", e.as_str())],
            n.load(Relaxed) as f64,
        );
    }
    let endpoints = match backlog {
        Some(b) => {
            *LAST_ENDPOINTS.lock().expect("metrics lock poisoned") = b.endpoints.clone();
            b.endpoints.clone()
        }
        None => LAST_ENDPOINTS
            .lock()
            .expect("metrics lock poisoned")
            .clone(),
    };
    render_endpoints(&mut t, &endpoints, backlog.is_some());
    if let Some(b) = backlog {
        t.family(
            "palaver_oldest_due_delivery_age_seconds",
            Kind::Gauge,
            "How late the most overdue delivery is: due, its endpoint enabled, not being sent. \
             Grows when deliveries fall behind; 0 when none waits.",
        );
        t.sample(
            "palaver_oldest_due_delivery_age_seconds",
            &[],
            b.oldest_due.as_secs_f64(),
        );
    }
    t.family(
        "palaver_store_commit_group_size",
        Kind::Histogram,
        "Writes that shared one durable commit (group commit).",
    );
    COMMIT_GROUP.render(&mut t, "palaver_store_commit_group_size", &[]);
    t.family(
        "palaver_store_flush_duration_seconds",
        Kind::Histogram,
        "Time to make one durable commit durable (SQLite: the write-ahead log's flush; \
         PostgreSQL: the COMMIT).",
    );
    FLUSH.render(&mut t, "palaver_store_flush_duration_seconds", &[]);
    crate::memory::render(&mut t);
    process::render(&mut t);
    t.finish()
}

/// The per-endpoint families; the backlog's gauges only with a fresh reading.
fn render_endpoints(t: &mut Text, list: &[EndpointBacklog], fresh: bool) {
    let live: Vec<i64> = list.iter().map(|e| e.seq).collect();
    let by_seq: HashMap<i64, &EndpointBacklog> = list.iter().map(|e| (e.seq, e)).collect();
    let mut outcomes = Text::default();
    let mut durations = Text::default();
    outcomes.family(
        "palaver_delivery_attempts_total",
        Kind::Counter,
        "Attempts at deliveries by endpoint and outcome: delivered, retried (failed, tried \
         again later) or failed (failed for good). A batch's request counts once per delivery.",
    );
    durations.family(
        "palaver_delivery_attempt_duration_seconds",
        Kind::Histogram,
        "Time from sending an attempt to its answer (or its timeout), by endpoint.",
    );
    endpoints::each(&live, |seq, m| {
        let e = by_seq[&seq];
        let labels = [("endpoint", e.id.as_str()), ("kind", e.kind)];
        for o in Outcome::ALL {
            outcomes.sample(
                "palaver_delivery_attempts_total",
                &[labels[0], labels[1], ("outcome", o.as_str())],
                m.outcomes(o) as f64,
            );
        }
        m.duration.render(
            &mut durations,
            "palaver_delivery_attempt_duration_seconds",
            &labels,
        );
    });
    t.append(outcomes);
    t.append(durations);
    if !fresh {
        return;
    }
    type Gauge = (&'static str, &'static str, fn(&EndpointBacklog) -> f64);
    let gauges: [Gauge; 4] = [
        (
            "palaver_deliveries_pending",
            "Deliveries not yet delivered nor failed, by endpoint.",
            |e| e.pending as f64,
        ),
        (
            "palaver_deliveries_failed",
            "Failed deliveries of the endpoint not yet purged by --retention (to redeliver or recover).",
            |e| e.failed as f64,
        ),
        (
            "palaver_oldest_pending_delivery_age_seconds",
            "Age of the endpoint's oldest pending delivery (from its event); 0 when none is.",
            |e| e.oldest_pending.as_secs_f64(),
        ),
        (
            "palaver_endpoint_enabled",
            "1 while the endpoint is enabled, 0 once disabled (nothing is sent to it).",
            |e| e.enabled as u8 as f64,
        ),
    ];
    for (name, help, value) in gauges {
        t.family(name, Kind::Gauge, help);
        for e in list {
            t.sample(name, &[("endpoint", &e.id), ("kind", e.kind)], value(e));
        }
    }
}

#[cfg(test)]
mod tests;
