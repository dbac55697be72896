//! Sessions that end and agents that act only as themselves: an agent's session (its password
//! set through the API) joins and answers as itself and nothing more; sign-out, a password
//! change or removal, the agent's deletion and idleness end sessions server-side.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;

use super::client::{Console, redirect_to};
use super::{agent_with_email, assert_not_logged, set_password};
use crate::fixtures::{named, random_token};
use crate::helpers::TestApp;
use crate::stores::{TestStore, on_every_store};

on_every_store!(
    an_agent_session_acts_only_as_itself,
    sign_out_ends_the_session_server_side,
    password_changes_and_deletion_end_an_agents_sessions,
    idle_sessions_end,
);

const MOSS: &str = "U0MOSS001";
const ROY: &str = "U0ROY0001";
const EMAIL: &str = "moss@reynholm.example";

/// Moss (with a console password, answered) and Roy (without).
async fn agents(app: &TestApp) -> String {
    let moss = agent_with_email(MOSS, "Moss", EMAIL);
    app.put_agent(&moss).await.expect_status(201);
    let roy = agent_with_email(ROY, "Roy", "roy@reynholm.example");
    app.put_agent(&roy).await.expect_status(201);
    let password = format!("pw-{}", random_token(16));
    set_password(app, MOSS, &password).await;
    password
}

/// Asserts that this browser's session no longer opens pages or the API.
async fn assert_ended(app: &TestApp, token: &str, why: &str) {
    let mut old = Console::with_session(app, token);
    let page = old.get("/admin/conversations").await;
    assert!(
        redirect_to(&page).starts_with("/admin/sign-in"),
        "{why}: pages"
    );
    let r = old.api(Method::GET, "/conversations", None, None).await;
    assert_eq!(r.status, 401, "{why}: the API: {}", r.text());
    let r = old
        .api(
            Method::POST,
            "/webhooks",
            Some(&json!({"url": "https://example.com/"})),
            None,
        )
        .await;
    assert_eq!(r.status, 401, "{why}: a change: {}", r.text());
}

