//! Slack on the console's Integration pages: the Slack card of `/admin/integration`, the Slack
//! delivery log (`/admin/integration/slack`) and a Slack delivery's page, for signed-in admins
//! only; and the app manifest for this server's address (`GET /api/v1/slack/manifest`), as
//! `palaver slack manifest` prints it. The calls the pages' scripts make with a console session
//! are in `integration_slack_calls.rs`.

use reqwest::Method;
use serde_json::Value;

use crate::console_auth::client::{Console, redirect_to};
use crate::console_auth::{agent_with_email, set_password};
use crate::helpers::TestApp;
use crate::stores::TestStore;

const SLACK_PAGES: [&str; 2] = [
    "/admin/integration/slack",
    "/admin/integration/slack/deliveries/msg_x",
];

/// Signs Moss in as an agent (not an admin).
pub async fn agent_console(app: &TestApp) -> Console<'_> {
    let moss = agent_with_email("U0MOSS001", "Moss", "moss@reynholm.example");
    app.put_agent(&moss).await.expect_status(201);
    let password = "a long enough password";
    set_password(app, "U0MOSS001", password).await;
    let mut console = Console::new(app);
    let signed = console
        .sign_in_agent("moss@reynholm.example", password)
        .await;
    assert_eq!(signed.status, 303, "{}", signed.text());
    console
}

