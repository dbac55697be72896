//! All SQL. One small [`Store`] trait; the embedded SQLite implementation behind it (PostgreSQL
//! is the next backend), each with its own migrations folder.

pub mod backlog;
pub mod bodies;
pub mod feed;
mod handoff;
pub mod healing;
pub mod health;
mod lanes;
mod model;
pub mod notes;
mod outbox_rows;
pub mod postgres;
pub mod purge;
mod rows;
pub mod sessions;
mod shared_reads;
pub mod slack;
pub mod slack_inbox;
pub mod sqlite;
pub mod testdb;

pub use backlog::{Backlog, EndpointBacklog};
pub use bodies::TranscriptCut;
pub use feed::{FeedBatch, FeedEvent, FeedPosition, TeamFeed};
pub use handoff::Handoff;
pub use healing::HealthRules;
pub use health::EndpointHealth;
pub use model::*;
pub use notes::{NoteRecord, Notes};
pub use outbox_rows::*;
pub use purge::{Purge, Purged};
pub use sessions::{AgentLogin, SessionRecord, Sessions};
pub use slack::{SlackChannel, SlackConnection, SlackLinks, SlackSend};
pub use slack_inbox::{InboxClaim, InboxEvent, SlackInbox};

use crate::domain::Millis;
use crate::domain::widget::WidgetSettings;
use async_trait::async_trait;
use std::sync::Arc;
use tokio::sync::Notify;

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A concurrent change won: re-read and try again (or report the clash).
    #[error("conflict: {0:?}")]
    Conflict(ConflictKind),
    /// The row does not exist (or belongs to another team).
    #[error("not found")]
    NotFound,
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("SQLite error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the transaction did not commit: {0}")]
    Commit(String),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The writer task is gone (the process is shutting down).
    #[error("the store is closed")]
    Closed,
}

/// Which constraint a [`StoreError::Conflict`] hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictKind {
    /// The visitor changed since it was read (optimistic version check).
    VisitorVersion,
    /// The channel name was taken meanwhile.
    ChannelName,
    /// The visitor already has an active conversation.
    ActiveConversation,
    /// The idempotency key was used meanwhile.
    IdempotencyKey,
    /// The row is not in a state that allows the change.
    State,
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Teams, agents and webhook endpoints.
#[async_trait]
pub trait Directory: Send + Sync {
    async fn default_team(&self) -> Result<Option<Team>>;

    async fn create_team(&self, team: NewTeam) -> Result<Team>;

    async fn team_by_api_key_hash(&self, hash: &str) -> Result<Option<Team>>;

    async fn team_by_site_key(&self, site_key: &str) -> Result<Option<Team>>;

    async fn team(&self, team_seq: i64) -> Result<Option<Team>>;

    /// Replaces the team's widget settings (already checked: see [`crate::domain::widget`]).
    async fn set_widget(&self, team_seq: i64, widget: &WidgetSettings) -> Result<()>;

    async fn api_key_matches(&self, team_seq: i64, hash: &str) -> Result<bool>;

    // Agents: Slack user objects, stored verbatim.

    /// Inserts or replaces; answers whether it was created.
    async fn put_agent(&self, team_seq: i64, id: &str, profile: &str) -> Result<bool>;

    async fn agent(&self, team_seq: i64, id: &str) -> Result<Option<String>>;

    /// Agents ordered by id, after `after`.
    async fn agents(
        &self,
        team_seq: i64,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<(String, String)>>;

    async fn delete_agent(&self, team_seq: i64, id: &str) -> Result<bool>;

    // Endpoints.

    async fn create_endpoint(&self, e: Endpoint) -> Result<Endpoint>;

    async fn endpoint(&self, team_seq: i64, id: &str) -> Result<Option<Endpoint>>;

    async fn endpoints(&self, team_seq: i64, page: Page) -> Result<Vec<Endpoint>>;

    /// Changes its settings (`enabled` and `disabled` excepted: see
    /// [`Outbox::disable_endpoint`] and [`Outbox::enable_endpoint`]).
    async fn update_endpoint(&self, e: Endpoint) -> Result<()>;

    async fn delete_endpoint(&self, team_seq: i64, endpoint_seq: i64) -> Result<()>;

    // Visitors and conversations.
}

/// Visitors, conversations and the chat commits that change them.
#[async_trait]
pub trait Conversations: Send + Sync {
    /// The visitor a token was issued to (tokens are unique across teams).
    async fn visitor_by_token_hash(&self, hash: &str) -> Result<Option<VisitorRecord>>;

