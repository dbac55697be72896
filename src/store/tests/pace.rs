//! What the workers' pacing needs from the outbox: endpoints' limits stored and carried by
//! claims, and deliveries handed back unsent as if never claimed.

use super::*;

on_every_store!(
    limits_are_stored_and_come_with_claims,
    a_deferred_delivery_is_handed_back_as_if_never_claimed,
);

async fn limits_are_stored_and_come_with_claims(f: Fixture) {
    let mut e = f.endpoint("a", ALL).await;
    assert_eq!(e.limits, Limits::default());
    e.limits = Limits {
        max_in_flight: Some(3),
        max_per_second: Some(5),
    };
    f.store.update_endpoint(e.clone()).await.unwrap();
    let read = f.store.endpoint(f.team, "a").await.unwrap().unwrap();
    assert_eq!(read.limits, e.limits);
    f.event("v", EventName::Start, "[1]").await;
    let c = f.claim_at(2000).await.remove(0);
    assert_eq!(c.limits, e.limits);
    e.limits.max_per_second = None;
    f.store.update_endpoint(e.clone()).await.unwrap();
    let read = f.store.endpoint(f.team, "a").await.unwrap().unwrap();
    assert_eq!(read.limits.max_per_second, None, "null is no limit");
}

async fn a_deferred_delivery_is_handed_back_as_if_never_claimed(f: Fixture) {
    f.endpoint("a", ALL).await;
    f.event("v", EventName::Start, "[1]").await;
    let c = f.claim_at(2000).await.remove(0);
    assert_eq!((c.attempt, c.tries), (1, 1));
    f.store
        .finish(
            vec![outcome(&c, NextStep::Deferred(Millis(5000)))],
            Millis(2500),
        )
        .await
        .unwrap();
    let early = f
        .store
        .claim(Millis(4999), Millis(64_999), 100)
        .await
        .unwrap();
    assert!(early.deliveries.is_empty(), "not before it is due");
    assert_eq!(early.next_due, Some(Millis(5000)));
    let d = f
        .store
        .deliveries(
            c.endpoint_seq,
            None,
            Page {
                before: None,
                limit: 10,
            },
        )
        .await
        .unwrap()
        .remove(0);
    assert_eq!(d.attempts, 0, "no attempt counted: {d:?}");
    assert!(d.last_attempt.is_none(), "none recorded: {d:?}");
    assert_eq!(d.status, DeliveryStatus::Pending);
    let again = f.claim_at(5000).await.remove(0);
    assert_eq!(
        (again.attempt, again.tries),
        (1, 1),
        "its first attempt still"
    );
    // A hand-back from a lease that ran out changes nothing: fencing by attempt.
    let taken = f.claim_at(5000 + 60_000).await.remove(0);
    assert_eq!(taken.attempt, 2);
    f.store
        .finish(
            vec![outcome(&again, NextStep::Deferred(Millis(9000)))],
            Millis(65_100),
        )
        .await
        .unwrap();
    f.store
        .finish(vec![outcome(&taken, NextStep::Delivered)], Millis(65_200))
        .await
        .unwrap();
    assert!(
        f.claim_at(200_000).await.is_empty(),
        "delivered, not handed back"
    );
    assert_eq!(f.store.attempts(taken.seq).await.unwrap().len(), 1);
}
