//! The seed's conversation with the agent in Slack: the visitor writes on the visitor API; in
//! the visitor's channel Moss joins (`open`), answers (`messageAgent` whose `agent` is his
//! Slack user object from `users.info`, verbatim and in Slack's key order, reaching the
//! visitor's live stream, the team stream and the webhooks), replies in a thread (a private
//! note: in the console's conversation only), shares a file (text and permalink), and ends it
//! with `.end`; the bot's own messages, edits and channels that are no visitor's change nothing.

use serde_json::{Value, json};

use crate::fake_slack::events::{member_joined, message};
use crate::fake_slack::{BOT_ID, BOT_USER_ID, TEAM_ID, TEAM_URL};
use crate::fixtures::{MOSS_ID, moss};
use crate::slack_events::{Bridge, WAIT, last_text, stored_origins};
use crate::sse::SseStream;
use crate::stores::{TestStore, on_every_store};

on_every_store!(moss_answers_from_slack);

const ANSWER: &str = "Yes! Go to <http://developer.talkus.io/>";
const NOTE: &str = "She asked about the API last week too";

/// The texts of the `message` events of a stream until one says `last`.
async fn messages_until(stream: &mut SseStream, last: &str) -> Vec<String> {
    let mut texts = Vec::new();
    loop {
        let e = tokio::time::timeout(WAIT, stream.next())
            .await
            .expect("an event");
        let data = e.json();
        let text = match e.event.as_str() {
            "message" if data["message"].is_object() => data["message"]["text"].clone(),
            "message" => data["text"].clone(),
            _ => continue,
        };
        let text = text.as_str().unwrap_or_default().to_owned();
        texts.push(text.clone());
        if text == last {
            return texts;
        }
    }
}

