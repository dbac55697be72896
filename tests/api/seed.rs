//! The seed's example, reproduced end to end: the `messageAgent` body equals it field for field.

use serde_json::Value;

use crate::api::VisitorStart;
use crate::checks::check_request;
use crate::fixtures::{MOSS_ID, SEED_USER_AGENT, moss, scarlet_identity, seed_example};
use crate::helpers::{TestApp, WAIT};
use crate::payload::{OrderedObject, assert_iso_millis, assert_visitor_id};
use crate::receiver::Receiver;
use crate::stores::{TestStore, on_every_store};

on_every_store!(message_agent_body_equals_the_seed_example,);

const VISITOR_TEXT: &str = "\nHi! Do you have any doc to your API?";
const MOSS_TEXT: &str = "Yes! Go to <http://developer.talkus.io/>";

async fn message_agent_body_equals_the_seed_example(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let receiver = Receiver::start().await;
    let hook = app.create_webhook(&receiver.url(), None).await;
    app.put_agent(&moss()).await.expect_status(201);

    let start = VisitorStart {
        identity: Some(scarlet_identity()),
        message: Some(VISITOR_TEXT.to_owned()),
        user_agent: Some(SEED_USER_AGENT.to_owned()),
        ..VisitorStart::default()
    };
    let answer = app.visitor_start_call(&start).await.send().await;
    let answer = answer.expect_json(201);
    assert_eq!(answer["visitorName"], "+33123456789", "{answer}");
    assert_eq!(answer["channelName"], "z-33123456789", "{answer}");
    let conv = answer["conversationId"].as_str().expect("conversationId");
    app.agent_message(conv, MOSS_ID, MOSS_TEXT).await;

    let req = receiver.wait_for_event("messageAgent", WAIT).await;
    check_request(&req, &hook.secret);
    let body: Value = serde_json::from_slice(&req.body).expect("JSON body");
    let events = body.as_array().expect("the body is a JSON array");
    assert_eq!(events.len(), 1, "one event per request: {body}");
    let got = &events[0];
    assert_eq!(
        got["visitorId"], answer["visitorId"],
        "visitorId as answered"
    );
    assert_eq!(
        got["identity"]["ip"], "127.0.0.1",
        "the server saw 127.0.0.1"
    );

    let expected = seed_with_unpredictable_fields_of(got);
    assert_eq!(
        got, &expected,
        "the messageAgent body must equal the seed's example\n got: {got:#}\nwant: {expected:#}"
    );
    assert_key_order(&req.body);
}

/// The seed's event with `createdAt`s, `visitorId` and `identity.ip` taken from `got` after
/// checking their form.
fn seed_with_unpredictable_fields_of(got: &Value) -> Value {
    let mut expected = seed_example()[0].clone();
    let created = got["createdAt"].as_str().expect("createdAt");
    assert_iso_millis(created);
    expected["createdAt"] = created.into();
    let visitor_id = got["visitorId"].as_str().expect("visitorId");
    assert_visitor_id(visitor_id);
    expected["visitorId"] = visitor_id.into();
    expected["identity"]["ip"] = "127.0.0.1".into();
    let got_messages = got["messages"].as_array().expect("messages");
    let want_messages = expected["messages"].as_array_mut().expect("messages");
    assert_eq!(got_messages.len(), want_messages.len(), "messages: {got}");
    for (want, got) in want_messages.iter_mut().zip(got_messages) {
        let at = got["createdAt"].as_str().expect("message createdAt");
        assert_iso_millis(at);
        want["createdAt"] = at.into();
    }
    expected
}

fn assert_key_order(body: &[u8]) {
    let events: Vec<OrderedObject> = serde_json::from_slice(body).expect("array of objects");
    let event = &events[0];
    assert_eq!(
        event.keys(),
        [
            "event",
            "createdAt",
            "channelName",
            "visitorName",
            "visitorId",
            "identity",
            "agent",
            "message",
            "messages"
        ]
    );
    let identity: OrderedObject = serde_json::from_str(event.raw("identity")).expect("identity");
    let seed = include_str!("../fixtures/seed-example.json");
    let seed: Vec<OrderedObject> = serde_json::from_str(seed).expect("seed");
    let seed_identity: OrderedObject =
        serde_json::from_str(seed[0].raw("identity")).expect("seed identity");
    assert_eq!(identity.keys(), seed_identity.keys(), "identity key order");
}
