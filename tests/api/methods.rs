//! A method a path does not have is a 405 problem with `Allow`, answered before anything else
//! (idempotency, auth, rate limits, the body); a bad query string is a 400 problem, never plain
//! text; a malformed `Idempotency-Key` is a 400 problem.

use reqwest::Method;

use crate::helpers::TestApp;
use crate::receiver::Receiver;
use crate::stores::{TestStore, on_every_store};

on_every_store!(
    a_missing_method_is_405_with_allow_before_idempotency_and_auth,
    bad_query_strings_are_400_problems,
    malformed_idempotency_keys_are_400_problems,
);

/// The methods of the answer's `Allow`, sorted.
fn allow(answer: &crate::client::ApiResponse) -> String {
    let mut methods: Vec<&str> = answer
        .headers
        .get("allow")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("{}: a 405 without Allow", answer.what))
        .split(", ")
        .collect();
    methods.sort_unstable();
    methods.join(", ")
}

async fn a_missing_method_is_405_with_allow_before_idempotency_and_auth(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let receiver = Receiver::start().await;
    let hook = app.create_webhook(&receiver.url(), None).await;
    let test = format!("/webhooks/{}/test", hook.id);
    app.api(Method::POST, &test)
        .header("idempotency-key", "used-once")
        .send()
        .await
        .expect_status(202);

    // The same key on a method the path does not have: 405, not the key's 422.
    let wrong = app
        .api(Method::PUT, &test)
        .header("idempotency-key", "used-once")
        .json(&serde_json::json!({"x": 1}))
        .send()
        .await;
    let problem = wrong.expect_problem(405);
    assert_eq!(problem["type"], "urn:palaver:problem:method-not-allowed");
    assert_eq!(allow(&wrong), "POST");

    // Before auth: no key, a wrong key.
    let anonymous = app
        .call(Method::DELETE, &format!("/api/v1{test}"))
        .send()
        .await;
    anonymous.expect_problem(405);
    assert_eq!(allow(&anonymous), "POST");
    let wrong_key = app
        .api(Method::PATCH, "/team")
        .bearer("not-a-key")
        .send()
        .await;
    wrong_key.expect_problem(405);
    assert_eq!(allow(&wrong_key), "GET, HEAD");
    let hooks = app.api(Method::PUT, "/webhooks").send().await;
    hooks.expect_problem(405);
    assert_eq!(allow(&hooks), "GET, HEAD, POST");
    let one = app
        .api(Method::POST, &format!("/webhooks/{}", hook.id))
        .send()
        .await;
    one.expect_problem(405);
    assert_eq!(allow(&one), "DELETE, GET, HEAD, PATCH");

    // Before the visitor API's site key and rate limit; its CORS preflights still pass.
    let visitor = app
        .call(Method::DELETE, "/api/v1/visitor/conversations")
        .send()
        .await;
    visitor.expect_problem(405);
    assert_eq!(allow(&visitor), "POST");
    let preflight = app
        .call(Method::OPTIONS, "/api/v1/visitor/conversations")
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "x-site-key,content-type")
        .send()
        .await;
    preflight.expect_status(200);
    assert!(
        preflight
            .headers
            .contains_key("access-control-allow-origin")
    );

    // HEAD beside GET.
    app.api(Method::HEAD, "/team")
        .send()
        .await
        .expect_status(200);
    // The test's delivery was queued once, by the POST.
    let deliveries = app.list(&format!("/webhooks/{}/deliveries", hook.id)).await;
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
}

async fn bad_query_strings_are_400_problems(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let receiver = Receiver::start().await;
    let hook = app.create_webhook(&receiver.url(), None).await;
    let deliveries = format!("/webhooks/{}/deliveries", hook.id);
    let long_cursor = format!("/agents?cursor={}", "a".repeat(65));
    let bad = [
        "/webhooks?bogus=1",
        "/webhooks?limit=abc",
        "/webhooks?limit=0",
        "/webhooks?limit=101",
        "/webhooks?limit=-1",
        "/webhooks?cursor=abc",
        "/conversations?status=nope",
        "/conversations?status=",
        "/agents?limit=1000",
        long_cursor.as_str(),
        "/slack/manifest?url=https://chat.example.com&bogus=1",
        "/events?bogus=1",
    ];
    for path in bad {
        app.api(Method::GET, path).send().await.expect_problem(400);
    }
    for path in [
        format!("{deliveries}?status=lost"),
        format!("{deliveries}?nope="),
    ] {
        app.api(Method::GET, &path).send().await.expect_problem(400);
    }
    for path in [
        "/webhooks?cursor=",
        "/conversations?status=waiting&limit=1&cursor=",
        "/agents?cursor=",
    ] {
        app.api(Method::GET, path).send().await.expect_status(200);
    }
    let ok = app
        .api(Method::GET, &format!("{deliveries}?status=pending&limit=5"))
        .send()
        .await
        .expect_json(200);
    assert_eq!(ok["data"].as_array().map(Vec::len), Some(0));
}

async fn malformed_idempotency_keys_are_400_problems(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let receiver = Receiver::start().await;
    let body = serde_json::json!({ "url": receiver.url() });
    for key in ["a\tb", &"k".repeat(256)] {
        let answer = app
            .create_webhook_call(&body)
            .header("idempotency-key", key)
            .send()
            .await;
        answer.expect_problem(400);
    }
    let fine = app
        .create_webhook_call(&body)
        .header("idempotency-key", &format!("ok key {}", "k".repeat(248)))
        .send()
        .await;
    fine.expect_status(201);
    assert_eq!(
        app.list("/webhooks").await.len(),
        1,
        "only the good key created one"
    );
}
