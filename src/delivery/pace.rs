//! How hard this process presses each endpoint: its own limits (`maxInFlight`, `maxPerSecond`)
//! and the pauses its receiver asked for (`429`, `502`, `503`, `504`, `410`).
//!
//! Every request the dispatcher forms passes through [`Pace::admit`]. An endpoint with no limits
//! and no pause costs one map look-up and goes at once. A paused endpoint's requests are handed
//! back to the store unsent, due when the pause ends (all its lanes, not only the one that got
//! the answer). A limited endpoint's requests wait here, still leased, until it has room (an
//! attempt in flight returned, the next start of its even spacing came); past a few per limit,
//! or when their lease would run out before they could go, they are handed back too, due about
//! when room should come, so that a limited endpoint's backlog neither fills memory nor keeps
//! other endpoints waiting. Only a lane's oldest delivery is ever claimed, so waiting here holds
//! back that lane alone.
//!
//! The state is this process's: with several processes on one PostgreSQL each enforces the
//! limits on its own attempts (README, *Delivery guarantees*).

use super::send::Answer;
use crate::domain::Millis;
use crate::store::{Claimed, Limits};
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// The first pause after a slow-down answer without a `Retry-After`; it doubles with each such
/// answer in a row, up to [`MAX_BACKOFF`], and a `2xx` starts it over.
pub const FIRST_BACKOFF: Duration = Duration::from_secs(1);
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// How long this process holds an endpoint back after a `410 Gone` while the store disables it
/// (short: someone may enable it again at once).
pub const GONE_HOLD: Duration = Duration::from_secs(1);
/// Bounds of how long a request handed back for lack of room waits before it is claimed again.
const MIN_ESTIMATE: Duration = Duration::from_millis(100);
const MAX_ESTIMATE: Duration = Duration::from_secs(60);
/// The guess at an attempt's duration before one was measured.
const FIRST_GUESS_MS: f64 = 200.0;

/// One request: a delivery alone, or a batch's members (`batch_id` when it was formed before).
#[derive(Debug)]
pub struct Request {
    pub batch_id: Option<String>,
    pub members: Vec<Claimed>,
}

impl Request {
    pub fn endpoint(&self) -> i64 {
        self.members[0].endpoint_seq
    }

    fn limits(&self) -> Limits {
        self.members[0].limits
    }

    fn lease_until(&self) -> Millis {
        self.members
            .iter()
            .map(|c| c.lease_until)
            .min()
            .unwrap_or(Millis(0))
    }
}

/// What to do with requests now.
#[derive(Debug, Default)]
pub struct Sorted {
    /// Send these; `true` when the request counts against its endpoint's room (give it back
    /// with [`Pace::returned`]).
    pub go: Vec<(Request, bool)>,
    /// Hand these back unsent, due at this time.
    pub defer: Vec<(Request, Millis)>,
}

/// What an answer did to its endpoint.
#[derive(Debug, Default, PartialEq)]
pub struct Answered {
    /// The endpoint is paused this long from now: the answered delivery waits at least as long.
    pub pause: Option<Duration>,
    /// The dispatcher has something to do (requests waiting here to hand back).
    pub wake: bool,
}

/// Every endpoint's pace in this process.
#[derive(Default)]
pub struct Pace {
    endpoints: HashMap<i64, Paced>,
}

#[derive(Default)]
struct Paced {
    limits: Limits,
    /// Requests out that count against `max_in_flight`.
    in_flight: usize,
    /// When the next request may start (`maxPerSecond`'s even spacing).
    next_start: Option<Instant>,
    paused_until: Option<Instant>,
    /// Slow-down answers in a row.
    strikes: u32,
    waiting: VecDeque<Request>,
    /// Requests handed back for lack of room since the queue was last empty.
    overflow: usize,
    /// Average attempt duration, milliseconds.
    average_ms: Option<f64>,
}

impl Paced {
    fn paused(&self, now: Instant) -> Option<Instant> {
        self.paused_until.filter(|until| *until > now)
    }

    fn idle(&self, now: Instant) -> bool {
        self.in_flight == 0
            && self.waiting.is_empty()
            && self.strikes == 0
            && self.paused(now).is_none()
            && self.next_start.is_none_or(|t| t <= now)
    }

    /// Most requests waiting here before more are handed back.
    fn room_to_wait(&self) -> usize {
        let l = self.limits;
        let most = l.max_in_flight.max(l.max_per_second).unwrap_or(0) as usize;
        (most * 2).clamp(4, 1000)
    }

    /// About how long until a request `position` places behind the next start may go.
    fn estimate(&self, position: usize) -> Duration {
        let mut ms: f64 = 0.0;
        if let Some(rate) = self.limits.max_per_second {
            ms = ms.max(position as f64 * 1000.0 / rate as f64);
        }
        if let Some(most) = self.limits.max_in_flight {
            let each = self.average_ms.unwrap_or(FIRST_GUESS_MS);
            ms = ms.max(position as f64 * each / most as f64);
        }
        Duration::from_millis(ms as u64).clamp(MIN_ESTIMATE, MAX_ESTIMATE)
    }

    fn has_room(&self, now: Instant) -> bool {
        self.limits
            .max_in_flight
            .is_none_or(|most| self.in_flight < most as usize)
            && self.next_start.is_none_or(|t| t <= now)
    }

