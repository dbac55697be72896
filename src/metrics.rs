//! Process counters, exposed at `/metrics` in Prometheus' text format. Plain atomics: counting
//! costs an increment on the hot path, nothing more.

use crate::domain::EventName;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Events committed, by name (in [`EventName::ALL`]'s order).
static EVENTS: [AtomicU64; 6] = [const { AtomicU64::new(0) }; 6];
static ATTEMPTS: AtomicU64 = AtomicU64::new(0);
static DELIVERED: AtomicU64 = AtomicU64::new(0);
static ATTEMPT_FAILURES: AtomicU64 = AtomicU64::new(0);
static FAILED: AtomicU64 = AtomicU64::new(0);
static ATTEMPT_MICROS: AtomicU64 = AtomicU64::new(0);

/// An event was committed (its deliveries are on disk).
pub fn event(name: EventName) {
    let i = EventName::ALL.iter().position(|e| *e == name).unwrap_or(0);
    EVENTS[i].fetch_add(1, Relaxed);
}

/// An attempt ended: delivered, to be retried, or the last one of a failed delivery.
pub fn attempt(ok: bool, gave_up: bool, micros: u64) {
    ATTEMPTS.fetch_add(1, Relaxed);
    ATTEMPT_MICROS.fetch_add(micros, Relaxed);
    if ok {
        DELIVERED.fetch_add(1, Relaxed);
    } else {
        ATTEMPT_FAILURES.fetch_add(1, Relaxed);
    }
    if gave_up {
        FAILED.fetch_add(1, Relaxed);
    }
}

/// The Prometheus text exposition of every counter, plus `pending` deliveries if known.
pub fn render(pending: Option<u64>) -> String {
    let mut out = String::with_capacity(1024);
    out.push_str("# HELP palaver_events_total Events committed, by name.\n# TYPE palaver_events_total counter\n");
    for (e, n) in EventName::ALL.iter().zip(&EVENTS) {
        let _ = writeln!(
            out,
            "palaver_events_total{{event=\"{e}\"}} {}",
            n.load(Relaxed)
        );
    }
    let counters = [
        (
            "palaver_delivery_attempts_total",
            "Webhook attempts made.",
            &ATTEMPTS,
        ),
        (
            "palaver_deliveries_delivered_total",
            "Attempts answered with a 2xx.",
            &DELIVERED,
        ),
        (
            "palaver_delivery_attempt_failures_total",
            "Attempts that failed (any cause).",
            &ATTEMPT_FAILURES,
        ),
        (
            "palaver_deliveries_failed_total",
            "Deliveries that exhausted their retries.",
            &FAILED,
        ),
        (
            "palaver_delivery_attempt_microseconds_total",
            "Time spent in attempts.",
            &ATTEMPT_MICROS,
        ),
    ];
    for (name, help, value) in counters {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
            value.load(Relaxed)
        );
    }
    if let Some(p) = pending {
        let _ = writeln!(
            out,
            "# HELP palaver_deliveries_pending Deliveries not yet delivered or failed.\n# TYPE palaver_deliveries_pending gauge\npalaver_deliveries_pending {p}"
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_in_text_format() {
        event(EventName::MessageAgent);
        attempt(false, true, 1500);
        let text = render(Some(3));
        assert!(text.contains("palaver_events_total{event=\"messageAgent\"} "));
        assert!(text.contains("# TYPE palaver_deliveries_failed_total counter"));
        assert!(text.contains("palaver_deliveries_pending 3\n"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let value = line.rsplit(' ').next().unwrap();
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }
}
