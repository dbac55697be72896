//! When a failed delivery is tried again.

use rand::Rng;
use std::time::Duration;

/// Delays before each retry; after the last, the delivery has failed.
#[derive(Clone, Debug, PartialEq)]
pub struct RetrySchedule(pub Vec<Duration>);

impl Default for RetrySchedule {
    /// 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: eight attempts over about 28 hours.
    fn default() -> Self {
        const MIN: u64 = 60;
        const H: u64 = 3600;
        RetrySchedule(
            [5, 5 * MIN, 30 * MIN, 2 * H, 5 * H, 10 * H, 10 * H]
                .into_iter()
                .map(Duration::from_secs)
                .collect(),
        )
    }
}

impl RetrySchedule {
    /// Parses `5s,5m,30m,2h` (units `ms`, `s`, `m`, `h`; an empty list means no retries).
    pub fn parse(s: &str) -> Result<Self, String> {
        s.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(parse_duration)
            .collect::<Result<Vec<_>, _>>()
            .map(RetrySchedule)
    }

    /// The delay after the `tries`th failed attempt (1-based), ±20% jitter; `None` when spent.
    pub fn delay_after(&self, tries: i64) -> Option<Duration> {
        let base = *self.0.get(usize::try_from(tries - 1).ok()?)?;
        let factor = rand::rng().random_range(0.8..=1.2);
        Some(base.mul_f64(factor))
    }

    /// The delay after the `tries`th attempt when it timed out: [`TIMEOUT_FACTOR`] times
    /// [`Self::delay_after`], but no longer than the schedule's longest delay (±20%).
    pub fn delay_after_timeout(&self, tries: i64) -> Option<Duration> {
        let base = *self.0.get(usize::try_from(tries - 1).ok()?)?;
        let longest = self.0.iter().max().copied().unwrap_or_default();
        let factor = rand::rng().random_range(0.8..=1.2);
        Some(
            (base * TIMEOUT_FACTOR)
                .min(longest)
                .max(base)
                .mul_f64(factor),
        )
    }
}

/// How many times the schedule's delay a timed-out attempt waits before its retry.
pub const TIMEOUT_FACTOR: u32 = 4;

/// The longest duration accepted: 100 years (876,000 h), far beyond any sensible setting, and
/// short enough that a jittered delay added to the clock cannot overflow its milliseconds.
pub const MAX_DURATION: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// Parses `500ms`, `5s`, `5m`, `2h`, `5d`: at most [`MAX_DURATION`].
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 500ms, 5s, 5m, 2h or 5d"))?;
    let unit_ms: u64 = match unit {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(format!("{s:?} has an unknown unit; use ms, s, m, h or d")),
    };
    match n.checked_mul(unit_ms).map(Duration::from_millis) {
        Some(d) if d <= MAX_DURATION => Ok(d),
        _ => Err(format!("{s:?} is too long: at most 100 years (36500d)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists_and_units() {
        let s = RetrySchedule::parse("500ms, 1s,5m,2h").unwrap();
        assert_eq!(
            s.0,
            vec![
                Duration::from_millis(500),
                Duration::from_secs(1),
                Duration::from_secs(300),
                Duration::from_secs(7200)
            ]
        );
        assert_eq!(RetrySchedule::parse("").unwrap().0, vec![]);
        assert!(RetrySchedule::parse("5x").is_err());
        assert!(RetrySchedule::parse("s").is_err());
    }

    #[test]
    fn durations_are_capped_without_overflowing() {
        // Found by fuzzing: `n * 1000` overflowed (a panic in debug builds, a wrapped
        // duration otherwise), and a huge delay wrapped the worker's next-attempt time.
        for huge in ["99999991999999999s", "5124095576031h", "876001h"] {
            let e = parse_duration(huge).unwrap_err();
            assert!(e.contains("100 years"), "{e}");
            assert!(RetrySchedule::parse(&format!("5s,{huge}")).is_err());
        }
        assert_eq!(parse_duration("876000h"), Ok(MAX_DURATION));
        let most = RetrySchedule::parse("876000h").unwrap();
        let d = most.delay_after(1).unwrap();
        assert!(i64::try_from(d.as_millis()).is_ok(), "{d:?}");
    }

    #[test]
    fn default_matches_the_issue() {
        let d = RetrySchedule::default();
        assert_eq!(d.0.len(), 7);
        assert_eq!(d.0[0], Duration::from_secs(5));
        assert_eq!(d.0[6], Duration::from_secs(36_000));
    }

    #[test]
    fn jitter_stays_within_twenty_percent_and_the_schedule_ends() {
        let s = RetrySchedule::parse("10s,100s").unwrap();
        for _ in 0..1000 {
            let d = s.delay_after(1).unwrap();
            assert!(
                d >= Duration::from_secs(8) && d <= Duration::from_secs(12),
                "{d:?}"
            );
            let d = s.delay_after(2).unwrap();
            assert!(d >= Duration::from_secs(80) && d <= Duration::from_secs(120));
        }
        assert_eq!(s.delay_after(3), None);
        assert_eq!(s.delay_after(0), None);
    }

    #[test]
    fn timeouts_wait_longer_up_to_the_longest_delay() {
        let s = RetrySchedule::parse("1s,10s,5s").unwrap();
        for _ in 0..1000 {
            let d = s.delay_after_timeout(1).unwrap();
            assert!(d >= Duration::from_millis(3200) && d <= Duration::from_millis(4800));
            let d = s.delay_after_timeout(2).unwrap();
            assert!(
                d >= Duration::from_secs(8) && d <= Duration::from_secs(12),
                "capped"
            );
            let d = s.delay_after_timeout(3).unwrap();
            assert!(
                d >= Duration::from_secs(8) && d <= Duration::from_secs(12),
                "capped"
            );
        }
        assert_eq!(s.delay_after_timeout(4), None);
    }
}
