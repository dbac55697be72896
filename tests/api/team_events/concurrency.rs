//! The team stream with several processes on one PostgreSQL: what is done through one process
//! shows on a stream held on another, and a stream that keeps reconnecting — to either process —
//! while many conversations change at once sees every event exactly once, each conversation's
//! in order, in the order a single uninterrupted reading of the log gives.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::{AGENT, about, card};
use crate::cluster::Cluster;
use crate::fixtures::{agent, named};
use crate::helpers::TestApp;
use crate::sse::SseEvent;
use crate::stores::{TestStore, on_postgres_only};

on_postgres_only!(
    a_stream_on_one_process_shows_what_another_process_did,
    resuming_under_concurrent_conversations_sees_every_event_once
);

/// The events of one conversation in [`converse`], in order.
const SCRIPT: [&str; 7] = [
    "start", "message", "message", "open", "message", "email", "end",
];
const CONVERSATIONS: usize = 24;

async fn a_stream_on_one_process_shows_what_another_process_did(store: TestStore) {
    let cluster = Cluster::spawn(store, 2, |b| b).await;
    let (a, b) = (&cluster.apps[0], &cluster.apps[1]);
    b.put_agent(&agent(AGENT, "Roy")).await.expect_status(201);
    let (mut stream, _) = a.team_events(None).await;
    let conv = converse(b, "Across").await;
    let names: Vec<String> = stream
        .take(SCRIPT.len())
        .await
        .iter()
        .map(|e| {
            about(e, &e.event, &conv);
            e.event.clone()
        })
        .collect();
    assert_eq!(names, SCRIPT);
    // And the other way round, on a stream held on B.
    let (mut on_b, _) = b.team_events(None).await;
    let again = a.visitor_start(named("Back"), None).await;
    about(&on_b.next().await, "start", &again.conversation_id);
    a.join(&again.conversation_id, AGENT).await;
    let (open, _) = about(&on_b.next().await, "open", &again.conversation_id);
    assert_eq!(open["agent"], card(AGENT, "Roy"));
}

/// One visitor's whole conversation through `app`: the events of [`SCRIPT`].
async fn converse(app: &TestApp, name: &str) -> String {
    let v = app.visitor_start(named(name), None).await;
    let conv = v.conversation_id.as_str();
    app.visitor_message(&v.token, conv, "hello").await;
    app.visitor_message(&v.token, conv, "anyone?").await;
    app.join(conv, AGENT).await;
    app.agent_message(conv, AGENT, "Hi!").await;
    app.set_email(&v.token, conv, &format!("{name}@example.com"))
        .await;
    app.end(conv, AGENT).await;
    v.conversation_id
}

/// An event as seen: `(id, name, conversation)`.
type Seen = (u64, String, String);

fn seen(e: &SseEvent) -> Seen {
    let conversation = e.json()["conversationId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (_, id) = about(e, &e.event, &conversation);
    (id, e.event.clone(), conversation)
}

/// Reads `total` events, reconnecting after every few (to each process in turn) with the last
/// id seen.
async fn read_resuming(apps: &[Arc<TestApp>], first: String, total: usize) -> Vec<Seen> {
    let mut all: Vec<Seen> = Vec::with_capacity(total);
    let mut last = first;
    let mut turn = 0;
    while all.len() < total {
        let app = &apps[turn % apps.len()];
        let (mut stream, _) = app.team_events(Some(&last)).await;
        let take = (1 + turn % 11).min(total - all.len());
        for _ in 0..take {
            let e = seen(&stream.next().await);
            last = e.0.to_string();
            all.push(e);
        }
        turn += 1;
    }
    all
}

async fn resuming_under_concurrent_conversations_sees_every_event_once(store: TestStore) {
    let cluster = Cluster::spawn(store, 2, |b| b).await;
    let apps = &cluster.apps;
    apps[0]
        .put_agent(&agent(AGENT, "Roy"))
        .await
        .expect_status(201);
    let (stream, first) = apps[0].team_events(None).await;
    drop(stream);
    let total = CONVERSATIONS * SCRIPT.len();
    let writers = (0..CONVERSATIONS).map(|i| async move {
        let name = format!("v{i}");
        converse(&apps[i % 2], &name).await
    });
    let (conversations, all) = tokio::join!(
        futures::future::join_all(writers),
        read_resuming(apps, first, total)
    );

    let ids: HashSet<u64> = all.iter().map(|e| e.0).collect();
    assert_eq!(ids.len(), total, "every event once: {all:?}");
    let mut by_conversation: HashMap<&str, Vec<&Seen>> = HashMap::new();
    for e in &all {
        by_conversation.entry(e.2.as_str()).or_default().push(e);
    }
    assert_eq!(by_conversation.len(), CONVERSATIONS);
    for conv in &conversations {
        let events = &by_conversation[conv.as_str()];
        let names: Vec<&str> = events.iter().map(|e| e.1.as_str()).collect();
        assert_eq!(names, SCRIPT, "{conv}");
        assert!(
            events.windows(2).all(|w| w[0].0 < w[1].0),
            "{conv}: {events:?}"
        );
    }

    // One reading from the start gives the same events in the same order, and nothing more.
    let (mut whole, _) = apps[1].team_events(Some("0")).await;
    let replay: Vec<Seen> = whole.take(total).await.iter().map(seen).collect();
    assert_eq!(
        replay, all,
        "the order is the log's, however the stream was resumed"
    );
    let marker = apps[0].visitor_start(named("Marker"), None).await;
    about(&whole.next().await, "start", &marker.conversation_id);
}
