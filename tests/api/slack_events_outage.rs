//! Slack slow, failing or rate limiting `users.info` while agents write: every event is still
//! answered within Slack's 3 seconds, and acted on later, in the channel's order, once each;
//! an event answered 200 and not yet acted on survives `kill -9` and is acted on after the
//! restart.

use std::time::Duration;

use serde_json::json;

use crate::api::eventually;
use crate::fake_slack::events::message;
use crate::fixtures::{MOSS_ID, agent};
use crate::slack_events::{Bridge, WAIT, inbox, last_text};
use crate::stores::{TestStore, on_every_store};

on_every_store!(
    slack_slow_or_failing_delays_but_loses_nothing,
    an_acknowledged_event_survives_kill_9,
);

/// A Slack user object for a new agent.
fn slack_user(id: &str, name: &str) -> serde_json::Value {
    let mut user = agent(id, name);
    user["team_id"] = json!(crate::fake_slack::TEAM_ID);
    user
}

async fn slack_slow_or_failing_delays_but_loses_nothing(store: TestStore) {
    let b = Bridge::start(store).await;
    let (_, channel) = b.visitor("Anyone?").await;
    b.slack.add_user(slack_user("U0ROY0001", "Roy"));
    b.slack.add_user(slack_user("U0JEN0001", "Jen"));

    // Slow: users.info takes 4 s, longer than Slack waits for an answer.
    b.slack.delay("users.info", 1, Duration::from_secs(4));
    b.send(message(
        &channel,
        MOSS_ID,
        "slow but sure",
        "1700000200.000100",
    ))
    .await;
    b.agent_said("slow but sure").await;

    // Failing, then rate limited: Roy's message waits, and Jen's behind it in the channel.
    b.slack.error("users.info", "internal_error");
    b.slack.error("users.info", "service_unavailable");
    b.send(message(
        &channel,
        "U0ROY0001",
        "Roy here",
        "1700000201.000100",
    ))
    .await;
    b.send(message(
        &channel,
        "U0JEN0001",
        "Jen here",
        "1700000202.000100",
    ))
    .await;
    b.agent_said("Jen here").await;
    b.slack.rate_limit("users.info", 1, 2);
    b.slack.add_user(slack_user("U0DOUG001", "Douglas"));
    b.send(message(
        &channel,
        "U0DOUG001",
        "Douglas here",
        "1700000203.000100",
    ))
    .await;
    b.agent_said("Douglas here").await;

    let said: Vec<String> = b
        .events()
        .iter()
        .filter(|e| e["event"] == "messageAgent")
        .map(last_text)
        .collect();
    assert_eq!(
        said,
        ["slow but sure", "Roy here", "Jen here", "Douglas here"]
    );
    let asked: Vec<String> = b
        .slack
        .calls_to("users.info")
        .iter()
        .map(|c| format!("{} {}", c.arg("user"), c.status))
        .collect();
    assert_eq!(
        asked,
        [
            format!("{MOSS_ID} 200"),
            "U0ROY0001 200".into(), // internal_error (Slack's JSON error)
            "U0ROY0001 200".into(), // service_unavailable
            "U0ROY0001 200".into(),
            "U0JEN0001 200".into(),
            "U0DOUG001 429".into(),
            "U0DOUG001 200".into(),
        ],
        "retried until Slack answered"
    );
    let refused: Vec<_> = b
        .slack
        .calls_to("users.info")
        .iter()
        .map(|c| c.answer["ok"].clone())
        .collect();
    assert_eq!(refused[1..3], [json!(false), json!(false)]);
}

async fn an_acknowledged_event_survives_kill_9(store: TestStore) {
    let b = Bridge::start(store).await;
    let (_, channel) = b.visitor("Anyone?").await;
    // The first try is refused for 3 s: the event is acknowledged and waiting when the server dies.
    b.slack.rate_limit("users.info", 1, 3);
    b.send(message(
        &channel,
        MOSS_ID,
        "after the crash",
        "1700000300.000100",
    ))
    .await;
    let waiting = eventually("the event waiting for its retry", WAIT, || async {
        let queued = inbox(&b.app).await;
        match queued
            .iter()
            .any(|(_, error)| error.contains("rate limited"))
        {
            true => Ok(queued),
            false => Err(queued),
        }
    })
    .await;
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    b.app.kill().await;
    b.app.restart().await;
    b.agent_said("after the crash").await;
    if !b.app.config.store.is_postgres() {
        // Killed while acting on it: the only process's leases end when it starts again (on
        // PostgreSQL, other processes may be alive: a lease is left to run out).
        b.slack.add_user(slack_user("U0ROY0001", "Roy"));
        b.slack.delay("users.info", 1, Duration::from_secs(20));
        b.send(message(
            &channel,
            "U0ROY0001",
            "mid-call",
            "1700000301.000100",
        ))
        .await;
        b.slack.wait_for("users.info", 2, WAIT).await;
        b.app.kill().await;
        b.app.restart().await;
        b.agent_said("mid-call").await;
    }
    let said: Vec<String> = b
        .events()
        .iter()
        .filter(|e| e["event"] == "messageAgent")
        .map(last_text)
        .collect();
    let expected: &[&str] = match b.app.config.store.is_postgres() {
        true => &["after the crash"],
        false => &["after the crash", "mid-call"],
    };
    assert_eq!(said, expected, "each once");
    assert!(inbox(&b.app).await.is_empty(), "nothing left waiting");
}
