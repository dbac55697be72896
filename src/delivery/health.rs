//! Endpoint health that heals, the workers' side: the probes of endpoints Palaver disabled for
//! failing. Every probe interval, each such endpoint gets one held delivery (its oldest lane
//! head) made claimable; the workers send it like any other. What its outcome does (a failure
//! spends none of its retries, a success enables the endpoint again) is decided where outcomes
//! are recorded: see [`crate::store::healing`].

use crate::domain::Millis;
use crate::store::{HealthRules, Store};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Looks for due probes this often (a fraction of the interval, within 100 ms..30 s).
fn tick(rules: &HealthRules) -> Duration {
    (rules.probe_interval / 3).clamp(Duration::from_millis(100), Duration::from_secs(30))
}

/// Starts the probes of disabled endpoints as they fall due, until `shutdown` turns true.
pub async fn probe(store: Arc<dyn Store>, rules: HealthRules, mut shutdown: watch::Receiver<bool>) {
    let every = tick(&rules);
    while !*shutdown.borrow() {
        match store
            .start_probes(Millis::now(), rules.probe_interval)
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::debug!(probes = n, "probing disabled endpoints"),
            Err(e) => {
                tracing::error!(error = %e, "starting the probes of disabled endpoints failed")
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_are_looked_for_often_enough_but_not_too_often() {
        let rules = |ms| HealthRules {
            probe_interval: Duration::from_millis(ms),
            ..HealthRules::default()
        };
        assert_eq!(tick(&rules(300)), Duration::from_millis(100));
        assert_eq!(tick(&rules(3_000)), Duration::from_secs(1));
        assert_eq!(tick(&rules(3_600_000)), Duration::from_secs(30));
    }
}
