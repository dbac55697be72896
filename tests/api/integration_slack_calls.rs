//! The calls the Slack card and the Slack delivery pages make, as their scripts make them: with
//! an admin's console session, and its CSRF token for every change. Against the fake Slack:
//! connect (a refused token names `botToken`), change the settings, read the log and one
//! delivery (the failing Web API method and Slack's error), redeliver, disconnect (the log
//! stays readable).

use reqwest::Method;
use serde_json::{Value, json};

use crate::console_auth::client::Console;
use crate::fake_slack::{FakeSlack, TEAM_NAME, TEAM_URL};
use crate::fixtures::named;
use crate::slack::connect_body;
use crate::slack_outbound_kit::{server, wait_slack_deliveries};
use crate::stores::TestStore;

fn detail(problem: &Value) -> String {
    problem["detail"].as_str().unwrap_or_default().to_owned()
}

/// The fields the log's rows and the card's "Last post" read.
fn looks_like_a_row(d: &Value) {
    for key in ["id", "event", "status", "createdAt", "eventId"] {
        assert!(d[key].is_string(), "{key} in {d}");
    }
    assert!(d["attempts"].is_number(), "attempts in {d}");
    assert!(d["channelName"].is_string(), "channelName in {d}");
    assert!(d["conversationId"].is_string(), "conversationId in {d}");
}

#[tokio::test]
async fn the_pages_calls_work_with_a_console_session() {
    let slack = FakeSlack::start().await;
    let app = server(TestStore::Sqlite, &slack, "100ms,100ms").await;
    let mut c = Console::new(&app);
    c.sign_in_admin(&app.api_key).await;
    let csrf = c.csrf().await;

    // Not connected: the card shows the steps; the log says so.
    c.api(Method::GET, "/slack", None, None)
        .await
        .expect_problem(404);
    let r = c
        .api(Method::GET, "/slack/deliveries?limit=25", None, None)
        .await;
    r.expect_problem(404);

    // Connecting needs the CSRF token; a refused token names its field.
    let mut body = connect_body(&slack);
    body["notifyChannel"] = json!("palaver-support");
    body["archiveOnEnd"] = json!(true);
    let r = c.api(Method::PUT, "/slack", Some(&body), None).await;
    r.expect_problem(403);
    c.api(Method::GET, "/slack", None, None)
        .await
        .expect_problem(404);
    let mut wrong = body.clone();
    wrong["botToken"] = json!(format!("{}x", slack.token()));
    let r = c
        .api(Method::PUT, "/slack", Some(&wrong), Some(&csrf))
        .await;
    let d = detail(&r.expect_problem(422));
    assert!(
        d.starts_with("`botToken`") && d.contains("invalid_auth"),
        "{d}"
    );
    let shown = c.api(Method::PUT, "/slack", Some(&body), Some(&csrf)).await;
    let shown = shown.expect_json(200);
    assert_eq!(shown["workspaceName"], TEAM_NAME, "{shown}");
    assert_eq!(shown["workspaceUrl"], TEAM_URL);
    assert_eq!(shown["archiveOnEnd"], true);
    assert!(shown["botUserId"].is_string() && shown["connectedAt"].is_string());
    let read = c
        .api(Method::GET, "/slack", None, None)
        .await
        .expect_json(200);
    assert_eq!(read, shown);

    // The settings form.
    let patch = json!({ "notifyChannel": "#support", "archiveOnEnd": false });
    let r = c.api(Method::PATCH, "/slack", Some(&patch), None).await;
    r.expect_problem(403);
    let r = c
        .api(Method::PATCH, "/slack", Some(&patch), Some(&csrf))
        .await;
    let changed = r.expect_json(200);
    assert_eq!(changed["notifyChannel"], "support");
    assert_eq!(changed["archiveOnEnd"], false);
    let bad = json!({ "notifyChannel": "Support Team", "archiveOnEnd": false });
    let r = c
        .api(Method::PATCH, "/slack", Some(&bad), Some(&csrf))
        .await;
    assert!(detail(&r.expect_problem(422)).starts_with("`notifyChannel`"));

    // A visitor: posted; then a post Slack refuses for good.
    let v = app.visitor_start(named("Jen"), Some("Hello?")).await;
    let log = wait_slack_deliveries(&app, |log| {
        log.len() >= 2 && log.iter().all(|d| d["status"] == "delivered")
    })
    .await;
    let page = c
        .api(Method::GET, "/slack/deliveries?limit=1", None, None)
        .await;
    let page = page.expect_json(200);
    assert_eq!(page["data"].as_array().unwrap().len(), 1, "{page}");
    assert_eq!(page["data"][0]["id"], log[0]["id"], "newest first");
    looks_like_a_row(&page["data"][0]);
    slack.error("chat.postMessage", "msg_too_long");
    app.visitor_message(&v.token, &v.conversation_id, "A long one")
        .await;
    let log = wait_slack_deliveries(&app, |log| log.iter().any(|d| d["status"] == "failed")).await;
    let failed = log.iter().find(|d| d["status"] == "failed").unwrap();
    let path = "/slack/deliveries?limit=25&status=failed";
    let page = c.api(Method::GET, path, None, None).await.expect_json(200);
    let ids: Vec<&Value> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["id"])
        .collect();
    assert_eq!(ids, [&failed["id"]], "the Failed filter");
    let id = failed["id"].as_str().unwrap();
    let one = c
        .api(Method::GET, &format!("/slack/deliveries/{id}"), None, None)
        .await;
    let one = one.expect_json(200);
    let attempt = &one["attemptLog"][0];
    let error = attempt["error"].as_str().unwrap_or_default();
    assert!(error.starts_with("chat.postMessage: msg_too_long"), "{one}");
    assert!(
        attempt["responseBody"]
            .as_str()
            .unwrap_or_default()
            .contains("chat.postMessage"),
        "the calls made: {one}"
    );
    assert_eq!(one["payload"][0]["event"], "messageVisitor", "{one}");

    // Redeliver: with the token only.
    let again = format!("/slack/deliveries/{id}/redeliver");
    c.api(Method::POST, &again, None, None)
        .await
        .expect_problem(403);
    let r = c.api(Method::POST, &again, None, Some(&csrf)).await;
    assert_eq!(r.expect_json(202)["deliveryId"], id);
    wait_slack_deliveries(&app, |log| log.iter().all(|d| d["status"] == "delivered")).await;

    // Disconnect: with the token only; the log stays readable.
    c.api(Method::DELETE, "/slack", None, None)
        .await
        .expect_problem(403);
    c.api(Method::DELETE, "/slack", None, Some(&csrf))
        .await
        .expect_status(204);
    c.api(Method::GET, "/slack", None, None)
        .await
        .expect_problem(404);
    let page = c
        .api(Method::GET, "/slack/deliveries?limit=25", None, None)
        .await;
    assert_eq!(page.expect_json(200)["data"].as_array().unwrap().len(), 3);
}
