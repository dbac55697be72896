//! The rows the store reads and writes.

use super::Claimed;
use crate::domain::widget::WidgetSettings;
use crate::domain::{ConversationStatus, Identity, Millis};

/// A tenant: its agents, endpoints, visitors and conversations are its own.
#[derive(Clone, Debug)]
pub struct Team {
    pub seq: i64,
    pub id: String,
    pub name: String,
    /// Public key the widget sends in `X-Site-Key`.
    pub site_key: String,
    /// How the widget looks and which websites may use the visitor API.
    pub widget: WidgetSettings,
}

pub struct NewTeam {
    pub id: String,
    pub name: String,
    pub api_key_hash: String,
    pub site_key: String,
    pub is_default: bool,
    pub created_at: Millis,
}

/// Keyset pagination: rows strictly older than `before` (an internal `seq`), newest first.
#[derive(Clone, Copy, Debug)]
pub struct Page {
    pub before: Option<i64>,
    pub limit: u32,
}

/// What an endpoint delivers to. Both kinds ride the same outbox (lanes, leases, retries,
/// attempt log); only webhooks are listed and managed under `/webhooks`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EndpointKind {
    /// An HTTP receiver, sent the Talkus-compatible payload, signed (Standard Webhooks).
    #[default]
    Webhook,
    /// A team's Slack workspace (the bridge): its deliveries become Slack Web API calls.
    Slack,
}

impl EndpointKind {
    /// The value of the `endpoints.kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            EndpointKind::Webhook => "webhook",
            EndpointKind::Slack => "slack",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "webhook" => Some(EndpointKind::Webhook),
            "slack" => Some(EndpointKind::Slack),
            _ => None,
        }
    }
}

/// A delivery destination: a webhook receiver, or a Slack workspace ([`EndpointKind`]).
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub seq: i64,
    pub id: String,
    pub team_seq: i64,
    pub kind: EndpointKind,
    pub url: String,
    /// Bit mask of subscribed events ([`crate::domain::EventName::bit`]).
    pub events: i64,
    pub description: String,
    pub enabled: bool,
    pub secret: String,
    /// The secret before the last rotation, still signing until `previous_secret_until`.
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<Millis>,
    /// Most events in one request: 1 sends each alone (the default), more opts into batching.
    pub batch_size: i64,
    /// How hard Palaver may press it (`maxInFlight`, `maxPerSecond`).
    pub limits: Limits,
    pub created_at: Millis,
    /// Why and since when it is disabled, if it is (see [`Disabled`]). `enabled` and this change
    /// together, through [`crate::store::Outbox::disable_endpoint`] and
    /// [`crate::store::Outbox::enable_endpoint`] only.
    pub disabled: Option<Disabled>,
}

/// Why an endpoint is disabled. While it is, its pending deliveries are held: not sent, their
/// retries not spent; they go in order once it is enabled again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disabled {
    /// In words a person can act on: "disabled by hand", the receiver's 410, every delivery
    /// failing for days…
    pub reason: String,
    /// When (unknown for webhooks disabled before Palaver recorded it).
    pub at: Option<Millis>,
    /// Set only when Palaver disabled it for failing: when one held delivery is tried next
    /// (half-open); a success enables it again. Events keep being queued for it meanwhile.
    pub probe_at: Option<Millis>,
}

/// An endpoint's own limits, enforced by each process's workers (see
/// [`crate::delivery::pace`]); `None` is unlimited.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    /// Most attempts in flight at once.
    pub max_in_flight: Option<u32>,
    /// Most attempts started per second.
    pub max_per_second: Option<u32>,
}

impl Limits {
    /// From the `max_in_flight` and `max_per_second` columns (NULL is unlimited).
    pub fn of_columns(max_in_flight: Option<i64>, max_per_second: Option<i64>) -> Limits {
        let positive = |n: Option<i64>| n.and_then(|n| u32::try_from(n).ok()).filter(|n| *n > 0);
        Limits {
            max_in_flight: positive(max_in_flight),
            max_per_second: positive(max_per_second),
        }
    }

    /// Whether there is any limit.
    pub fn any(&self) -> bool {
        self.max_in_flight.is_some() || self.max_per_second.is_some()
    }
}

