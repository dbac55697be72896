//! Every figure a run measures, and the medians over runs.

use super::pgstats::PerEvent;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Every figure, as `--json` prints it. With several processes, `*_cpu_s` are summed over them
/// and `*_rss_mb` are the largest process's peak.
#[derive(Serialize, Deserialize, Default, Clone)]
pub struct Results {
    /// `palaver serve` processes per scenario (`--processes`).
    pub processes: f64,
    pub baseline_rps: f64,
    /// The body size the baseline sent: the burst's mean webhook body.
    pub baseline_body_bytes: f64,
    /// The burst's mean webhook body.
    pub burst_body_bytes: f64,
    pub accept_rps: f64,
    pub delivery_rps: f64,
    pub delivery_ratio: f64,
    pub burst_p50_ms: f64,
    pub burst_p99_ms: f64,
    pub burst_cpu_s: f64,
    pub burst_rss_mb: f64,
    /// PostgreSQL's work per delivered event in the burst (null on SQLite).
    pub burst_pg: PerEvent,
    /// The same burst to a webhook with `batchSize` 50: events delivered per second.
    pub batch_delivery_rps: f64,
    pub batch_ratio: f64,
    pub batch_events_per_request: f64,
    pub batch_cpu_s: f64,
    pub batch_rss_mb: f64,
    pub steady_p50_ms: f64,
    pub steady_p99_ms: f64,
    pub steady_max_ms: f64,
    /// Messages the generator sent per second, from the first to the end of the offered load.
    pub steady_offered_rps: f64,
    /// Of those messages, the ones delivered in that same window, per second.
    pub steady_delivered_rps: f64,
    /// Messages not yet delivered when the offered load stopped, and how long they took to come.
    pub steady_behind_events: f64,
    pub steady_drain_s: f64,
    pub steady_cpu_s: f64,
    pub steady_rss_mb: f64,
    /// PostgreSQL's work per delivered event at the steady rate (null on SQLite).
    pub steady_pg: PerEvent,
    pub backlog_delivery_rps: f64,
    pub backlog_ratio: f64,
    pub backlog_cpu_s: f64,
    pub backlog_rss_mb: f64,
    /// The burst beside long lanes of a slow endpoint: the healthy endpoint's delivered/s, its
    /// ratio to the plain burst, its latency, and what the slow endpoint got meanwhile.
    pub lanes_delivery_rps: f64,
    pub lanes_ratio: f64,
    pub lanes_p50_ms: f64,
    pub lanes_p99_ms: f64,
    pub lanes_slow_delivered: f64,
    pub lanes_cpu_s: f64,
    pub lanes_rss_mb: f64,
    /// The backlog scenario beside a purge (`--only purge`): without it, then with it.
    pub purge_off_delivery_rps: f64,
    pub purge_off_p50_ms: f64,
    pub purge_off_p99_ms: f64,
    pub purge_on_delivery_rps: f64,
    pub purge_on_p50_ms: f64,
    pub purge_on_p99_ms: f64,
    /// Delivered/s with the purge running, against without.
    pub purge_ratio: f64,
    /// 1 when the purge was still running when the burst ended (it ran beside all of it).
    pub purge_running_after_burst: f64,
    /// From the server's start to the last purged row.
    pub purge_seconds: f64,
    pub purge_cpu_s: f64,
    pub purge_rss_mb: f64,
    pub slow_rps: f64,
    pub slow_cpu_s: f64,
    pub slow_rss_mb: f64,
    pub long_early_cpu_ms: f64,
    pub long_late_cpu_ms: f64,
    pub long_early_bytes: f64,
    pub long_late_bytes: f64,
    pub long_rss_mb: f64,
    /// SQLite: the data directory's size after the long conversation, per message.
    pub long_stored_bytes: f64,
    pub peak_rss_mb: f64,
    /// Visitor messages answered `503` (busy) and sent again, over every scenario of the run.
    pub busy_retries: f64,
}

impl Results {
    /// The figures computed from others once every scenario ran.
    pub fn finish(&mut self) {
        self.delivery_ratio = self.delivery_rps / self.baseline_rps;
        self.backlog_ratio = self.backlog_delivery_rps / self.delivery_rps;
        self.lanes_ratio = self.lanes_delivery_rps / self.delivery_rps;
        self.batch_ratio = self.batch_delivery_rps / self.baseline_rps;
        self.peak_rss_mb = [
            self.burst_rss_mb,
            self.batch_rss_mb,
            self.steady_rss_mb,
            self.backlog_rss_mb,
            self.lanes_rss_mb,
            self.slow_rss_mb,
            self.long_rss_mb,
            self.purge_rss_mb,
        ]
        .into_iter()
        .fold(0.0, f64::max);
    }
}

/// The median of each figure over the runs (figures nested in objects too).
pub fn median(runs: &[Results]) -> Results {
    let values: Vec<Value> = runs
        .iter()
        .map(|r| serde_json::to_value(r).expect("results serialize"))
        .collect();
    serde_json::from_value(median_of(&values)).unwrap_or_else(|_| runs[0].clone())
}

/// The median of the numbers at each place in `values` (same shape each); the first run's value
/// where there are none (null).
fn median_of(values: &[Value]) -> Value {
    match &values[0] {
        Value::Object(first) => {
            let mut out = Map::new();
            for key in first.keys() {
                let at: Vec<Value> = values.iter().map(|v| v[key].clone()).collect();
                out.insert(key.clone(), median_of(&at));
            }
            Value::Object(out)
        }
        first => {
            let mut xs: Vec<f64> = values.iter().filter_map(Value::as_f64).collect();
            xs.sort_by(f64::total_cmp);
            match xs.is_empty() {
                true => first.clone(),
                false => serde_json::json!(xs[xs.len() / 2]),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn medians_reach_into_nested_figures() {
        let runs = [
            json!({"a": 3.0, "pg": {"x": 1.0, "y": null}}),
            json!({"a": 1.0, "pg": {"x": 5.0, "y": null}}),
            json!({"a": 2.0, "pg": {"x": 4.0, "y": null}}),
        ];
        assert_eq!(
            super::median_of(&runs),
            json!({"a": 2.0, "pg": {"x": 4.0, "y": null}})
        );
    }
}
