//! The visitor API's rate limits: per client address (behind `--trusted-proxies`, the forwarded
//! one; IPv6 addresses by their /64, which one client usually holds whole) and per site (team).
//! Each is GCRA, the token bucket kept as one instant per key: a key may spend its whole minute's
//! allowance at once, then one request every `60 s / limit`. A refused request spends nothing.
//! In memory, per process (N processes allow N times the limit), for at most [`MAX_KEYS`] keys:
//! a full map first forgets the keys whose bucket is full again (they are as good as new), then
//! the fullest tenth.

use super::error::ApiError;
use super::{AppState, visitor::forwarded_for};
use crate::domain::net::client_ip;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The most keys one limiter remembers.
pub const MAX_KEYS: usize = 100_000;

/// One limit: `per_minute` requests per key, in a burst or spread.
pub struct Limiter<K> {
    /// Time one request costs: 60 s / limit.
    cost: Duration,
    /// How far ahead of now a key's instant may run: one minute less one request.
    slack: Duration,
    capacity: usize,
    /// Each key's "theoretical arrival time": when its bucket is full again.
    full_at: Mutex<HashMap<K, Instant>>,
}

impl<K: Eq + Hash + Copy> Limiter<K> {
    /// `None` for `0` (no limit).
    pub fn per_minute(limit: u32, capacity: usize) -> Option<Self> {
        let cost = Duration::from_secs(60).checked_div(limit)?;
        Some(Limiter {
            cost,
            slack: Duration::from_secs(60).saturating_sub(cost),
            capacity,
            full_at: Mutex::new(HashMap::new()),
        })
    }

    /// Counts a request of `key` at `now`, or says how long until one would be allowed.
    pub fn check(&self, key: K, now: Instant) -> Result<(), Duration> {
        let mut map = self.full_at.lock().unwrap_or_else(|e| e.into_inner());
        let tat = map.get(&key).copied().unwrap_or(now).max(now);
        let ahead = tat - now;
        if ahead > self.slack {
            return Err(ahead - self.slack);
        }
        if map.len() >= self.capacity && !map.contains_key(&key) {
            make_room(&mut map, now, self.capacity);
        }
        map.insert(key, tat + self.cost);
        Ok(())
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.full_at.lock().unwrap().len()
    }
}

/// Forgets the keys whose bucket is full again, and if that is not enough the tenth nearest to
/// full (so that a flood of new addresses costs one pass per tenth of the map, not one per key).
fn make_room<K: Eq + Hash + Copy>(map: &mut HashMap<K, Instant>, now: Instant, capacity: usize) {
    map.retain(|_, full_at| *full_at > now);
    if map.len() < capacity {
        return;
    }
    let mut times: Vec<Instant> = map.values().copied().collect();
    let cut = (capacity / 10).max(1);
    let (_, threshold, _) = times.select_nth_unstable(cut - 1);
    let threshold = *threshold;
    map.retain(|_, full_at| *full_at > threshold);
}

/// The visitor API's two limits, either of which may be off.
pub struct VisitorLimits {
    per_address: Option<Limiter<IpAddr>>,
    per_site: Option<Limiter<i64>>,
}

impl VisitorLimits {
    /// Requests per minute per address and per site; `0` turns that limit off.
    pub fn new(per_address: u32, per_site: u32) -> Self {
        VisitorLimits {
            per_address: Limiter::per_minute(per_address, MAX_KEYS),
            per_site: Limiter::per_minute(per_site, MAX_KEYS),
        }
    }

    /// Counts a request from `ip`.
    pub fn address(&self, ip: IpAddr) -> Result<(), ApiError> {
        match &self.per_address {
            Some(l) => l.check(address_key(ip), Instant::now()).map_err(|wait| {
                refused(wait, "too many requests from this address; try again later")
            }),
            None => Ok(()),
        }
    }

    /// Counts a request to the site of the team `team_seq`.
    pub fn site(&self, team_seq: i64) -> Result<(), ApiError> {
        match &self.per_site {
            Some(l) => l
                .check(team_seq, Instant::now())
                .map_err(|wait| refused(wait, "too many requests to this site; try again later")),
            None => Ok(()),
        }
    }
}

/// An IPv4 address, or the /64 of an IPv6 one (IPv4-mapped ones as IPv4).
fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        },
    }
}

fn refused(wait: Duration, detail: &str) -> ApiError {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate-limited", detail)
        .with_retry_after(secs.max(1))
}

/// The per-address limit, before anything else of a visitor API request is looked at.
pub async fn per_address(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Response {
    let ip = client_ip(peer.ip(), forwarded_for(req.headers()), &s.trusted_proxies);
    match s.visitor_limits.address(ip) {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minute_s_allowance_at_once_then_one_per_share_of_the_minute() {
        let l = Limiter::per_minute(5, 10).expect("a limit");
        let t0 = Instant::now();
        for _ in 0..5 {
            assert_eq!(l.check(1, t0), Ok(()));
        }
        assert_eq!(l.check(1, t0), Err(Duration::from_secs(12)));
        assert_eq!(
            l.check(1, t0),
            Err(Duration::from_secs(12)),
            "refusals spend nothing"
        );
        assert_eq!(l.check(2, t0), Ok(()), "per key");
        let later = t0 + Duration::from_secs(12);
        assert_eq!(l.check(1, later), Ok(()));
        assert!(l.check(1, later).is_err());
        assert_eq!(l.check(1, t0 + Duration::from_secs(60)), Ok(()));
    }

    #[test]
    fn zero_is_no_limit() {
        assert!(Limiter::<u8>::per_minute(0, 10).is_none());
        let off = VisitorLimits::new(0, 0);
        for _ in 0..1000 {
            assert!(off.address("192.0.2.1".parse().unwrap()).is_ok());
            assert!(off.site(1).is_ok());
        }
    }

    #[test]
    fn the_map_stays_bounded_and_keeps_the_busiest() {
        let l = Limiter::per_minute(3, 100).expect("a limit");
        let t0 = Instant::now();
        for _ in 0..3 {
            l.check(0u32, t0).unwrap();
        }
        for k in 1..10_000u32 {
            l.check(k, t0).unwrap();
            assert!(l.len() <= 100);
        }
        assert!(l.check(0, t0).is_err(), "the spent key is remembered");
        let much_later = t0 + Duration::from_secs(3600);
        l.check(50_000, much_later).unwrap();
        assert!(l.len() <= 100);
    }

    #[test]
    fn ipv6_addresses_count_by_their_64() {
        let key = |s: &str| address_key(s.parse().unwrap());
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:192.0.2.7"), key("192.0.2.7"));
        assert_ne!(key("192.0.2.7"), key("192.0.2.8"));
    }

    #[test]
    fn the_refusal_says_when_to_come_back() {
        let l = VisitorLimits::new(1, 0);
        let ip: IpAddr = "198.51.100.4".parse().unwrap();
        l.address(ip).unwrap();
        let e = l.address(ip).unwrap_err();
        assert_eq!(e.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(e.retry_after, Some(60));
    }
}