    async fn visitor(&self, visitor_seq: i64) -> Result<Option<VisitorRecord>>;

    /// The visitor's newest conversation and its messages, oldest first.
    async fn latest_conversation(
        &self,
        visitor_seq: i64,
    ) -> Result<Option<(ConversationRecord, Vec<MessageRecord>)>>;

    async fn conversation(&self, team_seq: i64, id: &str) -> Result<Option<ConversationRecord>>;

    async fn conversations(
        &self,
        team_seq: i64,
        status: Option<&str>,
        page: Page,
    ) -> Result<Vec<ConversationSummary>>;

    async fn messages(&self, conversation_seq: i64) -> Result<Vec<MessageRecord>>;

    /// The conversation's messages after position `after_seq`, oldest first.
    async fn messages_after(
        &self,
        conversation_seq: i64,
        after_seq: i64,
    ) -> Result<Vec<MessageRecord>>;

    /// Conversation changes committed from now on, by any process sharing the store.
    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<LiveChange>;

    /// Whether any visitor of the team has this channel name.
    async fn channel_taken(&self, team_seq: i64, channel_name: &str) -> Result<bool>;

    /// Applies a chat change in one transaction: all of it, or nothing.
    async fn commit(&self, c: Commit) -> Result<Committed>;

    async fn idempotent_answer(&self, team_seq: i64, key: &str) -> Result<Option<StoredAnswer>>;

    /// Keeps the first answer to a key (a later one is ignored).
    async fn save_answer(
        &self,
        team_seq: i64,
        key: String,
        answer: StoredAnswer,
        at: Millis,
    ) -> Result<()>;

    /// Forgets answers older than `before`; answers how many.
    async fn prune_answers(&self, before: Millis) -> Result<u64>;

    // The outbox.
}

/// The deliveries: claims, outcomes, hand-off, the delivery log, redelivery and recovery.
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Signalled when deliveries may be due that only a claim finds.
    fn work_signal(&self) -> Arc<Notify>;

    /// The deliveries this process's commits (and outcomes) lease to its own workers.
    fn handoff(&self) -> &Handoff;

    /// From now on, deliveries that commits of this process make ready are claimed in the same
    /// transaction, under a lease of `lease`, and handed to [`Outbox::take_handed_off`] — no
    /// claim query for them. Only a process that runs delivery workers calls this.
    fn enable_handoff(&self, lease: std::time::Duration) {
        self.handoff().enable(lease);
    }

    /// Up to `max` deliveries handed off by commits, to send now.
    fn take_handed_off(&self, max: usize) -> Vec<Claimed> {
        self.handoff().take(max)
    }

    /// Signalled when deliveries were handed off.
    fn handoff_signal(&self) -> Option<Arc<Notify>> {
        Some(self.handoff().signal())
    }

    /// How long the oldest handed-off delivery has waited for a worker (for `/metrics`: it is
    /// due, though its lease hides it from [`Outbox::backlog`]).
    fn handoff_wait(&self, now: Millis) -> Option<std::time::Duration> {
        self.handoff().oldest_wait(now)
    }

    // Teams.

    /// Claims up to `limit` due deliveries under a lease ending at `lease_until`, and tells when
    /// the next ready one is due. A claimed batch leader comes with its batch's other members.
    async fn claim(&self, now: Millis, lease_until: Millis, limit: u32) -> Result<Claim>;

    /// Makes the claimed deliveries `members` (seq and attempt number, oldest first) one batch
    /// under `batch_id`, durably, before it is first sent: from then on they are sent together,
    /// under that id. The first becomes the leader, the only one a claim finds; the others are
    /// parked ([`PARKED`]) and claimed with it. Answers the seqs that joined: those whose lease
    /// is still the caller's.
    async fn form_batch(&self, batch_id: &str, members: &[(i64, i64)]) -> Result<Vec<i64>>;

    /// Records attempts and their consequences; outcomes of lost leases are recorded but change nothing.
    async fn finish(&self, outcomes: Vec<Outcome>, now: Millis) -> Result<()>;

    /// At start-up of the only process delivering from this store: the leases of a previous,
    /// dead process are handed back at once instead of waiting for them to expire.
    async fn release_leases(&self, now: Millis) -> Result<u64>;

