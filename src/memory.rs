//! What the in-memory caches hold, in bytes: each cache keeps an estimate of its entries' sizes
//! (their strings' lengths plus a fixed overhead per entry), evicts past its budget, and reports
//! its total here. Exposed at `/metrics` as `palaver_cache_bytes{cache}`, `palaver_cache_entries`
//! and `palaver_cache_evictions_total`; SECURITY.md lists every cache and its budget.

use crate::metrics::text::{Kind, Text};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Bytes counted per cache entry besides its strings: the map's slot, the key and value's
/// fixed-size parts, the allocator's rounding.
pub const ENTRY_OVERHEAD: usize = 96;

/// One cache's totals (several instances of a kind may share one).
pub struct Gauge {
    name: &'static str,
    bytes: AtomicU64,
    entries: AtomicU64,
    evictions: AtomicU64,
}

impl Gauge {
    pub const fn new(name: &'static str) -> Self {
        Gauge {
            name,
            bytes: AtomicU64::new(0),
            entries: AtomicU64::new(0),
            evictions: AtomicU64::new(0),
        }
    }

    /// An entry of `bytes` came in.
    pub fn added(&self, bytes: usize) {
        self.bytes.fetch_add(bytes as u64, Relaxed);
        self.entries.fetch_add(1, Relaxed);
    }

    /// An entry of `bytes` went (`evicted`: to make room, not because it was stale or changed).
    pub fn removed(&self, bytes: usize, evicted: bool) {
        self.bytes.fetch_sub(bytes as u64, Relaxed);
        self.entries.fetch_sub(1, Relaxed);
        if evicted {
            self.evictions.fetch_add(1, Relaxed);
        }
    }

    /// An entry's size changed from `before` to `after`.
    pub fn resized(&self, before: usize, after: usize) {
        self.bytes.fetch_add(after as u64, Relaxed);
        self.bytes.fetch_sub(before as u64, Relaxed);
    }

    pub fn bytes(&self) -> u64 {
        self.bytes.load(Relaxed)
    }
}

/// Visitors' state for the next command: the visitor, their conversation, its transcript.
pub static CONVERSATIONS: Gauge = Gauge::new("conversations");
/// Who API keys, site keys and visitor tokens belong to.
pub static AUTH: Gauge = Gauge::new("auth");
/// Which visitor and team each conversation id belongs to.
pub static OWNERS: Gauge = Gauge::new("conversation_owners");
/// Slack channel names and people.
pub static SLACK: Gauge = Gauge::new("slack_lookups");
/// Recent events' bodies, for deliveries read back soon.
pub static BODIES: Gauge = Gauge::new("recent_bodies");
/// Webhook URLs parsed and checked.
pub static URLS: Gauge = Gauge::new("webhook_urls");
/// Deliveries handed from commits to the workers, bodies included.
pub static HANDOFF: Gauge = Gauge::new("handoff_queue");

const ALL: [&Gauge; 7] = [
    &CONVERSATIONS,
    &AUTH,
    &OWNERS,
    &SLACK,
    &BODIES,
    &URLS,
    &HANDOFF,
];

/// The caches' gauges and counters, for `/metrics`.
pub fn render(t: &mut Text) {
    let series: [Series; 3] = [
        (
            "palaver_cache_bytes",
            Kind::Gauge,
            "Estimated bytes held by each in-memory cache.",
            |g| g.bytes.load(Relaxed),
        ),
        (
            "palaver_cache_entries",
            Kind::Gauge,
            "Entries held by each in-memory cache.",
            |g| g.entries.load(Relaxed),
        ),
        (
            "palaver_cache_evictions_total",
            Kind::Counter,
            "Entries evicted to keep each cache within its budget.",
            |g| g.evictions.load(Relaxed),
        ),
    ];
    for (name, kind, help, value) in series {
        t.family(name, kind, help);
        for g in ALL {
            t.sample(name, &[("cache", g.name)], value(g) as f64);
        }
    }
}

/// A series: its name, its type, its help text and how to read it from a gauge.
type Series = (&'static str, Kind, &'static str, fn(&Gauge) -> u64);
