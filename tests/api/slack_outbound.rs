//! Palaver → Slack (issue 12, phase B) against the fake Slack: the seed's conversation posted in
//! the visitor's channel in order (channel, header, announcement, messages under their authors'
//! names, notices, archive), a taken channel name reused and unarchived, messages written in
//! Slack never posted back, disconnecting stops the posts, and the delivery log. Outages,
//! rate limits and crashes are in `slack_outbound_outage.rs`, shared helpers in
//! `slack_outbound_kit.rs`.

use reqwest::Method;
use serde_json::Value;

use crate::api::{VisitorSession, VisitorStart};
use crate::fake_slack::FakeSlack;
use crate::fixtures::{MOSS_ID, SEED_USER_AGENT, moss, scarlet_identity, seed_example};
use crate::helpers::WAIT;
use crate::receiver::Receiver;
use crate::slack_outbound_kit::{
    FIRST, channel_named, connect, execute, ok_calls, server, slack_deliveries, text, wait_posted,
    wait_slack_deliveries,
};
use crate::stores::{TestStore, on_every_store};

on_every_store!(
    the_seed_conversation_is_posted_in_order,
    a_taken_channel_name_is_reused_and_unarchived,
    messages_written_in_slack_are_not_posted_back,
    disconnecting_stops_the_posts_and_reconnecting_resumes_them,
);

async fn the_seed_conversation_is_posted_in_order(store: TestStore) {
    let slack = FakeSlack::start().await;
    let app = server(store, &slack, "100ms,200ms,500ms").await;
    connect(&app, &slack, true).await;
    let start = VisitorStart {
        identity: Some(scarlet_identity()),
        message: Some(FIRST.to_owned()),
        user_agent: Some(SEED_USER_AGENT.to_owned()),
        ..VisitorStart::default()
    };
    let started = app.visitor_start_call(&start).await.send().await;
    let v = VisitorSession::from_json(&started.expect_json(201));
    assert_eq!(v.channel_name, "z-33123456789");
    let (token, conv) = (&v.token, &v.conversation_id);
    app.set_email(token, conv, "scarlet@reynholm.example").await;
    app.visitor_message(token, conv, "Is it <free> & open?")
        .await;
    let seed_reply = seed_example()[0]["messages"][1]["text"].clone();
    let reply = seed_reply.as_str().unwrap();
    app.agent_message(conv, MOSS_ID, reply).await;
    app.end(conv, MOSS_ID).await;

    let what = "the visitor's channel archived";
    slack
        .wait_until(what, WAIT, |_| {
            channel_named(&slack, "z-33123456789").is_some_and(|c| c.archived)
        })
        .await;
    let channel = channel_named(&slack, "z-33123456789").unwrap();
    let created = ok_calls(&slack, "conversations.create");
    assert_eq!(created.len(), 1, "one channel made");
    assert_eq!(created[0].arg("name"), "z-33123456789");
    let posts: Vec<&Value> = channel.messages.iter().map(|(_, a)| a).collect();
    assert_eq!(posts.len(), 6, "{posts:#?}");
    // The header: Block Kit with the identity.
    let header = posts[0]["blocks"].to_string();
    assert_eq!(posts[0]["blocks"][0]["text"]["text"], "+33123456789");
    for shown in [
        "Scarlet",
        "scar@let.com",
        "localhost:8080",
        "Chrome/56",
        "en",
    ] {
        assert!(header.contains(shown), "{shown} in the header: {header}");
    }
    // The visitor's messages under the visitor's name and picture, escaped.
    let picture = scarlet_identity()["picture"].clone();
    for (post, text) in [
        (posts[1], FIRST),
        (posts[3], "Is it &lt;free&gt; &amp; open?"),
    ] {
        assert_eq!(post["text"], text);
        assert_eq!(post["username"], "+33123456789");
        assert_eq!(post["icon_url"], picture);
    }
    assert!(
        text(posts[2]).contains("scarlet@reynholm.example"),
        "{}",
        posts[2]
    );
    // Moss's reply from the API, under his name and picture, as written.
    assert_eq!(posts[4]["text"], reply);
    assert_eq!(posts[4]["username"], "Moss");
    assert_eq!(posts[4]["icon_url"], moss()["profile"]["image_48"]);
    assert!(text(posts[5]).contains("has ended"), "{}", posts[5]);
    assert!(text(posts[5]).contains("archived"), "{}", posts[5]);

    // The announcement in #palaver-support, which the bot joined, links the channel.
    let support = wait_posted(&slack, "palaver-support", 1).await;
    assert_eq!(support.messages.len(), 1);
    let announced = text(&support.messages[0].1);
    assert!(
        announced.contains(&format!("<#{}>", channel.id)),
        "{announced}"
    );
    assert!(announced.contains("+33123456789"), "{announced}");
    // In that order: channel, header, announcement, then the rest (Slack's ts grow).
    let (header_ts, first_ts) = (&channel.messages[0].0, &channel.messages[1].0);
    let announced_ts = &support.messages[0].0;
    assert!(header_ts < announced_ts && announced_ts < first_ts);
    let order: Vec<String> = slack
        .calls()
        .iter()
        .filter(|c| c.answer["ok"] == true && c.method != "auth.test")
        .map(|c| format!("{} {}", c.method, c.arg("channel")))
        .collect();
    assert!(order[0].starts_with("conversations.create"), "{order:#?}");
    let archive = format!("conversations.archive {}", channel.id);
    assert_eq!(order.last(), Some(&archive), "{order:#?}");

    // The delivery log: every event once, delivered, its calls in the attempt.
    let log = wait_slack_deliveries(&app, |log| {
        log.len() == 6 && log.iter().all(|d| d["status"] == "delivered")
    })
    .await;
    let events: Vec<&str> = log
        .iter()
        .rev()
        .map(|d| d["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        [
            "start",
            "messageVisitor",
            "email",
            "messageVisitor",
            "messageAgent",
            "end"
        ]
    );
    let start = &log[5];
    assert_eq!(start["channelName"], "z-33123456789");
    let path = format!("/slack/deliveries/{}", start["id"].as_str().unwrap());
    let detail = app.api(Method::GET, &path).send().await.expect_json(200);
    assert_eq!(detail["payload"][0]["event"], "start");
    let attempt = &detail["attemptLog"][0];
    let calls = attempt["responseBody"].as_str().unwrap();
    assert!(calls.contains("conversations.create: ok"), "{attempt}");
    assert_eq!(attempt["statusCode"], 200);
    assert!(attempt["error"].is_null(), "{attempt}");
}

