//! Connecting Slack (`/api/v1/slack`) against the fake Slack: the token checked at once with
//! `auth.test` (a bad one is a 422 saying so, Slack down a 502), the connection shown without
//! its secrets and never logged, settings changed without them, admins only, each team its own.
//! The manifest, the client and the endpoints' kinds are in `slack_*.rs`.

use reqwest::Method;
use serde_json::{Value, json};

use crate::console_auth::client::Console;
use crate::console_auth::{agent_with_email, assert_not_logged, set_password};
use crate::fake_slack::{BOT_ID, BOT_USER_ID, FakeSlack, TEAM_ID, TEAM_NAME, TEAM_URL};
use crate::helpers::TestApp;
use crate::payload::assert_iso_millis;
use crate::stores::{TestStore, on_every_store};

on_every_store!(
    connect_read_change_and_disconnect,
    a_refused_token_is_a_422_and_nothing_is_stored,
    slack_down_is_a_502_and_rate_limited_a_503,
    only_admins_of_the_team_see_it,
);

/// A server whose Slack is `slack`, logging at debug level (so that the secrets test sees all).
pub async fn app_with(store: TestStore, slack: &FakeSlack) -> TestApp {
    TestApp::builder(store)
        .env("PALAVER_SLACK_API_URL", &slack.api_url())
        .env("RUST_LOG", "debug")
        .spawn()
        .await
}

/// The body that connects the fake's workspace.
pub fn connect_body(slack: &FakeSlack) -> Value {
    json!({ "botToken": slack.token(), "signingSecret": slack.signing_secret })
}

async fn connect_read_change_and_disconnect(store: TestStore) {
    let slack = FakeSlack::start().await;
    let app = app_with(store, &slack).await;
    app.api(Method::GET, "/slack")
        .send()
        .await
        .expect_problem(404);

    let put = app
        .api(Method::PUT, "/slack")
        .json(&connect_body(&slack))
        .send()
        .await;
    let shown = put.expect_json(200);
    assert_eq!(shown["workspaceId"], TEAM_ID, "{shown}");
    assert_eq!(shown["workspaceName"], TEAM_NAME);
    assert_eq!(shown["workspaceUrl"], TEAM_URL);
    assert_eq!(shown["botUserId"], BOT_USER_ID);
    assert_eq!(shown["botId"], BOT_ID);
    assert_eq!(shown["notifyChannel"], "palaver-support", "the default");
    assert_eq!(shown["archiveOnEnd"], false);
    assert_iso_millis(shown["connectedAt"].as_str().expect("connectedAt"));
    let checks = slack.calls_to("auth.test");
    assert_eq!(checks.len(), 1, "checked at once");
    let bearer = format!("Bearer {}", slack.token());
    assert_eq!(checks[0].authorization.as_deref(), Some(bearer.as_str()));
    let got = app.api(Method::GET, "/slack").send().await;
    assert_eq!(got.expect_json(200), shown);

    let patch = json!({ "notifyChannel": "#support", "archiveOnEnd": true });
    let patched = app.api(Method::PATCH, "/slack").json(&patch).send().await;
    let patched = patched.expect_json(200);
    assert_eq!(patched["notifyChannel"], "support", "without its #");
    assert_eq!(patched["archiveOnEnd"], true);
    assert_eq!(slack.calls_to("auth.test").len(), 1, "no secrets, no check");
    let bad = json!({ "notifyChannel": "Not A Channel" });
    let r = app.api(Method::PATCH, "/slack").json(&bad).send().await;
    let detail = r.expect_problem(422)["detail"].as_str().unwrap().to_owned();
    assert!(detail.starts_with("`notifyChannel`"), "{detail}");

    // Connecting again (a new secret, say) keeps the settings not given and the first time.
    let again = app
        .api(Method::PUT, "/slack")
        .json(&connect_body(&slack))
        .send()
        .await;
    let again = again.expect_json(200);
    assert_eq!(again["notifyChannel"], "support");
    assert_eq!(again["archiveOnEnd"], true);
    assert_eq!(again["connectedAt"], shown["connectedAt"]);
    let mut chosen = connect_body(&slack);
    chosen["notifyChannel"] = json!("C0123ABCD");
    chosen["archiveOnEnd"] = json!(false);
    let r = app.api(Method::PUT, "/slack").json(&chosen).send().await;
    assert_eq!(r.expect_json(200)["notifyChannel"], "C0123ABCD");

    for text in [put.text(), got.text(), again.to_string()] {
        assert!(
            !text.contains(slack.token()),
            "the token is never answered: {text}"
        );
        assert!(
            !text.contains(&slack.signing_secret),
            "nor the secret: {text}"
        );
    }
    app.api(Method::DELETE, "/slack")
        .send()
        .await
        .expect_status(204);
    app.api(Method::GET, "/slack")
        .send()
        .await
        .expect_problem(404);
    app.api(Method::DELETE, "/slack")
        .send()
        .await
        .expect_problem(404);
    let r = app.api(Method::PATCH, "/slack").json(&patch).send().await;
    r.expect_problem(404);
    assert_not_logged(&app, &[slack.token(), &slack.signing_secret]);
}

