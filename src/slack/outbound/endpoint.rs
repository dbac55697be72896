//! The team's Slack endpoint: made (or enabled again) when the team connects Slack, disabled
//! when it disconnects. Its url names the workspace (`slack:T…`): connecting another workspace
//! replaces the endpoint, its pending deliveries and the channel map, which belong to the old one.

use crate::domain::{EventName, Millis, new_id};
use crate::store::{Endpoint, EndpointKind, SlackConnection, Store, StoreError};

/// The events the bridge posts in Slack.
pub const EVENTS: [EventName; 5] = [
    EventName::Start,
    EventName::MessageVisitor,
    EventName::MessageAgent,
    EventName::Email,
    EventName::End,
];

/// Makes sure the connected team has its enabled Slack endpoint: from now on, every event it
/// posts gets a delivery to Slack, in the event's transaction.
pub async fn open(store: &dyn Store, c: &SlackConnection) -> Result<Endpoint, StoreError> {
    let endpoint = Endpoint {
        seq: 0,
        id: new_id("ep_"),
        team_seq: c.team_seq,
        kind: EndpointKind::Slack,
        url: format!("slack:{}", c.workspace_id),
        events: EVENTS.iter().fold(0, |mask, e| mask | e.bit()),
        description: format!("Slack workspace {}", c.workspace_name),
        enabled: true,
        // Slack deliveries are Web API calls with the bot token, not signed requests.
        secret: String::new(),
        previous_secret: None,
        previous_secret_until: None,
        batch_size: 1,
        limits: Default::default(),
        created_at: Millis::now(),
        disabled: None,
    };
    store.open_slack_endpoint(endpoint).await
}

/// Stops the team's Slack deliveries: none are made any more, the pending ones wait (neither
/// sent nor lost) until Slack is connected again.
pub async fn close(store: &dyn Store, team_seq: i64) -> Result<bool, StoreError> {
    store.close_slack_endpoint(team_seq).await
}
