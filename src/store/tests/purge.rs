//! Retention's purges ([`crate::store::purge`]): what goes, what stays, in batches.

use super::conv::Conv;
use super::*;
use crate::store::purge::{ConversationCursor, Purged};
use sqlx::Connection;

const PAGE: Page = Page {
    before: None,
    limit: 100,
};

on_every_store!(
    finished_deliveries_go_after_retention_with_attempts_and_test_events,
    message_retention_takes_old_ended_conversations_no_pending_delivery_needs,
    processes_purging_at_once_take_other_rows,
);

/// Counts rows with `sql` on the test's database, beside the store.
async fn count(f: &Fixture, sql: &str) -> i64 {
    match &f.place {
        Place::Sqlite(_) => {
            let url = format!("sqlite://{}", f.place.url());
            let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
            sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap()
        }
        Place::Postgres(db) => {
            let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
            sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap()
        }
    }
}

/// Claims every due delivery at `now` and settles each as `next` says (by its body), at `now`.
async fn settle(f: &Fixture, now: i64, next: impl Fn(&Claimed) -> NextStep) -> usize {
    let claimed = f.claim_at(now).await;
    let outcomes: Vec<Outcome> = claimed.iter().map(|c| outcome(c, next(c))).collect();
    f.store.finish(outcomes, Millis(now)).await.unwrap();
    claimed.len()
}

/// Delivers every due delivery, lane after lane, at `now`.
async fn deliver_all(f: &Fixture, now: i64) {
    while settle(f, now, |_| NextStep::Delivered).await > 0 {}
}

/// Purges deliveries in batches of `limit` until a batch comes back short.
async fn purge_deliveries(f: &Fixture, before: i64, limit: u32) -> (Purged, usize) {
    let (mut all, mut calls) = (Purged::default(), 0);
    loop {
        let p = f
            .store
            .purge_deliveries(Millis(before), limit)
            .await
            .unwrap();
        all += p;
        calls += 1;
        if p.deliveries < u64::from(limit) {
            return (all, calls);
        }
    }
}

async fn purge_conversations(f: &Fixture, before: i64, limit: u32) -> Purged {
    let mut after: ConversationCursor = (i64::MIN, i64::MIN);
    let mut all = Purged::default();
    loop {
        let (p, next) = f
            .store
            .purge_conversations(Millis(before), after, limit)
            .await
            .unwrap();
        all += p;
        match next {
            Some(next) => after = next,
            None => return all,
        }
    }
}