async fn a_taken_channel_name_is_reused_and_unarchived(store: TestStore) {
    let slack = FakeSlack::start().await;
    for n in 0..3 {
        slack.add_channel(&format!("filler-{n}"), false, false);
    }
    let taken = slack.add_channel("z-33123456789", true, false);
    let app = server(store, &slack, "100ms,200ms,500ms").await;
    connect(&app, &slack, false).await;
    let v = app.visitor_start(scarlet_identity(), Some(FIRST)).await;
    let channel = wait_posted(&slack, "z-33123456789", 2).await;
    assert_eq!(channel.id, taken, "the channel that had the name");
    assert!(!channel.archived, "unarchived");
    assert!(
        channel
            .members
            .iter()
            .any(|m| m == crate::fake_slack::BOT_USER_ID)
    );
    let creates = slack.calls_to("conversations.create");
    assert_eq!(creates.len(), 1, "asked once");
    assert_eq!(creates[0].answer["error"], "name_taken");
    assert_eq!(ok_calls(&slack, "conversations.unarchive").len(), 1);
    // One look-up for the visitor's channel, one for #palaver-support (the bot not in it).
    assert_eq!(slack.calls_to("conversations.list").len(), 2);

    // The next conversation in the same channel finds it in the channel map: no new look-up.
    app.end(&v.conversation_id, MOSS_ID).await;
    app.visitor_message(&v.token, &v.conversation_id, "Back again")
        .await;
    let channel = wait_posted(&slack, "z-33123456789", 5).await;
    let texts: Vec<String> = channel.messages.iter().map(|(_, a)| text(a)).collect();
    assert_eq!(texts[4], "Back again", "{texts:#?}");
    assert_eq!(slack.calls_to("conversations.create").len(), 1);
    assert_eq!(slack.calls_to("conversations.list").len(), 2);
    assert_eq!(slack.channels().len(), 6, "no channel was added");
}

