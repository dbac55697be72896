//! Bad input of every kind: the documented status, a problem+json body with a useful detail,
//! and nothing fired or changed afterwards.

use reqwest::Method;
use serde_json::{Value, json};

use crate::api::VisitorStart;
use crate::client::Call;
use crate::scene::{AGENT, Scene};
use crate::stores::{TestStore, on_every_store};

on_every_store!(
    malformed_json_is_400,
    wrong_types_are_400,
    unknown_fields_in_a_webhook_create_are_400,
    unknown_ids_are_404,
    invalid_values_are_422,
    bodies_over_256_kib_are_413,
    ending_an_ended_conversation_is_409,
);

const JSON: &str = "application/json";

/// Sends every call and asserts each answers a problem with `status`.
async fn expect_problems(calls: Vec<Call<'_>>, status: u16) {
    for call in calls {
        call.send().await.expect_problem(status);
    }
}

/// The team's webhooks and conversations are as the scene made them.
async fn assert_lists_unchanged(s: &Scene) {
    let hooks = s.app.list("/webhooks").await;
    assert_eq!(hooks.len(), 1, "webhooks: {hooks:?}");
    assert_eq!(hooks[0]["url"], s.receiver.url().as_str());
    let convs = s.app.list("/conversations").await;
    assert_eq!(convs.len(), 1, "conversations: {convs:?}");
}

async fn malformed_json_is_400(store: TestStore) {
    let mut s = Scene::new(store).await;
    let (app, conv, token) = (&s.app, s.conv(), s.token());
    let start = app.visitor_start_call(&VisitorStart::default()).await;
    let calls = vec![
        app.api(Method::POST, "/webhooks").raw("{\"url\": ", JSON),
        app.visitor_message_call(token, conv, "")
            .raw("{\"text\": \"hi\"", JSON),
        app.agent_message_call(conv, AGENT, "")
            .raw("not json", JSON),
        app.set_email_call(token, conv, "").raw("{", JSON),
        app.join_call(conv, AGENT).raw("[1,", JSON),
        start.raw("{\"identity\": {", JSON),
    ];
    expect_problems(calls, 400).await;
    assert_lists_unchanged(&s).await;
    s.assert_nothing_fired().await;
}

async fn wrong_types_are_400(store: TestStore) {
    let mut s = Scene::new(store).await;
    let (app, conv, token) = (&s.app, s.conv(), s.token());
    let url = s.receiver.url();
    let start = app.visitor_start_call(&VisitorStart::default()).await;
    let calls = vec![
        app.create_webhook_call(&json!({ "url": 5 })),
        app.create_webhook_call(&json!({ "url": url, "events": "end" })),
        app.create_webhook_call(&json!({ "url": url, "enabled": "yes" })),
        app.visitor_message_call(token, conv, "")
            .json(&json!({ "text": 5 })),
        app.set_email_call(token, conv, "")
            .json(&json!({ "email": ["a@b.co"] })),
        app.agent_message_call(conv, AGENT, "")
            .json(&json!({ "agentId": AGENT, "text": null })),
        app.join_call(conv, AGENT).json(&json!({ "agentId": 7 })),
        start.json(&json!({ "identity": { "name": 5 } })),
    ];
    expect_problems(calls, 400).await;
    assert_lists_unchanged(&s).await;
    s.assert_nothing_fired().await;
}

async fn unknown_fields_in_a_webhook_create_are_400(store: TestStore) {
    let mut s = Scene::new(store).await;
    let url = s.receiver.url();
    let bodies = [
        json!({ "url": url, "colour": "red" }),
        json!({ "url": url, "events": ["end"], "secret": "whsec_bWluZQ==" }),
    ];
    let calls = bodies
        .iter()
        .map(|b| s.app.create_webhook_call(b))
        .collect();
    expect_problems(calls, 400).await;
    assert_lists_unchanged(&s).await;
    s.assert_nothing_fired().await;
}

