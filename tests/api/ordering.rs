//! Per-channel order: a channel's events reach an endpoint in the order they were acknowledged,
//! each only after the previous one was answered, while channels proceed in parallel.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use crate::checks::check_request;
use crate::fixtures::named;
use crate::helpers::TestApp;
use crate::payload::texts;
use crate::receiver::{Received, Receiver, Reply};
use crate::stores::{TestStore, on_every_store};

on_every_store!(each_channel_receives_its_events_in_acknowledgement_order,);

const VISITORS: usize = 20;
const MESSAGES: usize = 10;

/// One visitor: starts, then writes `MESSAGES` messages one after the other. Returns its
/// visitorId and its texts in acknowledgement order.
async fn chat(app: Arc<TestApp>, n: usize) -> (String, Vec<String>) {
    chat_n(app, n, MESSAGES).await
}

/// Visitor `n` starts, then writes `messages` messages one after the other. Returns its
/// visitorId and its texts in acknowledgement order.
pub async fn chat_n(app: Arc<TestApp>, n: usize, messages: usize) -> (String, Vec<String>) {
    let v = app
        .visitor_start(named(&format!("Visitor {n}")), None)
        .await;
    let mut acked = Vec::new();
    for i in 0..messages {
        let text = format!("v{n} m{i}");
        app.visitor_message(&v.token, &v.conversation_id, &text)
            .await;
        acked.push(text);
    }
    (v.visitor_id, acked)
}

async fn each_channel_receives_its_events_in_acknowledgement_order(store: TestStore) {
    let app = Arc::new(TestApp::spawn(store).await);
    let receiver = Receiver::start().await;
    receiver.set_default(Reply::RandomDelay(20));
    let hook = app.create_webhook(&receiver.url(), None).await;

    let tasks: Vec<_> = (0..VISITORS)
        .map(|n| tokio::spawn(chat(app.clone(), n)))
        .collect();
    let mut acked = HashMap::new();
    for task in tasks {
        let (visitor, texts) = task.await.expect("visitor task");
        acked.insert(visitor, texts);
    }

    let total = VISITORS * (1 + MESSAGES);
    let reqs = receiver.wait_for(total, Duration::from_secs(60)).await;
    let ids: HashSet<&str> = reqs.iter().map(|r| r.webhook_id()).collect();
    assert_eq!(
        ids.len(),
        total,
        "one delivery per event, no duplicates without failures"
    );
    let mut per_visitor: HashMap<String, Vec<serde_json::Value>> = HashMap::new();
    let mut last_of: HashMap<String, &Arc<Received>> = HashMap::new();
    for r in &reqs {
        check_request(r, &hook.secret);
        let event = r.event();
        let visitor = event["visitorId"].as_str().unwrap().to_owned();
        if let Some(prev) = last_of.insert(visitor.clone(), r) {
            let answered = prev.answered_at.get().expect("answered");
            assert!(
                r.at >= *answered,
                "channel {visitor}: request #{} was sent before #{} was answered",
                r.seq,
                prev.seq
            );
        }
        per_visitor.entry(visitor).or_default().push(event);
    }
    assert_eq!(per_visitor.len(), VISITORS);
    for (visitor, events) in &per_visitor {
        let expected = acked.get(visitor).expect("a visitor we started");
        assert_eq!(events[0]["event"], "start", "first event of {visitor}");
        assert!(texts(&events[0]).is_empty());
        for (i, event) in events[1..].iter().enumerate() {
            assert_eq!(event["event"], "messageVisitor", "{event}");
            assert_eq!(
                texts(event),
                expected[..=i],
                "channel {visitor}: event {} out of order",
                i + 1
            );
        }
    }
    assert_eq!(receiver.count(), total, "nothing more was sent");
}
