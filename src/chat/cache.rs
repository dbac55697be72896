//! A small map with a time to live and a budget in bytes, for facts that rarely change and are
//! read on every request (who a key or token belongs to, which visitor a conversation is of).
//! Each entry is weighed when inserted (an estimate: its strings plus
//! [`ENTRY_OVERHEAD`](crate::memory::ENTRY_OVERHEAD)); past the budget the oldest entries go first,
//! so the map never holds more than its budget whatever the entries' sizes.

use crate::memory::{ENTRY_OVERHEAD, Gauge};
use crate::store::VisitorRecord;
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// An entry's estimated size in bytes, besides [`ENTRY_OVERHEAD`].
pub type Weigh<K, V> = fn(&K, &V) -> usize;

pub struct TtlCache<K, V> {
    inner: Mutex<Inner<K, V>>,
    ttl: Duration,
    budget: usize,
    weigh: Weigh<K, V>,
    gauge: &'static Gauge,
}

struct Inner<K, V> {
    /// Value, insertion time, weight.
    map: HashMap<K, (V, Instant, usize)>,
    /// Keys in insertion order, with their insertion time (a key inserted again leaves a stale
    /// pair behind, skipped and compacted away).
    order: VecDeque<(K, Instant)>,
    bytes: usize,
}

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    /// Entries live `ttl`; together they weigh at most `budget` bytes, reported to `gauge`.
    pub fn new(ttl: Duration, budget: usize, weigh: Weigh<K, V>, gauge: &'static Gauge) -> Self {
        TtlCache {
            inner: Mutex::new(Inner {
                map: HashMap::new(),
                order: VecDeque::new(),
                bytes: 0,
            }),
            ttl,
            budget,
            weigh,
            gauge,
        }
    }

    /// The value, if cached and fresh.
    pub fn get(&self, key: &K) -> Option<V> {
        let inner = self.inner.lock().expect("cache poisoned");
        inner
            .map
            .get(key)
            .filter(|(_, at, _)| at.elapsed() < self.ttl)
            .map(|(v, _, _)| v.clone())
    }

    pub fn insert(&self, key: K, value: V) {
        let weight = (self.weigh)(&key, &value) + ENTRY_OVERHEAD;
        if weight > self.budget {
            return;
        }
        let now = Instant::now();
        let mut inner = self.inner.lock().expect("cache poisoned");
        inner.order.push_back((key.clone(), now));
        if let Some((_, _, old)) = inner.map.insert(key, (value, now, weight)) {
            inner.bytes -= old;
            self.gauge.removed(old, false);
        }
        inner.bytes += weight;
        self.gauge.added(weight);
        while inner.bytes > self.budget {
            let Some((k, at)) = inner.order.pop_front() else {
                break;
            };
            if inner.map.get(&k).is_some_and(|(_, t, _)| *t == at) {
                let (_, _, w) = inner.map.remove(&k).expect("present");
                inner.bytes -= w;
                self.gauge.removed(w, at.elapsed() < self.ttl);
            }
        }
        if inner.order.len() > 2 * inner.map.len() + 64 {
            let Inner { map, order, .. } = &mut *inner;
            order.retain(|(k, at)| map.get(k).is_some_and(|(_, t, _)| t == at));
        }
    }

    /// Forgets the entries `stale` picks (a change made here must show at once).
    pub fn remove_if(&self, stale: impl Fn(&K, &V) -> bool) {
        let mut inner = self.inner.lock().expect("cache poisoned");
        let mut freed = 0;
        inner.map.retain(|k, (v, _, w)| {
            let keep = !stale(k, v);
            if !keep {
                freed += *w;
                self.gauge.removed(*w, false);
            }
            keep
        });
        inner.bytes -= freed;
    }

    /// The bytes the entries weigh together.
    pub fn bytes(&self) -> usize {
        self.inner.lock().expect("cache poisoned").bytes
    }
}

/// A visitor's estimated size: their strings.
pub fn visitor_bytes(v: &VisitorRecord) -> usize {
    let i = &v.identity;
    let identity = [
        &i.name,
        &i.phone,
        &i.email,
        &i.picture,
        &i.user_agent,
        &i.title,
        &i.location,
        &i.ip,
        &i.languages,
    ];
    let strings: usize = identity.iter().map(|s| s.len()).sum();
    v.id.len() + v.name.len() + v.channel_name.len() + strings
}

impl<K, V> Drop for TtlCache<K, V> {
    fn drop(&mut self) {
        let inner = self.inner.get_mut().unwrap_or_else(|e| e.into_inner());
        for (_, _, w) in inner.map.values() {
            self.gauge.removed(*w, false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::TtlCache;
    use crate::memory::{ENTRY_OVERHEAD, Gauge};
    use std::time::Duration;

    static GAUGE: Gauge = Gauge::new("test");

    #[allow(clippy::ptr_arg)] // the cache's weigh function takes its value type
    fn text_len(_: &u32, v: &String) -> usize {
        v.len()
    }

    #[test]
    fn values_expire() {
        let c = TtlCache::new(Duration::from_millis(30), 1 << 20, text_len, &GAUGE);
        c.insert(1, "a".to_string());
        assert_eq!(c.get(&1).as_deref(), Some("a"));
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(c.get(&1), None);
    }

    #[test]
    fn the_bytes_stay_within_the_budget_oldest_out_first() {
        let budget = 10 * (1_000 + ENTRY_OVERHEAD);
        let c = TtlCache::new(Duration::from_secs(60), budget, text_len, &GAUGE);
        for i in 0..100 {
            c.insert(i, "x".repeat(1_000));
            assert!(c.bytes() <= budget, "{} bytes after {i}", c.bytes());
        }
        assert_eq!(c.bytes(), budget, "full, not emptied");
        assert_eq!(c.get(&89), None, "the oldest went");
        assert!(c.get(&90).is_some() && c.get(&99).is_some());
        // A few large entries push out many small ones, never past the budget.
        c.insert(1_000, "y".repeat(5_000));
        assert!(c.bytes() <= budget);
        assert!(c.get(&1_000).is_some());
        // An entry larger than the whole budget is not kept.
        c.insert(2_000, "z".repeat(budget));
        assert_eq!(c.get(&2_000), None);
        // Inserting a key again replaces its weight.
        for _ in 0..1_000 {
            c.insert(99, "x".repeat(1_000));
        }
        assert!(c.bytes() <= budget);
        assert!(c.inner.lock().unwrap().order.len() < 200, "compacted");
    }

    #[test]
    fn picked_entries_are_forgotten() {
        let c = TtlCache::new(Duration::from_secs(60), 1 << 20, text_len, &GAUGE);
        c.insert(1, "1".to_string());
        c.insert(2, "2".to_string());
        c.insert(3, "1".to_string());
        let before = c.bytes();
        c.remove_if(|_, v| v == "1");
        assert_eq!(
            (c.get(&1), c.get(&2).as_deref(), c.get(&3)),
            (None, Some("2"), None)
        );
        assert_eq!(c.bytes(), before - 2 * (1 + ENTRY_OVERHEAD));
    }
}
