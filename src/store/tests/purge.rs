//! Retention's purges ([`crate::store::purge`]): what goes, what stays, in batches.

use super::*;
use crate::domain::ConversationStatus;
use crate::store::purge::{ConversationCursor, Purged};
use sqlx::Connection;

const PAGE: Page = Page {
    before: None,
    limit: 100,
};

on_every_store!(
    finished_deliveries_go_after_retention_with_attempts_and_test_events,
    message_retention_takes_old_ended_conversations_no_pending_delivery_needs,
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
    let pending = f.store.pending_deliveries().await.unwrap();
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

/// A visitor's conversation written as chat commits would (bodies whole: no transcript cut).
struct Conv {
    name: String,
    visitor: i64,
    seq: i64,
    version: i64,
    at: i64,
    said: usize,
}

impl Conv {
    /// A new visitor `name` whose conversation `c_<name>` starts at `at`, with its `start`.
    async fn start(f: &Fixture, name: &str, at: i64) -> Conv {
        let mut c = Conv {
            name: name.into(),
            visitor: 0,
            seq: 0,
            version: 1,
            at,
            said: 0,
        };
        let steps = vec![
            Step::InsertVisitor {
                id: format!("v_{name}"),
                name: name.into(),
                channel_name: format!("z-{name}"),
                identity: crate::domain::Identity::default(),
                token_hash: format!("tok_{name}"),
                at: Millis(at),
            },
            Step::InsertConversation {
                id: format!("c_{name}"),
                visitor_seq: None,
                at: Millis(at),
            },
            c.event(EventName::Start),
        ];
        let done = f.store.commit(Commit {
            team_seq: f.team,
            steps,
        });
        let done = done.await.unwrap();
        (c.visitor, c.seq) = (done.visitor_seq.unwrap(), done.conversation_seq.unwrap());
        c
    }

    fn event(&self, name: EventName) -> Step {
        Step::InsertEvent {
            id: crate::domain::new_id("evt_"),
            conversation_seq: (self.seq > 0).then_some(self.seq),
            name: name.as_str(),
            bit: name.bit(),
            lane: format!("v_{}", self.name),
            body: format!("[\"{} of {}\"]", name.as_str(), self.name),
            transcript: None,
            at: Millis(self.at),
        }
    }

    async fn commit(&mut self, f: &Fixture, mut steps: Vec<Step>) {
        steps.insert(
            0,
            Step::CheckVisitor {
                seq: self.visitor,
                version: self.version,
            },
        );
        let c = Commit {
            team_seq: f.team,
            steps,
        };
        f.store.commit(c).await.unwrap();
        self.version += 1;
    }

    async fn say(&mut self, f: &Fixture, text: &str) {
        self.said += 1;
        let message = MessageRecord {
            seq: 0,
            id: format!("m_{}_{}", self.name, self.said),
            agent_id: None,
            user_name: self.name.clone(),
            user_picture: String::new(),
            text: text.into(),
            created_at: Millis(self.at),
            origin: String::new(),
        };
        let steps = vec![
            Step::InsertMessage {
                conversation_seq: Some(self.seq),
                message,
            },
            self.event(EventName::MessageVisitor),
        ];
        self.commit(f, steps).await;
    }

    async fn end(&mut self, f: &Fixture, at: i64) {
        let end = Step::UpdateConversation {
            seq: Some(self.seq),
            status: ConversationStatus::Ended,
            agent_id: None,
            agent: None,
            ended_at: Some(Millis(at)),
        };
        let steps = vec![end, self.event(EventName::End)];
        self.commit(f, steps).await;
    }
}
