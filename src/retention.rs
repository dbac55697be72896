//! Retention: a background sweep that purges finished deliveries after `--retention` and, when
//! `--message-retention` is set, ended conversations after it (what goes and what never does:
//! [`crate::store::purge`]).
//!
//! A sweep works in small batches (one transaction each), each waiting for its turn as the
//! store paces it ([`crate::store::purge`]): on SQLite only while the writer is idle, so that
//! a burst is not slowed and the purge goes on after it. It logs one line when it is over, with
//! what it purged; nothing per batch. Should a batch wait for its turn longer than [`STARVED`]
//! (a store busy for that long without a gap), it says so once, with how many deliveries wait,
//! and once more when purging goes on.

use crate::delivery::schedule::parse_duration;
use crate::domain::Millis;
use crate::store::{Purged, Store};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How long a batch may wait for its turn before the sweep says that purging is held up.
const STARVED: Duration = Duration::from_secs(300);
/// Longest time between two sweeps.
const MAX_EVERY: Duration = Duration::from_secs(600);

/// How long something is kept: `off` (`None`) keeps it forever.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention(pub Option<Duration>);

impl Retention {
    /// `30d`, `12h`, `90m`, `1s`… (days, or the units of the other durations); `off` or `0`
    /// keeps everything.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("off") || s == "0" {
            return Ok(Retention(None));
        }
        let d = match s.strip_suffix('d') {
            Some(days) => days
                .parse::<u64>()
                .ok()
                .and_then(|n| n.checked_mul(86_400))
                .map(Duration::from_secs),
            None => parse_duration(s).ok(),
        };
        let d = d.ok_or_else(|| {
            format!("{s:?} is not a retention like 30d, 12h, 90m or 1s (or off to keep all)")
        })?;
        Ok(Retention((!d.is_zero()).then_some(d)))
    }
}

/// What the sweep purges.
#[derive(Clone, Copy, Debug)]
pub struct RetentionConfig {
    /// Finished deliveries, after their last attempt.
    pub deliveries: Retention,
    /// Ended conversations, after their end.
    pub conversations: Retention,
}

impl RetentionConfig {
    /// How long after a sweep the next starts: 10 minutes, or less for a shorter retention.
    fn every(&self) -> Option<Duration> {
        [self.deliveries.0, self.conversations.0]
            .into_iter()
            .flatten()
            .min()
            .map(|d| d.clamp(Duration::from_secs(1), MAX_EVERY))
    }
}

/// Starts the sweep, unless nothing is to be purged; it ends when `stop` turns true.
pub fn start(store: Arc<dyn Store>, config: RetentionConfig, stop: watch::Receiver<bool>) {
    let Some(every) = config.every() else {
        return;
    };
    tokio::spawn(run(store, config, every, stop));
}

