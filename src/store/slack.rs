//! The Slack bridge's state: each team's connection to a workspace, and the Events API event
//! ids already acted on. The [`SlackLinks`] part of the store, with the reads both backends run
//! the same way.

use super::{Endpoint, Result};
use crate::domain::Millis;
use async_trait::async_trait;

/// Where new visitors are announced unless the admin chooses another channel.
pub const DEFAULT_NOTIFY_CHANNEL: &str = "palaver-support";

/// A team's Slack workspace connection. The two secrets are stored as webhook secrets are and
/// never leave the server: `Debug` hides them, and the API answers without them.
#[derive(Clone, PartialEq, Eq)]
pub struct SlackConnection {
    pub team_seq: i64,
    /// The bot user OAuth token (`xoxb-…`) the Web API is called with.
    pub bot_token: String,
    /// Checks `X-Slack-Signature` on the Events API's requests.
    pub signing_secret: String,
    /// The channel new visitors are announced in: a name without `#`, or a channel id.
    pub notify_channel: String,
    /// Whether a visitor's channel is archived when the conversation ends.
    pub archive_on_end: bool,
    /// `auth.test`'s `team_id` (`T…`): events carry it.
    pub workspace_id: String,
    /// `auth.test`'s `team`.
    pub workspace_name: String,
    /// `auth.test`'s `url` (`https://x.slack.com/`).
    pub workspace_url: String,
    /// `auth.test`'s `user_id` (`U…`): the bot's own messages and joins are not agents'.
    pub bot_user_id: String,
    /// `auth.test`'s `bot_id` (`B…`), on messages the bot posts (empty if Slack gave none).
    pub bot_id: String,
    /// When the team first connected (kept when the connection is replaced).
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl std::fmt::Debug for SlackConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackConnection")
            .field("team_seq", &self.team_seq)
            .field("bot_token", &"<redacted>")
            .field("signing_secret", &"<redacted>")
            .field("notify_channel", &self.notify_channel)
            .field("archive_on_end", &self.archive_on_end)
            .field("workspace_id", &self.workspace_id)
            .field("workspace_name", &self.workspace_name)
            .field("workspace_url", &self.workspace_url)
            .field("bot_user_id", &self.bot_user_id)
            .field("bot_id", &self.bot_id)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .finish()
    }
}

/// A channel of the team's workspace as Palaver knows it: a visitor's (by its `channelName`),
/// or the notification channel (by the name the admin gave).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlackChannel {
    /// Slack's id (`C…`).
    pub id: String,
    /// Palaver archived it (`archiveOnEnd`): it is unarchived before anything is posted in it.
    pub archived: bool,
}

/// What a delivery of the Slack endpoint needs at send time, read in one go
/// ([`SlackLinks::slack_send`]).
#[derive(Clone, Debug)]
pub struct SlackSend {
    pub team_seq: i64,
    /// The team's connection: `None` once disconnected.
    pub connection: Option<SlackConnection>,
    /// The visitor's channel, if Palaver knows it.
    pub channel: Option<SlackChannel>,
    /// The notification channel, if Palaver knows its id.
    pub notify: Option<SlackChannel>,
    /// Where the event's message was written (`messages.origin`): `slack:<ts>` for an agent's
    /// message written in Slack, `""` otherwise (and for an event without a message).
    pub origin: String,
    /// How many of the delivery's steps reached Slack on earlier attempts.
    pub steps_done: i64,
}

/// Slack connections, the Events API's seen event ids, and what outgoing Slack deliveries need:
/// the team's Slack endpoint, the channel map and the deliveries' progress.
#[async_trait]
pub trait SlackLinks: Send + Sync {
    /// Connects the team, or replaces its connection (keeping its `created_at`); answers what is
    /// stored.
    async fn put_slack_connection(&self, c: SlackConnection) -> Result<SlackConnection>;

    async fn slack_connection(&self, team_seq: i64) -> Result<Option<SlackConnection>>;

    /// Every team's connection (few: one per team), e.g. to find whose signing secret signed an
    /// Events API request.
    async fn slack_connections(&self) -> Result<Vec<SlackConnection>>;

    /// Disconnects the team; answers whether it was connected.
    async fn delete_slack_connection(&self, team_seq: i64) -> Result<bool>;

    /// Records that the Events API event `event_id` is being acted on; answers true the first
    /// time only, durably, so that Slack's retries of it (and a second process) see it as done.
    async fn mark_slack_event_seen(
        &self,
        event_id: &str,
        team_seq: i64,
        at: Millis,
    ) -> Result<bool>;

    /// Forgets the event ids seen before `before` (Slack retries for minutes, not days);
    /// answers how many.
    async fn prune_slack_events_seen(&self, before: Millis) -> Result<u64>;

    /// The team's Slack endpoint (enabled or not), if it has one.
    async fn slack_endpoint(&self, team_seq: i64) -> Result<Option<Endpoint>>;

    /// Makes `e` (kind Slack, its `url` naming the workspace) the team's enabled Slack endpoint:
    /// the existing one for the same workspace is enabled again with `e`'s events (its pending
    /// deliveries go on); one for another workspace is replaced, with its deliveries and the
    /// channel map. Answers the endpoint.
    async fn open_slack_endpoint(&self, e: Endpoint) -> Result<Endpoint>;

