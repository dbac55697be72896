//! The team feed's reads: a team's chat events with their event-time facts and messages, and
//! on PostgreSQL the horizon that keeps a feed from passing an event that commits later.

use super::*;
use crate::domain::payload::EventContext;
use crate::domain::{Identity, MessageView, Transcript};
use crate::store::feed::FeedBatch;

on_every_store!(
    a_feed_reads_the_teams_chat_events_in_order_with_their_facts,
    a_feed_waits_for_older_transactions
);

/// A conversation being written through commits, as chat would.
struct Chat {
    visitor: i64,
    conversation: i64,
    transcript: Transcript,
    /// The visitor's version (the next commit's check).
    version: i64,
}

impl Fixture {
    /// A new visitor's conversation, with its `start` event.
    async fn start(&self, team: i64, name: &str) -> Chat {
        let mut c = Chat {
            visitor: 0,
            conversation: 0,
            transcript: Transcript::default(),
            version: 1,
        };
        let steps = vec![
            Step::InsertVisitor {
                id: format!("v_{name}"),
                name: name.into(),
                channel_name: format!("z-{name}"),
                identity: Identity::default(),
                token_hash: format!("tok_{name}"),
                at: Millis(10),
            },
            Step::InsertConversation {
                id: format!("c_{name}"),
                visitor_seq: None,
                at: Millis(10),
            },
            c.event(name, EventName::Start, None),
        ];
        let done = self
            .store
            .commit(Commit {
                team_seq: team,
                steps,
            })
            .await;
        let done = done.unwrap();
        (c.visitor, c.conversation) = (done.visitor_seq.unwrap(), done.conversation_seq.unwrap());
        c
    }

    /// One commit: a message (by `agent`, if given) and its event.
    async fn say(&self, team: i64, c: &mut Chat, name: &str, agent: Option<&str>, text: &str) {
        let message = MessageRecord {
            seq: 0,
            id: format!("m_{name}_{}", c.transcript.len()),
            agent_id: agent.map(str::to_string),
            user_name: agent.unwrap_or(name).into(),
            user_picture: String::new(),
            text: text.into(),
            created_at: Millis(20),
            origin: String::new(),
        };
        c.transcript.push(&MessageView::from(&message));
        let event = match agent {
            Some(_) => EventName::MessageAgent,
            None => EventName::MessageVisitor,
        };
        let steps = vec![
            Step::CheckVisitor {
                seq: c.visitor,
                version: c.version,
            },
            Step::InsertMessage {
                conversation_seq: Some(c.conversation),
                message,
            },
            c.event(name, event, agent),
        ];
        self.store
            .commit(Commit {
                team_seq: team,
                steps,
            })
            .await
            .unwrap();
        c.version += 1;
    }
}

