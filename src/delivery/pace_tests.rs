use super::*;
use crate::store::EndpointKind;

fn request(seq: i64, endpoint: i64, limits: Limits) -> Request {
    Request {
        batch_id: None,
        members: vec![Claimed {
            seq,
            id: format!("msg_{seq}"),
            endpoint_seq: endpoint,
            kind: EndpointKind::Webhook,
            lane: format!("lane{seq}"),
            attempt: 1,
            tries: 1,
            lease_until: Millis::now().plus_ms(60_000),
            url: "http://example.com/".into(),
            secrets: vec![],
            body: "[]".into(),
            batch_size: 1,
            limits,
            batch_id: None,
            unsendable: None,
        }],
    }
}

fn in_flight(n: u32) -> Limits {
    Limits {
        max_in_flight: Some(n),
        max_per_second: None,
    }
}

fn per_second(n: u32) -> Limits {
    Limits {
        max_in_flight: None,
        max_per_second: Some(n),
    }
}

fn far() -> Millis {
    Millis::now()
}

/// Admits `requests` and releases what may go; answers the sorting.
fn run(pace: &mut Pace, requests: Vec<Request>, now: Instant) -> Sorted {
    let mut out = Sorted::default();
    for r in requests {
        pace.admit(r, now, &mut out);
    }
    pace.release(now, far(), &mut out);
    out
}

fn seqs(go: &[(Request, bool)]) -> Vec<i64> {
    go.iter().map(|(r, _)| r.members[0].seq).collect()
}

#[test]
fn unlimited_endpoints_go_at_once_and_leave_no_state() {
    let mut pace = Pace::default();
    let out = run(
        &mut pace,
        (1..=50).map(|s| request(s, 1, Limits::default())).collect(),
        Instant::now(),
    );
    assert_eq!(out.go.len(), 50);
    assert!(out.go.iter().all(|(_, counted)| !counted));
    assert!(out.defer.is_empty());
    assert!(pace.endpoints.is_empty(), "nothing kept for them");
}

#[test]
fn max_in_flight_holds_the_rest_until_one_returns() {
    let mut pace = Pace::default();
    let now = Instant::now();
    let out = run(
        &mut pace,
        (1..=5).map(|s| request(s, 7, in_flight(3))).collect(),
        now,
    );
    assert_eq!(seqs(&out.go), [1, 2, 3], "oldest first, three at once");
    assert!(out.go.iter().all(|(_, counted)| *counted));
    assert!(out.defer.is_empty(), "the two others wait here");
    assert!(run(&mut pace, vec![], now).go.is_empty(), "no room");
    assert!(pace.returned(7), "requests wait for that room");
    assert_eq!(seqs(&run(&mut pace, vec![], now).go), [4]);
    // Other endpoints are not held back by endpoint 7's limit.
    let other = run(&mut pace, vec![request(9, 8, Limits::default())], now);
    assert_eq!(seqs(&other.go), [9]);
}

#[test]
fn past_what_may_wait_requests_are_handed_back_for_later() {
    let mut pace = Pace::default();
    let now = Instant::now();
    let out = run(
        &mut pace,
        (1..=20).map(|s| request(s, 7, in_flight(2))).collect(),
        now,
    );
    assert_eq!(out.go.len(), 2);
    // 2 × 2 may wait (at least 4); the rest are handed back, later the further behind.
    assert_eq!(out.defer.len(), 20 - 4);
    let dues: Vec<i64> = out.defer.iter().map(|(_, at)| at.0).collect();
    assert!(dues.windows(2).all(|w| w[0] <= w[1]), "{dues:?}");
    assert!(dues[0] >= Millis::now().0 + 90, "{dues:?}");
}

#[test]
fn max_per_second_spaces_starts_evenly() {
    let mut pace = Pace::default();
    let t0 = Instant::now();
    let out = run(
        &mut pace,
        (1..=4).map(|s| request(s, 7, per_second(5))).collect(),
        t0,
    );
    assert_eq!(seqs(&out.go), [1], "no burst");
    let next = pace.next_wake().expect("a wake for the next start");
    assert_eq!(next - t0, Duration::from_millis(200));
    assert!(
        run(&mut pace, vec![], t0 + Duration::from_millis(199))
            .go
            .is_empty()
    );
    let at = t0 + Duration::from_millis(200);
    assert_eq!(seqs(&run(&mut pace, vec![], at).go), [2]);
    // Late: still only one, and the next 200 ms after it.
    let late = t0 + Duration::from_millis(1000);
    assert_eq!(seqs(&run(&mut pace, vec![], late).go), [3]);
    assert_eq!(pace.next_wake().unwrap() - late, Duration::from_millis(200));
}

