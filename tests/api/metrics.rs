//! `/metrics`, read by a Prometheus text-format parser after real traffic: events by name,
//! attempts by endpoint and outcome, attempt durations, and a deleted endpoint's series gone.
//! The backlog's gauges are in `metrics_backlog.rs`, the JSON logs in `metrics_logs.rs`.

use std::collections::BTreeMap;

use prometheus_parse::{HistogramCount, Sample, Scrape, Value};
use reqwest::Method;

use crate::api::eventually;
use crate::fixtures::{agent, named};
use crate::helpers::{TestApp, WAIT};
use crate::receiver::{Receiver, Reply};
use crate::stores::{TestStore, on_every_store};

on_every_store!(events_and_attempts_are_counted_by_name_endpoint_and_outcome);

/// One scrape of `/metrics`, parsed.
pub struct Metrics {
    pub text: String,
    samples: Vec<Sample>,
}

impl Metrics {
    /// `GET /metrics`: a 200 in the text format, every sample's family documented.
    pub async fn scrape(app: &TestApp) -> Metrics {
        let response = app.call(Method::GET, "/metrics").send().await;
        response.expect_status(200);
        assert_eq!(
            response.content_type(),
            "text/plain; version=0.0.4; charset=utf-8"
        );
        let text = response.text();
        let scrape = Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).expect("parses");
        let lines = text
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'));
        assert_eq!(
            lines.count(),
            scrape
                .samples
                .iter()
                .map(|s| match &s.value {
                    Value::Histogram(h) => h.len(),
                    _ => 1,
                })
                .sum::<usize>(),
            "every sample line parses:\n{text}"
        );
        for s in &scrape.samples {
            let family = ["_sum", "_count"]
                .iter()
                .find_map(|x| s.metric.strip_suffix(x))
                .filter(|base| scrape.docs.contains_key(*base))
                .unwrap_or(&s.metric);
            assert!(
                scrape.docs.contains_key(family),
                "{} has no HELP:\n{text}",
                s.metric
            );
        }
        Metrics {
            text,
            samples: scrape.samples,
        }
    }

    fn matching<'a>(
        &'a self,
        name: &'a str,
        labels: &'a [(&'a str, &'a str)],
    ) -> impl Iterator<Item = &'a Sample> + 'a {
        self.samples.iter().filter(move |s| {
            s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v))
        })
    }

    /// The value of the one sample of `name` with these labels (others may be there too).
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let found: Vec<&Sample> = self.matching(name, labels).collect();
        assert_eq!(
            found.len(),
            1,
            "one {name} {labels:?} expected in:\n{}",
            self.text
        );
        match found[0].value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => v,
            ref other => panic!("{name} is not a number: {other:?}"),
        }
    }

    /// The cumulative buckets of the histogram `name` with these labels, checked: ascending
    /// bounds, counts never falling, `+Inf` last and equal to `_count`.
    pub fn histogram(&self, name: &str, labels: &[(&str, &str)]) -> Vec<HistogramCount> {
        let found: Vec<&Sample> = self.matching(name, labels).collect();
        assert_eq!(found.len(), 1, "one {name} {labels:?} in:\n{}", self.text);
        let Value::Histogram(buckets) = &found[0].value else {
            panic!("{name} is not a histogram")
        };
        assert!(buckets.windows(2).all(|w| w[0].less_than < w[1].less_than));
        assert!(buckets.windows(2).all(|w| w[0].count <= w[1].count));
        let last = buckets.last().expect("buckets");
        assert!(last.less_than.is_infinite(), "+Inf last: {buckets:?}");
        let count = self.value(&format!("{name}_count"), labels);
        assert_eq!(last.count, count, "the +Inf bucket is the count");
        buckets.clone()
    }

    /// Whether any sample carries this label.
    pub fn has_label(&self, key: &str, value: &str) -> bool {
        self.samples
            .iter()
            .any(|s| s.labels.get(key) == Some(value))
    }
}

/// The events of the requests a receiver got, counted by name.
fn events_by_name(receiver: &Receiver) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for r in receiver.received() {
        for e in r.events() {
            *counts
                .entry(e["event"].as_str().unwrap().to_owned())
                .or_default() += 1;
        }
    }
    counts
}

/// The labels of one endpoint's attempts of one outcome.
fn ep<'a>(endpoint: &'a str, outcome: &'a str) -> [(&'static str, &'a str); 2] {
    [("endpoint", endpoint), ("outcome", outcome)]
}

