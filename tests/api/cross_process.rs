//! The live stream across processes: a visitor's stream on process A receives what is posted
//! through process B (both on one PostgreSQL database), within a few seconds.

use std::time::{Duration, Instant};

use crate::cluster::Cluster;
use crate::fixtures::{agent, named};
use crate::live::{AGENT, assert_message, assert_status};
use crate::sse::SseEvent;
use crate::stores::{TestStore, on_postgres_only};

on_postgres_only!(a_stream_on_one_process_receives_a_reply_posted_through_another);

/// The failure bound of one cross-process event (not a latency target).
const BOUND: Duration = Duration::from_secs(5);
const REPLIES: usize = 5;

/// Milliseconds from the API's answer to the event (negative: the event came first).
fn latency_ms(answered: Instant, event: &SseEvent) -> f64 {
    match event.at.checked_duration_since(answered) {
        Some(after) => after.as_secs_f64() * 1000.0,
        None => -(answered - event.at).as_secs_f64() * 1000.0,
    }
}

async fn a_stream_on_one_process_receives_a_reply_posted_through_another(store: TestStore) {
    let cluster = Cluster::spawn(store, 2, |b| b).await;
    let (a, b) = (&cluster.apps[0], &cluster.apps[1]);
    b.put_agent(&agent(AGENT, "Roy")).await.expect_status(201);
    let v = a.visitor_start(named("Across"), None).await;
    let conv = v.conversation_id.as_str();
    let mut stream = a.visitor_events(&v.token, conv, None).await;
    assert_status(&stream.next().await, "waiting");

    let mut latencies = Vec::new();
    for i in 0..REPLIES {
        let reply = b.agent_message(conv, AGENT, &format!("reply {i}")).await;
        let answered = Instant::now();
        let mut step = vec![stream.next_within(BOUND).await];
        if i == 0 {
            step.push(stream.next_within(BOUND).await);
            step.sort_by_key(|e| e.event != "status");
            assert_status(&step[0], "open");
        }
        let event = step.last().expect("the reply's event");
        assert_message(event, &reply, "agent");
        latencies.push(latency_ms(answered, event));
    }
    let from_visitor = b.visitor_message(&v.token, conv, "thanks").await;
    assert_message(&stream.next_within(BOUND).await, &from_visitor, "visitor");

    let mut sorted = latencies.clone();
    sorted.sort_by(f64::total_cmp);
    eprintln!(
        "cross-process SSE latency (API answer on B -> event on A's stream), ms: {latencies:.1?}; \
         median {:.1}, max {:.1}",
        sorted[REPLIES / 2],
        sorted[REPLIES - 1]
    );
}
