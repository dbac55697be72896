//! What chat keeps in memory per visitor: the visitor, their newest conversation and its
//! pre-rendered transcript, behind a per-visitor lock. Commands on one visitor run one at a time
//! in this process; the store's version check catches other processes.

use super::cache::visitor_bytes;
use crate::domain::payload::agent_author;
use crate::domain::{MessageView, Transcript};
use crate::memory::{self, ENTRY_OVERHEAD};
use crate::store::{ConversationRecord, MessageRecord, Result, Store, VisitorRecord};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

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

/// The bytes of visitors' state kept by default (`--conversation-cache-mb`).
pub const DEFAULT_BUDGET: usize = 128 << 20;

/// The per-visitor slots, within a budget in bytes: past it, the least recently used visitors
/// that no command holds are dropped (and read again from the store when needed).
pub struct States {
    inner: Mutex<Inner>,
    budget: usize,
}

#[derive(Default)]
struct Inner {
    slots: HashMap<i64, Entry>,
    /// The entries' weights together.
    bytes: usize,
    /// Ticks of use, for least-recently-used eviction.
    tick: u64,
}

struct Entry {
    slot: Slot,
    /// [`ENTRY_OVERHEAD`] plus the state's size when its last holder let it go.
    bytes: usize,
    used: u64,
}

/// A locked visitor slot; `None` inside until loaded. Letting it go weighs the state again
/// and makes room if the budget is passed.
pub struct Locked<'a> {
    guard: OwnedMutexGuard<Option<VisitorState>>,
    states: &'a States,
    visitor_seq: i64,
}

impl std::ops::Deref for Locked<'_> {
    type Target = Option<VisitorState>;
    fn deref(&self) -> &Self::Target {
        &self.guard
    }
}

impl std::ops::DerefMut for Locked<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.guard
    }
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        let mut bytes = self.guard.as_ref().map_or(0, state_bytes);
        if ENTRY_OVERHEAD + bytes > self.states.budget {
            // Larger than the whole budget: not kept; the next command reads it again.
            *self.guard = None;
            bytes = 0;
        }
        self.states.settle(self.visitor_seq, ENTRY_OVERHEAD + bytes);
    }
}

/// A visitor's state's estimated size: its strings and the transcript's buffers.
fn state_bytes(s: &VisitorState) -> usize {
    let conversation = s.conversation.as_ref().map_or(0, |c| {
        let r = &c.record;
        let agent =
            r.agent_id.as_ref().map_or(0, String::len) + r.agent.as_ref().map_or(0, String::len);
        r.id.len() + agent + c.transcript.bytes() + ENTRY_OVERHEAD
    });
    visitor_bytes(&s.visitor) + conversation
}

impl Default for States {
    fn default() -> Self {
        States::new(DEFAULT_BUDGET)
    }
}

impl States {
    /// Slots holding at most `budget` bytes of state (an estimate; see [`crate::memory`]).
    pub fn new(budget: usize) -> Self {
        States {
            inner: Mutex::default(),
            budget,
        }
    }

    /// Locks the visitor's slot (waiting for a command in progress on the same visitor).
    pub async fn lock(&self, visitor_seq: i64) -> Locked<'_> {
        let slot = {
            let mut inner = self.inner.lock().expect("state map poisoned");
            inner.tick += 1;
            let tick = inner.tick;
            let mut added = false;
            let entry = inner.slots.entry(visitor_seq).or_insert_with(|| {
                added = true;
                Entry {
                    slot: Slot::default(),
                    bytes: ENTRY_OVERHEAD,
                    used: tick,
                }
            });
            entry.used = tick;
            let slot = entry.slot.clone();
            if added {
                inner.bytes += ENTRY_OVERHEAD;
                memory::CONVERSATIONS.added(ENTRY_OVERHEAD);
            }
            slot
        };
        Locked {
            guard: slot.lock_owned().await,
            states: self,
            visitor_seq,
        }
    }

    /// Records the visitor's new weight and, past the budget, drops the least recently used
    /// visitors no command holds.
    fn settle(&self, visitor_seq: i64, bytes: usize) {
        let mut inner = self.inner.lock().expect("state map poisoned");
        let Inner {
            slots,
            bytes: total,
            ..
        } = &mut *inner;
        if let Some(e) = slots.get_mut(&visitor_seq) {
            memory::CONVERSATIONS.resized(e.bytes, bytes);
            *total = *total + bytes - e.bytes;
            e.bytes = bytes;
        }
        if *total <= self.budget {
            return;
        }
        // Down to 7/8 of the budget, so that a full cache does not sort at every command.
        let target = self.budget - self.budget / 8;
        let mut idle: Vec<(u64, i64)> = slots
            .iter()
            .filter(|(seq, e)| **seq != visitor_seq && Arc::strong_count(&e.slot) == 1)
            .map(|(seq, e)| (e.used, *seq))
            .collect();
        idle.sort_unstable();
        for (_, seq) in idle {
            if *total <= target {
                break;
            }
            let e = slots.remove(&seq).expect("listed");
            *total -= e.bytes;
            memory::CONVERSATIONS.removed(e.bytes, true);
        }
    }

    /// Loads the visitor into a locked slot if it is not there.
    pub async fn load(
        store: &dyn Store,
        locked: &mut Locked<'_>,
        visitor_seq: i64,
    ) -> Result<bool> {
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