/// A whole conversation to two endpoints, one of which fails its first three attempts: the
/// counters agree with what each receiver saw and answered.
async fn events_and_attempts_are_counted_by_name_endpoint_and_outcome(store: TestStore) {
    let app = TestApp::builder(store)
        .retry_schedule("50ms,50ms")
        .spawn()
        .await;
    let healthy = Receiver::start().await;
    let flaky = Receiver::start().await;
    // Three attempts make a delivery fail for good: the first one fails, the rest go through.
    flaky.script([Reply::Status(500), Reply::Status(503), Reply::Status(500)]);
    let good = app.create_webhook(&healthy.url(), None).await;
    let bad = app.create_webhook(&flaky.url(), None).await;
    app.put_agent(&agent("U0ROY0001", "Roy"))
        .await
        .expect_status(201);
    let v = app.visitor_start(named("Metric"), Some("hello")).await;
    let c = &v.conversation_id;
    app.visitor_message(&v.token, c, "again").await;
    app.set_email(&v.token, c, "jen@reynholm.com").await;
    app.join(c, "U0ROY0001").await;
    app.agent_message(c, "U0ROY0001", "hi").await;
    app.end(c, "U0ROY0001").await;

    let events = app.deliveries(&good.id).await.len();
    assert!(events >= 6, "{events} events");
    healthy.wait_for(events, WAIT).await;
    let sent = flaky.wait_for(events + 2, WAIT).await;
    let answered = |ok: bool| {
        sent.iter()
            .filter(|r| r.status.get().is_some_and(|s| (*s == 200) == ok))
            .count()
    };
    for hook in [&good, &bad] {
        app.wait_until_deliveries(&hook.id, |log| {
            log.len() == events && log.iter().all(|d| d["status"] != "pending")
        })
        .await;
    }
    // Every outcome is recorded, so counted: the workers count one before recording it.
    let m = eventually("every attempt counted", WAIT, || async {
        let m = Metrics::scrape(&app).await;
        let total: f64 = ["delivered", "retried", "failed"]
            .iter()
            .map(|o| {
                m.value("palaver_delivery_attempts_total", &ep(&good.id, o))
                    + m.value("palaver_delivery_attempts_total", &ep(&bad.id, o))
            })
            .sum();
        if total == (events * 2 + 2) as f64 {
            Ok(m)
        } else {
            Err(total)
        }
    })
    .await;

    let by_name = events_by_name(&healthy);
    assert_eq!(by_name.values().sum::<usize>(), events);
    for (name, n) in &by_name {
        let counted = m.value("palaver_events_total", &[("event", name)]);
        assert_eq!(counted, *n as f64, "{name}");
    }
    assert_eq!(by_name["messageVisitor"], 2);
    assert_eq!(m.value("palaver_events_total", &[("event", "start")]), 1.0);

    let attempts =
        |hook: &str, outcome: &str| m.value("palaver_delivery_attempts_total", &ep(hook, outcome));
    assert_eq!(attempts(&good.id, "delivered"), events as f64);
    assert_eq!(attempts(&good.id, "retried"), 0.0);
    assert_eq!(attempts(&good.id, "failed"), 0.0);
    assert_eq!(attempts(&bad.id, "delivered"), answered(true) as f64);
    assert_eq!(attempts(&bad.id, "retried"), 2.0);
    assert_eq!(attempts(&bad.id, "failed"), 1.0);
    assert_eq!(answered(false), 3);
    let kind = [("endpoint", good.id.as_str()), ("kind", "webhook")];
    assert_eq!(m.value("palaver_endpoint_enabled", &kind), 1.0);

    // One duration per request each receiver got, bucketed up to the delivery timeout (15 s).
    let duration = "palaver_delivery_attempt_duration_seconds";
    for (hook, receiver) in [(&good, &healthy), (&bad, &flaky)] {
        let buckets = m.histogram(duration, &[("endpoint", &hook.id)]);
        assert_eq!(buckets.last().unwrap().count, receiver.count() as f64);
        assert_eq!(buckets[0].less_than, 0.001, "from 1 ms");
        assert_eq!(buckets[buckets.len() - 2].less_than, 15.0, "to the timeout");
        assert!(m.value(&format!("{duration}_sum"), &[("endpoint", &hook.id)]) > 0.0);
    }
    // The failed delivery waits to be redelivered; nothing else is left.
    let failed = app
        .deliveries(&bad.id)
        .await
        .iter()
        .filter(|d| d["status"] == "failed")
        .count();
    assert_eq!(failed, 1);
    assert_eq!(
        m.value("palaver_deliveries_failed", &[("endpoint", &bad.id)]),
        1.0
    );
    assert_eq!(
        m.value("palaver_deliveries_failed", &[("endpoint", &good.id)]),
        0.0
    );
    assert_eq!(
        m.value("palaver_deliveries_pending", &[("endpoint", &bad.id)]),
        0.0
    );
    assert!(
        m.histogram("palaver_store_commit_group_size", &[])
            .last()
            .unwrap()
            .count
            >= 6.0
    );
    assert!(
        m.histogram("palaver_store_flush_duration_seconds", &[])
            .last()
            .unwrap()
            .count
            >= 1.0
    );
    assert_eq!(m.value("palaver_ready", &[]), 1.0);

    // A deleted endpoint's series go with it.
    let path = format!("/webhooks/{}", bad.id);
    app.api(Method::DELETE, &path)
        .send()
        .await
        .expect_status(204);
    let m = Metrics::scrape(&app).await;
    assert!(!m.has_label("endpoint", &bad.id), "{}", m.text);
    assert!(m.has_label("endpoint", &good.id));
}
