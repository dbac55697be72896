//! Slack failing: 500s then a 429 delay the posts but lose none and keep each channel's order,
//! also across a `kill -9` of Palaver mid-outage; a rate limit neither spends the retry budget
//! nor gets the method called again before its time; a refused token fails the delivery at once,
//! and the next event makes the channel the failed `start` did not.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use reqwest::Method;

use crate::console_auth::assert_not_logged;
use crate::fake_slack::FakeSlack;
use crate::fixtures::named;
use crate::helpers::{TestApp, WAIT};
use crate::slack_outbound_kit::{
    FIRST, connect, ok_calls, server, slack_deliveries, texts_in, wait_posted,
    wait_slack_deliveries,
};
use crate::stores::{TestStore, on_every_store};

on_every_store!(
    an_outage_delays_the_posts_but_loses_none,
    a_rate_limit_spends_no_retry_and_is_respected,
    a_refused_token_fails_at_once_and_the_next_event_makes_the_channel,
    a_missing_notification_channel_holds_nothing_back,
    a_kill_mid_outage_loses_nothing,
);

const VISITORS: usize = 3;
const MESSAGES: usize = 3;

/// Visitors `Outage 0…` each start with a message and write `MESSAGES - 1` more, as fast as
/// acknowledged; answers each channel's name with its texts in order.
async fn visitors_write(app: &TestApp, prefix: &str) -> HashMap<String, Vec<String>> {
    let mut written = HashMap::new();
    let mut sessions = Vec::new();
    for n in 0..VISITORS {
        let first = format!("{prefix} {n} says 0");
        let v = app
            .visitor_start(named(&format!("{prefix} {n}")), Some(&first))
            .await;
        written.insert(v.channel_name.clone(), vec![first]);
        sessions.push(v);
    }
    for i in 1..MESSAGES {
        for (n, v) in sessions.iter().enumerate() {
            let text = format!("{prefix} {n} says {i}");
            app.visitor_message(&v.token, &v.conversation_id, &text)
                .await;
            written.get_mut(&v.channel_name).unwrap().push(text);
        }
    }
    written
}

/// Asserts every written text reached its channel after the header, in order (first copies:
/// a post whose answer was lost may be posted twice, at least once).
fn assert_posted_in_order(slack: &FakeSlack, written: &HashMap<String, Vec<String>>) {
    for (channel, texts) in written {
        let posted = texts_in(slack, channel);
        let mut firsts: Vec<&String> = Vec::new();
        for t in posted.iter().skip(1) {
            if !firsts.contains(&t) {
                firsts.push(t);
            }
        }
        let want: Vec<&String> = texts.iter().collect();
        assert_eq!(firsts, want, "#{channel}: {posted:#?}");
        assert!(posted[0].starts_with("New conversation"), "{posted:#?}");
    }
}

async fn wait_all_posted(
    slack: &FakeSlack,
    written: &HashMap<String, Vec<String>>,
    within: Duration,
) {
    slack
        .wait_until("every message posted", within, |_| {
            written
                .iter()
                .all(|(c, texts)| texts.iter().all(|t| texts_in(slack, c).contains(t)))
        })
        .await;
}

async fn an_outage_delays_the_posts_but_loses_none(store: TestStore) {
    let slack = FakeSlack::start().await;
    let app = server(
        store,
        &slack,
        "100ms,200ms,300ms,400ms,500ms,500ms,500ms,500ms",
    )
    .await;
    connect(&app, &slack, false).await;
    slack.fail(6, 500);
    slack.rate_limit("chat.postMessage", 1, 2);
    let written = visitors_write(&app, "Outage").await;
    wait_all_posted(&slack, &written, WAIT).await;
    assert_posted_in_order(&slack, &written);
    let failed = slack.calls().iter().filter(|c| c.status == 500).count();
    assert_eq!(failed, 6, "the outage happened");
    assert_eq!(ok_calls(&slack, "conversations.create").len(), VISITORS);

    // The rate-limited delivery was tried again no sooner than Retry-After said.
    let log = wait_slack_deliveries(&app, |log| {
        log.len() == VISITORS * (MESSAGES + 1) && log.iter().all(|d| d["status"] == "delivered")
    })
    .await;
    let mut limited = 0;
    for d in &log {
        let path = format!("/slack/deliveries/{}", d["id"].as_str().unwrap());
        let detail = app.api(Method::GET, &path).send().await.expect_json(200);
        let attempts = detail["attemptLog"].as_array().unwrap();
        for pair in attempts.windows(2) {
            let error = pair[0]["error"].as_str().unwrap_or_default();
            if error.contains("Retry-After") {
                limited += 1;
                let at = |a: &serde_json::Value| {
                    chrono::DateTime::parse_from_rfc3339(a["at"].as_str().unwrap()).unwrap()
                };
                let waited = at(&pair[1]) - at(&pair[0]);
                assert!(waited.num_milliseconds() >= 2000, "{detail:#}");
            }
            if pair[0]["statusCode"] == 500 {
                assert!(error.contains("Slack answered 500"), "{error}");
            }
        }
    }
    assert!(limited >= 1, "a delivery met the rate limit");
}

