//! The team feed: a team's chat events (the `events` table, one row per webhook event) read in
//! order, resumably, for the agent console's live stream (`GET /api/v1/events`).
//!
//! # Why a position is `(xid, seq)` and not just `seq`
//!
//! A stream sends events after a position and must never skip one that commits later. On SQLite
//! one writer commits events in `seq` order, so everything below the newest visible `seq` is
//! final; there `xid` is always 0 and the position is `seq`.
//!
//! On PostgreSQL several transactions run at once and take `seq` values when they insert, not
//! when they commit: a transaction holding seq 41 may commit after one holding 42 was read. Each
//! event therefore records the transaction that wrote it (`xid`, an `xid8` set by
//! `pg_current_xact_id()` at insert), and a read only takes events *below the horizon*
//! `H = pg_snapshot_xmin(pg_current_snapshot())` of its own statement — every transaction with an
//! id below `H` has ended (committed or rolled back) before that snapshot, so the set of events
//! with `xid < H` is final: the snapshot shows all of them, and none can ever be added.
//! Reads go in `(xid, seq)` order from the last position sent:
//!
//! - no gap: a read returns every final event after the position; an event not yet final has
//!   `xid ≥ H`, hence a position above every one sent so far, and comes in a later read;
//! - no repeat: positions sent only grow;
//! - order: a transaction's events are consecutive, in `seq` order; the transactions of one
//!   conversation run one after another (the lane lock, taken before their first write, and
//!   the visitor's version check), so their ids grow with their commits: a conversation's events
//!   come in `seq` order. Events of different conversations come in the order of their
//!   transactions' ids, which every read, resumed or not, follows the same way.
//!
//! A strict `seq` order across conversations would have to wait for every transaction that might
//! still hold a lower `seq`; this order waits only for older transactions. Any transaction of
//! the database with an id (a write) holds the horizon back while it runs: a feed sees a commit
//! once the writes older than it have ended — milliseconds for Palaver's own, which are short.
//! Events read but above the horizon are reported ([`FeedBatch::held`]), so a stream can look
//! again shortly instead of waiting for the next notification.
//!
//! Rows written before migration 0007 read as transaction 1: older than any, all committed.

use super::rows::Columns;
use super::{Committed, MessageRecord, Result, StoreError};
use crate::domain::Millis;
use async_trait::async_trait;
use serde::Deserialize;

/// Where a feed is: the last event sent (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct FeedPosition {
    /// The writing transaction's id (PostgreSQL), 0 on SQLite.
    pub xid: i64,
    /// The event's `seq`: the id a stream shows.
    pub seq: i64,
}

impl FeedPosition {
    /// Before the team's first event.
    pub const START: FeedPosition = FeedPosition { xid: 0, seq: 0 };
}

/// One chat event of the team, with what a console shows of it as it was at that moment.
#[derive(Clone, Debug)]
pub struct FeedEvent {
    pub position: FeedPosition,
    /// The webhook event's name (`start`, `open`, `end`, `email`, `messageVisitor`, …).
    pub name: String,
    pub at: Millis,
    pub conversation_id: String,
    pub started_at: Millis,
    /// The visitor and agent as the event's payload showed them.
    pub facts: EventFacts,
    /// The message a message event is about.
    pub message: Option<MessageRecord>,
}

/// What an event's stored payload head says, as of the event.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventFacts {
    pub visitor_id: String,
    pub visitor_name: String,
    pub channel_name: String,
    #[serde(default)]
    pub identity: EmailOnly,
    /// The agent in charge: their Slack user object, or `None`.
    #[serde(default)]
    pub agent: Option<serde_json::Value>,
}

/// The part of the payload's identity a feed shows.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct EmailOnly {
    #[serde(default)]
    pub email: String,
}

/// What one read of a feed found.
#[derive(Debug, Default)]
pub struct FeedBatch {
    /// Final events after the position, in feed order.
    pub events: Vec<FeedEvent>,
    /// Whether committed events wait behind the horizon (PostgreSQL): look again soon.
    pub held: bool,
}

/// The team feed; see the module docs.
#[async_trait]
pub trait TeamFeed: Send + Sync {
    /// The position of the team's newest final event ([`FeedPosition::START`] if none): a
    /// feed starting there sends what commits from now on.
    async fn feed_head(&self, team_seq: i64) -> Result<FeedPosition>;

