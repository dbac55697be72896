//! Failed sign-ins slow down per client address: after [`FREE`] failures within [`WINDOW`], each
//! further attempt must wait twice as long as the last (from 2 s up to 15 min). Kept in memory,
//! per process, for at most [`MAX_ADDRESSES`] addresses (the oldest forgotten first).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed before waits begin.
const FREE: u32 = 5;
/// Failures older than this are forgotten.
const WINDOW: Duration = Duration::from_secs(15 * 60);
/// The longest wait.
const MAX_WAIT: Duration = Duration::from_secs(15 * 60);
const MAX_ADDRESSES: usize = 10_000;

#[derive(Clone, Copy)]
struct Record {
    failures: u32,
    last: Instant,
}

#[derive(Default)]
pub struct Throttle {
    by_address: Mutex<HashMap<IpAddr, Record>>,
}

impl Throttle {
    /// How long `ip` must still wait before its next attempt, if at all.
    pub fn wait(&self, ip: IpAddr, now: Instant) -> Option<Duration> {
        let map = self.by_address.lock().unwrap_or_else(|e| e.into_inner());
        let r = map.get(&ip)?;
        if now.duration_since(r.last) >= WINDOW || r.failures < FREE {
            return None;
        }
        let wait = Duration::from_secs(2u64.saturating_pow(r.failures - FREE + 1)).min(MAX_WAIT);
        wait.checked_sub(now.duration_since(r.last))
            .filter(|d| !d.is_zero())
    }

    pub fn failed(&self, ip: IpAddr, now: Instant) {
        let mut map = self.by_address.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_ADDRESSES && !map.contains_key(&ip) {
            map.retain(|_, r| now.duration_since(r.last) < WINDOW);
            if map.len() >= MAX_ADDRESSES
                && let Some(oldest) = map.iter().min_by_key(|(_, r)| r.last).map(|(ip, _)| *ip)
            {
                map.remove(&oldest);
            }
        }
        let r = map.entry(ip).or_insert(Record {
            failures: 0,
            last: now,
        });
        if now.duration_since(r.last) >= WINDOW {
            r.failures = 0;
        }
        r.failures += 1;
        r.last = now;
    }

    pub fn succeeded(&self, ip: IpAddr) {
        let mut map = self.by_address.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(&ip);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_after_the_free_failures_and_success_clears_them() {
        let t = Throttle::default();
        let ip: IpAddr = "198.51.100.7".parse().unwrap();
        let other: IpAddr = "198.51.100.8".parse().unwrap();
        let start = Instant::now();
        for _ in 0..FREE {
            assert_eq!(t.wait(ip, start), None);
            t.failed(ip, start);
        }
        assert_eq!(t.wait(ip, start), Some(Duration::from_secs(2)));
        assert_eq!(t.wait(other, start), None, "per address");
        t.failed(ip, start);
        assert_eq!(t.wait(ip, start), Some(Duration::from_secs(4)));
        assert_eq!(t.wait(ip, start + Duration::from_secs(4)), None);
        t.succeeded(ip);
        assert_eq!(t.wait(ip, start), None);
    }

    #[test]
    fn old_failures_are_forgotten() {
        let t = Throttle::default();
        let ip: IpAddr = "2001:db8::1".parse().unwrap();
        let start = Instant::now();
        for _ in 0..FREE + 3 {
            t.failed(ip, start);
        }
        assert!(t.wait(ip, start).is_some());
        assert_eq!(t.wait(ip, start + WINDOW), None);
    }
}
