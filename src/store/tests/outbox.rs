//! The outbox's core: lane heads, filters, disabled endpoints, retries and leases, recovery,
//! redelivery.

use super::*;

on_every_store!(
    only_the_head_of_each_lane_is_claimed,
    filters_and_disabled_endpoints_get_nothing,
    a_disabled_endpoint_holds_its_deliveries_until_enabled,
    retries_wait_for_their_time_and_expired_leases_are_taken_over,
    a_failed_delivery_unblocks_its_lane_and_recovery_requeues_it,
    recovery_works_in_batches_and_resumes,
    redelivery_keeps_the_id,
);

async fn only_the_head_of_each_lane_is_claimed(f: Fixture) {
    let (a, b) = (f.endpoint("a", ALL).await, f.endpoint("b", ALL).await);
    assert_eq!(f.event("v1", EventName::Start, "[1]").await, 2);
    f.event("v1", EventName::MessageVisitor, "[2]").await;
    f.event("v2", EventName::Start, "[3]").await;
    let claimed = f.claim_at(2000).await;
    let mut got: Vec<(i64, String)> = claimed
        .iter()
        .map(|c| (c.endpoint_seq, c.body.clone()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            (a.seq, "[1]".into()),
            (a.seq, "[3]".into()),
            (b.seq, "[1]".into()),
            (b.seq, "[3]".into())
        ]
    );
    // Leased: nothing more until an outcome.
    assert!(f.claim_at(2000).await.is_empty());
    let first_a = claimed
        .iter()
        .find(|c| c.endpoint_seq == a.seq && c.body == "[1]")
        .unwrap();
    f.store
        .finish(vec![outcome(first_a, NextStep::Delivered)], Millis(2500))
        .await
        .unwrap();
    let next = f.claim_at(3000).await;
    assert_eq!(next.len(), 1);
    assert_eq!(
        (next[0].endpoint_seq, next[0].body.as_str()),
        (a.seq, "[2]")
    );
}

async fn filters_and_disabled_endpoints_get_nothing(f: Fixture) {
    f.endpoint("ends", EventName::End.bit()).await;
    let off = f.endpoint("off", ALL).await;
    assert!(
        f.store
            .disable_endpoint(off.seq, "off", Millis(500))
            .await
            .unwrap()
    );
    assert!(
        !f.store
            .disable_endpoint(off.seq, "again", Millis(600))
            .await
            .unwrap()
    );
    assert_eq!(f.event("v", EventName::Start, "[1]").await, 0);
    assert_eq!(f.event("v", EventName::End, "[2]").await, 1);
}

async fn a_disabled_endpoint_holds_its_deliveries_until_enabled(f: Fixture) {
    let a = f.endpoint("a", ALL).await;
    f.event("v1", EventName::Start, "[1]").await;
    f.event("v1", EventName::MessageVisitor, "[2]").await;
    f.event("v2", EventName::Start, "[3]").await;
    let first = f.claim_at(1000).await;
    assert_eq!(first.len(), 2, "the heads of v1 and v2");
    let one = first.iter().find(|c| c.body == "[1]").unwrap();
    let three = first.iter().find(|c| c.body == "[3]").unwrap();
    f.store
        .finish(
            vec![
                outcome(one, NextStep::RetryAt(Millis(50_000))),
                outcome(three, NextStep::Delivered),
            ],
            Millis(1100),
        )
        .await
        .unwrap();
    assert!(
        f.store
            .disable_endpoint(a.seq, "by hand", Millis(1200))
            .await
            .unwrap()
    );
    let e = f.store.endpoint(f.team, "a").await.unwrap().unwrap();
    assert!(!e.enabled);
    let d = e.disabled.unwrap();
    assert_eq!(
        (d.reason.as_str(), d.at, d.probe_at),
        ("by hand", Some(Millis(1200)), None)
    );
    // Held: nothing claimed, however late, and nothing to wake up for.
    let held = f
        .store
        .claim(Millis(60_000), Millis(120_000), 100)
        .await
        .unwrap();
    assert!(held.deliveries.is_empty());
    assert_eq!(held.next_due, None, "held rows are not worth a wake-up");
    // Disabled by hand, it gets no new deliveries.
    assert_eq!(f.event("v3", EventName::Start, "[4]").await, 0);
    assert!(f.store.enable_endpoint(a.seq, Millis(2000)).await.unwrap());
    assert!(!f.store.enable_endpoint(a.seq, Millis(2000)).await.unwrap());
    assert!(
        f.store
            .endpoint(f.team, "a")
            .await
            .unwrap()
            .unwrap()
            .disabled
            .is_none()
    );
    // Its retry was due at 50 s: enabled again, it goes at once, its retries unspent.
    let again = f.claim_at(2000).await;
    assert_eq!(again.len(), 1);
    assert_eq!(
        (again[0].body.as_str(), again[0].attempt, again[0].tries),
        ("[1]", 2, 2)
    );
    f.store
        .finish(vec![outcome(&again[0], NextStep::Delivered)], Millis(2100))
        .await
        .unwrap();
    let next = f.claim_at(2200).await;
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].body, "[2]", "then the rest of its lane, in order");
}