async fn messages_written_in_slack_are_not_posted_back(store: TestStore) {
    let slack = FakeSlack::start().await;
    let app = server(store, &slack, "100ms,200ms,500ms").await;
    connect(&app, &slack, false).await;
    let v = app.visitor_start(scarlet_identity(), Some(FIRST)).await;
    wait_posted(&slack, "z-33123456789", 2).await;
    // The next post waits 2 s (Slack's rate limit) — time to mark the message as written in
    // Slack, as the Events API receiver does, before it is sent.
    slack.rate_limit("chat.postMessage", 1, 2);
    let m = app
        .agent_message(&v.conversation_id, MOSS_ID, "Written in Slack")
        .await;
    slack
        .wait_until("the rate-limited post", WAIT, |calls| {
            calls.iter().any(|c| c.status == 429)
        })
        .await;
    let id = m["id"].as_str().unwrap();
    let marked = execute(
        &app,
        "UPDATE messages SET origin = 'slack:1700000000.009900' WHERE id = $1",
        &[id],
    )
    .await;
    assert_eq!(marked, 1);
    app.agent_message(&v.conversation_id, MOSS_ID, "Written in the console")
        .await;
    let channel = wait_posted(&slack, "z-33123456789", 3).await;
    let texts: Vec<String> = channel.messages.iter().map(|(_, a)| text(a)).collect();
    assert_eq!(texts[2], "Written in the console", "{texts:#?}");
    let echoed = slack
        .calls_to("chat.postMessage")
        .iter()
        .filter(|c| c.arg("text") == "Written in Slack" && c.status == 200)
        .count();
    assert_eq!(echoed, 0, "never posted back");
    let log =
        wait_slack_deliveries(&app, |log| log.iter().all(|d| d["status"] == "delivered")).await;
    let path = format!("/slack/deliveries/{}", log[1]["id"].as_str().unwrap());
    let detail = app.api(Method::GET, &path).send().await.expect_json(200);
    assert_eq!(detail["event"], "messageAgent");
    let last = &detail["attemptLog"][1];
    let said = last["responseBody"].as_str().unwrap();
    assert!(said.contains("written in Slack"), "{detail}");
    let first = detail["attemptLog"][0]["error"].as_str().unwrap();
    assert!(
        first.contains("chat.postMessage: rate limited by Slack (429"),
        "{first}"
    );
}

async fn disconnecting_stops_the_posts_and_reconnecting_resumes_them(store: TestStore) {
    let slack = FakeSlack::start().await;
    let app = server(store, &slack, "100ms,200ms,500ms").await;
    let receiver = Receiver::start().await;
    app.create_webhook(&receiver.url(), Some(&["messageVisitor"]))
        .await;
    connect(&app, &slack, false).await;
    let v = app.visitor_start(scarlet_identity(), Some(FIRST)).await;
    wait_posted(&slack, "z-33123456789", 2).await;
    // A post Slack holds back (429, 2 s) is pending when Slack is disconnected.
    slack.rate_limit("chat.postMessage", 1, 2);
    app.visitor_message(&v.token, &v.conversation_id, "Pending")
        .await;
    slack
        .wait_until("the rate-limited post", WAIT, |calls| {
            calls.iter().any(|c| c.status == 429)
        })
        .await;
    app.api(Method::DELETE, "/slack")
        .send()
        .await
        .expect_status(204);
    app.visitor_message(&v.token, &v.conversation_id, "While disconnected")
        .await;
    // The webhook gets both messages: the workers go on, nothing went to it by mistake.
    let got = receiver
        .wait_until("both messages", WAIT, |r| r.len() >= 3)
        .await;
    assert!(got.iter().all(|r| r.event()["event"] == "messageVisitor"));
    let log = slack_deliveries(&app).await;
    assert_eq!(log.len(), 3, "none made while disconnected: {log:#?}");
    assert_eq!(log[0]["status"], "pending", "{log:#?}");

    // Connected again: the pending post goes out; nothing was made for the disconnected time.
    connect(&app, &slack, false).await;
    let channel = wait_posted(&slack, "z-33123456789", 3).await;
    let texts: Vec<String> = channel.messages.iter().map(|(_, a)| text(a)).collect();
    assert_eq!(texts[2], "Pending", "{texts:#?}");
    wait_slack_deliveries(&app, |log| log.iter().all(|d| d["status"] == "delivered")).await;
    assert!(!texts.contains(&"While disconnected".to_string()));
    assert_eq!(slack.calls_to("conversations.create").len(), 1);
}
