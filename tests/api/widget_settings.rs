//! The team's widget settings (`GET/PATCH /api/v1/team/widget`), allowed origins and CORS.
//!
//! Here: the settings themselves (defaults, changes, validation, the public part). Allowed
//! origins and CORS are in `origins`, what the visitor's transcript shows in `transcript`.

mod origins;
mod transcript;

use reqwest::Method;
use serde_json::{Value, json};

use crate::client::{ApiResponse, Auth, Call};
use crate::helpers::{TestApp, WAIT};
use crate::stores::{TestStore, on_every_store};

on_every_store!(
    the_defaults_are_served_to_the_team_and_the_widget,
    a_patch_changes_what_it_names_at_once_and_lasts_across_a_restart,
    each_invalid_value_is_a_422_naming_its_field_and_changes_nothing,
    strict_bodies_and_idempotency_keys_work_as_elsewhere,
);

pub fn defaults() -> Value {
    json!({
        "title": "Chat with us",
        "greeting": "Hi! How can we help you today?",
        "color": "#4f46e5",
        "position": "right",
        "allowedOrigins": []
    })
}

/// `GET /team/widget` (200).
pub async fn widget(app: &TestApp) -> Value {
    let call = app.api(Method::GET, "/team/widget");
    call.send().await.expect_json(200)
}

pub fn patch_call<'a>(app: &'a TestApp, patch: &Value) -> Call<'a> {
    app.api(Method::PATCH, "/team/widget").json(patch)
}

/// `PATCH /team/widget` (200); returns the whole new settings.
pub async fn patch(app: &TestApp, patch: &Value) -> Value {
    patch_call(app, patch).send().await.expect_json(200)
}

/// `GET /visitor/widget` with the default team's site key.
pub async fn public_call(app: &TestApp) -> Call<'_> {
    let key = app.site_key().await;
    let call = app.call(Method::GET, "/api/v1/visitor/widget");
    call.auth(Auth::SiteKey(key))
}

async fn public(app: &TestApp) -> ApiResponse {
    public_call(app).await.send().await
}

async fn the_defaults_are_served_to_the_team_and_the_widget(store: TestStore) {
    let app = TestApp::spawn(store).await;
    assert_eq!(widget(&app).await, defaults());

    let answer = public(&app).await;
    let mut expected = defaults();
    expected.as_object_mut().unwrap().remove("allowedOrigins");
    assert_eq!(answer.expect_json(200), expected, "no origins in public");
    let header = |name: &str| answer.headers.get(name).and_then(|v| v.to_str().ok());
    assert_eq!(header("cache-control"), Some("public, max-age=60"));
    let vary = answer.headers.get_all("vary").iter();
    let vary: Vec<&str> = vary.filter_map(|v| v.to_str().ok()).collect();
    assert!(vary.iter().any(|v| v.contains("x-site-key")), "{vary:?}");

    let call = app.call(Method::GET, "/api/v1/visitor/widget");
    call.send().await.expect_problem(401);
    let call = app.call(Method::GET, "/api/v1/visitor/widget");
    let wrong = call.auth(Auth::SiteKey("pk_wrong".into()));
    wrong.send().await.expect_problem(401);
    let call = app.call(Method::GET, "/api/v1/team/widget");
    call.send().await.expect_problem(401);
}

async fn a_patch_changes_what_it_names_at_once_and_lasts_across_a_restart(store: TestStore) {
    let app = TestApp::spawn(store).await;
    public(&app).await.expect_status(200); // the site is now in the auth cache
    let changed = patch(&app, &json!({"color": "#0EA5E9", "title": "  Support  "})).await;
    let mut expected = defaults();
    expected["color"] = json!("#0ea5e9");
    expected["title"] = json!("Support");
    assert_eq!(changed, expected, "the whole settings, normalized");
    assert_eq!(widget(&app).await, expected);
    let seen = public(&app).await.expect_json(200);
    assert_eq!(
        seen["color"], "#0ea5e9",
        "the widget sees it at once: {seen}"
    );

    let more = json!({"position": "left", "greeting": "", "allowedOrigins": [
        "https://Shop.example:443/", "http://localhost:3000", "https://shop.example"
    ]});
    let changed = patch(&app, &more).await;
    expected["position"] = json!("left");
    expected["greeting"] = json!("");
    expected["allowedOrigins"] = json!(["https://shop.example", "http://localhost:3000"]);
    assert_eq!(changed, expected);

    app.terminate(WAIT).await;
    app.restart().await;
    assert_eq!(widget(&app).await, expected, "kept across a restart");
    let seen = public(&app).await.expect_json(200);
    assert_eq!(
        (&seen["position"], &seen["greeting"]),
        (&json!("left"), &json!(""))
    );
}

async fn each_invalid_value_is_a_422_naming_its_field_and_changes_nothing(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let long = |n: usize| json!("x".repeat(n));
    let many: Vec<String> = (0..101).map(|i| format!("https://s{i}.example")).collect();
    let cases = [
        ("title", json!("")),
        ("title", json!("   ")),
        ("title", long(61)),
        ("greeting", long(501)),
        ("color", json!("blue")),
        ("color", json!("#12345")),
        ("color", json!("4f46e5")),
        ("position", json!("top")),
        ("allowedOrigins", json!(["example.com"])),
        ("allowedOrigins", json!(["ftp://example.com"])),
        ("allowedOrigins", json!(["https://example.com/shop"])),
        ("allowedOrigins", json!(["https://example.com?x=1"])),
        ("allowedOrigins", json!(["https://user:pw@example.com"])),
        ("allowedOrigins", json!(["https://*.example.com"])),
        ("allowedOrigins", json!(many)),
    ];
    for (field, value) in cases {
        let body = json!({ "title": "Fine", field: value });
        let problem = patch_call(&app, &body).send().await.expect_problem(422);
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.starts_with(&format!("`{field}` ")),
            "{field} = {value}: the detail names the field: {problem}"
        );
    }
    assert_eq!(widget(&app).await, defaults(), "nothing was applied");
}

async fn strict_bodies_and_idempotency_keys_work_as_elsewhere(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let unknown = patch_call(&app, &json!({"colour": "#fff"})).send().await;
    let problem = unknown.expect_problem(400);
    assert!(
        problem["detail"].as_str().unwrap().contains("colour"),
        "{problem}"
    );
    let wrong_type = patch_call(&app, &json!({"title": 5})).send().await;
    wrong_type.expect_problem(400);
    let empty = app.api(Method::PATCH, "/team/widget").send().await;
    assert_eq!(
        empty.expect_json(200),
        defaults(),
        "an empty patch changes nothing"
    );

    let first = patch_call(&app, &json!({"title": "Once"}))
        .header("idempotency-key", "widget-1")
        .send()
        .await;
    assert_eq!(first.expect_json(200)["title"], "Once");
    patch(&app, &json!({"title": "Twice"})).await;
    let again = patch_call(&app, &json!({"title": "Once"}))
        .header("idempotency-key", "widget-1")
        .send()
        .await;
    assert_eq!(again.expect_json(200)["title"], "Once", "the first answer");
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(
        widget(&app).await["title"],
        "Twice",
        "the replay changed nothing"
    );
}
