//! Missing or bad credentials: 401 problems, and nothing happens.

use reqwest::Method;
use serde_json::json;

use crate::api::VisitorStart;
use crate::client::{Auth, Call};
use crate::scene::Scene;
use crate::stores::{TestStore, on_every_store};

on_every_store!(
    missing_or_bad_api_key_is_401,
    missing_or_bad_site_key_is_401,
    missing_or_bad_visitor_token_is_401,
);

/// The credentials that must not open the team API.
fn bad_team_auths(s: &Scene, site_key: &str) -> Vec<Auth> {
    vec![
        Auth::None,
        Auth::Bearer("sk_wrong".to_owned()),
        Auth::Bearer(String::new()),
        Auth::Bearer(site_key.to_owned()),
        Auth::Bearer(s.token().to_owned()),
        Auth::SiteKey(site_key.to_owned()),
    ]
}

async fn missing_or_bad_api_key_is_401(store: TestStore) {
    let mut s = Scene::new(store).await;
    let site_key = s.app.site_key().await;
    let conv = s.conv().to_owned();
    let body = json!({ "url": s.receiver.url() });
    for auth in bad_team_auths(&s, &site_key) {
        let calls: Vec<Call> = vec![
            s.app.api(Method::GET, "/team"),
            s.app.api(Method::GET, "/webhooks"),
            s.app.api(Method::GET, "/conversations"),
            s.app.api(Method::GET, &format!("/conversations/{conv}")),
            s.app.create_webhook_call(&body),
            s.app.agent_message_call(&conv, crate::scene::AGENT, "hi"),
            s.app.end_call(&conv, crate::scene::AGENT),
        ];
        for call in calls {
            call.auth(auth.clone()).send().await.expect_problem(401);
        }
    }
    let basic = s
        .app
        .api(Method::GET, "/webhooks")
        .header("authorization", "Basic c2s6c2s=");
    basic.auth(Auth::None).send().await.expect_problem(401);
    assert_eq!(s.app.list("/webhooks").await.len(), 1);
    assert_eq!(s.app.conversation(&conv).await["status"], "waiting");
    s.assert_nothing_fired().await;
}

async fn missing_or_bad_site_key_is_401(store: TestStore) {
    let mut s = Scene::new(store).await;
    let req = VisitorStart {
        message: Some("hi".to_owned()),
        ..VisitorStart::default()
    };
    let api_key = s.app.api_key.clone();
    for auth in [
        Auth::None,
        Auth::SiteKey("pk_wrong".to_owned()),
        Auth::SiteKey(String::new()),
        Auth::SiteKey(api_key.clone()),
        Auth::Bearer(api_key),
    ] {
        let call = s.app.visitor_start_call(&req).await.auth(auth);
        call.send().await.expect_problem(401);
    }
    assert_eq!(
        s.app.list("/conversations").await.len(),
        1,
        "no conversation started"
    );
    s.assert_nothing_fired().await;
}

async fn missing_or_bad_visitor_token_is_401(store: TestStore) {
    let mut s = Scene::new(store).await;
    let conv = s.conv().to_owned();
    let site_key = s.app.site_key().await;
    for auth in [
        Auth::None,
        Auth::Bearer("vt_wrong".to_owned()),
        Auth::Bearer(site_key.clone()),
        Auth::SiteKey(site_key.clone()),
    ] {
        let path = format!("/api/v1/visitor/conversations/{conv}");
        let calls: Vec<Call> = vec![
            s.app.visitor_message_call("", &conv, "hi"),
            s.app.set_email_call("", &conv, "a@b.co"),
            s.app.call(Method::GET, &path),
        ];
        for call in calls {
            call.auth(auth.clone()).send().await.expect_problem(401);
        }
    }
    let seen = s.app.visitor_conversation(s.token(), &conv).await;
    assert_eq!(seen["messages"].as_array().map(Vec::len), Some(1), "{seen}");
    s.assert_nothing_fired().await;
}