#[derive(Clone, Debug)]
pub struct VisitorRecord {
    pub seq: i64,
    pub id: String,
    pub team_seq: i64,
    pub name: String,
    pub channel_name: String,
    pub identity: Identity,
    /// Bumped by every commit about this visitor: the optimistic-concurrency check.
    pub version: i64,
}

#[derive(Clone, Debug)]
pub struct ConversationRecord {
    pub seq: i64,
    pub id: String,
    pub team_seq: i64,
    pub visitor_seq: i64,
    pub status: ConversationStatus,
    pub agent_id: Option<String>,
    /// The agent's profile (compact JSON) as it was when they last entered or wrote.
    pub agent: Option<String>,
    pub started_at: Millis,
    pub ended_at: Option<Millis>,
}

/// A conversation as lists show it.
#[derive(Clone, Debug)]
pub struct ConversationSummary {
    pub conversation: ConversationRecord,
    pub visitor_id: String,
    pub visitor_name: String,
    pub channel_name: String,
    /// The newest message's position, if any.
    pub last_message_seq: Option<i64>,
    /// The newest message, for previews in lists.
    pub last_message: Option<MessageRecord>,
}

#[derive(Clone, Debug)]
pub struct MessageRecord {
    /// Position in the store (0 until committed): live streams resume after it.
    pub seq: i64,
    pub id: String,
    /// `None` for the visitor.
    pub agent_id: Option<String>,
    pub user_name: String,
    pub user_picture: String,
    pub text: String,
    pub created_at: Millis,
    /// Where it was written when not through Palaver's own APIs: `slack:<ts>` for an agent's
    /// message written in the visitor's Slack channel (the bridge does not post it back there);
    /// `""` otherwise.
    pub origin: String,
}

/// One chat change: steps applied in order, in one transaction. Steps that need the row an
/// earlier step inserted (a new visitor's conversation, a new conversation's messages) find it
/// there when their own reference is `None`.
#[derive(Default)]
pub struct Commit {
    pub team_seq: i64,
    pub steps: Vec<Step>,
}

pub enum Step {
    InsertVisitor {
        id: String,
        name: String,
        channel_name: String,
        identity: Identity,
        token_hash: String,
        at: Millis,
    },
    /// Fails with a conflict unless the visitor is still at `version`; bumps it.
    CheckVisitor {
        seq: i64,
        version: i64,
    },
    UpdateIdentity {
        seq: i64,
        identity: Identity,
    },
    InsertConversation {
        id: String,
        visitor_seq: Option<i64>,
        at: Millis,
    },
    UpdateConversation {
        seq: Option<i64>,
        status: ConversationStatus,
        agent_id: Option<String>,
        agent: Option<String>,
        ended_at: Option<Millis>,
    },
    InsertMessage {
        conversation_seq: Option<i64>,
        message: MessageRecord,
    },
    /// Records the event and fans it out to every enabled endpoint subscribed to it.
    InsertEvent {
        id: String,
        conversation_seq: Option<i64>,
        name: &'static str,
        bit: i64,
        /// The delivery lane: per-channel order is kept within it.
        lane: String,
        body: String,
        /// For a chat event: the body is stored as its head and the transcript's length, and
        /// rebuilt from the conversation's messages when read (see [`super::bodies`]).
        transcript: Option<super::TranscriptCut>,
        at: Millis,
    },
    SaveAnswer {
        key: String,
        answer: StoredAnswer,
        at: Millis,
    },
}

/// A conversation changed: published after the commit, to every process sharing the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiveChange {
    pub team_seq: i64,
    pub conversation_seq: i64,
}

/// What a commit inserted.
#[derive(Clone, Debug, Default)]
pub struct Committed {
    pub visitor_seq: Option<i64>,
    pub conversation_seq: Option<i64>,
    /// The last message inserted: message events point at it (the team feed shows it).
    pub message_seq: Option<i64>,
    pub deliveries: u64,
    /// Ready deliveries the commit claimed for this process's workers (see
    /// [`super::Outbox::enable_handoff`]).
    pub handed_off: Vec<Claimed>,
}

/// The first answer to an idempotent request.
#[derive(Clone, Debug)]
pub struct StoredAnswer {
    pub fingerprint: String,
    pub status: u16,
    pub body: String,
}