    /// Disables the team's Slack endpoint: no deliveries are made for it nor claimed; the
    /// pending ones wait for the next connection. Answers whether there was one.
    async fn close_slack_endpoint(&self, team_seq: i64) -> Result<bool>;

    /// What the Slack endpoint's delivery `delivery_seq` needs to be sent.
    async fn slack_send(&self, delivery_seq: i64) -> Result<Option<SlackSend>>;

    /// Remembers where the channel `name` is in the team's workspace.
    async fn put_slack_channel(
        &self,
        team_seq: i64,
        name: &str,
        channel: SlackChannel,
    ) -> Result<()>;

    /// Forgets the channel `name` (Slack no longer knows its id).
    async fn forget_slack_channel(&self, team_seq: i64, name: &str) -> Result<()>;

    /// Records that the delivery's first `steps_done` steps reached Slack.
    async fn set_slack_progress(&self, delivery_seq: i64, steps_done: i64) -> Result<()>;
}

/// [`SlackLinks::slack_send`]'s query: the delivery's team and its connection, the message's
/// origin, the visitor's and the notification channel as mapped, and the delivery's progress.
const SLACK_SEND: &str = "SELECT e.team_seq AS endpoint_team, sc.*,
        COALESCE(m.origin, '') AS message_origin,
        ch.channel_id AS ch_id, ch.archived AS ch_archived,
        nt.channel_id AS nt_id, nt.archived AS nt_archived,
        COALESCE(p.steps_done, 0) AS steps_done
    FROM deliveries d
    JOIN endpoints e ON e.seq = d.endpoint_seq
    JOIN events ev ON ev.seq = d.event_seq
    LEFT JOIN messages m ON m.seq = ev.message_seq
    LEFT JOIN conversations c ON c.seq = ev.conversation_seq
    LEFT JOIN visitors v ON v.seq = c.visitor_seq
    LEFT JOIN slack_connections sc ON sc.team_seq = e.team_seq
    LEFT JOIN slack_channels ch ON ch.team_seq = e.team_seq AND ch.name = v.channel_name
    LEFT JOIN slack_channels nt ON nt.team_seq = e.team_seq AND nt.name = sc.notify_channel
    LEFT JOIN slack_progress p ON p.delivery_seq = d.seq
    WHERE d.seq = $1";

macro_rules! slack_reads_on {
    ($pool:ty, $row:ty) => {
        use super::*;
        use sqlx::Row;

        fn connection(r: &$row) -> SlackConnection {
            SlackConnection {
                team_seq: r.get("team_seq"),
                bot_token: r.get("bot_token"),
                signing_secret: r.get("signing_secret"),
                notify_channel: r.get("notify_channel"),
                archive_on_end: r.get("archive_on_end"),
                workspace_id: r.get("workspace_id"),
                workspace_name: r.get("workspace_name"),
                workspace_url: r.get("workspace_url"),
                bot_user_id: r.get("bot_user_id"),
                bot_id: r.get("bot_id"),
                created_at: Millis(r.get("created_at")),
                updated_at: Millis(r.get("updated_at")),
            }
        }

        pub async fn slack_connection(
            pool: &$pool,
            team_seq: i64,
        ) -> Result<Option<SlackConnection>> {
            let r = sqlx::query("SELECT * FROM slack_connections WHERE team_seq = $1")
                .bind(team_seq)
                .fetch_optional(pool)
                .await?;
            Ok(r.as_ref().map(connection))
        }

        pub async fn slack_endpoint(pool: &$pool, team_seq: i64) -> Result<Option<Endpoint>> {
            let r = sqlx::query("SELECT * FROM endpoints WHERE team_seq = $1 AND kind = 'slack'")
                .bind(team_seq)
                .fetch_optional(pool)
                .await?;
            r.as_ref().map(crate::store::rows::endpoint).transpose()
        }

        pub async fn slack_send(pool: &$pool, delivery_seq: i64) -> Result<Option<SlackSend>> {
            let r = sqlx::query(SLACK_SEND)
                .bind(delivery_seq)
                .fetch_optional(pool)
                .await?;
            Ok(r.map(|r| {
                let channel = |id: &str, archived: &str| {
                    let id: Option<String> = r.get(id);
                    id.map(|id| SlackChannel {
                        id,
                        archived: r.get::<Option<bool>, _>(archived).unwrap_or(false),
                    })
                };
                SlackSend {
                    team_seq: r.get("endpoint_team"),
                    connection: r
                        .get::<Option<String>, _>("bot_token")
                        .map(|_| connection(&r)),
                    channel: channel("ch_id", "ch_archived"),
                    notify: channel("nt_id", "nt_archived"),
                    origin: r.get("message_origin"),
                    steps_done: r.get("steps_done"),
                }
            }))
        }

        pub async fn slack_connections(pool: &$pool) -> Result<Vec<SlackConnection>> {
            let rows = sqlx::query("SELECT * FROM slack_connections ORDER BY team_seq")
                .fetch_all(pool)
                .await?;
            Ok(rows.iter().map(connection).collect())
        }
    };
}

pub mod on_sqlite {
    slack_reads_on!(sqlx::SqlitePool, sqlx::sqlite::SqliteRow);
}

pub mod on_postgres {
    slack_reads_on!(sqlx::PgPool, sqlx::postgres::PgRow);
}
