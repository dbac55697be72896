//! The visitor API's rate limits: per client address (behind a trusted proxy, the forwarded one;
//! IPv6 by /64) and per site, 429 with `Retry-After` over them, `0` for none. A refused call
//! does nothing (a later allowed message is the barrier). The harness turns the limits off;
//! these tests turn them on.

use reqwest::Method;

use crate::client::{ApiResponse, Auth, Call};
use crate::helpers::TestApp;
use crate::scene::Scene;
use crate::stores::{TestStore, on_every_store};

on_every_store!(
    the_sixth_call_a_minute_from_one_address_is_429,
    the_site_limit_counts_every_address_of_the_site,
    a_limit_of_0_is_no_limit,
);

/// Five calls a minute per address; 127.0.0.1 is a trusted proxy (and, without
/// `X-Forwarded-For`, the client of the scene's own calls).
async fn limited(store: TestStore, per_address: &str, per_site: Option<&str>) -> TestApp {
    let mut b = TestApp::builder(store)
        .env("PALAVER_VISITOR_RATE_LIMIT", per_address)
        .env("PALAVER_TRUSTED_PROXIES", "127.0.0.1");
    if let Some(site) = per_site {
        b = b.env("PALAVER_VISITOR_SITE_RATE_LIMIT", site);
    }
    b.spawn().await
}

/// `GET /visitor/widget` with the default team's site key, from `from` (forwarded).
async fn widget(app: &TestApp, from: &str) -> ApiResponse {
    let key = app.site_key().await;
    widget_of(app, &key, from).send().await
}

fn widget_of<'a>(app: &'a TestApp, site_key: &str, from: &str) -> Call<'a> {
    app.call(Method::GET, "/api/v1/visitor/widget")
        .auth(Auth::SiteKey(site_key.to_owned()))
        .header("x-forwarded-for", from)
        .header("origin", "https://shop.example")
}

/// Asserts a 429 problem with a `Retry-After` of 1 to `max` seconds, readable by the widget on
/// another origin (CORS).
fn assert_limited(answer: &ApiResponse, max: u64, words: &str) {
    let problem = answer.expect_problem(429);
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(detail.contains(words), "{}: {detail}", answer.what);
    let after: u64 = answer
        .headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{}: a 429 needs Retry-After in seconds", answer.what));
    assert!((1..=max).contains(&after), "Retry-After {after}");
    assert_eq!(answer.headers["access-control-allow-origin"], "*");
    let exposed = answer.headers["access-control-expose-headers"]
        .to_str()
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(exposed.contains("retry-after"), "exposed: {exposed}");
}

async fn the_sixth_call_a_minute_from_one_address_is_429(store: TestStore) {
    let app = limited(store, "5", None).await;
    let mut s = Scene::with(app).await;
    let (a, b) = ("203.0.113.7", "198.51.100.20");

    // The live stream counts once, however long it stays open.
    let path = format!("/api/v1/visitor/conversations/{}/events", s.conv());
    let stream = s.app.call(Method::GET, &path).bearer(s.token());
    let stream = stream.header("x-forwarded-for", a).open().await;
    assert_eq!(stream.status(), 200);
    for i in 1..=4 {
        let text = format!("from a, {i}");
        let call = s.app.visitor_message_call(s.token(), s.conv(), &text);
        call.header("x-forwarded-for", a)
            .send()
            .await
            .expect_status(201);
        s.texts.push(text);
    }
    let sixth = s.app.visitor_message_call(s.token(), s.conv(), "sixth");
    let sixth = sixth
        .header("x-forwarded-for", a)
        .header("origin", "https://shop.example")
        .send()
        .await;
    assert_limited(&sixth, 12, "address");
    assert_limited(&widget(&s.app, a).await, 12, "address");

    // Another address behind the same proxy is not limited, nor the proxy itself.
    widget(&s.app, b).await.expect_status(200);
    let text = "from b".to_owned();
    let call = s.app.visitor_message_call(s.token(), s.conv(), &text);
    call.header("x-forwarded-for", b)
        .send()
        .await
        .expect_status(201);
    s.texts.push(text);
    let fired = ["messageVisitor"; 5];
    s.assert_only_fired(&fired).await; // from 127.0.0.1; "sixth" is not in the transcript

    // IPv6 addresses count by /64.
    for _ in 0..5 {
        widget(&s.app, "2001:db8:7:7::1").await.expect_status(200);
    }
    assert_limited(&widget(&s.app, "2001:db8:7:7::beef").await, 12, "address");
    widget(&s.app, "2001:db8:7:8::1").await.expect_status(200);
    drop(stream);
}

async fn the_site_limit_counts_every_address_of_the_site(store: TestStore) {
    let app = limited(store, "1000", Some("5")).await;
    let other = app.second_team().await;
    let session = app
        .visitor_start(crate::fixtures::named("Sid"), Some("hi"))
        .await; // 1: from 127.0.0.1
    for i in 2..=4 {
        widget(&app, &format!("203.0.113.{i}"))
            .await
            .expect_status(200);
    }
    let path = format!("/api/v1/visitor/conversations/{}", session.conversation_id);
    let view = app.call(Method::GET, &path).bearer(&session.token);
    view.header("x-forwarded-for", "203.0.113.5")
        .send()
        .await
        .expect_status(200); // 5: a visitor's call, by token only, counts for its site
    assert_limited(&widget(&app, "203.0.113.6").await, 12, "site");
    let by_token = app.call(Method::GET, &path).bearer(&session.token);
    let by_token = by_token
        .header("x-forwarded-for", "203.0.113.7")
        .header("origin", "https://shop.example")
        .send()
        .await;
    assert_limited(&by_token, 12, "site");
    // Another site is not limited.
    let theirs = widget_of(&app, &other.site_key, "203.0.113.8").send().await;
    theirs.expect_status(200);
}

async fn a_limit_of_0_is_no_limit(store: TestStore) {
    let app = limited(store, "0", None).await;
    let key = app.site_key().await;
    let calls = (0..130).map(|_| widget_of(&app, &key, "203.0.113.9").send());
    for answer in futures::future::join_all(calls).await {
        answer.expect_status(200); // over the default 120 a minute (the site's follows: off)
    }
}
