//! The Integration pages: for signed-in admins only (sign-in first, agents sent back to their
//! conversations), an unknown webhook a 404 page, and each page the frame its script needs.

use reqwest::Method;
use serde_json::json;

use crate::console_auth::client::{Console, redirect_to};
use crate::fixtures::agent;
use crate::helpers::TestApp;
use crate::stores::TestStore;

#[tokio::test]
async fn the_pages_are_for_signed_in_admins() {
    let app = TestApp::spawn(TestStore::Sqlite).await;
    let hook = app.create_webhook("https://example.com/hook", None).await;
    let pages = [
        "/admin/integration".to_owned(),
        format!("/admin/integration/webhooks/{}", hook.id),
        format!("/admin/integration/webhooks/{}/deliveries/msg_x", hook.id),
    ];

    let mut anonymous = Console::new(&app);
    for page in &pages {
        let to = redirect_to(&anonymous.get(page).await);
        assert!(to.starts_with("/admin/sign-in"), "{page} → {to}");
    }

    let mut admin = Console::new(&app);
    let signed = admin.sign_in_admin(&app.api_key).await;
    assert_eq!(signed.status, 303, "{}", signed.text());
    for page in &pages {
        let r = admin.get(page).await;
        assert_eq!(r.status, 200, "{page}: {}", r.text());
        let html = r.text();
        assert!(html.contains(r#"data-test="#), "{page} is the page: {html}");
        assert!(
            html.contains(r#"name="csrf-token""#),
            "{page} has the frame"
        );
    }
    let html = admin.get(&pages[0]).await.text();
    for test in [
        "add-webhook",
        "webhook-url",
        "event-messageAgent",
        "webhook-batch-size",
    ] {
        assert!(html.contains(&format!(r#"data-test="{test}""#)), "{test}");
    }
    let html = admin.get(&pages[1]).await.text();
    assert!(html.contains(&hook.id), "the webhook's page knows its id");
    assert!(
        html.contains("https://example.com/hook"),
        "and shows its URL"
    );
    let r = admin.get("/admin/integration/webhooks/ep_nope").await;
    assert_eq!(r.status, 404, "an unknown webhook");
    assert!(r.text().contains("Back to Integration"), "{}", r.text());

    let mut moss = agent("U0MOSS", "Moss");
    moss["profile"]["email"] = json!("moss@example.com");
    app.put_agent(&moss).await.expect_status(201);
    app.api(Method::PUT, "/agents/U0MOSS/password")
        .json(&json!({"password": "correct horse battery"}))
        .send()
        .await
        .expect_status(204);
    let mut agent_console = Console::new(&app);
    let signed = agent_console
        .sign_in_agent("moss@example.com", "correct horse battery")
        .await;
    assert_eq!(signed.status, 303, "{}", signed.text());
    for page in &pages {
        let to = redirect_to(&agent_console.get(page).await);
        assert_eq!(to, "/admin/conversations?denied=admin-only", "{page}");
    }
    let health = format!("/webhooks/{}/health", hook.id);
    let r = agent_console.api(Method::GET, &health, None, None).await;
    assert_eq!(r.status, 403, "the health is an admin's: {}", r.text());
}