    /// A request starts now.
    fn start(&mut self, now: Instant) {
        self.in_flight += 1;
        if let Some(rate) = self.limits.max_per_second {
            // Evenly spaced, no burst: never two starts closer than 1/rate.
            let from = self.next_start.map_or(now, |t| t.max(now));
            self.next_start = Some(from + Duration::from_secs(1) / rate);
        }
    }
}

/// `at` on the store's clock, as seen `now`.
fn millis(at: Instant, now: Instant) -> Millis {
    Millis::now().plus_ms(at.saturating_duration_since(now).as_millis() as i64)
}

impl Pace {
    /// Takes a request just formed.
    pub fn admit(&mut self, r: Request, now: Instant, out: &mut Sorted) {
        let limits = r.limits();
        let Some(p) = self.endpoints.get_mut(&r.endpoint()) else {
            if !limits.any() {
                // The common case: nothing to hold it back.
                out.go.push((r, false));
                return;
            }
            self.endpoints.entry(r.endpoint()).or_default().limits = limits;
            return self.admit(r, now, out);
        };
        p.limits = limits;
        if let Some(until) = p.paused(now) {
            out.defer.push((r, millis(until, now)));
        } else if !limits.any() {
            out.go.push((r, false));
        } else if p.waiting.len() < p.room_to_wait() {
            p.waiting.push_back(r);
        } else {
            p.overflow += 1;
            let due = now + p.estimate(p.waiting.len() + p.overflow);
            out.defer.push((r, millis(due, now)));
        }
    }

    /// The waiting requests that may go now; those of paused endpoints and those whose lease
    /// ends before an attempt could (`cutoff`) are handed back.
    pub fn release(&mut self, now: Instant, cutoff: Millis, out: &mut Sorted) {
        for p in self.endpoints.values_mut() {
            if let Some(until) = p.paused(now) {
                let due = millis(until, now);
                out.defer.extend(p.waiting.drain(..).map(|r| (r, due)));
            }
            while let Some(front) = p.waiting.front() {
                if front.lease_until() <= cutoff {
                    let r = p.waiting.pop_front().expect("a front");
                    out.defer.push((r, Millis::now()));
                    continue;
                }
                if !p.has_room(now) {
                    break;
                }
                let r = p.waiting.pop_front().expect("a front");
                p.start(now);
                out.go.push((r, true));
            }
            if p.waiting.is_empty() {
                p.overflow = 0;
            }
        }
        self.endpoints.retain(|_, p| !p.idle(now));
    }

    /// When [`Pace::release`] may have something to send: the earliest next start of an
    /// endpoint whose requests wait only for it.
    pub fn next_wake(&self) -> Option<Instant> {
        self.endpoints
            .values()
            .filter(|p| !p.waiting.is_empty())
            .filter(|p| {
                p.limits
                    .max_in_flight
                    .is_none_or(|most| p.in_flight < most as usize)
            })
            .filter_map(|p| p.next_start)
            .min()
    }

    /// What `answer`, which took `took`, does to `endpoint`.
    pub fn answered(
        &mut self,
        endpoint: i64,
        answer: Answer,
        took: Duration,
        now: Instant,
    ) -> Answered {
        // What the answer asks: a pause (with the receiver's `Retry-After`, if it gave one).
        let (asked, slow) = match answer {
            Answer::Delivered | Answer::Failed | Answer::TimedOut => (None, false),
            Answer::SlowDown { retry_after, .. } => (Some(retry_after), true),
            Answer::Gone => (Some(Some(GONE_HOLD)), false),
        };
        let p = match (self.endpoints.get_mut(&endpoint), asked) {
            (Some(p), _) => p,
            (None, None) => return Answered::default(),
            (None, Some(_)) => self.endpoints.entry(endpoint).or_default(),
        };
        let ms = took.as_secs_f64() * 1000.0;
        p.average_ms = Some(p.average_ms.map_or(ms, |a| a * 0.8 + ms * 0.2));
        let Some(retry_after) = asked else {
            if answer == Answer::Delivered {
                p.strikes = 0;
            }
            return Answered::default();
        };
        if slow {
            p.strikes += 1;
        }
        let wait = retry_after.unwrap_or_else(|| backoff(p.strikes));
        let until = p.paused(now).map_or(now + wait, |t| t.max(now + wait));
        p.paused_until = Some(until);
        Answered {
            pause: Some(until - now),
            wake: !p.waiting.is_empty(),
        }
    }

    /// Every request waiting here (the workers stop).
    pub fn drain(&mut self) -> Vec<Request> {
        self.endpoints
            .values_mut()
            .flat_map(|p| p.waiting.drain(..))
            .collect()
    }

    /// A request that counted against `endpoint`'s room came back; answers whether requests
    /// wait for that room.
    pub fn returned(&mut self, endpoint: i64) -> bool {
        match self.endpoints.get_mut(&endpoint) {
            Some(p) => {
                p.in_flight = p.in_flight.saturating_sub(1);
                !p.waiting.is_empty()
            }
            None => false,
        }
    }
}

/// The pause after `strikes` slow-down answers in a row that gave no `Retry-After`.
pub fn backoff(strikes: u32) -> Duration {
    let doublings = strikes.saturating_sub(1).min(16);
    (FIRST_BACKOFF * 2u32.pow(doublings)).min(MAX_BACKOFF)
}

#[cfg(test)]
#[path = "pace_tests.rs"]
mod tests;
