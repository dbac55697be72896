//! Retention: deleting what is past its keeping time, one small batch per call. Each store
//! paces the calls so that purging gives way to the real work: on SQLite a batch runs only when
//! the writer is idle, and holds it about a millisecond; on PostgreSQL batches run one at a
//! time, each on a pool connection nobody waits for, with a pause after it. A call waits for
//! its turn as long as that takes; the background sweep ([`crate::retention`]) says when it
//! waits long.
//!
//! What goes, and what never does:
//! - finished deliveries (delivered or failed) whose last attempt is older than `--retention`,
//!   with their attempts and Slack progress, and the test events that no delivery needs any
//!   more. A pending delivery is never purged. A chat event stays while its conversation does:
//!   its stored body is only a head (see [`super::bodies`]), and it is the team feed's record
//!   of the conversation (`GET /api/v1/events`);
//! - with `--message-retention`, conversations that ended before it, with their messages,
//!   private notes, events, and those events' deliveries and attempts — except a conversation
//!   one of whose events a pending delivery still needs (its body is rebuilt from the
//!   conversation's messages). The visitor stays (their Slack channel is theirs, by name); their
//!   version is bumped so that every process reloads what it keeps of them.

use super::Result;
use crate::domain::Millis;
use async_trait::async_trait;

/// What purging removed, by kind of row.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Purged {
    pub deliveries: u64,
    pub attempts: u64,
    pub events: u64,
    pub conversations: u64,
    pub messages: u64,
    pub notes: u64,
}

impl Purged {
    /// All rows removed.
    pub fn rows(&self) -> u64 {
        self.deliveries
            + self.attempts
            + self.events
            + self.conversations
            + self.messages
            + self.notes
    }
}

impl std::ops::AddAssign for Purged {
    fn add_assign(&mut self, o: Purged) {
        self.deliveries += o.deliveries;
        self.attempts += o.attempts;
        self.events += o.events;
        self.conversations += o.conversations;
        self.messages += o.messages;
        self.notes += o.notes;
    }
}

/// Where a sweep of ended conversations is: the last one looked at, as `(ended_at, seq)`.
pub type ConversationCursor = (i64, i64);

/// How much one batch takes, chosen by each store for its own pace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PurgeBatch {
    /// Deliveries (each with its attempts).
    pub deliveries: u32,
    /// Conversations (each with its messages, notes, events, deliveries and attempts).
    pub conversations: u32,
}

/// Purging, a batch at a time; see the module docs.
#[async_trait]
pub trait Purge: Send + Sync {
    /// The batch this store purges best in (see the module docs).
    fn purge_batch(&self) -> PurgeBatch;

    /// How many finished deliveries whose last attempt was before `before` are left: for the
    /// notice that purging waits long.
    async fn purge_due(&self, before: Millis) -> Result<u64>;

    /// Deletes up to `limit` finished deliveries whose last attempt was before `before`,
    /// oldest first, with their attempts and Slack progress, and the test events (of no
    /// conversation) that no delivery needs any more. Several processes may call it at once:
    /// each takes other rows. Waits for its turn first (see the module docs).
    async fn purge_deliveries(&self, before: Millis, limit: u32) -> Result<Purged>;

    /// Looks at up to `limit` conversations that ended before `before`, in `(ended_at, seq)`
    /// order after `after`, and deletes those no pending delivery needs (see the module docs),
    /// with their messages, notes, events, deliveries and attempts. Answers what went and where
    /// the next call goes on from (`None`: no ended conversation is left to look at). Waits
    /// for its turn first (see the module docs).
    async fn purge_conversations(
        &self,
        before: Millis,
        after: ConversationCursor,
        limit: u32,
    ) -> Result<(Purged, Option<ConversationCursor>)>;
}
