//! Hostile input to the conversation calls: messages capped at 10,000 characters (visitor, start
//! and agent alike), identity fields capped and checked. A refusal is a 422 naming the field,
//! and leaves nothing stored and nothing fired (a later allowed message is the barrier).

use serde_json::{Value, json};

use crate::api::VisitorStart;
use crate::helpers::TestApp;
use crate::scene::{AGENT, Scene};
use crate::stores::{TestStore, on_every_store};

on_every_store!(
    messages_of_10000_characters_pass_and_10001_are_422,
    bad_identity_fields_are_422_naming_the_field,
    identity_values_at_their_caps_are_stored_whole,
);

/// 10,000 characters of two bytes each: the limit counts characters, not bytes.
fn chars(n: usize) -> String {
    "é".repeat(n)
}

/// Asserts a 422 whose detail starts with the field in backquotes and says `words`.
fn assert_refused(answer: &crate::client::ApiResponse, field: &str, words: &[&str]) {
    let problem = answer.expect_problem(422);
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(
        detail.starts_with(&format!("`{field}`")),
        "{}: the detail must name `{field}`: {detail}",
        answer.what
    );
    for w in words {
        assert!(detail.contains(w), "{}: {detail} lacks {w:?}", answer.what);
    }
}

/// A new visitor's start with this body.
async fn start(
    app: &TestApp,
    identity: Option<Value>,
    message: Option<String>,
) -> crate::client::ApiResponse {
    let req = VisitorStart {
        identity,
        message,
        ..VisitorStart::default()
    };
    app.visitor_start_call(&req).await.send().await
}

async fn messages_of_10000_characters_pass_and_10001_are_422(store: TestStore) {
    let mut s = Scene::new(store).await;
    let over = chars(10_001);
    let answer = start(&s.app, Some(json!({"name": "Long"})), Some(over.clone())).await;
    assert_refused(&answer, "message", &["10001", "10000"]);
    let answer = s
        .app
        .visitor_message_call(s.token(), s.conv(), &over)
        .send()
        .await;
    assert_refused(&answer, "text", &["10001", "10000"]);
    let answer = s
        .app
        .agent_message_call(s.conv(), AGENT, &over)
        .send()
        .await;
    assert_refused(&answer, "text", &["10001", "10000"]);
    let nul = s
        .app
        .visitor_message_call(s.token(), s.conv(), "a\u{0}b")
        .send()
        .await;
    assert_refused(&nul, "text", &["NUL"]);
    assert_eq!(
        s.app.list("/conversations").await.len(),
        1,
        "no new visitor"
    );
    s.assert_nothing_fired().await;

    let at_cap = chars(10_000);
    s.app.visitor_message(s.token(), s.conv(), &at_cap).await;
    s.texts.push(at_cap.clone());
    let agent_text = "a".repeat(10_000);
    s.app
        .agent_message_call(s.conv(), AGENT, &agent_text)
        .send()
        .await
        .expect_status(201);
    s.texts.push(agent_text);
    s.assert_only_fired(&["messageVisitor", "open", "messageAgent"])
        .await;

    let started = start(&s.app, Some(json!({"name": "Long"})), Some(at_cap.clone())).await;
    let started = started.expect_json(201);
    let conv = started["conversationId"].as_str().expect("conversationId");
    let token = started["visitorToken"].as_str().expect("visitorToken");
    let view = s.app.visitor_conversation(token, conv).await;
    assert_eq!(view["messages"][0]["text"], at_cap.as_str());
}

/// Each bad value of each field: the field, and words its refusal must hold.
fn bad_identities() -> Vec<(&'static str, Value, Vec<&'static str>)> {
    let url = |n: usize| format!("https://shop.example/{}", "p".repeat(n - 21));
    vec![
        ("name", json!("n".repeat(201)), vec!["201", "200"]),
        ("name", json!("Ann\nBob"), vec!["control"]),
        ("phone", json!("call me maybe"), vec!["phone number"]),
        ("phone", json!("1".repeat(51)), vec!["51", "50"]),
        ("email", json!("not-an-email"), vec!["email address"]),
        ("email", json!(format!("{}@x.com", "a".repeat(250))), vec![]),
        ("picture", json!("javascript:alert(1)"), vec!["http"]),
        ("picture", json!("data:image/png;base64,AAAA"), vec!["http"]),
        ("picture", json!(url(2049)), vec!["2049", "2048"]),
        ("location", json!("file:///etc/passwd"), vec!["http"]),
        ("location", json!("not a url"), vec!["http"]),
        ("location", json!(url(2049)), vec!["2049", "2048"]),
        ("title", json!("t".repeat(501)), vec!["501", "500"]),
        ("languages", json!("en,".repeat(70)), vec!["210", "200"]),
    ]
}

async fn bad_identity_fields_are_422_naming_the_field(store: TestStore) {
    let mut s = Scene::new(store).await;
    let before = s.app.conversation(s.conv()).await["identity"].clone();
    for (field, value, words) in bad_identities() {
        let identity = json!({ field: value });
        let fresh = start(&s.app, Some(identity.clone()), Some("hi".into())).await;
        assert_refused(&fresh, &format!("identity.{field}"), &words);
        let returning = VisitorStart {
            identity: Some(identity),
            visitor_token: Some(s.token().to_owned()),
            ..VisitorStart::default()
        };
        let again = s.app.visitor_start_call(&returning).await.send().await;
        assert_refused(&again, &format!("identity.{field}"), &words);
    }
    assert_eq!(
        s.app.list("/conversations").await.len(),
        1,
        "no new visitor"
    );
    let after = s.app.conversation(s.conv()).await["identity"].clone();
    assert_eq!(after, before, "the stored identity is unchanged");
    s.assert_nothing_fired().await;
}

async fn identity_values_at_their_caps_are_stored_whole(store: TestStore) {
    let s = Scene::new(store).await;
    let location = format!("https://shop.example/{}", "p".repeat(2048 - 21));
    let identity = json!({
        "name": "ñ".repeat(200),
        "phone": "+1 (555) 010-0199",
        "email": "ann@shop.example",
        "picture": "https://cdn.example/ann.png",
        "title": "T".repeat(500),
        "location": location,
        "languages": "en-GB,fr",
    });
    let session = s.app.visitor_start(identity.clone(), Some("hi")).await;
    assert_eq!(session.visitor_name, "+1 (555) 010-0199");
    let detail = s.app.conversation(&session.conversation_id).await;
    for (k, v) in identity.as_object().expect("object") {
        assert_eq!(&detail["identity"][k], v, "identity.{k}: {detail}");
    }
    let long_agent = "Mozilla/5.0 ".repeat(100);
    let returning = VisitorStart {
        user_agent: Some(long_agent.clone()),
        visitor_token: Some(session.token.clone()),
        ..VisitorStart::default()
    };
    s.app
        .visitor_start_call(&returning)
        .await
        .send()
        .await
        .expect_status(200);
    let detail = s.app.conversation(&session.conversation_id).await;
    let ua = detail["identity"]["userAgent"].as_str().unwrap_or_default();
    assert_eq!(
        ua,
        &long_agent[..512],
        "the User-Agent is cut to 512 characters"
    );
}
