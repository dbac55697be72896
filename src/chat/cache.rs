//! A small bounded map with a time to live, for facts that rarely change and are read on every
//! request (who a key or token belongs to, which visitor a conversation is of).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct TtlCache<K, V> {
    map: Mutex<HashMap<K, (V, Instant)>>,
    ttl: Duration,
    capacity: usize,
}

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        TtlCache {
            map: Mutex::new(HashMap::new()),
            ttl,
            capacity,
        }
    }

    /// The value, if cached and fresh.
    pub fn get(&self, key: &K) -> Option<V> {
        let map = self.map.lock().expect("cache poisoned");
        map.get(key)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(v, _)| v.clone())
    }

    pub fn insert(&self, key: K, value: V) {
        let mut map = self.map.lock().expect("cache poisoned");
        if map.len() >= self.capacity {
            let ttl = self.ttl;
            map.retain(|_, (_, at)| at.elapsed() < ttl);
            if map.len() >= self.capacity {
                map.clear();
            }
        }
        map.insert(key, (value, Instant::now()));
    }

    /// Forgets the entries `stale` picks (a change made here must show at once).
    pub fn remove_if(&self, stale: impl Fn(&K, &V) -> bool) {
        let mut map = self.map.lock().expect("cache poisoned");
        map.retain(|k, (v, _)| !stale(k, v));
    }
}

#[cfg(test)]
mod tests {
    use super::TtlCache;
    use std::time::Duration;

    #[test]
    fn values_expire_and_the_map_stays_bounded() {
        let c = TtlCache::new(Duration::from_millis(30), 3);
        c.insert(1, "a");
        assert_eq!(c.get(&1), Some("a"));
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(c.get(&1), None);
        for i in 0..10 {
            c.insert(i, "x");
        }
        assert!(c.map.lock().unwrap().len() <= 3);
        assert_eq!(c.get(&9), Some("x"));
    }

    #[test]
    fn picked_entries_are_forgotten() {
        let c = TtlCache::new(Duration::from_secs(60), 10);
        c.insert("k1", 1);
        c.insert("k2", 2);
        c.insert("k3", 1);
        c.remove_if(|_, v| *v == 1);
        assert_eq!(
            (c.get(&"k1"), c.get(&"k2"), c.get(&"k3")),
            (None, Some(2), None)
        );
    }
}
