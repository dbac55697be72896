//! Pure types and rules: ids, visitor naming and channel slugs, the conversation state machine,
//! the Talkus payload, the widget's settings, what identities and messages may hold. No I/O, no
//! async.

pub mod conversation;
pub mod email;
pub mod identity;
pub mod ids;
pub mod naming;
pub mod net;
pub mod password;
pub mod payload;
pub mod session;
pub mod text;
pub mod time;
pub mod widget;

pub use conversation::{Command, ConversationStatus, EventName, Transition, TransitionError};
pub use ids::{hash_secret, new_id, new_secret, new_visitor_id};
pub use payload::{Identity, MessageView, Transcript};
pub use time::Millis;