impl Chat {
    fn event(&self, name: &str, event: EventName, agent: Option<&str>) -> Step {
        let agent = agent.map(|id| format!(r#"{{"id":"{id}","real_name":"Agent {id}"}}"#));
        let identity = Identity::default();
        let body = EventContext {
            event,
            created_at: Millis(30),
            channel_name: &format!("z-{name}"),
            visitor_name: name,
            visitor_id: &format!("v_{name}"),
            identity: &identity,
            agent: agent.as_deref(),
            transcript: &self.transcript,
        }
        .body();
        Step::InsertEvent {
            id: crate::domain::new_id("evt_"),
            conversation_seq: (self.conversation > 0).then_some(self.conversation),
            name: event.as_str(),
            bit: event.bit(),
            lane: format!("v_{name}"),
            body: body.text,
            transcript: Some(TranscriptCut {
                head_len: body.head_len,
                messages: body.transcript_len as i64,
            }),
            at: Millis(30),
        }
    }
}

fn names(b: &FeedBatch) -> Vec<(String, String)> {
    let name = |e: &FeedEvent| (e.conversation_id.clone(), e.name.clone());
    b.events.iter().map(name).collect()
}

fn pair(c: &str, e: &str) -> (String, String) {
    (c.to_string(), e.to_string())
}

async fn a_feed_reads_the_teams_chat_events_in_order_with_their_facts(f: Fixture) {
    let other = f.store.create_team(NewTeam {
        id: "t_2".into(),
        name: "other".into(),
        api_key_hash: "h2".into(),
        site_key: "pk2".into(),
        is_default: false,
        created_at: Millis(0),
    });
    let other = other.await.unwrap().seq;
    assert_eq!(
        f.store.feed_head(f.team).await.unwrap(),
        FeedPosition::START
    );
    let mut ann = f.start(f.team, "ann").await;
    f.start(other, "bob").await;
    f.event("test", EventName::MessageAgent, "[]").await; // a test event: no conversation
    f.say(f.team, &mut ann, "ann", None, "hello").await;
    f.say(f.team, &mut ann, "ann", Some("U1"), "hi!").await;

    let all = f
        .settled(f.team, FeedPosition::START, 10, |b| b.events.len() >= 3)
        .await;
    let expected = [
        pair("c_ann", "start"),
        pair("c_ann", "messageVisitor"),
        pair("c_ann", "messageAgent"),
    ];
    assert_eq!(names(&all), expected);
    let [start, hello, hi] = &all.events[..] else {
        unreachable!()
    };
    assert_eq!(start.message.as_ref().map(|m| m.seq), None);
    assert_eq!(
        (start.facts.visitor_id.as_str(), start.facts.agent.is_none()),
        ("v_ann", true)
    );
    let hello_m = hello.message.as_ref().expect("the visitor's message");
    assert_eq!(
        (hello_m.text.as_str(), hello_m.agent_id.as_deref()),
        ("hello", None)
    );
    let hi_m = hi.message.as_ref().expect("the agent's message");
    assert_eq!(
        (hi_m.text.as_str(), hi_m.agent_id.as_deref()),
        ("hi!", Some("U1"))
    );
    assert_eq!(hi.facts.agent.as_ref().unwrap()["id"], "U1");
    assert!(start.position < hello.position && hello.position < hi.position);

    // Resumed after any event: exactly those after it; in batches of `limit`.
    let after = f.feed_after(f.team, start.position, 1).await;
    assert_eq!(names(&after), [pair("c_ann", "messageVisitor")]);
    assert_eq!(f.feed_after(f.team, hi.position, 10).await.events.len(), 0);
    assert_eq!(f.store.feed_head(f.team).await.unwrap(), hi.position);
    let found = f.store.feed_position(f.team, hello.position.seq).await;
    assert_eq!(found.unwrap(), Some(hello.position));
    // Another team's event, a test event and an unknown one are no position of this feed.
    let theirs = f.feed_after(other, FeedPosition::START, 10).await;
    assert_eq!(names(&theirs), [pair("c_bob", "start")]);
    for seq in [theirs.events[0].position.seq, hi.position.seq + 1_000, -1] {
        let found = f.store.feed_position(f.team, seq).await.unwrap();
        assert_eq!(found, None, "seq {seq}");
    }
}

impl Fixture {
    async fn feed_after(&self, team: i64, after: FeedPosition, limit: u32) -> FeedBatch {
        self.store.feed_after(team, after, limit).await.unwrap()
    }

    /// The feed once `done` says so. On PostgreSQL a write transaction of *any* database of the
    /// cluster (other tests run beside this one) holds the horizon back while it runs, and
    /// nothing signals its end: the feed is read again, as the stream does, for at most 20 s.
    async fn settled(
        &self,
        team: i64,
        after: FeedPosition,
        limit: u32,
        done: impl Fn(&FeedBatch) -> bool,
    ) -> FeedBatch {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let b = self.feed_after(team, after, limit).await;
            if done(&b) || std::time::Instant::now() > deadline {
                return b;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
}

/// The case a `seq` cursor gets wrong: an older transaction commits an event with a higher
/// `seq` while a younger one still holds a lower `seq`. And an event committed while an older
/// transaction runs waits behind it.
async fn a_feed_waits_for_older_transactions(f: Fixture) {
    let Place::Postgres(db) = &f.place else {
        return; // one writer: nothing runs concurrently
    };
    let mut ann = f.start(f.team, "ann").await;
    let started = f.settled(f.team, FeedPosition::START, 10, |b| !b.events.is_empty());
    let head = started.await.events[0].position;
    let (mut older, mut younger) = (connect(&db.url).await, connect(&db.url).await);
    run(&mut older, "BEGIN; SELECT pg_current_xact_id()").await;
    run(&mut younger, "BEGIN").await;
    let low = copy_event(&mut younger, ann.conversation).await;
    let high = copy_event(&mut older, ann.conversation).await;
    assert!(low < high);
    run(&mut older, "COMMIT").await;

    // The older transaction's event is final although a lower seq is still in flight.
    let first = f.settled(f.team, head, 10, |b| !b.events.is_empty()).await;
    assert_eq!(seqs(&first), vec![high]);
    run(&mut younger, "COMMIT").await;
    let at = first.events[0].position;
    let second = f.settled(f.team, at, 10, |b| !b.events.is_empty()).await;
    assert_eq!(seqs(&second), vec![low], "not skipped");
    let whole = f.settled(f.team, head, 10, |b| b.events.len() >= 2).await;
    assert_eq!(
        seqs(&whole),
        vec![high, low],
        "the same order when read again"
    );

    // A commit behind a running older transaction is held until that one ends.
    let at = second.events[0].position;
    let mut oldest = connect(&db.url).await;
    run(&mut oldest, "BEGIN; SELECT pg_current_xact_id()").await;
    f.say(f.team, &mut ann, "ann", None, "behind").await;
    let held = f.feed_after(f.team, at, 10).await;
    assert!(held.events.is_empty() && held.held, "{held:?}");
    let head = f.store.feed_head(f.team).await.unwrap();
    assert_eq!(head, at, "the head is the newest final event");
    run(&mut oldest, "ROLLBACK").await;
    let now = f.settled(f.team, at, 10, |b| !b.events.is_empty()).await;
    assert_eq!(names(&now), [pair("c_ann", "messageVisitor")]);
    let behind = now.events[0].position;
    let found = f.store.feed_position(f.team, behind.seq).await.unwrap();
    assert_eq!(found, Some(behind));
}

async fn connect(url: &str) -> sqlx::PgConnection {
    use sqlx::Connection;
    sqlx::PgConnection::connect(url).await.unwrap()
}

async fn run(conn: &mut sqlx::PgConnection, sql: &str) {
    sqlx::raw_sql(sql).execute(conn).await.unwrap();
}

/// Inserts a copy of the conversation's first event (as another transaction would write one).
async fn copy_event(conn: &mut sqlx::PgConnection, conversation: i64) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO events (id, team_seq, conversation_seq, name, created_at, body, transcript_len)
         SELECT 'evt_' || md5(random()::text), team_seq, conversation_seq, 'email', created_at,
                body, transcript_len
         FROM events WHERE conversation_seq = $1 ORDER BY seq LIMIT 1 RETURNING seq",
    )
    .bind(conversation)
    .fetch_one(conn)
    .await
    .unwrap()
}

fn seqs(b: &FeedBatch) -> Vec<i64> {
    b.events.iter().map(|e| e.position.seq).collect()
}
