use super::*;
use prometheus_parse::{Scrape, Value};

fn parse(text: &str) -> Scrape {
    Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).expect("parses")
}

fn value(s: &Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    s.samples
        .iter()
        .find(|x| x.metric == name && labels.iter().all(|(k, v)| x.labels.get(k) == Some(*v)))
        .map(|x| match x.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => v,
            _ => f64::NAN,
        })
}

fn endpoint(seq: i64, id: &str) -> EndpointBacklog {
    EndpointBacklog {
        seq,
        id: id.into(),
        kind: "webhook",
        enabled: true,
        pending: 3,
        failed: 1,
        oldest_pending: Duration::from_millis(1500),
    }
}

/// Every family is written once, whole, with its help and type; the endpoints' series carry
/// their public id; a deleted endpoint's are gone; without the store, only the counters.
#[test]
fn renders_every_family_once_with_the_endpoints_labels() {
    // Seqs far from any other test's, which share the process's counters.
    delivery(9_001, Outcome::Delivered);
    delivery(9_001, Outcome::Retried);
    attempt_took(9_001, Duration::from_millis(3));
    delivery(9_002, Outcome::Failed);
    let backlog = Backlog {
        endpoints: vec![endpoint(9_001, "wh_one"), endpoint(9_002, "wh_two")],
        oldest_due: Duration::from_millis(250),
    };
    let text = render(Some(&backlog));
    let families: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    let mut unique = families.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), families.len(), "a family twice: {families:?}");
    // The samples of a family follow its TYPE line, before the next family's.
    let mut current = "";
    for line in text.lines() {
        if let Some(t) = line.strip_prefix("# TYPE ") {
            current = t.split(' ').next().unwrap();
        } else if !line.starts_with('#') {
            assert!(line.starts_with(current), "{line} outside {current}");
        }
    }

    let s = parse(&text);
    let one = [("endpoint", "wh_one"), ("kind", "webhook")];
    let out = |o: &'static str| [one[0], one[1], ("outcome", o)];
    assert_eq!(
        value(&s, "palaver_delivery_attempts_total", &out("delivered")),
        Some(1.0)
    );
    assert_eq!(
        value(&s, "palaver_delivery_attempts_total", &out("retried")),
        Some(1.0)
    );
    assert_eq!(
        value(&s, "palaver_delivery_attempts_total", &out("failed")),
        Some(0.0)
    );
    let two = [("endpoint", "wh_two"), ("outcome", "failed")];
    assert_eq!(
        value(&s, "palaver_delivery_attempts_total", &two),
        Some(1.0)
    );
    assert_eq!(value(&s, "palaver_deliveries_pending", &one), Some(3.0));
    assert_eq!(value(&s, "palaver_deliveries_failed", &one), Some(1.0));
    assert_eq!(
        value(&s, "palaver_oldest_pending_delivery_age_seconds", &one),
        Some(1.5)
    );
    assert_eq!(
        value(&s, "palaver_oldest_due_delivery_age_seconds", &[]),
        Some(0.25)
    );
    assert_eq!(value(&s, "palaver_ready", &[]), Some(1.0));
    let count = "palaver_delivery_attempt_duration_seconds_count";
    assert_eq!(value(&s, count, &one), Some(1.0));

    // The second endpoint was deleted; then the store stops answering.
    let backlog = Backlog {
        endpoints: vec![endpoint(9_001, "wh_one")],
        oldest_due: Duration::ZERO,
    };
    let text = render(Some(&backlog));
    assert!(!text.contains("wh_two"), "{text}");
    let text = render(None);
    let s = parse(&text);
    assert_eq!(value(&s, "palaver_ready", &[]), Some(0.0));
    assert_eq!(
        value(&s, "palaver_delivery_attempts_total", &out("delivered")),
        Some(1.0)
    );
    assert_eq!(value(&s, "palaver_deliveries_pending", &one), None);
}
