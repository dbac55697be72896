//! A histogram of fixed buckets made of atomics: an observation is two increments and an add.

use super::text::Text;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Observations of whole units (microseconds, jobs), counted in buckets given by their upper
/// bounds, and shown divided by `scale` (microseconds as seconds: 1e6).
pub struct Histogram {
    bounds: Box<[u64]>,
    /// Per bucket, not cumulative; the last one is above every bound (`+Inf`).
    counts: Box<[AtomicU64]>,
    sum: AtomicU64,
    scale: f64,
}

impl Histogram {
    /// `bounds` ascending, in the observations' unit.
    pub fn new(bounds: &[u64], scale: f64) -> Self {
        debug_assert!(bounds.windows(2).all(|w| w[0] < w[1]));
        Histogram {
            bounds: bounds.into(),
            counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicU64::new(0),
            scale,
        }
    }

    pub fn observe(&self, value: u64) {
        let i = self.bounds.partition_point(|&b| b < value);
        self.counts[i].fetch_add(1, Relaxed);
        self.sum.fetch_add(value, Relaxed);
    }

    /// `name_bucket{labels, le}` (cumulative), `name_sum` and `name_count` (the `+Inf` bucket's
    /// count, so that the two always agree).
    pub fn render(&self, t: &mut Text, name: &str, labels: &[(&str, &str)]) {
        let bucket = format!("{name}_bucket");
        let mut cumulative = 0u64;
        for (i, count) in self.counts.iter().enumerate() {
            cumulative += count.load(Relaxed);
            let le = match self.bounds.get(i) {
                Some(&b) => super::text::number(b as f64 / self.scale),
                None => "+Inf".to_string(),
            };
            let mut with_le: Vec<(&str, &str)> = labels.to_vec();
            with_le.push(("le", &le));
            t.sample(&bucket, &with_le, cumulative as f64);
        }
        let sum = self.sum.load(Relaxed) as f64 / self.scale;
        t.sample(&format!("{name}_sum"), labels, sum);
        t.sample(&format!("{name}_count"), labels, cumulative as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::super::text::Kind;
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_the_count_is_the_last() {
        let h = Histogram::new(&[1_000, 10_000], 1e6);
        for v in [500, 1_000, 1_001, 20_000] {
            h.observe(v);
        }
        let mut t = Text::default();
        t.family("d_seconds", Kind::Histogram, "Durations.");
        h.render(&mut t, "d_seconds", &[("endpoint", "ep_1")]);
        let text = t.finish();
        let want = "d_seconds_bucket{endpoint=\"ep_1\",le=\"0.001\"} 2\n\
                    d_seconds_bucket{endpoint=\"ep_1\",le=\"0.01\"} 3\n\
                    d_seconds_bucket{endpoint=\"ep_1\",le=\"+Inf\"} 4\n\
                    d_seconds_sum{endpoint=\"ep_1\"} 0.022501\n\
                    d_seconds_count{endpoint=\"ep_1\"} 4\n";
        assert!(text.ends_with(want), "{text}");
        let scrape =
            prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap();
        let h = scrape
            .samples
            .iter()
            .find_map(|s| match &s.value {
                prometheus_parse::Value::Histogram(h) => Some(h.clone()),
                _ => None,
            })
            .expect("a histogram");
        assert_eq!(h.len(), 3);
        assert_eq!(h[2].count, 4.0);
    }
}
