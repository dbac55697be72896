//! The JSON Schema of the webhook body: the seed's example matches it, broken bodies do not,
//! the server serves it, and the receivers' check of every body can fail.

use reqwest::Method;
use serde_json::{Value, json};

use crate::fixtures::seed_example;
use crate::helpers::{TestApp, WAIT};
use crate::receiver::Receiver;
use crate::schema::{DOCUMENT, violations};
use crate::stores::TestStore;

fn bytes(body: &Value) -> Vec<u8> {
    serde_json::to_vec(body).unwrap()
}

/// Asserts the changed seed example breaks the schema, with a reason mentioning `hint`.
#[track_caller]
fn assert_broken(what: &str, body: Value, hint: &str) {
    let errors = violations(&bytes(&body));
    assert!(!errors.is_empty(), "{what}: accepted by the schema");
    assert!(
        errors.iter().any(|e| e.contains(hint)),
        "{what}: no reason mentions {hint:?}: {errors:#?}"
    );
}

#[test]
fn the_seeds_example_matches_and_is_the_schemas_example() {
    let seed = seed_example();
    assert_eq!(violations(&bytes(&seed)), Vec::<String>::new());
    let schema: Value = serde_json::from_str(DOCUMENT).unwrap();
    assert_eq!(
        schema["examples"][0], seed,
        "the seed's example is the schema's"
    );
    // A batch of the six events, the first before any agent entered, matches too.
    let mut batch = Vec::new();
    for name in [
        "start",
        "messageVisitor",
        "open",
        "messageAgent",
        "email",
        "end",
    ] {
        let mut e = seed[0].clone();
        e["event"] = json!(name);
        batch.push(e);
    }
    batch[0]["agent"] = Value::Null;
    batch[0]["messages"] = json!([]);
    batch[0]["message"] = json!("");
    assert_eq!(violations(&bytes(&json!(batch))), Vec::<String>::new());
}

#[test]
fn broken_bodies_do_not_match() {
    let seed = seed_example();
    let with = |change: &dyn Fn(&mut Value)| {
        let mut body = seed.clone();
        change(&mut body[0]);
        body
    };
    assert_broken("an extra key", with(&|e| e["id"] = json!("x")), "id");
    assert_broken(
        "an extra identity key",
        with(&|e| e["identity"]["city"] = json!("Paris")),
        "city",
    );
    assert_broken(
        "a missing identity key",
        with(&|e| {
            e["identity"].as_object_mut().unwrap().remove("ip");
        }),
        "ip",
    );
    assert_broken(
        "a wrong event name",
        with(&|e| e["event"] = json!("message")),
        "/0/event",
    );
    assert_broken(
        "createdAt without milliseconds",
        with(&|e| e["createdAt"] = json!("2016-01-09T11:09:09Z")),
        "/0/createdAt",
    );
    assert_broken(
        "createdAt in another zone",
        with(&|e| e["createdAt"] = json!("2016-01-09T12:09:09.111+01:00")),
        "/0/createdAt",
    );
    assert_broken(
        "a visitorId outside the alphabet",
        with(&|e| e["visitorId"] = json!("a3W7EEfSWanTWyGk0")),
        "/0/visitorId",
    );
    assert_broken(
        "a message with an extra key",
        with(&|e| e["messages"][0]["id"] = json!("m1")),
        "/0/messages/0",
    );
    assert_broken(
        "an agent's message without its agent",
        with(&|e| e["agent"] = Value::Null),
        "/0/agent",
    );
    assert_broken(
        "an identity value not a string",
        with(&|e| e["identity"]["ip"] = json!(null)),
        "ip",
    );
    assert_broken("an event alone, not in an array", seed[0].clone(), "array");
    assert_broken("an empty array", json!([]), "");
    assert_broken("101 events", json!(vec![seed[0].clone(); 101]), "");
}

/// Public, cacheable, the repository's bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_serves_the_schema() {
    let app = TestApp::spawn(TestStore::Sqlite).await;
    let path = "/api/v1/schemas/webhook.json";
    let got = app.call(Method::GET, path).send().await;
    got.expect_status(200);
    assert_eq!(got.body, DOCUMENT.as_bytes());
    assert_eq!(got.content_type(), "application/schema+json");
    let header = |name: &str| got.headers[name].to_str().unwrap().to_owned();
    assert!(header("cache-control").starts_with("public"));
    let etag = header("etag");
    let again = app.call(Method::GET, path).header("If-None-Match", &etag);
    let again = again.send().await;
    again.expect_status(304);
    assert!(again.body.is_empty());
    let other = app
        .call(Method::GET, path)
        .header("If-None-Match", "\"other\"");
    other.send().await.expect_status(200);
}

/// POSTs `body` to `url` as a delivery would come (with a `webhook-id`).
async fn post(url: &str, body: Vec<u8>) {
    let request = reqwest::Client::new().post(url);
    let request = request.header("webhook-id", "msg_test").body(body);
    request.send().await.expect("the receiver answers");
}

/// The receivers' check is what makes every test check the schema: it must be able to fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_given_a_body_off_the_schema_fails_its_test() {
    let receiver = Receiver::start().await;
    let mut body = seed_example();
    body[0]["event"] = json!("typing");
    post(&receiver.url(), bytes(&body)).await;
    receiver.wait_for(1, WAIT).await;
    let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(receiver)));
    let message = dropped.expect_err("dropping the receiver did not fail");
    let message = message.downcast_ref::<String>().unwrap();
    assert!(
        message.contains("/0/event") && message.contains("typing"),
        "{message}"
    );

    // A request without webhook-id is not a delivery, and a good body passes.
    let receiver = Receiver::start().await;
    reqwest::Client::new()
        .post(receiver.url())
        .body("not a webhook")
        .send()
        .await
        .unwrap();
    post(&receiver.url(), bytes(&seed_example())).await;
    receiver.wait_for(2, WAIT).await;
    drop(receiver);
}