async fn run(
    store: Arc<dyn Store>,
    config: RetentionConfig,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut sweep = Sweep {
        store: &*store,
        stop: stop.clone(),
    };
    // The first sweep at start-up: a store may have been stopped for longer than `every`.
    loop {
        let started = Instant::now();
        let mut purged = Purged::default();
        let done = sweep.once(config, &mut purged).await;
        let took_ms = started.elapsed().as_millis() as u64;
        match done {
            Err(e) => {
                tracing::warn!(error = %e, took_ms, "purging failed; trying again at the next sweep")
            }
            Ok(()) if purged.rows() == 0 => tracing::debug!(took_ms, "nothing to purge"),
            Ok(()) => tracing::info!(
                deliveries = purged.deliveries,
                attempts = purged.attempts,
                events = purged.events,
                conversations = purged.conversations,
                messages = purged.messages,
                notes = purged.notes,
                took_ms,
                "purged what is past its retention"
            ),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

struct Sweep<'a> {
    store: &'a dyn Store,
    stop: watch::Receiver<bool>,
}

impl Sweep<'_> {
    /// One sweep: deliveries, then conversations, batch after batch, adding what went to
    /// `purged`. Ends early when the server stops.
    async fn once(
        &mut self,
        config: RetentionConfig,
        purged: &mut Purged,
    ) -> crate::store::Result<()> {
        let batch = self.store.purge_batch();
        if let Some(keep) = config.deliveries.0 {
            let before = ago(keep);
            loop {
                let call = self.store.purge_deliveries(before, batch.deliveries);
                let Some(p) = self.turn(call, before).await? else {
                    return Ok(());
                };
                *purged += p;
                if p.deliveries < u64::from(batch.deliveries) {
                    break;
                }
            }
        }
        if let Some(keep) = config.conversations.0 {
            let before = ago(keep);
            let mut after = (i64::MIN, i64::MIN);
            loop {
                let call = self
                    .store
                    .purge_conversations(before, after, batch.conversations);
                let Some((p, next)) = self.turn(call, before).await? else {
                    return Ok(());
                };
                *purged += p;
                match next {
                    Some(next) => after = next,
                    None => break,
                }
            }
        }
        Ok(())
    }

    /// Awaits one batch, `call`; `None` when the server stops first. A batch that waits for
    /// its turn longer than [`STARVED`] is told of, with how many deliveries older than
    /// `before` wait, and again once it ran: twice for a stretch however long, never per try.
    async fn turn<T>(
        &mut self,
        call: impl Future<Output = crate::store::Result<T>>,
        before: Millis,
    ) -> crate::store::Result<Option<T>> {
        tokio::pin!(call);
        let (store, stop) = (self.store, &mut self.stop);
        let stopping = async move {
            let _ = stop.wait_for(|s| *s).await;
        };
        tokio::pin!(stopping);
        let started = Instant::now();
        let mut starved = false;
        loop {
            tokio::select! {
                done = &mut call => {
                    if starved {
                        tracing::info!(
                            waited_s = started.elapsed().as_secs(),
                            "purging goes on: the store had a moment to spare"
                        );
                    }
                    return done.map(Some);
                }
                _ = tokio::time::sleep(STARVED), if !starved => {
                    starved = true;
                    let waiting = match store.purge_due(before).await {
                        Ok(n) => n.to_string(),
                        Err(e) => format!("unknown ({e})"),
                    };
                    tracing::warn!(
                        waited_s = STARVED.as_secs(),
                        deliveries_waiting = %waiting,
                        "purging is held up: the store has been too busy to spare it a moment; \
                         what is past its retention stays until it does"
                    );
                }
                _ = &mut stopping => return Ok(None),
            }
        }
    }
}

/// The moment `keep` ago.
fn ago(keep: Duration) -> Millis {
    let ms = i64::try_from(keep.as_millis()).unwrap_or(i64::MAX);
    Millis(Millis::now().0.saturating_sub(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retentions_parse_days_the_other_units_and_off() {
        let p = |s| Retention::parse(s).map(|r| r.0);
        assert_eq!(p("30d"), Ok(Some(Duration::from_secs(30 * 86_400))));
        assert_eq!(p("12h"), Ok(Some(Duration::from_secs(12 * 3600))));
        assert_eq!(p("1s"), Ok(Some(Duration::from_secs(1))));
        assert_eq!(p("500ms"), Ok(Some(Duration::from_millis(500))));
        assert_eq!(p("off"), Ok(None));
        assert_eq!(p("OFF"), Ok(None));
        assert_eq!(p("0"), Ok(None));
        assert_eq!(p("0d"), Ok(None));
        for bad in ["", "d", "30", "3w", "-1d", "99999999999999999999d", "on"] {
            let err = p(bad).unwrap_err();
            assert!(err.contains(bad.trim()), "{bad:?}: {err}");
        }
    }

    #[test]
    fn sweeps_come_every_ten_minutes_or_sooner_for_short_retentions() {
        let r = |s| Retention::parse(s).unwrap();
        let config = |d, c| RetentionConfig {
            deliveries: r(d),
            conversations: r(c),
        };
        assert_eq!(config("30d", "off").every(), Some(MAX_EVERY));
        assert_eq!(config("off", "off").every(), None);
        assert_eq!(config("30d", "2m").every(), Some(Duration::from_secs(120)));
        assert_eq!(config("1s", "off").every(), Some(Duration::from_secs(1)));
        assert_eq!(config("off", "10ms").every(), Some(Duration::from_secs(1)));
    }
}