async fn unknown_ids_are_404(store: TestStore) {
    let mut s = Scene::new(store).await;
    let (app, hook) = (&s.app, &s.hook.id);
    let post = |path: &str| {
        app.api(Method::POST, path)
            .json(&json!({ "agentId": AGENT }))
    };
    let get = |path: &str| app.api(Method::GET, path);
    let calls = vec![
        get("/conversations/nope"),
        post("/conversations/nope/join"),
        post("/conversations/nope/end"),
        app.agent_message_call("nope", AGENT, "hi"),
        get("/webhooks/nope"),
        app.api(Method::PATCH, "/webhooks/nope")
            .json(&json!({ "enabled": false })),
        app.api(Method::DELETE, "/webhooks/nope"),
        get("/webhooks/nope/deliveries"),
        app.api(Method::POST, "/webhooks/nope/rotate-secret"),
        app.api(Method::POST, "/webhooks/nope/test"),
        post("/webhooks/nope/recover").json(&json!({ "since": "2020-01-01T00:00:00.000Z" })),
        get(&format!("/webhooks/{hook}/deliveries/nope")),
        app.api(
            Method::POST,
            &format!("/webhooks/{hook}/deliveries/nope/redeliver"),
        ),
        get("/agents/nope"),
        app.api(Method::DELETE, "/agents/nope"),
        app.visitor_message_call(s.token(), "nope", "hi"),
    ];
    expect_problems(calls, 404).await;
    assert_lists_unchanged(&s).await;
    s.assert_nothing_fired().await;
}

async fn invalid_values_are_422(store: TestStore) {
    let mut s = Scene::new(store).await;
    let (app, conv, token) = (&s.app, s.conv(), s.token());
    let mut calls: Vec<Call> = ["not-an-email", "a@", "@b.co"]
        .iter()
        .map(|e| app.set_email_call(token, conv, e))
        .collect();
    calls.push(app.agent_message_call(conv, "UNOBODY", "hi"));
    calls.push(app.join_call(conv, "UNOBODY"));
    calls.push(app.end_call(conv, "UNOBODY"));
    for url in [
        "ftp://example.com/hook",
        "not a url",
        "",
        "file:///etc/passwd",
        "javascript:alert(1)",
    ] {
        calls.push(app.create_webhook_call(&json!({ "url": url })));
    }
    let url = s.receiver.url();
    calls.push(app.create_webhook_call(&json!({ "url": url, "events": ["nope"] })));
    let path = format!("/webhooks/{}", s.hook.id);
    calls.push(
        app.api(Method::PATCH, &path)
            .json(&json!({ "url": "ftp://example.com/" })),
    );
    expect_problems(calls, 422).await;
    assert_lists_unchanged(&s).await;
    let detail = app.conversation(conv).await;
    assert_eq!(detail["identity"]["email"], "", "email unchanged: {detail}");
    assert_eq!(detail["status"], "waiting", "{detail}");
    assert!(detail["agent"].is_null(), "{detail}");
    s.assert_nothing_fired().await;
}

async fn bodies_over_256_kib_are_413(store: TestStore) {
    let mut s = Scene::new(store).await;
    let (app, conv, token) = (&s.app, s.conv(), s.token());
    let big = "x".repeat(300 * 1024);
    let mut agent = crate::fixtures::agent("U0BIG", "Big");
    agent["profile"]["title"] = Value::from(big.as_str());
    let calls = vec![
        app.visitor_message_call(token, conv, &big),
        app.agent_message_call(conv, AGENT, &big),
        app.create_webhook_call(&json!({ "url": s.receiver.url(), "description": big })),
        app.api(Method::PUT, "/agents/U0BIG").json(&agent),
    ];
    expect_problems(calls, 413).await;
    assert_lists_unchanged(&s).await;
    app.api(Method::GET, "/agents/U0BIG")
        .send()
        .await
        .expect_problem(404);
    s.assert_nothing_fired().await;
}

async fn ending_an_ended_conversation_is_409(store: TestStore) {
    let mut s = Scene::new(store).await;
    s.app.join(s.conv(), AGENT).await;
    s.app.end(s.conv(), AGENT).await;
    let (app, conv) = (&s.app, s.conv());
    let calls = vec![
        app.end_call(conv, AGENT),
        app.agent_message_call(conv, AGENT, "late"),
    ];
    expect_problems(calls, 409).await;
    let detail = app.conversation(conv).await;
    assert_eq!(detail["status"], "ended", "{detail}");
    s.assert_only_fired(&["open", "end", "start"]).await;
}
