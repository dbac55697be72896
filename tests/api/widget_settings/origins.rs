//! Allowed origins: once a team lists them, visitor calls from pages of other websites are
//! refused with a 403 the page can read (CORS headers); listed origins, calls without `Origin`
//! and the server's own pages pass. And the CORS preflights the widget's calls need.

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use super::{patch, public_call};
use crate::api::{VisitorSession, VisitorStart};
use crate::client::{Auth, Call};
use crate::fixtures::named;
use crate::helpers::TestApp;
use crate::stores::{TestStore, on_every_store};

on_every_store!(
    other_origins_are_refused_on_every_visitor_call,
    listed_origins_calls_without_origin_and_the_servers_own_pages_pass,
    another_teams_list_does_not_apply,
    preflights_allow_the_widgets_headers,
);

const SHOP: &str = "https://shop.example";
const EVIL: &str = "https://evil.example";

/// What one call answered (a stream's body is not read).
struct Seen {
    what: String,
    status: u16,
    headers: HeaderMap,
    body: Value,
}

async fn seen(call: Call<'_>) -> Seen {
    let what = call.what();
    let resp = call.open().await;
    let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
    let kind = headers.get("content-type").and_then(|v| v.to_str().ok());
    let body = if kind.is_some_and(|k| k.starts_with("text/event-stream")) {
        Value::Null
    } else {
        let bytes = resp.bytes().await.expect("read the body");
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    };
    Seen {
        what,
        status,
        headers,
        body,
    }
}

/// Every visitor call, by visitor `v`, from a page of `origin` (`None`: not from a browser).
async fn visitor_calls(app: &TestApp, v: &VisitorSession, origin: Option<&str>) -> Vec<Seen> {
    let conv = v.conversation_id.as_str();
    let start = VisitorStart {
        identity: Some(named("Page")),
        ..VisitorStart::default()
    };
    let calls = vec![
        public_call(app).await,
        app.visitor_start_call(&start).await,
        app.visitor_message_call(&v.token, conv, "from a page"),
        app.set_email_call(&v.token, conv, "page@example.com"),
        app.call(
            Method::GET,
            &format!("/api/v1/visitor/conversations/{conv}"),
        )
        .bearer(&v.token),
        app.visitor_events_call(&v.token, conv),
    ];
    let mut answers = Vec::new();
    for call in calls {
        let call = match origin {
            Some(o) => call.header("origin", o),
            None => call,
        };
        answers.push(seen(call).await);
    }
    answers
}

fn assert_accepted(answers: &[Seen], origin: Option<&str>) {
    let expected = [200, 201, 201, 200, 200, 200];
    for (s, status) in answers.iter().zip(expected) {
        assert_eq!(s.status, status, "{} from {origin:?}: {}", s.what, s.body);
        if origin.is_some() {
            assert_eq!(s.headers["access-control-allow-origin"], "*", "{}", s.what);
        }
    }
}

fn message_count(conversation: &Value) -> usize {
    conversation["messages"].as_array().map_or(0, Vec::len)
}

async fn other_origins_are_refused_on_every_visitor_call(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let v = app.visitor_start(named("Scarlet"), Some("hello")).await;
    // No list yet: any page may call (and the auth caches now hold the team).
    assert_accepted(&visitor_calls(&app, &v, Some(EVIL)).await, Some(EVIL));

    patch(&app, &json!({ "allowedOrigins": [SHOP] })).await;
    let conversations = app.list("/conversations").await.len();
    let conv = v.conversation_id.as_str();
    let messages = message_count(&app.visitor_conversation(&v.token, conv).await);
    for s in visitor_calls(&app, &v, Some(EVIL)).await {
        assert_eq!(s.status, 403, "{}: {}", s.what, s.body);
        assert_eq!(
            s.body["type"], "urn:palaver:problem:origin-not-allowed",
            "{}",
            s.what
        );
        assert_eq!(s.body["status"], 403, "{}", s.what);
        let detail = s.body["detail"].as_str().unwrap_or_default();
        assert!(
            detail.contains(EVIL) && detail.contains("PATCH /api/v1/team/widget"),
            "{}: the detail says what to do: {detail}",
            s.what
        );
        assert_eq!(s.headers["content-type"], "application/problem+json");
        assert_eq!(
            s.headers["access-control-allow-origin"], "*",
            "{}: the page can read why",
            s.what
        );
    }
    assert_eq!(app.list("/conversations").await.len(), conversations);
    let after = app.visitor_conversation(&v.token, conv).await;
    assert_eq!(message_count(&after), messages, "nothing written: {after}");
}

