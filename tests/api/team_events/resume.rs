//! Resuming the team stream: `Last-Event-ID` (or `lastEventId`) brings exactly the events missed
//! while disconnected, none twice; an id the stream never sent is a 400.

use reqwest::Method;

use super::{AGENT, about};
use crate::fixtures::{agent, named};
use crate::helpers::TestApp;
use crate::stores::{TestStore, on_every_store};

on_every_store!(
    last_event_id_resumes_with_exactly_the_missed_events,
    an_id_the_stream_never_sent_is_400
);

async fn last_event_id_resumes_with_exactly_the_missed_events(store: TestStore) {
    let app = TestApp::spawn(store).await;
    app.put_agent(&agent(AGENT, "Roy")).await.expect_status(201);
    // Gone before any change: `ready`'s id is enough to miss nothing.
    let (stream, ready) = app.team_events(None).await;
    drop(stream);
    let v = app.visitor_start(named("Ann"), None).await;
    let conv = v.conversation_id.as_str();
    let (mut stream, _) = app.team_events(Some(&ready)).await;
    about(&stream.next().await, "start", conv);
    app.visitor_message(&v.token, conv, "hello").await;
    let (_, seen) = about(&stream.next().await, "message", conv);
    drop(stream);

    // Missed while disconnected: a join, a reply, another visitor.
    app.join(conv, AGENT).await;
    app.agent_message(conv, AGENT, "Hi Ann").await;
    let w = app.visitor_start(named("Bob"), None).await;
    let seen = seen.to_string();
    let (mut stream, _) = app.team_events(Some(&seen)).await;
    let (_, a) = about(&stream.next().await, "open", conv);
    let (reply, b) = about(&stream.next().await, "message", conv);
    assert_eq!(reply["message"]["text"], "Hi Ann");
    let (_, c) = about(&stream.next().await, "start", &w.conversation_id);
    // Nothing else was missed and nothing comes twice: the next event is the next change.
    app.set_email(&v.token, conv, "ann@example.com").await;
    let (_, d) = about(&stream.next().await, "email", conv);
    let ids = [seen.parse().unwrap(), a, b, c, d];
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");

    // The query parameter does the same (for clients that cannot set the header).
    let path = format!("/events?lastEventId={seen}");
    let resumed = app.api(Method::GET, &path).sse().await;
    let (mut resumed, _) = super::ready(resumed, Some(&seen)).await;
    about(&resumed.next().await, "open", conv);
    // Two streams at once, each from where it was.
    app.end(conv, AGENT).await;
    about(&stream.next().await, "end", conv);
    about(&resumed.next().await, "message", conv);
}

async fn an_id_the_stream_never_sent_is_400(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let other = app.second_team().await;
    let mut theirs = app.team_events_of(&other).await;
    let their_conv = app.start_in(&other, "Elsewhere").await;
    let (_, their_id) = about(&theirs.next().await, "start", &their_conv);
    let v = app.visitor_start(named("Ann"), None).await;
    let (mut ours, _) = app.team_events(Some("0")).await;
    let (_, our_id) = about(&ours.next().await, "start", &v.conversation_id);

    let unknown = (our_id + their_id + 1000).to_string();
    for bad in ["abc", "-1", "1.5", &unknown, &their_id.to_string()] {
        let call = app.api(Method::GET, "/events").header("last-event-id", bad);
        let problem = call.send().await.expect_problem(400);
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(detail.contains("Last-Event-ID"), "{bad}: {problem}");
        let path = format!("/events?lastEventId={bad}");
        app.api(Method::GET, &path).send().await.expect_problem(400);
    }
    // Not without the team's credentials.
    let call = app.call(Method::GET, "/api/v1/events");
    call.send().await.expect_problem(401);
    let call = app.call(Method::GET, "/api/v1/events").bearer("sk_wrong");
    call.send().await.expect_problem(401);
}