async fn moss_answers_from_slack(store: TestStore) {
    let b = Bridge::start(store).await;
    let (mut console, _) = b.app.team_events(None).await;
    let (v, channel) = b.visitor("\nHi! Do you have any doc to your API?").await;
    let conv = v.conversation_id.as_str();
    let mut visitor = b.app.visitor_events(&v.token, conv, None).await;
    let elsewhere = b.channel("general");

    // Someone else's channel, the bot's own join and a human joining the visitor's channel.
    b.send(message(&elsewhere, MOSS_ID, "lunch?", "1700000100.000100"))
        .await;
    b.send(message(&elsewhere, MOSS_ID, "coffee?", "1700000100.000200"))
        .await;
    b.send(member_joined(&channel, BOT_USER_ID)).await;
    b.send(member_joined(&channel, MOSS_ID)).await;
    let open = b.hooks.wait_for_event("open", WAIT).await.event();
    assert_eq!(open["agent"], moss(), "the Slack user object, verbatim");

    b.send(message(&channel, MOSS_ID, ANSWER, "1700000101.000100"))
        .await;
    let said = b.agent_said(ANSWER).await;
    assert_eq!(said["agent"], moss());
    let request = b
        .hooks
        .received()
        .into_iter()
        .find(|r| r.events().iter().any(|e| last_text(e) == ANSWER))
        .unwrap();
    request.assert_signed(&b.webhook.secret);
    let compact = serde_json::to_string(&moss()).unwrap();
    assert!(
        request.body_text().contains(&compact),
        "the object in Slack's key order: {}",
        request.body_text()
    );
    let last = said["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["userName"], "Moss");
    assert_eq!(last["userPicture"], moss()["profile"]["image_48"]);
    assert_eq!(
        said["message"],
        format!("+33123456789: \nHi! Do you have any doc to your API?\nMoss: {ANSWER}")
    );

    // A reply in a thread: a note between agents.
    let mut reply = message(&channel, MOSS_ID, NOTE, "1700000102.000100");
    reply["thread_ts"] = json!("1700000101.000100");
    b.send(reply).await;
    // Files: the text, then each file's link.
    let link = format!("{TEAM_URL}files/{MOSS_ID}/F0DOC0001/api.pdf");
    let mut shared = message(&channel, MOSS_ID, "The doc:", "1700000103.000100");
    shared["subtype"] = json!("file_share");
    shared["files"] = json!([{"id": "F0DOC0001", "name": "api.pdf", "permalink": link,
        "permalink_public": "https://slack-files.com/T-F-x", "public_url_shared": false}]);
    b.send(shared).await;
    let with_file = format!("The doc:\n{link}");
    b.agent_said(&with_file).await;

    // The bot's own message, an edit, then `.end`.
    let mut own = message(
        &channel,
        BOT_USER_ID,
        "Scarlet: thanks",
        "1700000104.000100",
    );
    own["subtype"] = json!("bot_message");
    own["bot_id"] = json!(BOT_ID);
    b.send(own).await;
    let mut edit = json!({"type": "message", "subtype": "message_changed", "channel": channel,
        "hidden": true, "ts": "1700000105.000100", "event_ts": "1700000105.000100",
        "message": {"type": "message", "user": MOSS_ID, "text": "edited", "ts": "1700000101.000100"},
        "previous_message": {"type": "message", "user": MOSS_ID, "text": ANSWER, "ts": "1700000101.000100"}});
    edit["team"] = json!(TEAM_ID);
    b.send(edit).await;
    b.send(message(&channel, MOSS_ID, ".end", "1700000106.000100"))
        .await;
    let end = b.hooks.wait_for_event("end", WAIT).await.event();
    assert_eq!(end["agent"], moss());

    let names: Vec<Value> = b.events().iter().map(|e| e["event"].clone()).collect();
    let expected = [
        "start",
        "messageVisitor",
        "open",
        "messageAgent",
        "messageAgent",
        "end",
    ];
    assert_eq!(names, expected.map(Value::from), "nothing else fired");
    let all = b
        .hooks
        .received()
        .iter()
        .map(|r| r.body_text())
        .collect::<String>();
    assert!(!all.contains(NOTE), "a note is never in a webhook");
    for ignored in ["lunch?", "coffee?", "edited", "Scarlet: thanks"] {
        assert!(!all.contains(ignored), "{ignored}");
    }

    // The console: the transcript, and the note apart.
    let detail = b.app.conversation(conv).await;
    assert_eq!(detail["status"], "ended");
    let texts: Vec<&str> = detail["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        [
            "\nHi! Do you have any doc to your API?",
            ANSWER,
            with_file.as_str()
        ]
    );
    let notes = detail["notes"].as_array().expect("notes").clone();
    assert_eq!(notes.len(), 1, "{detail}");
    let created = notes[0]["createdAt"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    crate::payload::assert_iso_millis(&created);
    assert_eq!(
        notes[0],
        json!({"agentId": MOSS_ID, "userName": "Moss", "text": NOTE, "createdAt": created})
    );
    let seen = messages_until(&mut console, &with_file).await;
    assert_eq!(seen.last().map(String::as_str), Some(with_file.as_str()));
    assert!(
        seen.iter().any(|t| t == ANSWER) && !seen.iter().any(|t| t == NOTE),
        "{seen:?}"
    );

    // The visitor: Moss's messages live, never the note.
    let seen = messages_until(&mut visitor, &with_file).await;
    assert_eq!(seen, texts, "the visitor's stream");
    let theirs = b.app.visitor_conversation(&v.token, conv).await.to_string();
    assert!(!theirs.contains(NOTE), "{theirs}");

    // Stored: the agent as users.info gave him (asked once), and where each message came from.
    let agent = b
        .app
        .api(reqwest::Method::GET, &format!("/agents/{MOSS_ID}"))
        .send()
        .await;
    assert_eq!(agent.expect_json(200), moss());
    assert_eq!(
        b.slack.calls_to("users.info").len(),
        1,
        "the profile is cached"
    );
    let asked = |id: &str| {
        let calls = b.slack.calls_to("conversations.info");
        calls.iter().filter(|c| c.arg("channel") == id).count()
    };
    assert_eq!(asked(&elsewhere), 1, "a channel's name is remembered");
    assert!(asked(&channel) <= 1, "the channel map knows the visitor's");
    let origins = stored_origins(&b.app).await;
    assert_eq!(
        origins,
        [
            (
                "\nHi! Do you have any doc to your API?".into(),
                String::new()
            ),
            (ANSWER.into(), "slack:1700000101.000100".into()),
            (with_file.clone(), "slack:1700000103.000100".into()),
        ]
    );
}
