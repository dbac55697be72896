//! The conversation state machine: which commands are allowed in which state, and which events
//! they fire (PAYLOAD.md, "When each event fires").

use std::fmt;

/// Where a conversation is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum ConversationStatus {
    /// Started by the visitor; no agent has entered yet.
    Waiting,
    /// An agent has entered or written.
    Open,
    /// Closed by an agent; a new visitor message starts a new conversation.
    Ended,
}

impl ConversationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Open => "open",
            Self::Ended => "ended",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "waiting" => Some(Self::Waiting),
            "open" => Some(Self::Open),
            "ended" => Some(Self::Ended),
            _ => None,
        }
    }

    /// Waiting and open conversations are active: a visitor has at most one.
    pub fn is_active(self) -> bool {
        self != Self::Ended
    }
}

/// The six webhook events of the seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventName {
    Start,
    Open,
    End,
    Email,
    MessageVisitor,
    MessageAgent,
}

impl EventName {
    pub const ALL: [EventName; 6] = [
        Self::Start,
        Self::Open,
        Self::End,
        Self::Email,
        Self::MessageVisitor,
        Self::MessageAgent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Open => "open",
            Self::End => "end",
            Self::Email => "email",
            Self::MessageVisitor => "messageVisitor",
            Self::MessageAgent => "messageAgent",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }

    /// One bit per event, for an endpoint's subscription mask.
    pub fn bit(self) -> i64 {
        1 << (self as i64)
    }
}

impl fmt::Display for EventName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request to change a conversation. Starting is not here: it concerns the visitor, who has no
/// active conversation yet (see [`Transition::start`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// An agent enters the conversation.
    Join,
    /// An agent writes.
    AgentMessage,
    /// The visitor writes.
    VisitorMessage,
    /// The visitor gives an email address; `changed` says whether it is valid and new.
    Email { changed: bool },
    /// An agent closes the conversation.
    End,
}

/// Why a command is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("the conversation has ended")]
    Ended,
}

/// The outcome of a command: the events to fire, in order, and the state after.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    /// Events to fire, oldest first.
    pub events: Vec<EventName>,
    /// The status of the conversation the last event belongs to.
    pub status: ConversationStatus,
    /// Whether a new conversation must be started first (a visitor writing to an ended one).
    pub starts_new: bool,
}

impl Transition {
    /// A visitor with no active conversation starts one.
    pub fn start() -> Self {
        Transition {
            events: vec![EventName::Start],
            status: ConversationStatus::Waiting,
            starts_new: true,
        }
    }

    /// Applies `cmd` to a conversation in state `status`.
    pub fn apply(status: ConversationStatus, cmd: Command) -> Result<Self, TransitionError> {
        use {Command as C, ConversationStatus as S, EventName as E};
        let (events, after, starts_new) = match (status, cmd) {
            (S::Ended, C::Join | C::AgentMessage | C::End) => return Err(TransitionError::Ended),
            (S::Waiting, C::Join) => (vec![E::Open], S::Open, false),
            (S::Open, C::Join) => (vec![], S::Open, false),
            (S::Waiting, C::AgentMessage) => (vec![E::Open, E::MessageAgent], S::Open, false),
            (S::Open, C::AgentMessage) => (vec![E::MessageAgent], S::Open, false),
            (S::Ended, C::VisitorMessage) => (vec![E::Start, E::MessageVisitor], S::Waiting, true),
            (s, C::VisitorMessage) => (vec![E::MessageVisitor], s, false),
            (s, C::Email { changed }) => (if changed { vec![E::Email] } else { vec![] }, s, false),
            (_, C::End) => (vec![E::End], S::Ended, false),
        };
        Ok(Transition {
            events,
            status: after,
            starts_new,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{Command as C, ConversationStatus as S, EventName as E, *};

    fn events(s: S, c: C) -> Result<(Vec<E>, S), TransitionError> {
        Transition::apply(s, c).map(|t| (t.events, t.status))
    }

    #[test]
    fn agents_open_waiting_conversations() {
        assert_eq!(events(S::Waiting, C::Join), Ok((vec![E::Open], S::Open)));
        assert_eq!(events(S::Open, C::Join), Ok((vec![], S::Open)));
        assert_eq!(
            events(S::Waiting, C::AgentMessage),
            Ok((vec![E::Open, E::MessageAgent], S::Open))
        );
        assert_eq!(
            events(S::Open, C::AgentMessage),
            Ok((vec![E::MessageAgent], S::Open))
        );
    }

    #[test]
    fn visitor_messages_leave_the_state_alone_or_restart() {
        assert_eq!(
            events(S::Waiting, C::VisitorMessage),
            Ok((vec![E::MessageVisitor], S::Waiting))
        );
        assert_eq!(
            events(S::Open, C::VisitorMessage),
            Ok((vec![E::MessageVisitor], S::Open))
        );
        let t = Transition::apply(S::Ended, C::VisitorMessage).unwrap();
        assert!(t.starts_new);
        assert_eq!(t.events, vec![E::Start, E::MessageVisitor]);
        assert_eq!(t.status, S::Waiting);
    }

    #[test]
    fn email_fires_only_when_changed() {
        for s in [S::Waiting, S::Open, S::Ended] {
            assert_eq!(
                events(s, C::Email { changed: true }),
                Ok((vec![E::Email], s))
            );
            assert_eq!(events(s, C::Email { changed: false }), Ok((vec![], s)));
        }
    }

    #[test]
    fn ending() {
        assert_eq!(events(S::Waiting, C::End), Ok((vec![E::End], S::Ended)));
        assert_eq!(events(S::Open, C::End), Ok((vec![E::End], S::Ended)));
        for c in [C::End, C::Join, C::AgentMessage] {
            assert_eq!(events(S::Ended, c), Err(TransitionError::Ended));
        }
    }

    #[test]
    fn event_names_round_trip_and_bits_are_distinct() {
        let mut mask = 0;
        for e in E::ALL {
            assert_eq!(E::parse(e.as_str()), Some(e));
            assert_eq!(mask & e.bit(), 0);
            mask |= e.bit();
        }
        assert_eq!(E::parse("Start"), None);
        for s in [S::Waiting, S::Open, S::Ended] {
            assert_eq!(S::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn start_waits() {
        let t = Transition::start();
        assert_eq!((t.events, t.status), (vec![E::Start], S::Waiting));
    }
}