async fn an_agent_session_acts_only_as_itself(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let password = agents(&app).await;
    let visitor = app.visitor_start(named("Scarlet"), Some("hello")).await;
    let conv = visitor.conversation_id.clone();

    let mut moss = Console::new(&app);
    redirect_to(&moss.sign_in_agent(EMAIL, &password).await);
    let csrf = moss.csrf().await;
    let token = moss.session().unwrap();
    let page = moss.get("/admin/conversations").await.text();
    assert!(page.contains(&format!(r#"<meta name="palaver-agent" content="{MOSS}">"#)));
    assert!(
        !page.contains(r#"href="/admin/agents""#),
        "no admin navigation"
    );

    let as_roy = json!({ "agentId": ROY });
    let as_moss = json!({ "agentId": MOSS });
    let join = format!("/conversations/{conv}/join");
    let say = format!("/conversations/{conv}/messages");
    let end = format!("/conversations/{conv}/end");
    let r = moss
        .api(Method::POST, &join, Some(&as_roy), Some(&csrf))
        .await;
    assert_eq!(
        r.expect_problem(403)["type"],
        "urn:palaver:problem:not-this-agent"
    );
    assert_eq!(app.conversation(&conv).await["status"], "waiting");
    let r = moss.api(Method::POST, &join, Some(&as_moss), None).await;
    r.expect_problem(403);
    let r = moss
        .api(Method::POST, &join, Some(&as_moss), Some(&csrf))
        .await;
    assert_eq!(r.expect_json(200)["status"], "open");
    let hi = json!({ "agentId": MOSS, "text": "Hi, I'm Moss" });
    moss.api(Method::POST, &say, Some(&hi), Some(&csrf))
        .await
        .expect_json(201);
    let fake = json!({ "agentId": ROY, "text": "I'm Roy" });
    let r = moss.api(Method::POST, &say, Some(&fake), Some(&csrf)).await;
    r.expect_problem(403);
    moss.api(Method::POST, &end, Some(&as_roy), Some(&csrf))
        .await
        .expect_problem(403);
    let seen = moss
        .api(Method::GET, &format!("/conversations/{conv}"), None, None)
        .await;
    let seen = seen.expect_json(200);
    let texts: Vec<&str> = seen["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["text"].as_str())
        .collect();
    assert_eq!(texts, ["hello", "Hi, I'm Moss"]);

    // Admin calls are refused, reads and changes alike.
    let calls = [
        (Method::GET, "/webhooks".to_owned(), None),
        (
            Method::POST,
            "/webhooks".to_owned(),
            Some(json!({"url": "https://example.com/"})),
        ),
        (
            Method::PUT,
            format!("/agents/{MOSS}"),
            Some(agent_with_email(MOSS, "Moss", EMAIL)),
        ),
        (Method::DELETE, format!("/agents/{ROY}"), None),
        (
            Method::PUT,
            format!("/agents/{ROY}/password"),
            Some(json!({"password": "a-new-password"})),
        ),
        (Method::DELETE, format!("/agents/{MOSS}/password"), None),
        (
            Method::PATCH,
            "/team/widget".to_owned(),
            Some(json!({"title": "Ours now"})),
        ),
    ];
    for (method, path, body) in calls {
        let r = moss.api(method, &path, body.as_ref(), Some(&csrf)).await;
        assert_eq!(
            r.expect_problem(403)["type"],
            "urn:palaver:problem:admin-only"
        );
    }
    assert_eq!(app.list("/agents").await.len(), 2);
    assert!(app.list("/webhooks").await.is_empty());
    // The admin pages send an agent back to the conversations.
    for path in ["/admin/integration", "/admin/agents"] {
        let r = moss.get(path).await;
        assert_eq!(
            redirect_to(&r),
            "/admin/conversations?denied=admin-only",
            "{path}"
        );
    }
    assert_not_logged(&app, &[&password, &token, &csrf, &app.api_key]);
}

async fn sign_out_ends_the_session_server_side(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let mut c = Console::new(&app);
    redirect_to(&c.sign_in_admin(&app.api_key).await);
    let token = c.session().unwrap();
    let csrf = c.csrf().await;
    // A sign-out without the page's token (another site's form) does nothing.
    for form in [vec![], vec![("csrf", "forged")]] {
        let r = c.post_form("/admin/sign-out", &form).await;
        assert_eq!(r.status, 403, "{}", r.text());
    }
    assert_eq!(c.session().as_deref(), Some(token.as_str()));
    c.api(Method::GET, "/conversations", None, None)
        .await
        .expect_json(200);

    let r = c.post_form("/admin/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(redirect_to(&r), "/admin/sign-in?signed_out=1");
    assert_eq!(c.session(), None, "the cookie is cleared");
    let page = c.get("/admin/sign-in?signed_out=1").await;
    assert!(page.text().contains("You are signed out."));
    // The server forgot it: the old cookie, kept by someone, opens nothing.
    assert_ended(&app, &token, "after sign-out").await;
    assert_not_logged(&app, &[&token, &csrf, &app.api_key]);
}

async fn password_changes_and_deletion_end_an_agents_sessions(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let first = agents(&app).await;
    let mut admin = Console::new(&app);
    redirect_to(&admin.sign_in_admin(&app.api_key).await);
    let admin_csrf = admin.csrf().await;

    let mut moss = Console::new(&app);
    redirect_to(&moss.sign_in_agent(EMAIL, &first).await);
    let one = moss.session().unwrap();
    // An admin resets the password on the Agents page (with the page's session).
    let second = format!("pw-{}", random_token(16));
    let path = format!("/agents/{MOSS}/password");
    let body = json!({ "password": second });
    let short = json!({ "password": "too-short" });
    let r = admin
        .api(Method::PUT, &path, Some(&short), Some(&admin_csrf))
        .await;
    r.expect_problem(422);
    c_ok(&mut moss).await;
    let r = admin
        .api(Method::PUT, &path, Some(&body), Some(&admin_csrf))
        .await;
    r.expect_status(204);
    assert_ended(&app, &one, "after a password change").await;
    assert_eq!(
        Console::new(&app).sign_in_agent(EMAIL, &first).await.status,
        401
    );
    let mut again = Console::new(&app);
    redirect_to(&again.sign_in_agent(EMAIL, &second).await);
    let two = again.session().unwrap();

    // Console access removed: the session ends, the password opens nothing.
    let r = admin
        .api(Method::DELETE, &path, None, Some(&admin_csrf))
        .await;
    r.expect_status(204);
    assert_ended(&app, &two, "after console access was removed").await;
    assert_eq!(
        Console::new(&app)
            .sign_in_agent(EMAIL, &second)
            .await
            .status,
        401
    );
    let listed = admin
        .api(Method::GET, "/agents", None, None)
        .await
        .expect_json(200);
    assert_eq!(listed["consoleAccess"], json!([]));

    // The agent deleted: its session ends.
    set_password(&app, MOSS, &second).await;
    let listed = admin
        .api(Method::GET, "/agents", None, None)
        .await
        .expect_json(200);
    assert_eq!(listed["consoleAccess"], json!([MOSS]));
    let mut last = Console::new(&app);
    redirect_to(&last.sign_in_agent(EMAIL, &second).await);
    let three = last.session().unwrap();
    let r = admin
        .api(
            Method::DELETE,
            &format!("/agents/{MOSS}"),
            None,
            Some(&admin_csrf),
        )
        .await;
    r.expect_status(204);
    assert_ended(&app, &three, "after the agent's deletion").await;
    // The admin's own session was never touched.
    admin
        .api(Method::GET, "/agents", None, None)
        .await
        .expect_json(200);
    assert_not_logged(&app, &[&first, &second, &one, &two, &three, &app.api_key]);
}

/// The agent's session still works.
async fn c_ok(c: &mut Console<'_>) {
    c.api(Method::GET, "/conversations", None, None)
        .await
        .expect_json(200);
}

async fn idle_sessions_end(store: TestStore) {
    // Time passing is the thing tested here: a session in use outlives the idle time, an unused
    // one ends once it has passed.
    const IDLE: Duration = Duration::from_secs(2);
    let app = TestApp::builder(store)
        .env("PALAVER_SESSION_IDLE", "2s")
        .spawn()
        .await;
    let mut c = Console::new(&app);
    redirect_to(&c.sign_in_admin(&app.api_key).await);
    let token = c.session().unwrap();
    let start = Instant::now();
    let mut n = 0;
    while start.elapsed() < IDLE * 3 / 2 {
        n += 1;
        let r = if n % 2 == 0 {
            c.api(Method::GET, "/conversations", None, None).await
        } else {
            c.get("/admin/agents").await
        };
        let used = start.elapsed();
        assert_eq!(r.status, 200, "in use after {used:?}: {}", r.text());
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let last_use = Instant::now();
    c.api(Method::GET, "/conversations", None, None)
        .await
        .expect_json(200);
    tokio::time::sleep((last_use + IDLE + Duration::from_millis(50)) - Instant::now()).await;
    assert_ended(&app, &token, "after the idle time").await;
}
