//! The Slack bridge's state: connections (replaced in place, their first connection time kept),
//! seen event ids (first time only, pruned by age), and Slack endpoints kept out of the webhook
//! reads while riding the outbox.

use super::*;

on_every_store!(
    a_connection_is_stored_replaced_and_deleted,
    an_event_id_is_seen_once_until_pruned,
    slack_endpoints_ride_the_outbox_but_are_not_webhooks,
);

fn connection(team_seq: i64, token: &str, at: i64) -> SlackConnection {
    SlackConnection {
        team_seq,
        bot_token: token.into(),
        signing_secret: "8f742231b10e8888abcd99yyyzzz85a5".into(),
        notify_channel: "palaver-support".into(),
        archive_on_end: false,
        workspace_id: "T0F212345".into(),
        workspace_name: "Reynholm".into(),
        workspace_url: "https://reynholm.slack.com/".into(),
        bot_user_id: "U0BOT0001".into(),
        bot_id: "B0BOT0001".into(),
        created_at: Millis(at),
        updated_at: Millis(at),
    }
}

async fn a_connection_is_stored_replaced_and_deleted(f: Fixture) {
    assert!(f.store.slack_connection(f.team).await.unwrap().is_none());
    let first = connection(f.team, "xoxb-1", 1000);
    assert_eq!(
        f.store.put_slack_connection(first.clone()).await.unwrap(),
        first
    );
    assert_eq!(f.store.slack_connection(f.team).await.unwrap(), Some(first));

    let mut second = connection(f.team, "xoxb-2", 5000);
    second.archive_on_end = true;
    second.notify_channel = "C0123ABCD".into();
    let stored = f.store.put_slack_connection(second.clone()).await.unwrap();
    assert_eq!(
        stored.created_at,
        Millis(1000),
        "first connection time kept"
    );
    assert_eq!(stored.updated_at, Millis(5000));
    let read = f.store.slack_connection(f.team).await.unwrap().unwrap();
    assert_eq!(read, stored);
    assert_eq!(read.bot_token, "xoxb-2");
    assert!(read.archive_on_end);
    assert_eq!(
        f.store.slack_connections().await.unwrap(),
        vec![read.clone()]
    );
    let shown = format!("{read:?}");
    assert!(
        !shown.contains("xoxb-2") && !shown.contains("8f742231"),
        "{shown}"
    );

    assert!(f.store.delete_slack_connection(f.team).await.unwrap());
    assert!(!f.store.delete_slack_connection(f.team).await.unwrap());
    assert!(f.store.slack_connection(f.team).await.unwrap().is_none());
    assert!(f.store.slack_connections().await.unwrap().is_empty());
}

async fn an_event_id_is_seen_once_until_pruned(f: Fixture) {
    let seen = |id: &'static str, at: i64| {
        let store = f.store.clone();
        let team = f.team;
        async move {
            store
                .mark_slack_event_seen(id, team, Millis(at))
                .await
                .unwrap()
        }
    };
    assert!(seen("Ev01", 1000).await, "first time");
    assert!(!seen("Ev01", 2000).await, "a retry");
    assert!(seen("Ev02", 3000).await);
    assert_eq!(
        f.store.prune_slack_events_seen(Millis(2500)).await.unwrap(),
        1
    );
    assert!(!seen("Ev02", 4000).await, "younger ids are kept");
    assert!(seen("Ev01", 4000).await, "a pruned id is new again");
}

async fn slack_endpoints_ride_the_outbox_but_are_not_webhooks(f: Fixture) {
    let hook = f.endpoint("hook", ALL).await;
    let mut slack = hook.clone();
    slack.id = "slack".into();
    slack.kind = EndpointKind::Slack;
    let slack = f.store.create_endpoint(slack).await.unwrap();
    assert_eq!(slack.kind, EndpointKind::Slack);
    let page = Page {
        before: None,
        limit: 10,
    };
    let listed = f.store.endpoints(f.team, page).await.unwrap();
    assert_eq!(
        listed.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        ["hook"]
    );
    assert_eq!(listed[0].kind, EndpointKind::Webhook);
    assert!(f.store.endpoint(f.team, "slack").await.unwrap().is_none());
    assert!(f.store.endpoint(f.team, "hook").await.unwrap().is_some());

    let mut again = slack.clone();
    again.id = "slack-2".into();
    assert!(
        f.store.create_endpoint(again).await.is_err(),
        "one Slack endpoint per team"
    );
    assert_eq!(
        f.event("v1", EventName::Start, "[1]").await,
        2,
        "both get the event"
    );
    let mut claimed: Vec<i64> = f
        .claim_at(2000)
        .await
        .iter()
        .map(|c| c.endpoint_seq)
        .collect();
    claimed.sort();
    assert_eq!(claimed, vec![hook.seq, slack.seq]);
}