async fn a_refused_token_is_a_422_and_nothing_is_stored(store: TestStore) {
    let slack = FakeSlack::start().await;
    let app = app_with(store, &slack).await;
    let wrong = format!("{}x", slack.token());
    let body = json!({ "botToken": wrong, "signingSecret": slack.signing_secret });
    let r = app.api(Method::PUT, "/slack").json(&body).send().await;
    let detail = r.expect_problem(422)["detail"].as_str().unwrap().to_owned();
    assert!(
        detail.starts_with("`botToken`") && detail.contains("invalid_auth"),
        "names the field and Slack's error: {detail}"
    );
    assert!(!detail.contains(&wrong), "{detail}");
    slack.error("auth.test", "account_inactive");
    let r = app
        .api(Method::PUT, "/slack")
        .json(&connect_body(&slack))
        .send()
        .await;
    let detail = r.expect_problem(422)["detail"].as_str().unwrap().to_owned();
    assert!(detail.contains("account_inactive"), "{detail}");
    app.api(Method::GET, "/slack")
        .send()
        .await
        .expect_problem(404);

    // Shapes refused before Slack is asked.
    let asked = slack.calls().len();
    let user_token = json!({ "botToken": "xoxp-1-2-3", "signingSecret": slack.signing_secret });
    let no_secret = json!({ "botToken": slack.token(), "signingSecret": "" });
    let bad_channel = json!({ "botToken": slack.token(), "signingSecret": slack.signing_secret,
        "notifyChannel": "#Support Team" });
    for (body, field) in [
        (user_token, "`botToken`"),
        (no_secret, "`signingSecret`"),
        (bad_channel, "`notifyChannel`"),
    ] {
        let r = app.api(Method::PUT, "/slack").json(&body).send().await;
        let detail = r.expect_problem(422)["detail"].as_str().unwrap().to_owned();
        assert!(detail.starts_with(field), "{detail}");
    }
    let missing = json!({ "botToken": slack.token() });
    let r = app.api(Method::PUT, "/slack").json(&missing).send().await;
    assert!(
        matches!(r.status, 400 | 422),
        "a missing signingSecret is refused: {}",
        r.text()
    );
    assert_eq!(slack.calls().len(), asked, "Slack was not asked");
    app.api(Method::GET, "/slack")
        .send()
        .await
        .expect_problem(404);
    assert_not_logged(&app, &[slack.token(), &slack.signing_secret, &wrong]);
}

async fn slack_down_is_a_502_and_rate_limited_a_503(store: TestStore) {
    let slack = FakeSlack::start().await;
    let app = app_with(store.clone(), &slack).await;
    slack.fail(1, 500);
    let r = app
        .api(Method::PUT, "/slack")
        .json(&connect_body(&slack))
        .send()
        .await;
    let detail = r.expect_problem(502)["detail"].as_str().unwrap().to_owned();
    assert!(detail.contains("Slack could not be reached"), "{detail}");
    app.api(Method::GET, "/slack")
        .send()
        .await
        .expect_problem(404);
    slack.rate_limit("auth.test", 1, 7);
    let r = app
        .api(Method::PUT, "/slack")
        .json(&connect_body(&slack))
        .send()
        .await;
    r.expect_problem(503);
    assert_eq!(r.headers["retry-after"], "7");
    let r = app
        .api(Method::PUT, "/slack")
        .json(&connect_body(&slack))
        .send()
        .await;
    r.expect_status(200);
    assert_not_logged(&app, &[slack.token(), &slack.signing_secret]);

    // Nothing listening at all (a second server: on PostgreSQL it shares the database).
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api", closed.local_addr().unwrap());
    drop(closed);
    let nowhere = TestApp::builder(store)
        .api_key(&app.api_key)
        .env("PALAVER_SLACK_API_URL", &url)
        .spawn()
        .await;
    let r = nowhere
        .api(Method::PUT, "/slack")
        .json(&connect_body(&slack))
        .send()
        .await;
    let detail = r.expect_problem(502)["detail"].as_str().unwrap().to_owned();
    assert!(detail.contains(&url), "says where it tried: {detail}");
}

async fn only_admins_of_the_team_see_it(store: TestStore) {
    let slack = FakeSlack::start().await;
    let app = app_with(store, &slack).await;
    let r = app
        .api(Method::PUT, "/slack")
        .json(&connect_body(&slack))
        .send()
        .await;
    r.expect_status(200);
    for method in [Method::GET, Method::PUT, Method::PATCH, Method::DELETE] {
        let r = app
            .call(method.clone(), "/api/v1/slack")
            .json(&json!({}))
            .send()
            .await;
        r.expect_problem(401);
    }
    let other = app.second_team().await;
    let r = app
        .api(Method::GET, "/slack")
        .bearer(&other.api_key)
        .send()
        .await;
    r.expect_problem(404);
    let r = app
        .api(Method::DELETE, "/slack")
        .bearer(&other.api_key)
        .send()
        .await;
    r.expect_problem(404);

    let moss = agent_with_email("U0MOSS001", "Moss", "moss@reynholm.example");
    app.put_agent(&moss).await.expect_status(201);
    let password = "a long enough password";
    set_password(&app, "U0MOSS001", password).await;
    let mut console = Console::new(&app);
    console
        .sign_in_agent("moss@reynholm.example", password)
        .await;
    let csrf = console.csrf().await;
    let r = console.api(Method::GET, "/slack", None, None).await;
    r.expect_problem(403);
    let patch = json!({ "archiveOnEnd": true });
    let r = console
        .api(Method::PATCH, "/slack", Some(&patch), Some(&csrf))
        .await;
    r.expect_problem(403);
    let r = console
        .api(Method::DELETE, "/slack", None, Some(&csrf))
        .await;
    r.expect_problem(403);
    let kept = app.api(Method::GET, "/slack").send().await.expect_json(200);
    assert_eq!(kept["archiveOnEnd"], false, "the agent changed nothing");
}
