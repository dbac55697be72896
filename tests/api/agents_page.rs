//! The Agents page: served to admins only, with its scripts and styles and the hooks the browser
//! tests use; and the calls its script makes with the page's session — the registry listed with
//! who has console access, objects stored verbatim (unknown keys kept), console passwords set
//! (10 to 200 characters), reset and removed, agents deleted.

use reqwest::Method;
use serde_json::{Value, json};

use crate::console_auth::client::{Console, redirect_to};
use crate::console_auth::{agent_with_email, assert_not_logged};
use crate::fixtures::{MOSS_ID, moss};
use crate::helpers::TestApp;
use crate::stores::{TestStore, on_every_store};

on_every_store!(the_page_manages_agents_through_the_api);

/// The page's elements a browser test finds by `data-test`.
const HOOKS: &[&str] = &[
    "add-agent",
    "add-first-agent",
    "agents-empty",
    "agents-table",
    "agent-filter",
    "agent-form",
    "agent-id",
    "agent-real-name",
    "agent-name",
    "agent-email",
    "agent-title",
    "agent-picture",
    "agent-json",
    "save-agent",
    "password-form",
    "password",
    "password-confirm",
    "save-password",
    "remove-access",
    "confirm-dialog",
    "confirm-ok",
];

#[tokio::test]
async fn the_agents_page_is_served_to_admins_with_its_assets() {
    let app = TestApp::spawn(TestStore::Sqlite).await;
    let mut admin = Console::new(&app);
    redirect_to(&admin.sign_in_admin(&app.api_key).await);
    let page = admin.get("/admin/agents").await;
    assert_eq!(page.status, 200, "{}", page.text());
    let html = page.text();
    for hook in HOOKS {
        assert!(
            html.contains(&format!(r#"data-test="{hook}""#)),
            "no data-test={hook:?}"
        );
    }
    assert!(html.contains(r#"<a href="/admin/agents" aria-current="page">Agents</a>"#));
    assert!(
        html.contains("users.info"),
        "the empty state says what an agent is"
    );
    for (asset, kind, needle) in [
        ("agents.js", "text/javascript", "consoleAccess"),
        ("agent_form.js", "text/javascript", "window.AgentForm"),
        ("agents.css", "text/css", ".ag-table"),
    ] {
        let path = format!("/assets/console/{asset}");
        assert!(
            html.contains(&format!(r#""{path}""#)),
            "the page loads {path}"
        );
        let r = app.call(Method::GET, &path).send().await;
        assert_eq!(r.status, 200, "{path}");
        assert!(
            r.content_type().starts_with(kind),
            "{path}: {}",
            r.content_type()
        );
        assert!(r.text().contains(needle), "{path} holds {needle}");
    }
    // Passwords never come back: the page has no password value to show.
    assert!(!html.contains("password_hash") && !html.contains("$argon2"));
}

async fn the_page_manages_agents_through_the_api(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let mut admin = Console::new(&app);
    redirect_to(&admin.sign_in_admin(&app.api_key).await);
    let csrf = admin.csrf().await;
    let mut call = async |method: Method, path: &str, body: Option<&Value>| {
        admin.api(method, path, body, Some(&csrf)).await
    };

    // Empty at first: the page shows its explanation.
    let list = call(Method::GET, "/agents?limit=100", None).await;
    assert_eq!(
        list.expect_json(200),
        json!({"data": [], "nextCursor": null, "consoleAccess": []})
    );

    // What the form builds, and the seed's whole Slack object through the raw JSON.
    let built = json!({
        "id": "U0JEN0001", "name": "jen", "real_name": "Jen Barber",
        "profile": {"real_name": "Jen Barber", "display_name": "jen", "email": "jen@reynholm.example",
                    "image_48": "https://example.com/jen.png", "image_72": "https://example.com/jen.png", "title": "Head of IT"}
    });
    let r = call(Method::PUT, "/agents/U0JEN0001", Some(&built)).await;
    assert_eq!(r.expect_json(201), built);
    call(Method::PUT, &format!("/agents/{MOSS_ID}"), Some(&moss()))
        .await
        .expect_json(201);

    // An edit changes the stored object in place: keys the form does not know stay, verbatim.
    let mut edited = call(Method::GET, &format!("/agents/{MOSS_ID}"), None)
        .await
        .expect_json(200);
    assert_eq!(edited, moss(), "stored verbatim");
    edited["profile"]["title"] = json!("IT support");
    edited["profile"]["email"] = json!("moss@reynholm.example");
    let r = call(Method::PUT, &format!("/agents/{MOSS_ID}"), Some(&edited)).await;
    assert_eq!(r.expect_json(200), edited);
    let stored = call(Method::GET, &format!("/agents/{MOSS_ID}"), None)
        .await
        .expect_json(200);
    assert_eq!(stored["tz"], "Europe/Amsterdam");
    assert_eq!(
        stored["profile"]["image_original"],
        moss()["profile"]["image_original"]
    );
    let other = agent_with_email("U0ROY0001", "Roy", "roy@reynholm.example");
    let r = call(Method::PUT, "/agents/U0JEN0001", Some(&other)).await;
    assert!(
        r.expect_problem(422)["detail"]
            .as_str()
            .unwrap()
            .contains("`id`")
    );

    // Console passwords: 10 to 200 characters, said in the problem's detail; never answered.
    let path = format!("/agents/{MOSS_ID}/password");
    for bad in ["x".repeat(9), "x".repeat(201)] {
        let r = call(Method::PUT, &path, Some(&json!({ "password": bad }))).await;
        let detail = r.expect_problem(422)["detail"].as_str().unwrap().to_owned();
        assert!(detail.contains("characters"), "{detail}");
    }
    let ten = "ten chars!";
    let r = call(Method::PUT, &path, Some(&json!({ "password": ten }))).await;
    assert!(r.expect_status(204).body.is_empty());
    let r = call(
        Method::PUT,
        "/agents/U0NOBODY/password",
        Some(&json!({"password": ten})),
    )
    .await;
    r.expect_problem(404);
    let list = call(Method::GET, "/agents?limit=100", None)
        .await
        .expect_json(200);
    assert_eq!(list["consoleAccess"], json!([MOSS_ID]));
    assert_eq!(list["data"].as_array().unwrap().len(), 2);
    assert!(!list.to_string().contains("argon2") && !list.to_string().contains(ten));
    let one = call(Method::GET, &format!("/agents/{MOSS_ID}"), None)
        .await
        .text();
    assert!(!one.contains("argon2") && !one.contains("password"));
    // Moss signs in with the email of the edited profile.
    let mut moss_browser = Console::new(&app);
    redirect_to(
        &moss_browser
            .sign_in_agent("moss@reynholm.example", ten)
            .await,
    );

    // Access removed, then the agent deleted (with its sessions).
    call(Method::DELETE, &path, None).await.expect_status(204);
    let list = call(Method::GET, "/agents?limit=100", None)
        .await
        .expect_json(200);
    assert_eq!(list["consoleAccess"], json!([]));
    call(Method::DELETE, "/agents/U0JEN0001", None)
        .await
        .expect_status(204);
    call(Method::DELETE, "/agents/U0JEN0001", None)
        .await
        .expect_problem(404);
    let list = call(Method::GET, "/agents?limit=100", None)
        .await
        .expect_json(200);
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [MOSS_ID]);
    assert_not_logged(&app, &[ten, &app.api_key, &csrf]);
}
