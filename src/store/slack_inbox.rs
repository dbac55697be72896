//! The Slack bridge's inbox: Events API events answered 200 and not yet acted on, durable from
//! the moment Slack is answered. An event is queued in the transaction that marks its id seen
//! (a retry of it is never queued twice), claimed by a worker under a lease (the oldest pending
//! event of each lane only, so that one Slack channel's events are acted on in order), and
//! deleted once acted on. The [`SlackInbox`] part of the store.

use super::Result;
use crate::domain::Millis;
use async_trait::async_trait;

/// A queued event, as a claim hands it out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboxEvent {
    pub seq: i64,
    /// Slack's `event_id`.
    pub event_id: String,
    pub team_seq: i64,
    /// The Slack channel id its events are ordered by (`""` when it has none).
    pub lane: String,
    /// The event object (the envelope's `event`), as Slack sent it.
    pub body: String,
    /// Attempts so far, this claim's included: it fences the outcome.
    pub attempts: i64,
}

/// What a claim got, and when the next pending event may be claimed.
#[derive(Debug, Default)]
pub struct InboxClaim {
    pub events: Vec<InboxEvent>,
    /// When the earliest pending event not claimed now is due or its lease ends.
    pub next_due: Option<Millis>,
}

/// The inbox, and the one lookup the bridge needs of visitors.
#[async_trait]
pub trait SlackInbox: Send + Sync {
    /// Marks `event_id` seen and queues the event, in one durable transaction; answers false
    /// (nothing queued) when the id was seen before: a retry by Slack.
    async fn queue_slack_event(
        &self,
        event_id: &str,
        team_seq: i64,
        lane: &str,
        body: &str,
        at: Millis,
    ) -> Result<bool>;

    /// Claims up to `limit` due events, each the oldest pending one of its lane, until
    /// `lease_until`.
    async fn claim_slack_events(
        &self,
        now: Millis,
        lease_until: Millis,
        limit: u32,
    ) -> Result<InboxClaim>;

    /// The claimed event (at `attempts`) needs nothing more: it leaves the inbox.
    async fn finish_slack_event(&self, seq: i64, attempts: i64) -> Result<()>;

    /// The claimed event (at `attempts`) is tried again at `at`; `error` says why.
    async fn retry_slack_event(
        &self,
        seq: i64,
        attempts: i64,
        at: Millis,
        error: &str,
    ) -> Result<()>;

    /// At start-up of the only process using this store: a dead process's leases end now.
    async fn release_slack_leases(&self) -> Result<u64>;

    /// How many events are pending.
    async fn pending_slack_events(&self) -> Result<u64>;

    /// The team's visitor whose channel is `channel_name`.
    async fn visitor_by_channel(&self, team_seq: i64, channel_name: &str) -> Result<Option<i64>>;

    /// The name of the channel `channel_id` in the team's channel map (the channels Palaver
    /// made or found for visitors, and the notification channel).
    async fn mapped_channel_name(&self, team_seq: i64, channel_id: &str) -> Result<Option<String>>;
}

/// Of each lane's oldest pending event (`i`): due and not leased at `$1`.
pub const HEADS: &str = "NOT EXISTS (SELECT 1 FROM slack_inbox o
        WHERE o.team_seq = i.team_seq AND o.lane = i.lane AND o.seq < i.seq)";

macro_rules! inbox_reads_on {
    ($pool:ty) => {
        use super::*;

        /// When the earliest lane head is due or its lease ends.
        pub async fn next_due(pool: &$pool) -> Result<Option<Millis>> {
            let sql = format!(
                "SELECT MIN(CASE WHEN i.next_attempt_at > i.lease_until
                                 THEN i.next_attempt_at ELSE i.lease_until END)
                 FROM slack_inbox i WHERE {HEADS}"
            );
            let at: Option<i64> = sqlx::query_scalar(&sql).fetch_one(pool).await?;
            Ok(at.map(Millis))
        }

        pub async fn pending(pool: &$pool) -> Result<u64> {
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM slack_inbox")
                .fetch_one(pool)
                .await?;
            Ok(n as u64)
        }

        pub async fn mapped_channel_name(
            pool: &$pool,
            team_seq: i64,
            channel_id: &str,
        ) -> Result<Option<String>> {
            Ok(sqlx::query_scalar(
                "SELECT name FROM slack_channels WHERE team_seq = $1 AND channel_id = $2 LIMIT 1",
            )
            .bind(team_seq)
            .bind(channel_id)
            .fetch_optional(pool)
            .await?)
        }

        pub async fn visitor_by_channel(
            pool: &$pool,
            team_seq: i64,
            channel_name: &str,
        ) -> Result<Option<i64>> {
            Ok(sqlx::query_scalar(
                "SELECT seq FROM visitors WHERE team_seq = $1 AND channel_name = $2",
            )
            .bind(team_seq)
            .bind(channel_name)
            .fetch_optional(pool)
            .await?)
        }
    };
}

pub mod on_sqlite {
    inbox_reads_on!(sqlx::SqlitePool);
}

pub mod on_postgres {
    inbox_reads_on!(sqlx::PgPool);
}