async fn retries_wait_for_their_time_and_expired_leases_are_taken_over(f: Fixture) {
    f.endpoint("a", ALL).await;
    f.event("v", EventName::Start, "[1]").await;
    let c = f.claim_at(2000).await.remove(0);
    assert_eq!((c.attempt, c.tries), (1, 1));
    f.store
        .finish(
            vec![outcome(&c, NextStep::RetryAt(Millis(10_000)))],
            Millis(2500),
        )
        .await
        .unwrap();
    let early = f
        .store
        .claim(Millis(9_999), Millis(69_999), 100)
        .await
        .unwrap();
    assert!(early.deliveries.is_empty(), "not before nextAttemptAt");
    assert_eq!(
        early.next_due,
        Some(Millis(10_000)),
        "the claim tells when to look again"
    );
    let again = f.claim_at(10_000).await.remove(0);
    assert_eq!(again.attempt, 2);
    // The worker holding attempt 2 dies; after the lease (60 s) another takes over.
    assert!(f.claim_at(10_000 + 59_999).await.is_empty());
    let taken = f.claim_at(10_000 + 60_000).await.remove(0);
    assert_eq!(taken.attempt, 3);
    // The stale worker's outcome is recorded but changes nothing: fencing by attempt.
    f.store
        .finish(vec![outcome(&again, NextStep::Failed)], Millis(2500))
        .await
        .unwrap();
    let d = f
        .store
        .deliveries(
            taken.endpoint_seq,
            None,
            Page {
                before: None,
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert_eq!(d[0].status, DeliveryStatus::Pending);
    f.store
        .finish(vec![outcome(&taken, NextStep::Delivered)], Millis(2500))
        .await
        .unwrap();
    let d = f
        .store
        .delivery(taken.endpoint_seq, &taken.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((d.status, d.attempts), (DeliveryStatus::Delivered, 3));
    assert_eq!(
        f.store.attempts(d.seq).await.unwrap().len(),
        3,
        "the stale attempt is in the log too"
    );
}

async fn a_failed_delivery_unblocks_its_lane_and_recovery_requeues_it(f: Fixture) {
    let e = f.endpoint("a", ALL).await;
    f.event("v", EventName::Start, "[1]").await;
    f.event("v", EventName::MessageVisitor, "[2]").await;
    let c = f.claim_at(2000).await.remove(0);
    f.store
        .finish(vec![outcome(&c, NextStep::Failed)], Millis(2500))
        .await
        .unwrap();
    let c2 = f.claim_at(3000).await.remove(0);
    assert_eq!(c2.body, "[2]");
    f.store
        .finish(vec![outcome(&c2, NextStep::Delivered)], Millis(2500))
        .await
        .unwrap();
    assert_eq!(
        f.store
            .create_recovery(e.seq, Millis(0), Millis(4000))
            .await
            .unwrap(),
        1
    );
    assert!(f.store.recovery_step(Millis(4000), 10).await.unwrap());
    assert!(
        !f.store.recovery_step(Millis(4000), 10).await.unwrap(),
        "the recovery is done"
    );
    let again = f.claim_at(5000).await.remove(0);
    assert_eq!((again.body.as_str(), again.tries), ("[1]", 1));
}

async fn recovery_works_in_batches_and_resumes(f: Fixture) {
    let e = f.endpoint("a", ALL).await;
    for i in 0..5 {
        f.event(&format!("v{i}"), EventName::Start, "[0]").await;
    }
    for c in f.claim_at(2000).await {
        f.store
            .finish(vec![outcome(&c, NextStep::Failed)], Millis(2500))
            .await
            .unwrap();
    }
    assert_eq!(
        f.store
            .create_recovery(e.seq, Millis(0), Millis(3000))
            .await
            .unwrap(),
        5
    );
    assert!(f.store.recovery_step(Millis(3000), 2).await.unwrap());
    assert_eq!(f.claim_at(4000).await.len(), 2);
    // Another store on the same file (as after a restart) finishes the rest.
    let restarted = open(&f.place.url(), 2).await.unwrap();
    while restarted.recovery_step(Millis(4000), 2).await.unwrap() {}
    assert_eq!(
        restarted
            .claim(Millis(5000), Millis(65_000), 100)
            .await
            .unwrap()
            .deliveries
            .len(),
        3
    );
}

async fn redelivery_keeps_the_id(f: Fixture) {
    f.endpoint("a", ALL).await;
    f.event("v", EventName::Start, "[1]").await;
    let c = f.claim_at(2000).await.remove(0);
    f.store
        .finish(vec![outcome(&c, NextStep::Delivered)], Millis(2500))
        .await
        .unwrap();
    f.store.redeliver(c.seq, Millis(3000)).await.unwrap();
    let again = f.claim_at(3000).await.remove(0);
    assert_eq!((again.id, again.attempt, again.tries), (c.id, 2, 1));
}
