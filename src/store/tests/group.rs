//! Commits that share a transaction (group commit) and deliveries handed off by their commit.

use super::conv::Conv;
use super::*;
use std::collections::HashMap;

on_every_store!(
    concurrent_commits_keep_each_lane_in_order,
    handed_off_deliveries_are_leased_and_taken_over_when_the_lease_ends,
);

/// Forty commits at once over four lanes, most of them sharing transactions (on PostgreSQL, in
/// one multi-row statement): one head per lane, and every event delivered once, in order.
async fn concurrent_commits_keep_each_lane_in_order(f: Fixture) {
    f.endpoint("a", ALL).await;
    let commits = (0..40).map(|i| {
        let (f, lane) = (&f, format!("v{}", i % 4));
        async move {
            f.event(&lane, EventName::MessageVisitor, &format!("[{i}]"))
                .await
        }
    });
    let made = futures::future::join_all(commits).await;
    assert!(made.iter().all(|n| *n == 1));
    let mut seen: HashMap<String, Vec<i64>> = HashMap::new();
    let mut now = 2000;
    loop {
        let claimed = f.claim_at(now).await;
        if claimed.is_empty() {
            break;
        }
        let mut lanes: Vec<&str> = claimed.iter().map(|c| c.lane.as_str()).collect();
        lanes.sort_unstable();
        lanes.dedup();
        assert_eq!(lanes.len(), claimed.len(), "one head per lane: {claimed:?}");
        for c in &claimed {
            seen.entry(c.lane.clone()).or_default().push(c.seq);
        }
        let delivered = claimed
            .iter()
            .map(|c| outcome(c, NextStep::Delivered))
            .collect();
        f.store.finish(delivered, Millis(now)).await.unwrap();
        now += 1;
    }
    assert_eq!(seen.len(), 4);
    for (lane, seqs) in &seen {
        assert_eq!(seqs.len(), 10, "every event of {lane} once");
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{lane} in order");
    }
}

/// With hand-off on, a lane's head is inserted leased to this process and given to its workers
/// whole; if the process dies with it, any process claims it once the lease ends.
async fn handed_off_deliveries_are_leased_and_taken_over_when_the_lease_ends(f: Fixture) {
    let a = f.endpoint("a", ALL).await;
    f.store.enable_handoff(std::time::Duration::from_secs(60));
    f.event("v1", EventName::Start, "[1]").await;
    f.event("v1", EventName::MessageVisitor, "[2]").await;
    let handed = f.store.take_handed_off(10);
    assert_eq!(handed.len(), 1, "only the lane's head: {handed:?}");
    let h = &handed[0];
    assert_eq!((h.endpoint_seq, h.body.as_str()), (a.seq, "[1]"));
    assert_eq!((h.attempt, h.tries), (1, 1));
    assert_eq!(h.url, "http://example.com/a");
    assert_eq!(h.secrets, vec!["whsec_AAAA".to_string()]);
    let now = Millis::now().0;
    assert!(f.claim_at(now).await.is_empty(), "leased by the hand-off");
    let taken = f.claim_at(now + 61_000).await;
    assert_eq!(taken.len(), 1, "taken over after the lease");
    assert_eq!((taken[0].seq, taken[0].attempt), (h.seq, 2));
    // The handed-off attempt's outcome is fenced off; the new one's settles the lane.
    let stale = outcome(h, NextStep::Failed);
    f.store.finish(vec![stale], Millis(now)).await.unwrap();
    let d = f.store.delivery(a.seq, &h.id).await.unwrap().unwrap();
    assert_eq!(d.status, DeliveryStatus::Pending);
    let done = outcome(&taken[0], NextStep::Delivered);
    f.store.finish(vec![done], Millis(now)).await.unwrap();
    // Next: handed off too (SQLite) or claimable at once (PostgreSQL), not both.
    let mut next = f.store.take_handed_off(10);
    next.extend(f.claim_at(now).await);
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].body, "[2]");
}

/// A group's commits fail alone: a stale version check fails its commit only, and a commit that
/// fails after writing (an idempotency key saved meanwhile) sends the group one by one.
#[tokio::test]
async fn a_group_isolates_its_failures() {
    let Some(f) = fixture(true).await else {
        eprintln!("skipped: PALAVER_TEST_DATABASE_URL is not set");
        return;
    };
    let pg = postgres::PgStore::open(&f.place.url(), 4).await.unwrap();
    f.endpoint("a", ALL).await;
    let mut convs = Vec::new();
    for name in ["ann", "bob", "cat", "dan"] {
        convs.push(Conv::start(&f, name, 1000).await);
    }
    let answer = StoredAnswer {
        fingerprint: "f".into(),
        status: 200,
        body: "{}".into(),
    };
    f.store
        .save_answer(f.team, "k1".into(), answer.clone(), Millis::now())
        .await
        .unwrap();
    let say = |c: &Conv, version: i64, key: Option<&str>| {
        let mut steps = vec![
            Step::CheckVisitor {
                seq: c.visitor,
                version,
            },
            Step::InsertMessage {
                conversation_seq: Some(c.seq),
                message: MessageRecord {
                    seq: 0,
                    id: format!("m_{}", c.name),
                    agent_id: None,
                    user_name: c.name.clone(),
                    user_picture: String::new(),
                    text: "hello".into(),
                    created_at: Millis(2000),
                    origin: String::new(),
                },
            },
            c.event(EventName::MessageVisitor),
        ];
        if let Some(key) = key {
            steps.push(Step::SaveAnswer {
                key: key.into(),
                answer: answer.clone(),
                at: Millis::now(),
            });
        }
        Commit {
            team_seq: f.team,
            steps,
        }
    };
    let group = vec![
        say(&convs[0], 1, Some("k0")),
        say(&convs[1], 7, None),
        say(&convs[2], 1, Some("k1")),
        say(&convs[3], 1, None),
    ];
    let results = pg.group.together(group).await;
    let outcome: Vec<String> = results
        .iter()
        .map(|r| match r {
            Ok(done) => format!("ok {}", done.deliveries),
            Err(e) => e.to_string(),
        })
        .collect();
    assert_eq!(
        outcome,
        vec![
            "ok 1",
            "conflict: VisitorVersion",
            "conflict: IdempotencyKey",
            "ok 1"
        ]
    );
    for (c, said) in convs.iter().zip([1, 0, 0, 1]) {
        let messages = f.store.messages(c.seq).await.unwrap();
        assert_eq!(messages.len(), said, "{}'s messages", c.name);
    }
    let saved = f.store.idempotent_answer(f.team, "k0").await.unwrap();
    assert!(saved.is_some(), "ann's answer saved with her message");
}
