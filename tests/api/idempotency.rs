//! `Idempotency-Key`: the same request again returns the first answer and fires nothing.

use reqwest::Method;
use serde_json::json;

use crate::scene::{AGENT, Scene};
use crate::stores::{TestStore, on_every_store};

on_every_store!(
    a_repeated_visitor_message_is_answered_once_and_fired_once,
    repeated_agent_message_and_webhook_create_happen_once,
);

async fn a_repeated_visitor_message_is_answered_once_and_fired_once(store: TestStore) {
    let mut s = Scene::new(store).await;
    let (app, conv, token) = (&s.app, s.conv(), s.token());
    let send = || {
        app.visitor_message_call(token, conv, "only once")
            .header("idempotency-key", "key-1")
    };
    let first = send().send().await;
    first.expect_status(201);
    let second = send().send().await;
    assert_eq!(second.status, first.status, "same status");
    assert_eq!(second.json(), first.json(), "same body");

    let other = app
        .visitor_message_call(token, conv, "another text")
        .header("idempotency-key", "key-1")
        .send()
        .await;
    other.expect_problem(422);
    s.texts.push("only once".to_owned());
    s.assert_only_fired(&["messageVisitor"]).await;
}

async fn repeated_agent_message_and_webhook_create_happen_once(store: TestStore) {
    let mut s = Scene::new(store).await;
    let (app, conv) = (&s.app, s.conv());
    let say = || {
        app.agent_message_call(conv, AGENT, "once")
            .header("idempotency-key", "agent-1")
    };
    let first = say().send().await.expect_json(201);
    assert_eq!(say().send().await.expect_json(201), first);

    let body = json!({ "url": s.receiver.url_with_path("/second"), "events": ["end"] });
    let create = || {
        app.create_webhook_call(&body)
            .header("idempotency-key", "hook-1")
    };
    let created = create().send().await.expect_json(201);
    assert_eq!(create().send().await.expect_json(201), created);
    let hooks = app.list("/webhooks").await;
    assert_eq!(hooks.len(), 2, "one webhook created: {hooks:?}");
    let path = format!("/webhooks/{}", created["id"].as_str().unwrap());
    app.api(Method::GET, &path).send().await.expect_status(200);

    s.texts.push("once".to_owned());
    s.assert_only_fired(&["open", "messageAgent"]).await;
}