#[test]
fn a_slow_down_pauses_every_lane_of_its_endpoint_only() {
    let mut pace = Pace::default();
    let now = Instant::now();
    let slow = Answer::SlowDown {
        status: 503,
        retry_after: Some(Duration::from_secs(2)),
    };
    let answered = pace.answered(7, slow, Duration::from_millis(5), now);
    assert_eq!(answered.pause, Some(Duration::from_secs(2)));
    let out = run(
        &mut pace,
        vec![
            request(1, 7, Limits::default()),
            request(2, 8, Limits::default()),
        ],
        now + Duration::from_millis(500),
    );
    assert_eq!(seqs(&out.go), [2], "the other endpoint goes");
    assert_eq!(out.defer.len(), 1);
    let (r, due) = &out.defer[0];
    assert_eq!(r.members[0].seq, 1);
    let left = due.0 - Millis::now().0;
    assert!(
        (1400..=1600).contains(&left),
        "due when the pause ends: {left}"
    );
    let after = run(
        &mut pace,
        vec![request(3, 7, Limits::default())],
        now + Duration::from_secs(2),
    );
    assert_eq!(seqs(&after.go), [3], "the pause is over");
}

#[test]
fn a_pause_hands_back_what_waits_for_room() {
    let mut pace = Pace::default();
    let now = Instant::now();
    let out = run(
        &mut pace,
        (1..=3).map(|s| request(s, 7, in_flight(1))).collect(),
        now,
    );
    assert_eq!(out.go.len(), 1);
    let slow = Answer::SlowDown {
        status: 429,
        retry_after: None,
    };
    let answered = pace.answered(7, slow, Duration::from_millis(5), now);
    assert!(answered.wake, "two wait: the dispatcher hands them back");
    let out = run(&mut pace, vec![], now);
    assert_eq!(out.defer.len(), 2);
    assert!(out.go.is_empty());
    assert!(!pace.returned(7), "nothing waits any more");
}

#[test]
fn without_retry_after_the_pause_doubles_and_a_success_starts_it_over() {
    let mut pace = Pace::default();
    let now = Instant::now();
    let slow = Answer::SlowDown {
        status: 502,
        retry_after: None,
    };
    let took = Duration::from_millis(1);
    let pauses: Vec<Duration> = (0..3)
        .map(|_| pace.answered(7, slow, took, now).pause.unwrap())
        .collect();
    // A longer pause already running is kept.
    assert_eq!(pauses, [1, 2, 4].map(Duration::from_secs));
    pace.answered(7, Answer::Delivered, took, now + Duration::from_secs(5));
    let later = now + Duration::from_secs(5);
    assert_eq!(
        pace.answered(7, slow, took, later).pause,
        Some(Duration::from_secs(1))
    );
    assert_eq!(backoff(1), FIRST_BACKOFF);
    assert_eq!(backoff(9), Duration::from_secs(256));
    assert_eq!(backoff(10), MAX_BACKOFF);
    assert_eq!(backoff(1000), MAX_BACKOFF);
}

#[test]
fn gone_holds_the_endpoint_back_and_failures_do_not() {
    let mut pace = Pace::default();
    let now = Instant::now();
    let took = Duration::from_millis(1);
    assert_eq!(
        pace.answered(7, Answer::Failed, took, now),
        Answered::default()
    );
    assert_eq!(
        pace.answered(7, Answer::TimedOut, took, now),
        Answered::default()
    );
    assert!(pace.endpoints.is_empty());
    let gone = pace.answered(7, Answer::Gone, took, now);
    assert_eq!(gone.pause, Some(GONE_HOLD));
    let out = run(&mut pace, vec![request(1, 7, Limits::default())], now);
    assert_eq!(out.defer.len(), 1);
}

#[test]
fn requests_whose_lease_would_run_out_are_handed_back_due_now() {
    let mut pace = Pace::default();
    let now = Instant::now();
    let mut out = Sorted::default();
    for s in 1..=3 {
        pace.admit(request(s, 7, in_flight(1)), now, &mut out);
    }
    // The leases (a minute) end before an attempt could (the cutoff is past them).
    pace.release(now, Millis::now().plus_ms(120_000), &mut out);
    assert!(out.go.is_empty());
    assert_eq!(out.defer.len(), 3);
    assert!(out.defer.iter().all(|(_, at)| at.0 <= Millis::now().0));
}

#[test]
fn stopping_hands_back_every_waiting_request() {
    let mut pace = Pace::default();
    let out = run(
        &mut pace,
        (1..=3).map(|s| request(s, 7, in_flight(1))).collect(),
        Instant::now(),
    );
    assert_eq!(out.go.len(), 1);
    let waiting: Vec<i64> = pace.drain().iter().map(|r| r.members[0].seq).collect();
    assert_eq!(waiting, [2, 3]);
    assert!(pace.drain().is_empty());
}