async fn listed_origins_calls_without_origin_and_the_servers_own_pages_pass(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let listed = json!({ "allowedOrigins": ["http://localhost:3000", "https://SHOP.example/"] });
    patch(&app, &listed).await;
    let v = app.visitor_start(named("Scarlet"), None).await;
    let own = app.address();
    for origin in [
        Some(SHOP),
        Some("http://localhost:3000"),
        None,
        Some(own.as_str()),
    ] {
        assert_accepted(&visitor_calls(&app, &v, origin).await, origin);
    }
    let near_misses = ["http://shop.example", "https://shop.example:8443", "null"];
    for origin in near_misses {
        let call = public_call(&app).await.header("origin", origin);
        call.send().await.expect_problem(403);
    }
}

async fn another_teams_list_does_not_apply(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let b = app.second_team().await;
    let start_b = || {
        let call = app.call(Method::POST, "/api/v1/visitor/conversations");
        call.auth(Auth::SiteKey(b.site_key.clone()))
            .json(&json!({}))
            .header("origin", EVIL)
    };
    let vb = start_b().send().await.expect_json(201);
    let vb = VisitorSession::from_json(&vb);
    patch(&app, &json!({ "allowedOrigins": [SHOP] })).await;
    start_b().send().await.expect_status(201);
    let path = format!("/api/v1/visitor/conversations/{}", vb.conversation_id);
    let call = app.call(Method::GET, &path).bearer(&vb.token);
    call.header("origin", EVIL).send().await.expect_status(200);
}

/// Asserts that `header` lists each of `wanted` (case-insensitively).
fn assert_lists(headers: &HeaderMap, header: &str, wanted: &[&str]) {
    let value = headers.get(header).and_then(|v| v.to_str().ok());
    let value = value.unwrap_or_default().to_ascii_lowercase();
    let listed: Vec<&str> = value.split(',').map(str::trim).collect();
    for w in wanted {
        let w = w.to_ascii_lowercase();
        assert!(
            listed.contains(&w.as_str()),
            "{header} lacks {w}: {value:?}"
        );
    }
}

async fn preflights_allow_the_widgets_headers(store: TestStore) {
    let app = TestApp::spawn(store).await;
    patch(&app, &json!({ "allowedOrigins": [SHOP] })).await;
    let conv = "/api/v1/visitor/conversations/c_any";
    let cases = [
        ("/api/v1/visitor/widget", "GET", "x-site-key"),
        (
            "/api/v1/visitor/conversations",
            "POST",
            "content-type, idempotency-key, x-site-key",
        ),
        (
            &format!("{conv}/messages"),
            "POST",
            "authorization, content-type, idempotency-key",
        ),
        (
            &format!("{conv}/email"),
            "PUT",
            "authorization, content-type, idempotency-key",
        ),
        (
            &format!("{conv}/events"),
            "GET",
            "authorization, last-event-id",
        ),
    ];
    for (path, method, headers) in cases {
        let answer = app
            .call(Method::OPTIONS, path)
            .header("origin", SHOP)
            .header("access-control-request-method", method)
            .header("access-control-request-headers", headers)
            .send()
            .await;
        answer.expect_status(200);
        let h = &answer.headers;
        assert_eq!(h["access-control-allow-origin"], "*", "{path}");
        assert_lists(h, "access-control-allow-methods", &[method]);
        let asked: Vec<&str> = headers.split(", ").collect();
        assert_lists(h, "access-control-allow-headers", &asked);
        assert_eq!(h["access-control-max-age"], "7200", "{path}");
    }
    let answer = public_call(&app).await.header("origin", SHOP).send().await;
    answer.expect_status(200);
    let wanted = ["idempotent-replayed", "retry-after"];
    assert_lists(&answer.headers, "access-control-expose-headers", &wanted);
}
