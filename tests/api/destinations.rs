//! Without `PALAVER_ALLOW_PRIVATE_DESTINATIONS`, non-public webhook destinations are refused.

use reqwest::Method;
use serde_json::json;

use crate::helpers::TestApp;
use crate::receiver::Receiver;
use crate::stores::{TestStore, on_every_store};

on_every_store!(private_destinations_are_refused_by_default,);

async fn private_destinations_are_refused_by_default(store: TestStore) {
    let app = TestApp::builder(store)
        .allow_private_destinations(false)
        .spawn()
        .await;
    let receiver = Receiver::start().await;
    let refused = [
        receiver.url(),
        "http://localhost/".to_owned(),
        "http://127.0.0.2:8080/hook".to_owned(),
        "http://10.1.2.3/hook".to_owned(),
        "http://192.168.1.1/hook".to_owned(),
        "http://172.16.0.1/hook".to_owned(),
        "http://169.254.169.254/latest/meta-data".to_owned(),
        "http://[::1]/hook".to_owned(),
        "http://0.0.0.0/hook".to_owned(),
    ];
    for url in &refused {
        let answer = app.create_webhook_call(&json!({ "url": url })).send().await;
        answer.expect_problem(422);
    }
    assert!(
        app.list("/webhooks").await.is_empty(),
        "nothing was created"
    );

    let public = app.create_webhook("http://1.1.1.1/hook", None).await;
    let path = format!("/webhooks/{}", public.id);
    let patch = json!({ "url": receiver.url() });
    let answer = app.api(Method::PATCH, &path).json(&patch).send().await;
    answer.expect_problem(422);
    let stored = app.api(Method::GET, &path).send().await.expect_json(200);
    assert_eq!(
        stored["url"], "http://1.1.1.1/hook",
        "url unchanged: {stored}"
    );
}
