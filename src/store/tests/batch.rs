//! Batches in the outbox: formed under a fence, the leader claimed with its parked members,
//! settled as one.

use super::*;

on_every_store!(a_batch_is_claimed_and_settled_as_one);

async fn a_batch_is_claimed_and_settled_as_one(f: Fixture) {
    f.endpoint("a", ALL).await;
    for lane in ["v1", "v2", "v3"] {
        f.event(lane, EventName::Start, &format!("[{lane}]")).await;
    }
    f.event("v1", EventName::MessageVisitor, "[v1 again]").await;
    let mut claimed = f.claim_at(2000).await;
    claimed.sort_by_key(|c| c.seq);
    assert_eq!(claimed.len(), 3, "the three lane heads");
    let members: Vec<(i64, i64)> = claimed.iter().map(|c| (c.seq, c.attempt)).collect();
    // A member whose lease is no longer the caller's stays out.
    let mut stale = members.clone();
    stale[2].1 += 7;
    let joined = f.store.form_batch("msg_batch1", &stale).await.unwrap();
    assert_eq!(joined, vec![members[0].0, members[1].0]);
    // Failed: the leader is due again at the retry time, the other member parked behind it.
    let outcomes = vec![
        outcome(&claimed[0], NextStep::RetryAt(Millis(10_000))),
        outcome(&claimed[1], NextStep::RetryAt(PARKED)),
    ];
    f.store.finish(outcomes, Millis(2500)).await.unwrap();
    // The third lane head was left out of the batch: its lease runs out at 62,000.
    let early = f
        .store
        .claim(Millis(10_000), Millis(70_000), 100)
        .await
        .unwrap();
    let mut again = early.deliveries;
    again.sort_by_key(|c| c.seq);
    assert_eq!(
        again
            .iter()
            .map(|c| (c.seq, c.batch_id.as_deref(), c.attempt))
            .collect::<Vec<_>>(),
        vec![
            (members[0].0, Some("msg_batch1"), 2),
            (members[1].0, Some("msg_batch1"), 2),
        ],
        "the leader comes with its member, each attempt counted"
    );
    assert!(
        f.claim_at(20_000).await.is_empty(),
        "nothing is claimable while the batch is out (the parked member is not)"
    );
    let d = f
        .store
        .delivery(again[1].endpoint_seq, &again[1].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.batch_id.as_deref(), Some("msg_batch1"));
    assert_eq!(
        d.next_attempt_at,
        Some(Millis(70_000)),
        "a member shows its batch's time"
    );
    let outcomes = again
        .iter()
        .map(|c| outcome(c, NextStep::Delivered))
        .collect();
    f.store.finish(outcomes, Millis(20_500)).await.unwrap();
    // Both lanes moved on: v1's second event is claimable.
    let next = f.claim_at(21_000).await;
    assert_eq!(next.len(), 1);
    assert_eq!(
        (next[0].body.as_str(), next[0].batch_id.as_deref()),
        ("[v1 again]", None)
    );
    // Redelivered, a member leaves its batch: it goes alone, under its own id.
    f.store
        .redeliver(again[1].seq, Millis(22_000))
        .await
        .unwrap();
    let alone = f.claim_at(23_000).await;
    assert_eq!(alone.len(), 1);
    assert_eq!(
        (alone[0].seq, alone[0].batch_id.as_deref()),
        (again[1].seq, None)
    );
}