    /// From now on, the outcomes this process records also judge their endpoints' health by
    /// `rules`: disabled when every attempt failed long enough, enabled again by a successful
    /// probe (see [`healing`]). Only a process that runs delivery workers calls this.
    fn enable_healing(&self, _rules: HealthRules) {}

    /// Makes the due probes of endpoints disabled for failing claimable: each one's oldest held
    /// lane head, unless a probe of it is in flight; the next is due `interval` later. Answers
    /// how many were made due.
    async fn start_probes(&self, now: Millis, interval: std::time::Duration) -> Result<u64>;

    /// Disables the endpoint, saying why (`reason`, in words a person can act on) and when:
    /// its pending deliveries are held (not claimed, their retries not spent), no new ones are
    /// queued for it, and it is not probed. An endpoint Palaver disabled for failing takes the
    /// new reason and is no longer probed. Answers false when it was disabled already.
    async fn disable_endpoint(&self, endpoint_seq: i64, reason: &str, at: Millis) -> Result<bool>;

    /// Enables the endpoint again, forgetting why it was disabled and how long it has been
    /// failing: its held deliveries are due at once and go in per-lane order. Answers false
    /// when it was enabled already.
    async fn enable_endpoint(&self, endpoint_seq: i64, at: Millis) -> Result<bool>;

    /// How many deliveries are pending (for `/metrics`).
    /// Every endpoint's pending and failed deliveries and the most overdue one (for `/metrics`).
    async fn backlog(&self, now: Millis) -> Result<Backlog>;

    async fn deliveries(
        &self,
        endpoint_seq: i64,
        status: Option<DeliveryStatus>,
        page: Page,
    ) -> Result<Vec<DeliveryRecord>>;

    async fn delivery(&self, endpoint_seq: i64, id: &str) -> Result<Option<DeliveryRecord>>;

    async fn attempts(&self, delivery_seq: i64) -> Result<Vec<AttemptRecord>>;

    async fn event_body(&self, delivery_seq: i64) -> Result<String>;

    /// The endpoint's recent deliveries and failures (see [`health`]).
    async fn endpoint_health(&self, endpoint_seq: i64, since: Millis) -> Result<EndpointHealth>;

    /// Queues a sample event for one endpoint; answers the delivery id.
    async fn enqueue_test(&self, endpoint: &Endpoint, body: String, now: Millis) -> Result<String>;

    /// Queues a finished delivery again; a pending one waiting for its next retry is tried now
    /// (nothing happens to one in flight, or waiting behind its lane or its batch).
    async fn redeliver(&self, delivery_seq: i64, now: Millis) -> Result<()>;

    /// Records a recovery request; answers how many failed deliveries it covers.
    async fn create_recovery(&self, endpoint_seq: i64, since: Millis, now: Millis) -> Result<u64>;

    /// Works one batch of the oldest open recovery; answers false when none is left.
    async fn recovery_step(&self, now: Millis, batch: u32) -> Result<bool>;
}

/// Where Palaver keeps its state (see [`Directory`], [`Conversations`], [`Outbox`], [`Sessions`],
/// [`TeamFeed`], [`SlackLinks`], [`SlackInbox`], [`Notes`], [`Purge`]). Writes are
/// transactional; [`Conversations::commit`] writes a chat change, its events and their
/// deliveries (the outbox) in one transaction.
#[async_trait]
pub trait Store:
    Directory
    + Conversations
    + Outbox
    + Sessions
    + TeamFeed
    + SlackLinks
    + SlackInbox
    + Notes
    + Purge
    + Send
    + Sync
    + 'static
{
    /// Store reachable (`/readyz`).
    async fn ping(&self) -> Result<()>;

    /// At a clean stop, once nothing writes any more: leaves the store tidy (SQLite: the
    /// write-ahead log copied into the database file and emptied).
    async fn close(&self) -> Result<()> {
        Ok(())
    }
}

/// Opens the store a URL names: `postgres://…` (with a pool of at most `pool_size`
/// connections) or `sqlite://path` (or a plain path).
pub async fn open(url: &str, pool_size: u32) -> Result<Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PgStore::open(url, pool_size).await?))
    } else {
        Ok(Arc::new(sqlite::SqliteStore::open(url).await?))
    }
}

#[cfg(test)]
mod tests;
