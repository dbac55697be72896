//! The visitor's live stream (`GET /visitor/conversations/{id}/events`, Server-Sent Events):
//! status first and on every change, each message once with its id, `Last-Event-ID` resumes.

use serde_json::{Value, json};

use crate::api::VisitorSession;
use crate::fixtures::{agent, named};
use crate::helpers::TestApp;
use crate::sse::SseEvent;
use crate::stores::{TestStore, on_every_store};

on_every_store!(
    the_stream_follows_status_and_messages_in_order,
    last_event_id_resumes_after_that_message,
    a_wrong_token_is_401_and_another_visitors_conversation_404,
);

pub const AGENT: &str = "U0LIVE001";

/// Asserts a `status` event with this status and an `agent` (null, or `{name, picture}`:
/// `widget_settings::transcript` checks which); returns the agent.
pub fn assert_status(e: &SseEvent, status: &str) -> Value {
    assert_eq!(e.event, "status", "expected a status event: {e:?}");
    let data = e.json();
    let keys: Vec<&str> = data
        .as_object()
        .map_or(vec![], |o| o.keys().map(String::as_str).collect());
    assert_eq!(keys, ["status", "agent"], "{e:?}");
    assert_eq!(data["status"], json!(status), "{e:?}");
    let agent = data["agent"].clone();
    assert!(agent.is_null() || agent.is_object(), "{e:?}");
    agent
}

/// Asserts a `message` event carrying the message the API answered, written by `from`;
/// returns its event id.
pub fn assert_message(e: &SseEvent, answer: &Value, from: &str) -> u64 {
    assert_eq!(e.event, "message", "expected a message event: {e:?}");
    let mut data = e.json();
    assert_eq!(data["from"], from, "{e:?}");
    data.as_object_mut().expect("an object").remove("from");
    assert_eq!(&data, answer, "the stream's message is the API's message");
    let id = e.id.as_deref().unwrap_or_else(|| panic!("no id: {e:?}"));
    id.parse()
        .unwrap_or_else(|_| panic!("the id of a message event is a number: {e:?}"))
}

/// A server with an agent, and a visitor who has not written yet.
async fn setup(store: TestStore) -> (TestApp, VisitorSession) {
    let app = TestApp::spawn(store).await;
    app.put_agent(&agent(AGENT, "Roy")).await.expect_status(201);
    let v = app.visitor_start(named("Live"), None).await;
    (app, v)
}

async fn the_stream_follows_status_and_messages_in_order(store: TestStore) {
    let (app, v) = setup(store).await;
    let conv = v.conversation_id.as_str();
    let mut stream = app.visitor_events(&v.token, conv, None).await;
    assert_status(&stream.next().await, "waiting");

    let hello = app.visitor_message(&v.token, conv, "hello").await;
    let first = assert_message(&stream.next().await, &hello, "visitor");

    let reply = app.agent_message(conv, AGENT, "Hello, IT.").await;
    // One commit opens the conversation and adds the reply: both come, the stream does not
    // promise which first.
    let mut step = stream.take(2).await;
    step.sort_by_key(|e| e.event != "status");
    assert_status(&step[0], "open");
    let second = assert_message(&step[1], &reply, "agent");
    assert!(second > first, "ids grow: {first} then {second}");

    let ended = app.agent_message_call(conv, AGENT, ".end").send().await;
    assert_eq!(ended.expect_json(200)["status"], "ended");
    assert_status(&stream.next().await, "ended");
    let seen = app.visitor_conversation(&v.token, conv).await;
    assert_eq!(seen["messages"].as_array().map(Vec::len), Some(2), "{seen}");
}

async fn last_event_id_resumes_after_that_message(store: TestStore) {
    let (app, v) = setup(store).await;
    let conv = v.conversation_id.as_str();
    let write = |text: &'static str| app.visitor_message(&v.token, conv, text);
    let one = write("one").await;
    let mut stream = app.visitor_events(&v.token, conv, None).await;
    assert_status(&stream.next().await, "waiting");
    let one_id = assert_message(&stream.next().await, &one, "visitor");
    let two = write("two").await;
    assert_message(&stream.next().await, &two, "visitor");
    drop(stream);

    let three = write("three").await;
    let after_one = one_id.to_string();
    let mut resumed = app.visitor_events(&v.token, conv, Some(&after_one)).await;
    assert_status(&resumed.next().await, "waiting");
    assert_message(&resumed.next().await, &two, "visitor");
    let three_id = assert_message(&resumed.next().await, &three, "visitor");
    // Nothing else was pending: the next event is the next message.
    let four = write("four").await;
    assert_message(&resumed.next().await, &four, "visitor");

    let after_three = three_id.to_string();
    let mut late = app.visitor_events(&v.token, conv, Some(&after_three)).await;
    assert_status(&late.next().await, "waiting");
    assert_message(&late.next().await, &four, "visitor");
    let five = write("five").await;
    assert_message(&late.next().await, &five, "visitor");
    assert_message(&resumed.next().await, &five, "visitor");
}

async fn a_wrong_token_is_401_and_another_visitors_conversation_404(store: TestStore) {
    let (app, v) = setup(store).await;
    let conv = v.conversation_id.as_str();
    for token in ["vt_wrong", ""] {
        let call = app.visitor_events_call(token, conv);
        call.send().await.expect_problem(401);
    }
    let path = format!("/api/v1/visitor/conversations/{conv}/events?visitorToken=vt_wrong");
    let call = app.call(reqwest::Method::GET, &path);
    call.send().await.expect_problem(401);

    let other = app.visitor_start(named("Other"), None).await;
    let call = app.visitor_events_call(&other.token, conv);
    call.send().await.expect_problem(404);
    let call = app.visitor_events_call(&v.token, &other.conversation_id);
    call.send().await.expect_problem(404);

    // The token may also come in the query (EventSource cannot send headers).
    let path = format!(
        "/api/v1/visitor/conversations/{conv}/events?visitorToken={}",
        v.token
    );
    let mut stream = app.call(reqwest::Method::GET, &path).sse().await;
    assert_status(&stream.next().await, "waiting");
}
