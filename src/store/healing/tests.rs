use super::*;
use crate::store::{AttemptRecord, Claimed};

fn outcome(endpoint: i64, at: i64, next: NextStep, error: Option<&str>) -> Outcome {
    Outcome {
        claimed: Claimed {
            seq: at,
            id: format!("msg_{at}"),
            endpoint_seq: endpoint,
            kind: EndpointKind::Webhook,
            lane: "v".into(),
            attempt: 1,
            tries: 1,
            lease_until: Millis(0),
            url: "http://example.com/hook".into(),
            secrets: vec![],
            body: String::new(),
            batch_size: 1,
            limits: Default::default(),
            batch_id: None,
            unsendable: None,
        },
        attempt: AttemptRecord {
            n: 1,
            at: Millis(at),
            status_code: None,
            duration_ms: 1,
            error: error.map(str::to_string),
            response_body: String::new(),
        },
        next,
    }
}

fn state(enabled: bool, failing_since: Option<i64>, probe_at: Option<i64>) -> EndpointState {
    EndpointState {
        seq: 1,
        team_seq: 1,
        id: "ep_1".into(),
        url: "https://user:pw@example.com:8443/hook?token=x".into(),
        description: String::new(),
        enabled,
        failing_since: failing_since.map(Millis),
        probe_at: probe_at.map(Millis),
    }
}

const DAY: i64 = 86_400_000;

fn failed(at: i64, error: &str) -> Attempts {
    Attempts {
        succeeded: false,
        first_failure: Some(Millis(at)),
        last_error: Some(error.into()),
    }
}

#[test]
fn a_batch_says_whether_its_endpoints_failed_since_their_last_success() {
    let retry = NextStep::RetryAt(Millis(0));
    let outcomes = vec![
        outcome(1, 30, retry, Some("the receiver answered 500")),
        outcome(1, 10, retry, Some("timed out")),
        outcome(1, 20, NextStep::Delivered, None),
        outcome(2, 5, NextStep::Failed, Some("could not connect")),
        outcome(3, 7, NextStep::Delivered, None),
    ];
    let by = attempts_by_endpoint(&outcomes);
    assert_eq!(
        by[&1],
        Attempts {
            succeeded: true,
            first_failure: Some(Millis(30)),
            last_error: Some("the receiver answered 500".into())
        }
    );
    assert_eq!(by[&2], failed(5, "could not connect"));
    assert_eq!((by[&3].succeeded, by[&3].first_failure), (true, None));
    assert_eq!(endpoints_of(&outcomes), [1, 2, 3]);
}

#[test]
fn every_attempt_failing_long_enough_disables_and_a_success_heals() {
    let rules = HealthRules::default();
    let now = Millis(10 * DAY);
    // The first failure starts the clock; later ones leave it.
    assert_eq!(
        decide(&state(true, None, None), &failed(now.0, "x"), now, &rules),
        Some(Change::FailingSince(Some(now)))
    );
    let young = state(true, Some(now.0 - 5 * DAY + 1), None);
    assert_eq!(decide(&young, &failed(now.0, "x"), now, &rules), None);
    // Five days of failures: disabled, saying why.
    let old = state(true, Some(now.0 - 5 * DAY), None);
    match decide(
        &old,
        &failed(now.0, "the receiver answered 503"),
        now,
        &rules,
    ) {
        Some(Change::Disable {
            failing_since,
            reason,
        }) => {
            assert_eq!(failing_since, Millis(now.0 - 5 * DAY));
            assert!(
                reason.starts_with("every delivery failed for 5 days"),
                "{reason}"
            );
            assert!(reason.contains("the receiver answered 503"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    // Zero never disables.
    let never = HealthRules {
        disable_after: Duration::ZERO,
        ..rules
    };
    assert_eq!(decide(&old, &failed(now.0, "x"), now, &never), None);
    // Disabled already: nothing more (its probes are what change it).
    let off = state(false, Some(0), Some(now.0 + 1));
    assert_eq!(decide(&off, &failed(now.0, "x"), now, &rules), None);
    // A success resets the clock, and enables an endpoint disabled for failing.
    let ok = Attempts {
        succeeded: true,
        ..Attempts::default()
    };
    assert_eq!(
        decide(&old, &ok, now, &rules),
        Some(Change::FailingSince(None))
    );
    assert_eq!(decide(&state(true, None, None), &ok, now, &rules), None);
    assert_eq!(
        decide(&off, &ok, now, &rules),
        Some(Change::Enable {
            failing_since: None
        })
    );
    // Disabled by hand (not probed): a late success only resets the clock.
    let by_hand = state(false, Some(5), None);
    assert_eq!(
        decide(&by_hand, &ok, now, &rules),
        Some(Change::FailingSince(None))
    );
}

#[test]
fn failures_of_disabled_endpoints_are_held_uncounted() {
    let now = Millis(1000);
    let mut outcomes = vec![
        outcome(1, 1, NextStep::Failed, Some("x")),
        outcome(2, 2, NextStep::RetryAt(Millis(5000)), Some("x")),
        outcome(3, 3, NextStep::RetryAt(Millis(5000)), Some("x")),
        outcome(1, 4, NextStep::Delivered, None),
    ];
    let mut probed = state(false, Some(0), Some(9000));
    probed.seq = 1;
    let mut by_hand = state(false, None, None);
    by_hand.seq = 2;
    let mut on = state(true, None, None);
    on.seq = 3;
    let held = hold_failures(&mut outcomes, &[probed, by_hand, on], now);
    assert_eq!(held, [(1, 1), (2, 2)]);
    let next: Vec<NextStep> = outcomes.iter().map(|o| o.next).collect();
    assert_eq!(
        next,
        [
            NextStep::WaitUntil(Millis(9000)),
            NextStep::WaitUntil(now),
            NextStep::RetryAt(Millis(5000)),
            NextStep::Delivered
        ]
    );
}

#[test]
fn durations_read_in_words_and_destinations_keep_no_secret() {
    assert_eq!(in_words(Duration::from_secs(5 * 86_400)), "5 days");
    assert_eq!(in_words(Duration::from_secs(36 * 3600)), "36 hours");
    assert_eq!(in_words(Duration::from_secs(3600)), "1 hour");
    assert_eq!(in_words(Duration::from_secs(2)), "2 seconds");
    assert_eq!(in_words(Duration::from_millis(300)), "300 milliseconds");
    assert_eq!(
        destination("https://user:pw@example.com:8443/hook?token=x"),
        "https://example.com:8443"
    );
    assert_eq!(destination("http://example.com/a/b"), "http://example.com");
    let body = notice_body(
        "endpointDisabled",
        &state(false, None, None),
        Some("why"),
        Millis(0),
        &HealthRules::default(),
    );
    assert!(!body.contains("pw") && !body.contains("token"), "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v[0]["endpoint"]["probeEvery"], "1 hour");
}
