//! The steady scenario: a constant offered load, and whether delivery kept up with it.

use super::load;
use super::scenarios::{DRAIN_LIMIT, latencies, percentile, setup};
use super::{Results, Sizes, Target, pgstats};
use std::ops::Range;
use std::time::{Duration, Instant};

/// Conversations the steady messages go to, in turn.
const VISITORS: usize = 100;

pub async fn steady(sizes: &Sizes, target: &Target, r: &mut Results) {
    let (server, api, mut receiver, url) = setup(target, "steady", Duration::ZERO, &[]).await;
    let before = pgstats::read(url.as_deref()).await;
    let visitors = api.visitors(VISITORS, 16).await;
    let (answers, window) =
        load::steady(&api, &visitors, sizes.steady_rate, sizes.steady_duration, 0).await;
    let events = VISITORS as u64 + answers.len() as u64;
    receiver
        .wait_for(events, DRAIN_LIMIT)
        .await
        .expect("every steady event arrives");
    let lat = latencies(&receiver, &answers);
    r.steady_p50_ms = percentile(&lat, 0.5);
    r.steady_p99_ms = percentile(&lat, 0.99);
    r.steady_max_ms = lat.last().copied().unwrap_or(f64::NAN);
    let arrivals = answers.iter().map(|(tag, _)| receiver.arrival(*tag));
    let kept = keeping_up(&window, arrivals);
    r.steady_offered_rps = kept.offered_rps;
    r.steady_delivered_rps = kept.delivered_rps;
    r.steady_behind_events = kept.behind as f64;
    r.steady_drain_s = kept.drain_s;
    r.steady_cpu_s = server.cpu_seconds();
    r.steady_rss_mb = server.peak_rss_mb();
    server.stop().await;
    let after = pgstats::read(url.as_deref()).await;
    r.steady_pg = pgstats::per_event(before, after, events);
}

/// Delivery against an offered load.
#[derive(Debug, PartialEq)]
pub struct KeepingUp {
    /// Events sent per second of the offered window.
    pub offered_rps: f64,
    /// Of those, the ones that arrived within the window, per second of it.
    pub delivered_rps: f64,
    /// Events sent that had not arrived when the window ended.
    pub behind: u64,
    /// From the window's end to the last arrival, when some were behind; else 0.
    pub drain_s: f64,
}

/// How delivery kept up with the events sent in `window`, given when each arrived (None: never).
pub fn keeping_up(
    window: &Range<Instant>,
    arrivals: impl Iterator<Item = Option<Instant>>,
) -> KeepingUp {
    let seconds = window.end.duration_since(window.start).as_secs_f64();
    let (mut sent, mut in_time, mut last) = (0u64, 0u64, None::<Instant>);
    for arrival in arrivals {
        sent += 1;
        if let Some(at) = arrival {
            if at <= window.end {
                in_time += 1;
            }
            last = last.max(Some(at));
        }
    }
    let behind = sent - in_time;
    let drain_s = match (behind, last) {
        (0, _) | (_, None) => 0.0,
        (_, Some(last)) => last.saturating_duration_since(window.end).as_secs_f64(),
    };
    KeepingUp {
        offered_rps: sent as f64 / seconds,
        delivered_rps: in_time as f64 / seconds,
        behind,
        drain_s,
    }
}

#[cfg(test)]
mod tests {
    use super::{KeepingUp, keeping_up};
    use std::time::{Duration, Instant};

    #[test]
    fn delivery_that_kept_up_is_all_in_the_window() {
        let t0 = Instant::now();
        let ms = |n: u64| t0 + Duration::from_millis(n);
        // 10 events over 1 s, each arriving 5 ms after it was sent.
        let arrivals = (0..10).map(|i| Some(ms(i * 100 + 5)));
        let kept = keeping_up(&(t0..ms(1000)), arrivals);
        assert_eq!(
            kept,
            KeepingUp {
                offered_rps: 10.0,
                delivered_rps: 10.0,
                behind: 0,
                drain_s: 0.0
            }
        );
    }

    #[test]
    fn delivery_that_fell_behind_says_by_how_much() {
        let t0 = Instant::now();
        let ms = |n: u64| t0 + Duration::from_millis(n);
        // 10 events over 1 s, delivered at 5 a second: 5 in the window, the last 1 s after it.
        let arrivals = (0..10).map(|i| Some(ms(200 * (i + 1))));
        let kept = keeping_up(&(t0..ms(1000)), arrivals);
        assert_eq!(kept.offered_rps, 10.0);
        assert_eq!(kept.delivered_rps, 5.0);
        assert_eq!(kept.behind, 5);
        assert!((kept.drain_s - 1.0).abs() < 1e-9);
        // One never arrived: behind, and the drain counts to the last that did.
        let arrivals = [Some(ms(100)), None, Some(ms(1500))].into_iter();
        let kept = keeping_up(&(t0..ms(1000)), arrivals);
        assert_eq!(kept.behind, 2);
        assert!((kept.drain_s - 0.5).abs() < 1e-9);
    }
}
