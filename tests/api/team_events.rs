//! The team's live stream for the agent console (`GET /api/v1/events`, Server-Sent Events):
//! `ready` first, then `start`, `message`, `open`, `email` and `end` of the team's
//! conversations, with the documented data; nothing of another team.

mod concurrency;
mod resume;

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::client::Auth;
use crate::fixtures::{agent, named};
use crate::helpers::TestApp;
use crate::sse::{SseEvent, SseStream};
use crate::stores::{TestStore, on_every_store};
use crate::teams::Team;

on_every_store!(
    a_whole_conversation_streams_with_the_documented_shapes,
    open_streams_end_when_the_server_stops
);

pub const AGENT: &str = "U0TEAM001";

impl TestApp {
    /// Opens the default team's stream (resuming after `last` if given); returns it after its
    /// `ready` event, with that event's id.
    pub async fn team_events(&self, last: Option<&str>) -> (SseStream, String) {
        let mut call = self.api(Method::GET, "/events");
        if let Some(id) = last {
            call = call.header("last-event-id", id);
        }
        ready(call.sse().await, last).await
    }

    /// Opens another team's stream, from now.
    pub async fn team_events_of(&self, team: &Team) -> SseStream {
        let call = self
            .call(Method::GET, "/api/v1/events")
            .bearer(&team.api_key);
        ready(call.sse().await, None).await.0
    }

    /// A visitor of `team` starts a conversation; answers its id.
    pub async fn start_in(&self, team: &Team, name: &str) -> String {
        let call = self.call(Method::POST, "/api/v1/visitor/conversations");
        let call = call.auth(Auth::SiteKey(team.site_key.clone()));
        let answer = call.json(&json!({ "identity": named(name) })).send().await;
        let answer = answer.expect_json(201);
        answer["conversationId"].as_str().expect("an id").to_owned()
    }
}

/// Reads the `ready` event that opens every stream: its id is where the stream starts (the one
/// resumed from, when resuming).
pub async fn ready(mut stream: SseStream, resumed_from: Option<&str>) -> (SseStream, String) {
    let e = stream.next().await;
    assert_eq!(e.event, "ready", "the first event: {e:?}");
    assert_eq!(
        e.json(),
        json!({ "resumed": resumed_from.is_some() }),
        "{e:?}"
    );
    let id =
        e.id.clone()
            .unwrap_or_else(|| panic!("ready has an id: {e:?}"));
    if let Some(from) = resumed_from {
        assert_eq!(id, from, "a resumed stream starts where it was asked to");
    }
    (stream, id)
}

/// Asserts an event named `name` about conversation `conversation`, with a numeric id and an
/// ISO time; returns its data and id.
pub fn about(e: &SseEvent, name: &str, conversation: &str) -> (Value, u64) {
    assert_eq!(e.event, name, "expected {name}: {e:?}");
    let data = e.json();
    assert_eq!(data["conversationId"], conversation, "{e:?}");
    let at = data["at"].as_str().unwrap_or_default();
    assert!(at.len() == 24 && at.ends_with('Z'), "an ISO time: {e:?}");
    let id = e.id.as_deref().and_then(|id| id.parse().ok());
    (data, id.unwrap_or_else(|| panic!("a numeric id: {e:?}")))
}

/// The agent as the stream shows the one [`agent`] makes.
pub fn card(id: &str, name: &str) -> Value {
    json!({"id": id, "name": name, "picture": format!("https://example.com/{id}_48.jpg")})
}

async fn a_whole_conversation_streams_with_the_documented_shapes(store: TestStore) {
    let app = TestApp::spawn(store).await;
    app.put_agent(&agent(AGENT, "Roy")).await.expect_status(201);
    let other = app.second_team().await;
    let mut theirs = app.team_events_of(&other).await;
    let (mut ours, _) = app.team_events(None).await;

    let v = app.visitor_start(named("Scarlet"), None).await;
    let conv = v.conversation_id.as_str();
    let their_first = app.start_in(&other, "Elsewhere").await;
    let listed = app.list("/conversations").await;
    let mut listed = listed
        .iter()
        .find(|c| c["id"] == conv)
        .expect("listed")
        .clone();
    // The list adds the newest message for previews; `start` comes before any.
    assert_eq!(listed["lastMessage"], serde_json::Value::Null);
    listed.as_object_mut().unwrap().remove("lastMessage");
    let (start, id1) = about(&ours.next().await, "start", conv);
    let expected =
        json!({"conversationId": conv, "at": listed["startedAt"], "conversation": listed});
    assert_eq!(start, expected, "start carries the list's view");

    let hello = app.visitor_message(&v.token, conv, "hello").await;
    let (message, id2) = about(&ours.next().await, "message", conv);
    let mut shown = hello.clone();
    shown["from"] = json!("visitor");
    shown["agentId"] = Value::Null;
    let expected = json!({"conversationId": conv, "at": hello["createdAt"], "message": shown});
    assert_eq!(message, expected);

    app.join(conv, AGENT).await;
    let (open, id3) = about(&ours.next().await, "open", conv);
    let expected = json!({"conversationId": conv, "at": open["at"], "status": "open",
        "agent": card(AGENT, "Roy")});
    assert_eq!(open, expected);

    let reply = app.agent_message(conv, AGENT, "Hello, IT.").await;
    let (message, id4) = about(&ours.next().await, "message", conv);
    let mut shown = reply.clone();
    shown["from"] = json!("agent");
    shown["agentId"] = json!(AGENT);
    let expected = json!({"conversationId": conv, "at": reply["createdAt"], "message": shown});
    assert_eq!(message, expected);

    app.set_email(&v.token, conv, "scar@let.com").await;
    let (email, id5) = about(&ours.next().await, "email", conv);
    let expected = json!({"conversationId": conv, "at": email["at"], "visitorId": v.visitor_id,
        "email": "scar@let.com"});
    assert_eq!(email, expected);

    let ended = app.end(conv, AGENT).await;
    let (end, id6) = about(&ours.next().await, "end", conv);
    let expected = json!({"conversationId": conv, "at": ended["endedAt"], "status": "ended",
        "endedAt": ended["endedAt"], "agent": card(AGENT, "Roy")});
    assert_eq!(end, expected);
    let ids = [id1, id2, id3, id4, id5, id6];
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids grow: {ids:?}");

    // The other team's conversation came in between and was not shown: the next event is ours.
    let next = app.visitor_start(named("Next"), None).await;
    about(&ours.next().await, "start", &next.conversation_id);
    let their_second = app.start_in(&other, "Again").await;
    about(&theirs.next().await, "start", &their_first);
    about(&theirs.next().await, "start", &their_second);
}

/// A graceful stop waits for every connection: it is prompt only if the streams end.
async fn open_streams_end_when_the_server_stops(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let (_ours, _) = app.team_events(None).await;
    let (_resumed, _) = app.team_events(Some("0")).await;
    let status = app.terminate(Duration::from_secs(5)).await;
    assert_eq!(
        status.code(),
        Some(0),
        "exit status after SIGTERM: {status}"
    );
}
