//! A conversation's life as webhooks see it: which events fire, in which order, with what.

use serde_json::Value;

use crate::api::VisitorSession;
use crate::checks::{checked_events, names};
use crate::fixtures::{agent, named};
use crate::helpers::{TestApp, WAIT};
use crate::payload::{messages, texts};
use crate::receiver::Receiver;
use crate::stores::{TestStore, on_every_store};

on_every_store!(
    six_events_in_order_with_growing_transcript,
    join_on_a_waiting_conversation_fires_open,
    visitor_writing_after_end_starts_a_new_conversation,
    lists_show_each_conversations_newest_message,
);

const AGENT: &str = "U0AGENT01";

/// A server with one agent and one endpoint subscribed to every event.
async fn setup(store: TestStore) -> (TestApp, Receiver, String) {
    let app = TestApp::spawn(store).await;
    let receiver = Receiver::start().await;
    let hook = app.create_webhook(&receiver.url(), None).await;
    app.put_agent(&agent(AGENT, "Roy")).await.expect_status(201);
    (app, receiver, hook.secret)
}

async fn six_events_in_order_with_growing_transcript(store: TestStore) {
    let (app, receiver, secret) = setup(store).await;
    let v = app.visitor_start(named("Jen"), Some("hello")).await;
    assert_eq!(v.visitor_name, "Jen");
    assert_eq!(v.channel_name, "z-jen");
    assert_eq!(v.status, "waiting");
    let email = app
        .set_email(&v.token, &v.conversation_id, "jen@reynholm.com")
        .await;
    assert_eq!(email["changed"], true, "{email}");
    app.agent_message(
        &v.conversation_id,
        AGENT,
        "Have you tried turning it off and on again?",
    )
    .await;
    app.visitor_message(&v.token, &v.conversation_id, "yes")
        .await;
    let ended = app
        .agent_message_call(&v.conversation_id, AGENT, ".end")
        .send()
        .await;
    assert_eq!(ended.expect_json(200)["status"], "ended");

    let events = checked_events(&receiver.wait_for(7, WAIT).await, &secret);
    let expected = [
        "start",
        "messageVisitor",
        "email",
        "open",
        "messageAgent",
        "messageVisitor",
        "end",
    ];
    assert_eq!(names(&events), expected);
    let counts: Vec<usize> = events.iter().map(|e| messages(e).len()).collect();
    assert_eq!(counts, [0, 1, 1, 1, 2, 3, 3], "messages per event");
    let last = texts(&events[6]);
    assert_eq!(
        last,
        [
            "hello",
            "Have you tried turning it off and on again?",
            "yes"
        ]
    );
    for e in &events {
        assert_eq!(e["visitorId"], v.visitor_id.as_str());
        assert_eq!(e["channelName"], "z-jen");
        assert_eq!(e["visitorName"], "Jen");
    }
    for e in &events[..3] {
        assert!(
            e["agent"].is_null(),
            "agent must be null before one entered: {e}"
        );
    }
    for e in &events[3..] {
        assert_eq!(e["agent"]["id"], AGENT, "the agent who entered: {e}");
    }
    assert_eq!(events[2]["identity"]["email"], "jen@reynholm.com");
    assert_eq!(events[1]["message"], "Jen: hello");
    let ids: std::collections::HashSet<String> = receiver
        .received()
        .iter()
        .map(|r| r.webhook_id().to_owned())
        .collect();
    assert_eq!(ids.len(), 7, "one webhook-id per delivery");
    assert_eq!(receiver.count(), 7, "nothing more was sent");
}

async fn join_on_a_waiting_conversation_fires_open(store: TestStore) {
    let (app, receiver, secret) = setup(store).await;
    let v = app.visitor_start(named("Moss"), None).await;
    let joined = app.join(&v.conversation_id, AGENT).await;
    assert_eq!(joined["status"], "open", "{joined}");
    let events = checked_events(&receiver.wait_for(2, WAIT).await, &secret);
    assert_eq!(names(&events), ["start", "open"]);
    assert!(events[0]["agent"].is_null());
    assert_eq!(events[1]["agent"]["id"], AGENT);
    assert_eq!(events[1]["message"], "");
    let detail = app.conversation(&v.conversation_id).await;
    assert_eq!(detail["status"], "open");
    assert_eq!(detail["agent"]["id"], AGENT);
}

async fn visitor_writing_after_end_starts_a_new_conversation(store: TestStore) {
    let (app, receiver, secret) = setup(store).await;
    let v = app.visitor_start(named("Richmond"), Some("first")).await;
    app.join(&v.conversation_id, AGENT).await;
    let ended = app.end(&v.conversation_id, AGENT).await;
    assert_eq!(ended["status"], "ended", "{ended}");
    assert!(ended["endedAt"].is_string(), "{ended}");
    let first = checked_events(&receiver.wait_for(4, WAIT).await, &secret);
    assert_eq!(names(&first), ["start", "messageVisitor", "open", "end"]);

    let msg = app
        .visitor_message(&v.token, &v.conversation_id, "again")
        .await;
    let new_conv = msg["conversationId"].as_str().expect("conversationId");
    assert_ne!(new_conv, v.conversation_id, "a new conversation: {msg}");
    let all = checked_events(&receiver.wait_for(6, WAIT).await, &secret);
    assert_eq!(names(&all[4..]), ["start", "messageVisitor"]);
    assert_same_channel(&all, &v);
    assert!(
        messages(&all[4]).is_empty(),
        "a new conversation starts empty"
    );
    assert_eq!(
        texts(&all[5]),
        ["again"],
        "only the new conversation's messages"
    );
    assert!(
        all[5]["agent"].is_null(),
        "no agent entered the new one: {}",
        all[5]
    );
    let summary = app.conversation(new_conv).await;
    assert_eq!(summary["status"], "waiting");
    assert_eq!(
        app.conversation(&v.conversation_id).await["status"],
        "ended"
    );
}

fn assert_same_channel(events: &[Value], v: &VisitorSession) {
    for e in events {
        assert_eq!(e["channelName"], v.channel_name.as_str(), "{e}");
        assert_eq!(e["visitorId"], v.visitor_id.as_str(), "{e}");
    }
}

async fn lists_show_each_conversations_newest_message(store: TestStore) {
    let (app, _receiver, _secret) = setup(store).await;
    let quiet = app.visitor_start(named("Quiet"), None).await;
    let jen = app.visitor_start(named("Jen"), Some("hello")).await;
    app.agent_message(&jen.conversation_id, AGENT, "hi Jen")
        .await;
    let listed = app.list("/conversations").await;
    let of = |id: &str| listed.iter().find(|c| c["id"] == id).cloned().unwrap();
    assert_eq!(of(&quiet.conversation_id)["lastMessage"], Value::Null);
    let last = &of(&jen.conversation_id)["lastMessage"];
    assert_eq!(
        (&last["text"], &last["from"], &last["userName"]),
        (
            &Value::from("hi Jen"),
            &Value::from("agent"),
            &Value::from("Roy")
        ),
        "{last}"
    );
    assert_eq!(
        last["conversationId"],
        Value::from(jen.conversation_id.as_str())
    );
}
