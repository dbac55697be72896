use super::*;
use crate::store::{EndpointKind, Limits};

fn claimed(attempt: i64, tries: i64) -> Claimed {
    Claimed {
        seq: 1,
        id: "msg_1".into(),
        endpoint_seq: 1,
        kind: EndpointKind::Webhook,
        lane: "v".into(),
        attempt,
        tries,
        lease_until: Millis(0),
        url: "http://example.com/".into(),
        secrets: vec![],
        body: String::new(),
        batch_size: 1,
        limits: Limits::default(),
        batch_id: None,
        unsendable: None,
    }
}

/// Milliseconds from now until `next`'s time.
fn due_in(next: NextStep) -> i64 {
    match next {
        NextStep::RetryAt(at) | NextStep::WaitUntil(at) => at.0 - Millis::now().0,
        other => panic!("no time in {other:?}"),
    }
}

fn slow(status: u16, retry_after: Option<u64>) -> Answer {
    Answer::SlowDown {
        status,
        retry_after: retry_after.map(Duration::from_secs),
    }
}

#[test]
fn slow_downs_with_retry_after_and_429s_wait_uncounted() {
    let schedule = RetrySchedule::parse("100ms").unwrap();
    let pause = Some(Duration::from_secs(2));
    for answer in [slow(429, None), slow(429, Some(2)), slow(503, Some(2))] {
        let next = next_step(answer, pause, &claimed(1, 1), &schedule);
        assert!(
            matches!(next, NextStep::WaitUntil(_)),
            "{answer:?}: {next:?}"
        );
        assert!((1900..=2000).contains(&due_in(next)), "{next:?}");
        // The schedule is spent (tries 2 of 1 retry), yet it waits: it did not count.
        let spent = next_step(answer, pause, &claimed(2, 2), &schedule);
        assert!(matches!(spent, NextStep::WaitUntil(_)));
    }
    // Past that many attempts, waits count: a receiver that never stops cannot keep it for ever.
    let too_many = claimed(UNCOUNTED_WAITS + 1, 2);
    assert_eq!(
        next_step(slow(429, Some(2)), pause, &too_many, &schedule),
        NextStep::Failed
    );
}

#[test]
fn gateway_errors_without_retry_after_count_and_wait_out_the_pause() {
    let schedule = RetrySchedule::parse("100ms").unwrap();
    for status in [502, 503, 504] {
        let pause = Some(Duration::from_secs(4));
        let next = next_step(slow(status, None), pause, &claimed(1, 1), &schedule);
        assert!(matches!(next, NextStep::RetryAt(_)), "{next:?}");
        assert!(
            (3900..=4000).contains(&due_in(next)),
            "the pause, not 100ms"
        );
        let spent = next_step(slow(status, None), pause, &claimed(2, 2), &schedule);
        assert_eq!(spent, NextStep::Failed, "it counted");
    }
}

#[test]
fn a_timeout_waits_longer_than_a_failure() {
    let schedule = RetrySchedule::parse("1s,1h").unwrap();
    let c = claimed(1, 1);
    let failed = due_in(next_step(Answer::Failed, None, &c, &schedule));
    let timed_out = due_in(next_step(Answer::TimedOut, None, &c, &schedule));
    assert!((700..=1200).contains(&failed), "{failed}");
    assert!((3100..=4800).contains(&timed_out), "{timed_out}");
    assert_eq!(
        next_step(Answer::TimedOut, None, &claimed(3, 3), &schedule),
        NextStep::Failed
    );
}

#[test]
fn gone_waits_for_its_endpoint_and_success_is_delivered() {
    let schedule = RetrySchedule::parse("").unwrap();
    let next = next_step(
        Answer::Gone,
        Some(Duration::from_secs(10)),
        &claimed(1, 1),
        &schedule,
    );
    assert!(
        matches!(next, NextStep::WaitUntil(_)),
        "held, not failed: {next:?}"
    );
    assert_eq!(
        next_step(Answer::Delivered, None, &claimed(1, 1), &schedule),
        NextStep::Delivered
    );
    assert_eq!(
        next_step(Answer::Failed, None, &claimed(1, 1), &schedule),
        NextStep::Failed
    );
}

#[test]
fn deferred_requests_hand_back_every_member_and_keep_a_batch_parked() {
    let mut second = claimed(1, 1);
    second.seq = 2;
    let batch = Request {
        batch_id: Some("msg_b".into()),
        members: vec![claimed(1, 1), second],
    };
    let at = Millis(5000);
    let outcomes = deferred(batch, at);
    let nexts: Vec<NextStep> = outcomes.iter().map(|o| o.next).collect();
    assert_eq!(nexts, [NextStep::Deferred(at), NextStep::Deferred(PARKED)]);
}
