//! The fake Slack itself, as the bridge's tests rely on it: its workspace reuses a taken channel
//! like Slack (the paginated list, unarchive, join, post), knows the users added, records every
//! call with its answer; its Events API requests verify with the server's own check.

use std::time::Duration;

use palaver::slack::{BotToken, SlackClient, SlackConfig, SlackOutcome};
use serde_json::{Value, json};

use crate::fake_slack::FakeSlack;
use crate::fixtures::MOSS_ID;

fn client(url: &str) -> SlackClient {
    let config = SlackConfig {
        api_url: url.to_owned(),
        timeout: Duration::from_secs(10),
    };
    SlackClient::new(&config).expect("a client")
}

fn ok(outcome: &SlackOutcome) -> &Value {
    match outcome {
        SlackOutcome::Ok(v) => v,
        other => panic!("expected ok, got {other:?}"),
    }
}

#[test]
fn events_signed_by_the_fake_verify_with_the_servers_check() {
    use crate::fake_slack::events::{self, callback, message, sign};
    use palaver::slack::signature::{Rejected, verify};
    let secret = "8f742231b10e8888abcd99yyyzzz85a5";
    let body = callback(
        "Ev0PALAVER1",
        message("C00000003", MOSS_ID, "Hi!", "1700000000.000200"),
    );
    let now = events::now();
    let signed = sign(secret, &body, now);
    let headers = signed.headers();
    assert_eq!(headers[0].0, "x-slack-request-timestamp");
    let check = |s: &events::SignedEvent, at: i64| {
        verify(
            secret,
            Some(&s.timestamp),
            Some(&s.signature),
            s.body.as_bytes(),
            at,
        )
    };
    assert_eq!(check(&signed, now), Ok(()));
    assert_eq!(
        check(&sign(secret, &body, now - 600), now),
        Err(Rejected::Stale)
    );
    assert_eq!(
        check(&sign("other", &body, now), now),
        Err(Rejected::Mismatch)
    );
    let v: Value = serde_json::from_str(&signed.body).unwrap();
    assert_eq!(v["type"], "event_callback");
    assert_eq!(v["event"]["text"], "Hi!");
    let joined = events::member_joined("C00000003", MOSS_ID);
    assert_eq!(
        (joined["type"].as_str(), joined["user"].as_str()),
        (Some("member_joined_channel"), Some(MOSS_ID))
    );
    let challenge: Value = serde_json::from_str(&events::url_verification("abc")).unwrap();
    assert_eq!(
        (challenge["type"].as_str(), challenge["challenge"].as_str()),
        (Some("url_verification"), Some("abc"))
    );
}

/// The fake itself, as phases B and C rely on it: a taken name found through the paginated list,
/// unarchived, joined and posted in; users added; calls recorded with what was answered.
#[tokio::test]
async fn the_fake_workspace_reuses_a_taken_channel_like_slack() {
    let slack = FakeSlack::start().await;
    let old = slack.add_channel("z-scarlet", true, false);
    let mut roy = crate::fixtures::agent("U0ROY0001", "Roy");
    roy["profile"]["email"] = json!("roy@reynholm.example");
    slack.add_user(roy);
    let c = client(&slack.api_url());
    let token = BotToken::new(slack.token());
    let call = |method: &'static str, args: Value| {
        let (c, token) = (&c, &token);
        async move { c.call(token, method, &args).await.outcome }
    };
    let taken = call("conversations.create", json!({"name": "z-scarlet"})).await;
    assert_eq!(taken, SlackOutcome::Error("name_taken".into()));
    let mut cursor = String::new();
    let mut found = None;
    loop {
        let page = call(
            "conversations.list",
            json!({"limit": 1, "cursor": cursor,
            "types": "public_channel"}),
        )
        .await;
        let page = ok(&page).clone();
        if let Some(ch) = page["channels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "z-scarlet")
        {
            found = Some(ch.clone());
        }
        cursor = page["response_metadata"]["next_cursor"]
            .as_str()
            .unwrap()
            .to_owned();
        if cursor.is_empty() {
            break;
        }
    }
    let found = found.expect("listed");
    assert_eq!(
        (found["id"].as_str(), found["is_archived"].as_bool()),
        (Some(old.as_str()), Some(true))
    );
    let archived = call("chat.postMessage", json!({"channel": old, "text": "x"})).await;
    assert_eq!(archived, SlackOutcome::Error("is_archived".into()));
    ok(&call("conversations.unarchive", json!({"channel": old})).await);
    let again = call("conversations.unarchive", json!({"channel": old})).await;
    assert_eq!(again, SlackOutcome::Error("not_archived".into()));
    ok(&call("conversations.join", json!({"channel": old})).await);
    ok(&call("chat.postMessage", json!({"channel": old, "text": "back"})).await);
    let info = call("users.info", json!({"user": "U0ROY0001"})).await;
    assert_eq!(
        ok(&info)["user"]["profile"]["email"],
        "roy@reynholm.example"
    );
    let missing = call("users.info", json!({"user": "U0NOBODY1"})).await;
    assert_eq!(missing, SlackOutcome::Error("user_not_found".into()));

    let posts = slack
        .wait_for("chat.postMessage", 2, crate::helpers::WAIT)
        .await;
    assert_eq!((posts[0].status, posts[1].status), (200, 200));
    assert_eq!(posts[0].answer["error"], "is_archived");
    assert_eq!(posts[1].answer["channel"], old.as_str());
    let seqs: Vec<usize> = slack.calls().iter().map(|c| c.seq).collect();
    assert_eq!(seqs, (0..seqs.len()).collect::<Vec<_>>());
    let channel = slack.channels().into_iter().find(|c| c.id == old).unwrap();
    assert_eq!(channel.messages.len(), 1);
}
