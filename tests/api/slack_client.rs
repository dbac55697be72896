//! The Slack Web API client (`palaver::slack::SlackClient`) against the fake Slack: the bearer
//! token, JSON or form encoding per method, Slack's answers and errors, 429 with `Retry-After`
//! per method, 5xx and network failures as retryable, timeouts. No server needed. The fake
//! itself is checked in `slack_fake.rs`.

use std::time::Duration;

use palaver::slack::{BotToken, SlackClient, SlackConfig, SlackOutcome};
use serde_json::{Value, json};

use crate::fake_slack::{BOT_USER_ID, FakeSlack};
use crate::fixtures::MOSS_ID;

fn client(url: &str, timeout: Duration) -> SlackClient {
    let config = SlackConfig {
        api_url: url.to_owned(),
        timeout,
    };
    SlackClient::new(&config).expect("a client")
}

fn ok(outcome: &SlackOutcome) -> &Value {
    match outcome {
        SlackOutcome::Ok(v) => v,
        other => panic!("expected ok, got {other:?}"),
    }
}

#[tokio::test]
async fn calls_carry_the_token_and_the_right_encoding() {
    let slack = FakeSlack::start().await;
    let c = client(&slack.api_url(), Duration::from_secs(10));
    let token = BotToken::new(slack.token());

    let created = c
        .call(
            &token,
            "conversations.create",
            &json!({"name": "z-33123456789"}),
        )
        .await;
    assert_eq!(created.method, "conversations.create");
    assert_eq!(created.status, Some(200));
    let channel = ok(&created.outcome)["channel"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let posted = c
        .call(
            &token,
            "chat.postMessage",
            &json!({"channel": channel, "text": "Hi!",
            "username": "+33123456789", "icon_url": "https://example.com/p.png"}),
        )
        .await;
    let ts = ok(&posted.outcome)["ts"].as_str().unwrap().to_owned();
    assert!(
        posted.body.contains(&ts),
        "the answer is kept: {}",
        posted.body
    );
    let link = c
        .call(
            &token,
            "chat.getPermalink",
            &json!({"channel": channel, "message_ts": ts}),
        )
        .await;
    assert!(
        ok(&link.outcome)["permalink"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
    let user = c
        .call(&token, "users.info", &json!({"user": MOSS_ID}))
        .await;
    assert_eq!(ok(&user.outcome)["user"]["real_name"], "Moss");

    let calls = slack.calls();
    let methods: Vec<(&str, bool)> = calls.iter().map(|c| (c.method.as_str(), c.json)).collect();
    assert_eq!(
        methods,
        [
            ("conversations.create", true),
            ("chat.postMessage", true),
            ("chat.getPermalink", false),
            ("users.info", false)
        ],
        "JSON where Slack takes it, a form where it does not"
    );
    let bearer = format!("Bearer {}", slack.token());
    assert!(
        calls
            .iter()
            .all(|c| c.authorization.as_deref() == Some(bearer.as_str()))
    );
    assert_eq!(calls[1].arg("username"), "+33123456789");
    assert_eq!(calls[3].arg("user"), MOSS_ID);
}

#[tokio::test]
async fn slack_errors_are_final_or_retryable() {
    let slack = FakeSlack::start().await;
    let c = client(&slack.api_url(), Duration::from_secs(10));
    let token = BotToken::new(slack.token());
    let taken = c
        .call(&token, "conversations.create", &json!({"name": "general"}))
        .await;
    assert_eq!(taken.outcome, SlackOutcome::Error("name_taken".into()));
    assert!(!taken.outcome.is_retryable());
    let support = json!({"channel": "palaver-support", "text": "New visitor"});
    let outside = c.call(&token, "chat.postMessage", &support).await;
    assert_eq!(
        outside.outcome,
        SlackOutcome::Error("not_in_channel".into())
    );
    let wrong = BotToken::new("xoxb-not-the-token");
    let refused = c.call(&wrong, "auth.test", &json!({})).await;
    assert_eq!(refused.outcome, SlackOutcome::Error("invalid_auth".into()));
    assert!(!format!("{refused:?}").contains("xoxb-not-the-token"));
    slack.error("conversations.join", "internal_error");
    let flaky = c
        .call(
            &token,
            "conversations.join",
            &json!({"channel": "palaver-support"}),
        )
        .await;
    assert!(flaky.outcome.is_retryable(), "{:?}", flaky.outcome);
    let joined = c
        .call(
            &token,
            "conversations.join",
            &json!({"channel": "palaver-support"}),
        )
        .await;
    assert_eq!(ok(&joined.outcome)["channel"]["is_member"], true);
    assert!(
        slack.channels()[1]
            .members
            .contains(&BOT_USER_ID.to_owned())
    );
}

#[tokio::test]
async fn rate_limits_are_per_method_and_failures_retryable() {
    let slack = FakeSlack::start().await;
    let c = client(&slack.api_url(), Duration::from_secs(10));
    let token = BotToken::new(slack.token());
    slack.rate_limit("chat.postMessage", 1, 12);
    let post = json!({"channel": "general", "text": "hello"});
    let limited = c.call(&token, "chat.postMessage", &post).await;
    assert_eq!(limited.status, Some(429));
    assert_eq!(
        limited.outcome,
        SlackOutcome::RateLimited {
            retry_after: Duration::from_secs(12)
        }
    );
    assert!(limited.outcome.is_retryable());
    let other = c
        .call(&token, "users.info", &json!({"user": MOSS_ID}))
        .await;
    ok(&other.outcome);
    ok(&c.call(&token, "chat.postMessage", &post).await.outcome);

    slack.fail(2, 500);
    for _ in 0..2 {
        let down = c.call(&token, "chat.postMessage", &post).await;
        assert_eq!(down.status, Some(500));
        assert!(matches!(down.outcome, SlackOutcome::Failed(_)), "{down:?}");
        assert!(down.outcome.is_retryable());
    }
    ok(&c.call(&token, "chat.postMessage", &post).await.outcome);
}

#[tokio::test]
async fn unreachable_and_silent_slacks_are_failures() {
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api", closed.local_addr().unwrap());
    drop(closed);
    let token = BotToken::new("xoxb-1");
    let down = client(&url, Duration::from_secs(5))
        .call(&token, "auth.test", &json!({}))
        .await;
    assert_eq!(down.status, None);
    match &down.outcome {
        SlackOutcome::Failed(why) => assert!(why.contains("connect"), "{why}"),
        other => panic!("{other:?}"),
    }

    // Accepts connections and never answers: the call ends at its timeout.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api", silent.local_addr().unwrap());
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let slow = client(&url, Duration::from_millis(300))
        .call(&token, "auth.test", &json!({}))
        .await;
    match &slow.outcome {
        SlackOutcome::Failed(why) => assert!(why.contains("timed out"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert!(
        slow.duration < Duration::from_secs(5),
        "{:?}",
        slow.duration
    );
    hold.abort();
}