async fn a_rate_limit_spends_no_retry_and_is_respected(store: TestStore) {
    let slack = FakeSlack::start().await;
    // One retry only: two uncounted waits must not spend it.
    let app = server(store, &slack, "100ms").await;
    connect(&app, &slack, false).await;
    let v = app.visitor_start(named("Patient"), Some(FIRST)).await;
    wait_posted(&slack, &v.channel_name, 2).await;
    slack.rate_limit("chat.postMessage", 2, 1);
    let sent = Instant::now();
    app.visitor_message(&v.token, &v.conversation_id, "Limited twice")
        .await;
    wait_posted(&slack, &v.channel_name, 3).await;
    assert!(
        sent.elapsed() >= Duration::from_secs(2),
        "waited Retry-After twice: {:?}",
        sent.elapsed()
    );
    let tries: Vec<u16> = slack
        .calls_to("chat.postMessage")
        .iter()
        .filter(|c| c.arg("text") == "Limited twice")
        .map(|c| c.status)
        .collect();
    assert_eq!(tries, [429, 429, 200], "no call before its time");
    let log = wait_slack_deliveries(&app, |log| log[0]["status"] == "delivered").await;
    assert_eq!(log[0]["attempts"], 3);
}

async fn a_refused_token_fails_at_once_and_the_next_event_makes_the_channel(store: TestStore) {
    let slack = FakeSlack::start().await;
    let app = server(store, &slack, "100ms,200ms,500ms").await;
    connect(&app, &slack, false).await;
    slack.error("conversations.create", "invalid_auth");
    let v = app.visitor_start(named("Refused"), None).await;
    let log =
        wait_slack_deliveries(&app, |log| log.len() == 1 && log[0]["status"] == "failed").await;
    assert_eq!(log[0]["attempts"], 1, "not retried: {log:#?}");
    let error = log[0]["lastAttempt"]["error"].as_str().unwrap();
    assert!(
        error.contains("conversations.create: invalid_auth"),
        "{error}"
    );
    let logged = app.log();
    assert!(logged.contains("Slack refused the bot token"), "{logged}");
    assert_not_logged(&app, &[slack.token()]);

    // The channel map does not know the channel: the message's delivery makes it first.
    app.visitor_message(&v.token, &v.conversation_id, "Still there?")
        .await;
    let channel = wait_posted(&slack, &v.channel_name, 1).await;
    assert_eq!(texts_in(&slack, &channel.name), ["Still there?"]);
    assert_eq!(ok_calls(&slack, "conversations.create").len(), 1);
}

async fn a_missing_notification_channel_holds_nothing_back(store: TestStore) {
    let slack = FakeSlack::start().await;
    let app = server(store, &slack, "100ms,200ms,500ms").await;
    connect(&app, &slack, false).await;
    let patch = serde_json::json!({ "notifyChannel": "C0NOWHERE1" });
    let r = app.api(Method::PATCH, "/slack").json(&patch).send().await;
    r.expect_status(200);
    let v = app.visitor_start(named("Unannounced"), Some(FIRST)).await;
    let channel = wait_posted(&slack, &v.channel_name, 2).await;
    assert_eq!(texts_in(&slack, &channel.name)[1], FIRST);
    let log = wait_slack_deliveries(&app, |log| {
        log.len() == 2 && log.iter().all(|d| d["status"] == "delivered")
    })
    .await;
    let start = &log[1]["lastAttempt"];
    let error = start["error"].as_str().unwrap();
    assert!(
        error.contains("announcement failed (chat.postMessage: channel_not_found)"),
        "{error}"
    );
    assert_eq!(log[1]["attempts"], 1, "not retried for it");
}

async fn a_kill_mid_outage_loses_nothing(store: TestStore) {
    let slack = FakeSlack::start().await;
    // A short delivery timeout: an attempt in flight at the kill is leased for 1 s + 10 s.
    let app = TestApp::builder(store)
        .env("PALAVER_SLACK_API_URL", &slack.api_url())
        .retry_schedule(&["200ms"; 24].join(","))
        .delivery_timeout("1s")
        .spawn()
        .await;
    connect(&app, &slack, false).await;
    slack.fail(14, 500);
    slack.rate_limit("chat.postMessage", 1, 2);
    let written = visitors_write(&app, "Crash").await;
    slack
        .wait_until("the outage under way", WAIT, |calls| {
            calls.iter().filter(|c| c.status == 500).count() >= 4
        })
        .await;
    app.kill().await;
    let pending = slack.calls().iter().filter(|c| c.status == 500).count();
    assert!(
        pending < 14,
        "killed mid-outage ({pending} failures so far)"
    );

    app.restart().await;
    wait_all_posted(&slack, &written, Duration::from_secs(60)).await;
    assert_posted_in_order(&slack, &written);
    for channel in written.keys() {
        let made: Vec<_> = ok_calls(&slack, "conversations.create")
            .into_iter()
            .filter(|c| c.arg("name") == *channel)
            .collect();
        assert_eq!(made.len(), 1, "#{channel} made once");
    }
    let log = slack_deliveries(&app).await;
    assert_eq!(log.len(), VISITORS * (MESSAGES + 1), "{log:#?}");
}
