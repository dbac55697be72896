//! What the visitor's view gives a widget to draw the transcript: who wrote each message
//! (`from`) and the agent in charge (`agent`: `{name, picture}` or null), in
//! `GET /visitor/conversations/{id}` and in the live stream's `status` events.

use serde_json::{Value, json};

use crate::fixtures::{agent, named};
use crate::helpers::TestApp;
use crate::live::{assert_message, assert_status};
use crate::stores::{TestStore, on_every_store};

on_every_store!(
    the_visitors_view_says_who_wrote_and_who_is_in_charge,
    the_stream_tells_the_agent_with_the_status_and_when_it_changes,
);

const ROY: &str = "U0ROY0001";
const JEN: &str = "U0JEN0001";

/// `{name, picture}` as the fixtures' agent `id` shows to visitors.
fn card(id: &str, name: &str) -> Value {
    json!({ "name": name, "picture": format!("https://example.com/{id}_48.jpg") })
}

async fn with_agents(store: TestStore) -> TestApp {
    let app = TestApp::spawn(store).await;
    app.put_agent(&agent(ROY, "Roy")).await.expect_status(201);
    // No real_name: the name shows instead; no picture: "".
    let jen = json!({ "id": JEN, "name": "jen", "profile": {} });
    app.put_agent(&jen).await.expect_status(201);
    app
}

async fn the_visitors_view_says_who_wrote_and_who_is_in_charge(store: TestStore) {
    let app = with_agents(store).await;
    let v = app.visitor_start(named("Scarlet"), Some("hello")).await;
    let conv = v.conversation_id.as_str();
    let seen = app.visitor_conversation(&v.token, conv).await;
    assert_eq!(seen["status"], "waiting");
    assert_eq!(seen["agent"], Value::Null, "nobody entered yet: {seen}");

    let reply = app.agent_message(conv, ROY, "Hello, IT.").await;
    let seen = app.visitor_conversation(&v.token, conv).await;
    assert_eq!(seen["status"], "open");
    assert_eq!(seen["agent"], card(ROY, "Roy"), "{seen}");
    let messages = seen["messages"].as_array().expect("messages");
    let from: Vec<&Value> = messages.iter().map(|m| &m["from"]).collect();
    assert_eq!(from, [&json!("visitor"), &json!("agent")], "{seen}");
    let mut last = messages[1].clone();
    last.as_object_mut().unwrap().remove("from");
    assert_eq!(last, reply, "the message as the API answered it");
    assert_eq!(messages[0]["text"], "hello");
    assert_eq!(messages[0]["userName"], "Scarlet");

    app.join(conv, JEN).await;
    let seen = app.visitor_conversation(&v.token, conv).await;
    let jen = json!({ "name": "jen", "picture": "" });
    assert_eq!(seen["agent"], jen, "the last to enter: {seen}");
}

async fn the_stream_tells_the_agent_with_the_status_and_when_it_changes(store: TestStore) {
    let app = with_agents(store).await;
    let v = app.visitor_start(named("Scarlet"), None).await;
    let conv = v.conversation_id.as_str();
    let mut stream = app.visitor_events(&v.token, conv, None).await;
    let agent = assert_status(&stream.next().await, "waiting");
    assert_eq!(agent, Value::Null);

    app.join(conv, ROY).await;
    let agent = assert_status(&stream.next().await, "open");
    assert_eq!(agent, card(ROY, "Roy"));
    let reply = app.agent_message(conv, ROY, "Roy here").await;
    // The same agent writing changes nothing in charge: the next event is the message.
    assert_message(&stream.next().await, &reply, "agent");

    app.join(conv, JEN).await;
    let agent = assert_status(&stream.next().await, "open");
    assert_eq!(
        agent,
        json!({ "name": "jen", "picture": "" }),
        "a new agent, same status"
    );
    let hi = app.visitor_message(&v.token, conv, "hi Jen").await;
    assert_message(&stream.next().await, &hi, "visitor");
}
