//! The commands: validate, apply the domain rules, persist state + events + deliveries in one
//! commit, keep the in-memory state in step.

mod agent;
pub mod cache;
mod identity;
mod plan;
mod slack;
mod state;
pub mod views;
mod visitor;

pub use agent::AgentMessageOut;
pub use identity::{IdentityInput, StartInput};
pub use plan::Planner;
pub use slack::FromSlack;
pub use state::{VisitorState, view as message_view};
pub use views::*;

use crate::domain::{Millis, TransitionError};
use crate::store::{Commit, ConflictKind, Step, Store, StoreError, StoredAnswer};
use serde::Serialize;
use state::States;
use std::sync::Arc;

/// Why a command was refused.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("the conversation has ended")]
    Ended,
    #[error("not an email address: {0:?}")]
    InvalidEmail(String),
    #[error("agent {0:?} does not exist; create it with PUT /api/v1/agents/{0}")]
    UnknownAgent(String),
    #[error("{0}")]
    Invalid(String),
    #[error("this Idempotency-Key was used with a different request")]
    IdempotencyMismatch,
    #[error("the visitor token is not valid for this site")]
    BadVisitorToken,
    #[error("too many concurrent changes to this visitor; try again")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<TransitionError> for ChatError {
    fn from(e: TransitionError) -> Self {
        match e {
            TransitionError::Ended => ChatError::Ended,
        }
    }
}

/// A command's answer: its HTTP status and body.
pub struct Reply<T> {
    pub status: u16,
    pub body: T,
}

/// A fresh answer, or the stored first answer of an idempotent retry.
pub enum Answer<T> {
    Fresh(Reply<T>),
    Replayed(StoredAnswer),
}

/// An `Idempotency-Key`, scoped to its caller, and the fingerprint of the request.
pub struct Idempotency {
    pub key: String,
    pub fingerprint: String,
}

/// The bytes the conversation owners cache may hold (some 70,000 conversations).
const OWNERS_BUDGET: usize = 8 << 20;

/// How many times a command is re-planned after losing a race to another process.
const MAX_RETRIES: usize = 5;

/// The command side of Palaver.
pub struct Chat {
    store: Arc<dyn Store>,
    states: States,
    /// Which visitor and team each conversation belongs to (never changes).
    owners: cache::TtlCache<String, (i64, i64)>,
}

impl Chat {
    /// The commands over `store`, keeping at most `state_budget` bytes of visitors' state
    /// (their conversations' transcripts above all) in memory.
    pub fn new(store: Arc<dyn Store>, state_budget: usize) -> Self {
        Chat {
            store,
            states: States::new(state_budget),
            owners: cache::TtlCache::new(
                std::time::Duration::from_secs(3600),
                OWNERS_BUDGET,
                |k: &String, _| k.len(),
                &crate::memory::OWNERS,
            ),
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The visitor a conversation of this team belongs to.
    async fn owner(&self, team_seq: i64, conversation_id: &str) -> Result<i64, ChatError> {
        let key = conversation_id.to_string();
        if let Some((team, visitor)) = self.owners.get(&key) {
            return if team == team_seq {
                Ok(visitor)
            } else {
                Err(ChatError::NotFound("conversation"))
            };
        }
        let c = self
            .store
            .conversation(team_seq, conversation_id)
            .await?
            .ok_or(ChatError::NotFound("conversation"))?;
        self.owners.insert(key, (c.team_seq, c.visitor_seq));
        Ok(c.visitor_seq)
    }

    /// The stored answer for a repeated idempotency key, or an error if the request differs.
    async fn replay<T>(
        &self,
        team_seq: i64,
        idem: Option<&Idempotency>,
    ) -> Result<Option<Answer<T>>, ChatError> {
        let Some(idem) = idem else { return Ok(None) };
        match self.store.idempotent_answer(team_seq, &idem.key).await? {
            Some(a) if a.fingerprint == idem.fingerprint => Ok(Some(Answer::Replayed(a))),
            Some(_) => Err(ChatError::IdempotencyMismatch),
            None => Ok(None),
        }
    }

    /// Runs a command on an existing visitor: locks them, plans against their state, commits
    /// with a version check, and re-plans after losing a race.
    async fn run<T, F>(
        &self,
        team_seq: i64,
        visitor_seq: i64,
        idem: Option<&Idempotency>,
        mut plan: F,
    ) -> Result<Answer<T>, ChatError>
    where
        T: Serialize,
        F: FnMut(&mut Planner) -> Result<Reply<T>, ChatError>,
    {
        if let Some(a) = self.replay(team_seq, idem).await? {
            return Ok(a);
        }
        let mut locked = self.states.lock(visitor_seq).await;
        for _ in 0..MAX_RETRIES {
            if !States::load(&*self.store, &mut locked, visitor_seq).await? {
                return Err(ChatError::NotFound("visitor"));
            }
            let state = locked.as_mut().expect("loaded");
            let version = state.visitor.version;
            let mut planner = Planner::new(state, Millis::now());
            planner.steps.push(Step::CheckVisitor {
                seq: visitor_seq,
                version,
            });
            let reply = match plan(&mut planner) {
                Ok(reply) => reply,
                Err(e) => {
                    *locked = None;
                    return Err(e);
                }
            };
            let mut steps = planner.steps;
            if steps.len() == 1 && idem.is_none() {
                return Ok(Answer::Fresh(reply)); // nothing to write
            }
            save_answer(&mut steps, idem, &reply);
            let events = fired(&steps);
            match self.store.commit(Commit { team_seq, steps }).await {
                Ok(done) => {
                    events.into_iter().for_each(crate::metrics::event);
                    let state = locked.as_mut().expect("loaded");
                    state.visitor.version = version + 1;
                    settle(state, done.conversation_seq);
                    return Ok(Answer::Fresh(reply));
                }
                Err(StoreError::Conflict(ConflictKind::IdempotencyKey)) => {
                    *locked = None;
                    return self.replay(team_seq, idem).await?.ok_or(ChatError::Busy);
                }
                Err(StoreError::Conflict(_)) => *locked = None,
                Err(e) => {
                    *locked = None;
                    return Err(e.into());
                }
            }
        }
        Err(ChatError::Busy)
    }
}

/// The events a commit fires.
fn fired(steps: &[Step]) -> Vec<crate::domain::EventName> {
    steps
        .iter()
        .filter_map(|s| match s {
            Step::InsertEvent { name, .. } => crate::domain::EventName::parse(name),
            _ => None,
        })
        .collect()
}

/// Adds the idempotent answer to the commit.
fn save_answer<T: Serialize>(steps: &mut Vec<Step>, idem: Option<&Idempotency>, reply: &Reply<T>) {
    if let Some(idem) = idem {
        steps.push(Step::SaveAnswer {
            key: idem.key.clone(),
            answer: StoredAnswer {
                fingerprint: idem.fingerprint.clone(),
                status: reply.status,
                body: serde_json::to_string(&reply.body).expect("answers serialize"),
            },
            at: Millis::now(),
        });
    }
}

/// Gives rows inserted by the commit their `seq`.
fn settle(state: &mut VisitorState, conversation_seq: Option<i64>) {
    if let (Some(c), Some(seq)) = (state.conversation.as_mut(), conversation_seq)
        && c.record.seq == 0
    {
        c.record.seq = seq;
    }
}
