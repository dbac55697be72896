//! Pure types and rules: ids, visitor naming and channel slugs, the conversation state machine and
//! the Talkus payload. No I/O, no async.

pub mod conversation;
pub mod email;
pub mod ids;
pub mod naming;
pub mod payload;
pub mod time;

pub use conversation::{Command, ConversationStatus, EventName, Transition, TransitionError};
pub use ids::{hash_secret, new_id, new_secret, new_visitor_id};
pub use payload::{Identity, MessageView, Transcript};
pub use time::Millis;