    /// The position of event `seq`, if it is a final chat event of the team (one a feed may
    /// have sent).
    async fn feed_position(&self, team_seq: i64, seq: i64) -> Result<Option<FeedPosition>>;

    /// Up to `limit` final events of the team after `after`, in one read.
    async fn feed_after(&self, team_seq: i64, after: FeedPosition, limit: u32)
    -> Result<FeedBatch>;
}

/// What a new event row records as its message: for a message event, the message its commit
/// inserted last (commits insert a message just before firing its event).
pub fn message_of(event: &str, done: &Committed) -> Option<i64> {
    matches!(event, "messageVisitor" | "messageAgent")
        .then_some(done.message_seq)
        .flatten()
}

/// The columns [`event`] reads, for `FROM events e` (`{xid}`: the backend's expression of the
/// writing transaction). Both backends join the same way.
pub const COLUMNS: &str = "e.seq, {xid} AS xid, e.name, e.created_at, e.body, e.transcript_len,
    c.id AS conversation_id, c.started_at,
    m.seq AS m_seq, m.id AS m_id, m.agent_id AS m_agent_id, m.user_name AS m_user_name,
    m.user_picture AS m_user_picture, m.text AS m_text, m.created_at AS m_created_at,
    m.origin AS m_origin";

/// The joins [`COLUMNS`] need, after `FROM events e`.
pub const JOINS: &str = "JOIN conversations c ON c.seq = e.conversation_seq
    LEFT JOIN messages m ON m.seq = e.message_seq";

/// A feed row.
pub fn event(r: &impl Columns) -> Result<FeedEvent> {
    let seq = r.int("seq");
    let message = r.opt_int("m_seq").map(|m_seq| MessageRecord {
        seq: m_seq,
        id: r.text("m_id"),
        agent_id: r.opt_text("m_agent_id"),
        user_name: r.text("m_user_name"),
        user_picture: r.text("m_user_picture"),
        text: r.text("m_text"),
        created_at: Millis(r.int("m_created_at")),
        origin: r.text("m_origin"),
    });
    Ok(FeedEvent {
        position: FeedPosition {
            xid: r.int("xid"),
            seq,
        },
        name: r.text("name"),
        at: Millis(r.int("created_at")),
        conversation_id: r.text("conversation_id"),
        started_at: Millis(r.int("started_at")),
        facts: facts(&r.text("body"), r.opt_int("transcript_len").is_some())
            .ok_or_else(|| StoreError::Corrupt(format!("the payload of event {seq}")))?,
        message,
    })
}

/// The facts of a stored body: a chat event's head (the body up to inside the `message`
/// string, see [`super::bodies`]) is closed into a whole payload; older rows hold it whole.
fn facts(body: &str, is_head: bool) -> Option<EventFacts> {
    let closed;
    let text = if is_head {
        closed = format!("{body}\"}}]");
        &closed
    } else {
        body
    };
    let events: Vec<EventFacts> = serde_json::from_str(text).ok()?;
    events.into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::payload::EventContext;
    use crate::domain::{EventName, Identity, MessageView, Transcript};

    #[test]
    fn a_head_gives_the_visitor_and_agent_of_its_event() {
        let mut transcript = Transcript::default();
        transcript.push(&MessageView {
            user_name: "Scarlet".into(),
            user_picture: String::new(),
            created_at: Millis(1).iso(),
            text: "a \"quoted\" hello".into(),
        });
        let identity = Identity {
            email: "scar@let.com".into(),
            ..Identity::default()
        };
        let agent = r#"{"id":"U1","name":"moss"}"#;
        let body = EventContext {
            event: EventName::MessageVisitor,
            created_at: Millis(5),
            channel_name: "z-scarlet",
            visitor_name: "Scarlet",
            visitor_id: "v_1",
            identity: &identity,
            agent: Some(agent),
            transcript: &transcript,
        }
        .body();
        let head = &body.text[..body.head_len];
        let expected = EventFacts {
            visitor_id: "v_1".into(),
            visitor_name: "Scarlet".into(),
            channel_name: "z-scarlet".into(),
            identity: EmailOnly {
                email: "scar@let.com".into(),
            },
            agent: Some(serde_json::from_str(agent).unwrap()),
        };
        assert_eq!(facts(head, true), Some(expected.clone()));
        assert_eq!(facts(&body.text, false), Some(expected));
        assert_eq!(facts("[{\"visitorId\":", true), None);
    }
}
