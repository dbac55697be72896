//! What outgoing Slack deliveries need from the store: a rate-limited attempt not counted against
//! the retry schedule, claims knowing their endpoint's kind, the team's Slack endpoint opened and
//! closed (its pending deliveries kept for the same workspace, dropped for another), and what a
//! delivery is sent with (connection, channel map, progress, the progress gone once delivered).

use super::*;

on_every_store!(
    a_wait_is_not_counted_against_the_schedule,
    the_slack_endpoint_opens_closes_and_changes_workspace,
    a_slack_delivery_reads_its_channel_and_progress,
);

fn slack_endpoint(team_seq: i64, workspace: &str) -> Endpoint {
    Endpoint {
        seq: 0,
        id: format!("ep_{workspace}"),
        team_seq,
        kind: EndpointKind::Slack,
        url: format!("slack:{workspace}"),
        events: ALL,
        description: String::new(),
        enabled: true,
        secret: String::new(),
        previous_secret: None,
        previous_secret_until: None,
        batch_size: 1,
        limits: Default::default(),
        created_at: Millis(0),
        disabled: None,
    }
}

fn connection(team_seq: i64) -> SlackConnection {
    SlackConnection {
        team_seq,
        bot_token: "xoxb-1".into(),
        signing_secret: "8f742231b10e8888abcd99yyyzzz85a5".into(),
        notify_channel: "support".into(),
        archive_on_end: false,
        workspace_id: "T1".into(),
        workspace_name: "One".into(),
        workspace_url: "https://one.slack.com/".into(),
        bot_user_id: "U0BOT0001".into(),
        bot_id: "B0BOT0001".into(),
        created_at: Millis(1000),
        updated_at: Millis(1000),
    }
}

async fn a_wait_is_not_counted_against_the_schedule(f: Fixture) {
    f.endpoint("hook", ALL).await;
    f.event("v1", EventName::Start, "[1]").await;
    let c = f.claim_at(2000).await.remove(0);
    assert_eq!((c.attempt, c.tries, c.kind), (1, 1, EndpointKind::Webhook));
    let wait = outcome(&c, NextStep::WaitUntil(Millis(5000)));
    f.store.finish(vec![wait], Millis(2500)).await.unwrap();
    assert!(f.claim_at(4999).await.is_empty(), "not before its time");
    let again = f.claim_at(5000).await.remove(0);
    assert_eq!(
        (again.attempt, again.tries),
        (2, 1),
        "the wait was not counted"
    );
    let retry = outcome(&again, NextStep::RetryAt(Millis(6000)));
    f.store.finish(vec![retry], Millis(5500)).await.unwrap();
    let third = f.claim_at(6000).await.remove(0);
    assert_eq!((third.attempt, third.tries), (3, 2), "a retry is");
}

async fn the_slack_endpoint_opens_closes_and_changes_workspace(f: Fixture) {
    assert!(f.store.slack_endpoint(f.team).await.unwrap().is_none());
    let first = f
        .store
        .open_slack_endpoint(slack_endpoint(f.team, "T1"))
        .await;
    let first = first.unwrap();
    assert!(first.enabled && first.kind == EndpointKind::Slack);
    f.event("v1", EventName::Start, "[1]").await;
    assert!(f.store.close_slack_endpoint(f.team).await.unwrap());
    assert!(
        f.claim_at(2000).await.is_empty(),
        "a closed endpoint's delivery waits"
    );
    assert_eq!(f.event("v1", EventName::End, "[2]").await, 0, "none made");

    // The same workspace again: the same endpoint, its pending delivery goes on.
    let again = f
        .store
        .open_slack_endpoint(slack_endpoint(f.team, "T1"))
        .await;
    assert_eq!(again.unwrap().seq, first.seq);
    let claimed = f.claim_at(2000).await;
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].kind, EndpointKind::Slack);
    f.store
        .put_slack_connection(connection(f.team))
        .await
        .unwrap();
    let support = SlackChannel {
        id: "C1".into(),
        archived: false,
    };
    f.store
        .put_slack_channel(f.team, "support", support)
        .await
        .unwrap();
    let send = f.store.slack_send(claimed[0].seq).await.unwrap().unwrap();
    assert_eq!(send.notify.unwrap().id, "C1");

    // Another workspace: a new endpoint; the old one's deliveries and channel map are gone.
    let other = f
        .store
        .open_slack_endpoint(slack_endpoint(f.team, "T2"))
        .await;
    let other = other.unwrap();
    assert_ne!(other.id, first.id, "a new endpoint");
    assert_eq!(other.url, "slack:T2");
    let page = Page {
        before: None,
        limit: 10,
    };
    let old = f.store.deliveries(first.seq, None, page).await.unwrap();
    assert!(old.is_empty());
    assert!(f.claim_at(3000).await.is_empty(), "nothing left to send");
    f.event("v2", EventName::Start, "[3]").await;
    let fresh = f.claim_at(3000).await.remove(0);
    assert_eq!(fresh.endpoint_seq, other.seq);
    let send = f.store.slack_send(fresh.seq).await.unwrap().unwrap();
    assert!(
        send.notify.is_none(),
        "the old workspace's channel map is gone"
    );
}

async fn a_slack_delivery_reads_its_channel_and_progress(f: Fixture) {
    let endpoint = f
        .store
        .open_slack_endpoint(slack_endpoint(f.team, "T1"))
        .await;
    endpoint.unwrap();
    f.event("v1", EventName::Start, "[1]").await;
    let c = f.claim_at(2000).await.remove(0);
    let send = f.store.slack_send(c.seq).await.unwrap().unwrap();
    assert_eq!(send.team_seq, f.team);
    assert!(send.connection.is_none(), "not connected");
    assert_eq!((send.origin.as_str(), send.steps_done), ("", 0));
    assert!(send.channel.is_none() && send.notify.is_none());

    f.store
        .put_slack_connection(connection(f.team))
        .await
        .unwrap();
    let support = SlackChannel {
        id: "C9".into(),
        archived: true,
    };
    f.store
        .put_slack_channel(f.team, "support", support.clone())
        .await
        .unwrap();
    f.store.set_slack_progress(c.seq, 2).await.unwrap();
    let send = f.store.slack_send(c.seq).await.unwrap().unwrap();
    assert_eq!(send.connection.unwrap().bot_token, "xoxb-1");
    assert_eq!(send.notify, Some(support));
    assert_eq!(send.steps_done, 2);
    f.store
        .forget_slack_channel(f.team, "support")
        .await
        .unwrap();

    // Waiting keeps the progress; delivered, it is gone (a redelivery starts over).
    let wait = outcome(&c, NextStep::WaitUntil(Millis(3000)));
    f.store.finish(vec![wait], Millis(2500)).await.unwrap();
    let send = f.store.slack_send(c.seq).await.unwrap().unwrap();
    assert_eq!(send.steps_done, 2);
    assert!(send.notify.is_none(), "forgotten");
    let again = f.claim_at(3000).await.remove(0);
    let done = outcome(&again, NextStep::Delivered);
    f.store.finish(vec![done], Millis(3500)).await.unwrap();
    let send = f.store.slack_send(c.seq).await.unwrap().unwrap();
    assert_eq!(send.steps_done, 0);
    assert!(f.store.slack_send(9_999).await.unwrap().is_none());
}