/// The team feed after `after` once `n` events are final. On PostgreSQL a write transaction of
/// any database of the cluster (other tests run beside this one) holds the horizon back while
/// it runs: the feed is read again, for at most 20 s.
async fn final_feed(f: &Fixture, after: FeedPosition, n: usize) -> Vec<FeedEvent> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let b = f.store.feed_after(f.team, after, 100).await.unwrap();
        if (!b.held && b.events.len() >= n) || std::time::Instant::now() > deadline {
            return b.events;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

async fn finished_deliveries_go_after_retention_with_attempts_and_test_events(f: Fixture) {
    let a = f.endpoint("a", ALL).await;
    for lane in ["t1", "t2", "t3", "t4"] {
        f.event(lane, EventName::Start, &format!("[\"{lane}\"]"))
            .await;
    }
    Conv::start(&f, "ann", 1000).await; // a chat event: stays with its conversation
    // t1 and ann's delivered, t2 failed after two attempts, all long ago; t3 delivered lately;
    // t4 pending, waiting for a retry.
    settle(&f, 2000, |c| match c.body.as_str() {
        "[\"t2\"]" => NextStep::RetryAt(Millis(2500)),
        "[\"t3\"]" => NextStep::RetryAt(Millis(50_000)),
        "[\"t4\"]" => NextStep::RetryAt(Millis(9_000_000_000_000)),
        _ => NextStep::Delivered,
    })
    .await;
    settle(&f, 2500, |_| NextStep::Failed).await;
    settle(&f, 50_000, |_| NextStep::Delivered).await;
    f.event("t5", EventName::Start, "[\"t5\"]").await; // pending, never tried, the newest
    assert_eq!(count(&f, "SELECT COUNT(*) FROM attempts").await, 7);

    let (p, calls) = purge_deliveries(&f, 10_000, 2).await;
    let expected = Purged {
        deliveries: 3,
        attempts: 4,
        events: 2, // t1's and t2's test events; ann's start stays
        ..Purged::default()
    };
    assert_eq!((p, calls), (expected, 2), "in batches of two");
    let left: Vec<String> = f
        .store
        .deliveries(a.seq, None, PAGE)
        .await
        .unwrap()
        .into_iter()
        .map(|d| format!("{}:{}", d.event, d.status.as_str()))
        .collect();
    assert_eq!(
        left.len(),
        3,
        "t3 delivered lately, t4 and t5 pending: {left:?}"
    );
    assert_eq!(
        count(&f, "SELECT COUNT(*) FROM attempts").await,
        3,
        "t3's and t4's"
    );
    assert_eq!(
        count(
            &f,
            "SELECT COUNT(*) FROM events WHERE conversation_seq IS NULL"
        )
        .await,
        3
    );
    let chat_events = "SELECT COUNT(*) FROM events WHERE conversation_seq IS NOT NULL";
    assert_eq!(
        count(&f, chat_events).await,
        1,
        "ann's start stays (the team feed's)"
    );

    // Later, t3 is old enough too; pending ones are never purged, however old.
    let (p, _) = purge_deliveries(&f, 9_000_000_000_000_000, 100).await;
    assert_eq!((p.deliveries, p.attempts, p.events), (1, 2, 1));
    let backlog = f.store.backlog(Millis::now()).await.unwrap();
    let pending: i64 = backlog.endpoints.iter().map(|e| e.pending).sum();
    assert_eq!(pending, 2);
    assert_eq!(count(&f, "SELECT COUNT(*) FROM deliveries").await, 2);
}

async fn message_retention_takes_old_ended_conversations_no_pending_delivery_needs(f: Fixture) {
    let a = f.endpoint("a", ALL).await;
    let mut ann = Conv::start(&f, "ann", 1000).await;
    ann.say(&f, "hello").await;
    ann.say(&f, "anyone?").await;
    f.store
        .add_note(NoteRecord {
            id: "n_1".into(),
            conversation_seq: ann.seq,
            agent_id: "U1".into(),
            user_name: "Moss".into(),
            text: "a private note".into(),
            created_at: Millis(1000),
            origin: String::new(),
        })
        .await
        .unwrap();
    ann.end(&f, 1000).await;
    let mut bob = Conv::start(&f, "bob", 1000).await;
    bob.say(&f, "hi").await;
    bob.end(&f, 1000).await;
    let mut cat = Conv::start(&f, "cat", 1000).await;
    cat.end(&f, 50_000).await; // ended lately
    deliver_all(&f, 2000).await;
    // Bob's end was not delivered: its delivery is pending again (redelivered).
    let bobs: Vec<DeliveryRecord> = f.store.deliveries(a.seq, None, PAGE).await.unwrap();
    let bobs_end = bobs
        .iter()
        .find(|d| d.event == "end" && d.channel_name.as_deref() == Some("z-bob"))
        .expect("bob's end delivery");
    f.store.redeliver(bobs_end.seq, Millis(3000)).await.unwrap();
    // Open, however old; and the newest conversation, event and message (SQLite keeps those).
    let mut dan = Conv::start(&f, "dan", 1000).await;
    dan.say(&f, "still there").await;
    let ann_version = ann.version;
    let feed = final_feed(&f, FeedPosition::START, 14).await;
    let anns_last = feed.iter().rfind(|e| e.conversation_id == "c_ann").unwrap();
    let (anns_last, after_ann) = (anns_last.position.seq, feed.len() - 4);

    let p = purge_conversations(&f, 10_000, 1).await;
    let expected = Purged {
        conversations: 1,
        messages: 2,
        notes: 1,
        events: 4,
        deliveries: 4,
        attempts: 4,
    };
    assert_eq!(p, expected, "ann's conversation and everything of it");
    assert!(
        f.store
            .conversation(f.team, "c_ann")
            .await
            .unwrap()
            .is_none()
    );
    assert!(f.store.messages(ann.seq).await.unwrap().is_empty());
    assert!(f.store.notes(ann.seq).await.unwrap().is_empty());
    let per = |c: i64| format!("SELECT COUNT(*) FROM events WHERE conversation_seq = {c}");
    assert_eq!(count(&f, &per(ann.seq)).await, 0);
    for (c, messages) in [("c_bob", 1), ("c_cat", 0), ("c_dan", 1)] {
        let kept = f.store.conversation(f.team, c).await.unwrap();
        let kept = kept.unwrap_or_else(|| panic!("{c} is kept"));
        assert_eq!(f.store.messages(kept.seq).await.unwrap().len(), messages);
        assert!(count(&f, &per(kept.seq)).await > 0, "{c}'s events");
    }
    // A team feed that sent ann's last event resumes after it, skipping nothing.
    let at = f.store.feed_position(f.team, anns_last).await.unwrap();
    let at = at.expect("a purged event is still a position");
    let rest = final_feed(&f, at, after_ann).await;
    assert_eq!(rest.len(), after_ann, "{rest:?}");
    assert!(rest.iter().all(|e| e.conversation_id != "c_ann"));
    let unknown = f.store.feed_position(f.team, anns_last + 1000).await;
    assert_eq!(unknown.unwrap(), None, "never an event's");
    // The visitor stays; what a process kept of them is out of date (version check).
    assert!(f.store.visitor(ann.visitor).await.unwrap().is_some());
    let stale = Commit {
        team_seq: f.team,
        steps: vec![Step::CheckVisitor {
            seq: ann.visitor,
            version: ann_version,
        }],
    };
    assert!(matches!(
        f.store.commit(stale).await,
        Err(StoreError::Conflict(ConflictKind::VisitorVersion))
    ));

    // Once bob's end is delivered, nothing needs his conversation any more.
    deliver_all(&f, 4000).await;
    let p = purge_conversations(&f, 10_000, 10).await;
    assert_eq!((p.conversations, p.messages, p.events), (1, 1, 3));
    assert!(
        f.store
            .conversation(f.team, "c_bob")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        f.store
            .conversation(f.team, "c_cat")
            .await
            .unwrap()
            .is_some()
    );
}

/// PostgreSQL: two processes purging one store at once each take other rows, never waiting
/// for the other; together they take every one once.
async fn processes_purging_at_once_take_other_rows(f: Fixture) {
    if !matches!(f.place, Place::Postgres(_)) {
        return; // one process owns a SQLite store
    }
    f.endpoint("a", ALL).await;
    for i in 0..300 {
        f.event(&format!("v{i}"), EventName::Start, "[1]").await;
    }
    deliver_all(&f, 2000).await;
    let other = open(&f.place.url(), 4).await.unwrap();
    let purger = |store: Arc<dyn Store>| async move {
        let mut taken = Purged::default();
        loop {
            let p = store.purge_deliveries(Millis(10_000), 7).await.unwrap();
            if p.deliveries == 0 {
                return taken;
            }
            taken += p;
        }
    };
    let (a, b) = tokio::join!(purger(f.store.clone()), purger(other));
    assert_eq!(a.deliveries + b.deliveries, 300, "{a:?} {b:?}");
    assert_eq!(a.attempts + b.attempts, 300);
    assert_eq!(count(&f, "SELECT COUNT(*) FROM deliveries").await, 0);
    assert_eq!(count(&f, "SELECT COUNT(*) FROM events").await, 0);
}
