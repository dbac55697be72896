//! One test per scenario (they run in parallel); the browser side is `tests/browser/<name>.mjs`.

use std::sync::Arc;

use serde_json::Value;

use super::{HOST_TITLE, stage};
use crate::checks::checked_events;
use crate::helpers::WAIT;
use crate::payload::texts;
use crate::receiver::Received;

/// The seed's first visitor message, as typed.
const FIRST: &str = "Hi! Do you have any doc to your API?";
/// Moss's answer.
const ANSWER: &str = "Yes! Go to <http://developer.talkus.io/>";

fn has_event(reqs: &[Arc<Received>], name: &str, pred: impl Fn(&Value) -> bool) -> bool {
    reqs.iter()
        .any(|r| r.event()["event"] == name && pred(&r.event()))
}

fn last_text(event: &Value) -> String {
    texts(event).last().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_css_and_widget_leave_each_other_alone() {
    let Some(s) = stage().await else { return };
    s.run("host_styles.mjs").await;
    assert!(
        s.app.list("/conversations").await.is_empty(),
        "loading the page must not start a conversation"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_from_the_page_fires_every_webhook_with_the_page_identity() {
    let Some(s) = stage().await else { return };
    let out = s.run("conversation.mjs").await;
    let reqs = s
        .receiver
        .wait_until("the agent's answer", WAIT, |r| {
            has_event(r, "messageAgent", |_| true)
        })
        .await;
    let events = checked_events(&reqs, &s.secret);
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    for name in ["start", "email", "messageVisitor", "open", "messageAgent"] {
        let n = names.iter().filter(|&&x| x == name).count();
        assert_eq!(n, 1, "one `{name}` webhook expected, got events {names:?}");
    }
    assert_eq!(names[0], "start", "events {names:?}");
    let pos = |n: &str| names.iter().position(|&x| x == n).unwrap();
    assert!(pos("open") < pos("messageAgent"), "events {names:?}");

    let languages = out["languages"].as_array().expect("RESULT.languages");
    let first_language = languages[0].as_str().expect("a language");
    for event in &events {
        let id = &event["identity"];
        assert_eq!(id["location"], s.host_url.as_str(), "location: {event}");
        assert_eq!(id["title"], HOST_TITLE, "title: {event}");
        let got = id["languages"].as_str().unwrap_or_default();
        assert!(
            got.contains(first_language),
            "languages must carry the browser's ({languages:?}): {event}"
        );
        assert_eq!(id["userAgent"], out["userAgent"], "userAgent: {event}");
        assert_eq!(id["name"], "Scarlet", "name: {event}");
        assert_eq!(event["visitorName"], "Scarlet", "visitorName: {event}");
    }
    let answer = &events[pos("messageAgent")];
    assert_eq!(answer["identity"]["email"], "scar@let.com", "{answer}");
    assert_eq!(answer["agent"]["id"], crate::fixtures::MOSS_ID, "{answer}");
    assert_eq!(texts(answer), [FIRST, ANSWER], "transcript: {answer}");
    let listed = s.app.list("/conversations").await;
    assert_eq!(listed.len(), 1, "one conversation: {listed:?}");
    assert_eq!(
        listed[0]["id"], out["conversationId"],
        "{listed:?} vs {out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_keeps_the_conversation_and_an_offline_message_goes_once() {
    let Some(s) = stage().await else { return };
    let out = s.run("reload_offline.mjs").await;
    let offline = out["offlineText"].as_str().expect("RESULT.offlineText");
    let after = out["agentText"].as_str().expect("RESULT.agentText");
    // The agent's later answer carries the transcript as the server holds it; its webhook comes
    // after every earlier event of the channel.
    let reqs = s
        .receiver
        .wait_until("the agent's answer after the offline message", WAIT, |r| {
            has_event(r, "messageAgent", |e| last_text(e) == after)
        })
        .await;
    let events = checked_events(&reqs, &s.secret);
    let sent: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "messageVisitor" && last_text(e) == offline)
        .collect();
    assert_eq!(
        sent.len(),
        1,
        "one messageVisitor for {offline:?}: {events:#?}"
    );
    let starts = events.iter().filter(|e| e["event"] == "start").count();
    assert_eq!(
        starts, 1,
        "the reload continued the conversation: {events:#?}"
    );
    let answer = events.iter().find(|e| last_text(e) == after).unwrap();
    let copies = texts(answer).iter().filter(|t| *t == offline).count();
    assert_eq!(
        copies, 1,
        "the transcript holds the offline message once: {answer}"
    );
    assert_eq!(s.app.list("/conversations").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_end_the_visitor_starts_a_new_conversation() {
    let Some(s) = stage().await else { return };
    let out = s.run("restart.mjs").await;
    let again = out["secondText"].as_str().expect("RESULT.secondText");
    let reqs = s
        .receiver
        .wait_until("the new conversation's first message", WAIT, |r| {
            has_event(r, "messageVisitor", |e| last_text(e) == again)
        })
        .await;
    let events = checked_events(&reqs, &s.secret);
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        names.iter().filter(|&&n| n == "start").count(),
        2,
        "{names:?}"
    );
    assert_eq!(
        names.iter().filter(|&&n| n == "end").count(),
        1,
        "{names:?}"
    );
    let new = events.iter().find(|e| last_text(e) == again).unwrap();
    assert_eq!(
        texts(new),
        [again],
        "the new conversation's transcript: {new}"
    );
    assert_ne!(out["firstId"], out["secondId"], "{out}");
    let listed = s.app.list("/conversations").await;
    assert_eq!(listed.len(), 2, "{listed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_origin_not_allowed_gets_no_widget_and_no_conversation() {
    let Some(s) = stage().await else { return };
    s.run("origins.mjs").await;
    let listed = s.app.list("/conversations").await;
    assert!(listed.is_empty(), "no conversation expected: {listed:?}");
    assert_eq!(s.receiver.count(), 0, "{:?}", s.receiver.received());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_phone_the_open_widget_fills_the_screen() {
    let Some(s) = stage().await else { return };
    s.run("phone.mjs").await;
    s.receiver.wait_for_event("messageAgent", WAIT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_closed_bubble_counts_unread_agent_messages() {
    let Some(s) = stage().await else { return };
    s.run("unread.mjs").await;
    s.receiver.wait_for_event("messageAgent", WAIT).await;
}
