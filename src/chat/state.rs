//! What chat keeps in memory per visitor: the visitor, their newest conversation and its
//! pre-rendered transcript, behind a per-visitor lock. Commands on one visitor run one at a time
//! in this process; the store's version check catches other processes.

use crate::domain::payload::agent_author;
use crate::domain::{MessageView, Transcript};
use crate::store::{ConversationRecord, MessageRecord, Result, Store, VisitorRecord};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

/// Most visitors kept in memory; idle ones beyond this are dropped (and re-read when needed).
const CAPACITY: usize = 20_000;

/// A visitor and their newest conversation, as the next command needs them.
pub struct VisitorState {
    pub visitor: VisitorRecord,
    pub conversation: Option<ConversationState>,
}

/// A conversation and its transcript so far.
pub struct ConversationState {
    pub record: ConversationRecord,
    pub transcript: Transcript,
}

impl ConversationState {
    pub fn new(record: ConversationRecord, messages: &[MessageRecord]) -> Self {
        let mut transcript = Transcript::default();
        for m in messages {
            transcript.push(&view(m));
        }
        ConversationState { record, transcript }
    }
}

/// How a stored message shows in the payload.
pub fn view(m: &MessageRecord) -> MessageView {
    m.into()
}

/// An agent's author name and picture from their stored profile.
pub fn agent_view(profile: &str) -> (String, String) {
    serde_json::from_str(profile)
        .map(|v| agent_author(&v))
        .unwrap_or_default()
}

type Slot = Arc<AsyncMutex<Option<VisitorState>>>;

/// The per-visitor slots.
#[derive(Default)]
pub struct States {
    slots: Mutex<HashMap<i64, Slot>>,
}

/// A locked visitor slot; `None` inside until loaded.
pub type Locked = OwnedMutexGuard<Option<VisitorState>>;

impl States {
    /// Locks the visitor's slot (waiting for a command in progress on the same visitor).
    pub async fn lock(&self, visitor_seq: i64) -> Locked {
        let slot = {
            let mut slots = self.slots.lock().expect("state map poisoned");
            if slots.len() >= CAPACITY {
                slots.retain(|_, s| Arc::strong_count(s) > 1);
            }
            slots.entry(visitor_seq).or_default().clone()
        };
        slot.lock_owned().await
    }

    /// Loads the visitor into a locked slot if it is not there.
    pub async fn load(store: &dyn Store, locked: &mut Locked, visitor_seq: i64) -> Result<bool> {
        if locked.is_some() {
            return Ok(true);
        }
        let Some(visitor) = store.visitor(visitor_seq).await? else {
            return Ok(false);
        };
        let conversation = store
            .latest_conversation(visitor_seq)
            .await?
            .map(|(record, messages)| ConversationState::new(record, &messages));
        **locked = Some(VisitorState {
            visitor,
            conversation,
        });
        Ok(true)
    }
}