fn has_test(html: &str, names: &[&str]) {
    for name in names {
        assert!(
            html.contains(&format!(r#"data-test="{name}""#)),
            "data-test={name} in the page:\n{html}"
        );
    }
}

#[tokio::test]
async fn the_slack_pages_are_for_signed_in_admins() {
    let app = TestApp::spawn(TestStore::Sqlite).await;
    let mut anonymous = Console::new(&app);
    for page in SLACK_PAGES {
        let to = redirect_to(&anonymous.get(page).await);
        assert!(to.starts_with("/admin/sign-in"), "{page} → {to}");
    }

    let mut admin = Console::new(&app);
    let signed = admin.sign_in_admin(&app.api_key).await;
    assert_eq!(signed.status, 303, "{}", signed.text());
    let card = admin.get("/admin/integration").await;
    assert_eq!(card.status, 200, "{}", card.text());
    let html = card.text();
    has_test(
        &html,
        &[
            "slack-card",
            "slack-status",
            "slack-setup",
            "slack-public-url",
            "slack-manifest",
            "copy-manifest",
            "slack-connect-form",
            "slack-bot-token",
            "slack-signing-secret",
            "slack-notify-channel",
            "slack-archive",
            "slack-connect",
            "slack-connected",
            "slack-workspace",
            "slack-bot-user",
            "slack-settings-form",
            "slack-disconnect",
            "slack-manifest-details",
            "slack-log-link",
            "add-webhook-open",
            "webhook-list",
        ],
    );
    assert!(
        html.contains(r#"value="palaver-support""#),
        "the notification channel's default"
    );
    assert!(html.contains("/assets/console/integration-slack.js"));

    let log = admin.get(SLACK_PAGES[0]).await;
    assert_eq!(log.status, 200, "{}", log.text());
    has_test(
        &log.text(),
        &[
            "delivery-log",
            "filter-failed",
            "slack-status",
            "slack-settings-link",
        ],
    );
    assert!(
        log.text()
            .contains("/assets/console/integration-slack-log.js")
    );
    let one = admin.get(SLACK_PAGES[1]).await;
    assert_eq!(one.status, 200, "{}", one.text());
    let html = one.text();
    has_test(
        &html,
        &["redeliver", "attempts", "payload", "delivery-status"],
    );
    assert!(html.contains(r#"data-kind="slack""#), "{html}");
    assert!(html.contains(r#"data-delivery-id="msg_x""#), "{html}");
    assert!(html.contains(r#"data-api-base="/slack/deliveries""#));

    // An id is text in the page, never markup.
    let forged = "/admin/integration/slack/deliveries/%22%3E%3Cscript%3Ex%3C%2Fscript%3E";
    let r = admin.get(forged).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(!r.text().contains("\"><script>x"), "escaped: {}", r.text());

    for asset in [
        "integration-slack.js",
        "integration-slack-setup.js",
        "integration-slack-log.js",
        "integration-slack.css",
    ] {
        let r = anonymous.get(&format!("/assets/console/{asset}")).await;
        assert_eq!(r.status, 200, "{asset}");
    }

    let mut agent = agent_console(&app).await;
    for page in ["/admin/integration", SLACK_PAGES[0], SLACK_PAGES[1]] {
        let to = redirect_to(&agent.get(page).await);
        assert_eq!(to, "/admin/conversations?denied=admin-only", "{page}");
    }
}

/// `palaver slack manifest --url URL` with `args`: its standard output.
fn cli_manifest(url: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_palaver"))
        .args(["slack", "manifest", "--url", url])
        .args(args)
        .output()
        .expect("run palaver slack manifest");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).expect("UTF-8")
}

#[tokio::test]
async fn the_manifest_is_the_one_for_this_servers_address() {
    let app = TestApp::spawn(TestStore::Sqlite).await;
    let mut admin = Console::new(&app);
    admin.sign_in_admin(&app.api_key).await;
    let origin = app.address();
    let path = format!("/slack/manifest?url={}", urlencode(&origin));
    let m = admin
        .api(Method::GET, &path, None, None)
        .await
        .expect_json(200);
    let events = format!("{origin}/slack/events");
    assert_eq!(m["requestUrl"], events, "{m}");
    let settings = &m["manifest"]["settings"]["event_subscriptions"];
    assert_eq!(settings["request_url"], events);
    let cli: Value = serde_json::from_str(&cli_manifest(&origin, &["--format", "json"])).unwrap();
    assert_eq!(m["manifest"], cli, "the CLI's manifest");
    assert_eq!(m["yaml"], cli_manifest(&origin, &[]), "the CLI's YAML");

    // A path prefix is kept; the name can be chosen.
    let path = "/slack/manifest?url=https%3A%2F%2Fexample.com%2Fchat%2F&name=Support";
    let m = app.api(Method::GET, path).send().await.expect_json(200);
    assert_eq!(m["requestUrl"], "https://example.com/chat/slack/events");
    assert_eq!(m["manifest"]["display_information"]["name"], "Support");
    assert!(
        m["yaml"]
            .as_str()
            .unwrap()
            .contains("display_name: \"Support\"")
    );

    let long = "N".repeat(36);
    for (query, field) in [
        ("", "`url`"),
        ("?url=", "`url`"),
        ("?url=chat.example.com", "`url`"),
        ("?url=ftp%3A%2F%2Fexample.com", "`url`"),
        ("?url=https%3A%2F%2Fexample.com%2F%3Fa%3D1", "`url`"),
        (
            &format!("?url=https%3A%2F%2Fexample.com&name={long}"),
            "`name`",
        ),
        ("?url=https%3A%2F%2Fexample.com&name=", "`name`"),
    ] {
        let path = format!("/slack/manifest{query}");
        let r = admin.api(Method::GET, &path, None, None).await;
        let detail = r.expect_problem(422)["detail"].as_str().unwrap().to_owned();
        assert!(detail.starts_with(field), "{query}: {detail}");
        assert!(!detail.contains("--url"), "names the parameter: {detail}");
    }

    let r = app
        .call(
            Method::GET,
            "/api/v1/slack/manifest?url=https%3A%2F%2Fa.example",
        )
        .send()
        .await;
    r.expect_problem(401);
    let mut agent = agent_console(&app).await;
    let r = agent
        .api(
            Method::GET,
            "/slack/manifest?url=https%3A%2F%2Fa.example",
            None,
            None,
        )
        .await;
    r.expect_problem(403);
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
