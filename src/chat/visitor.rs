//! The visitor's commands: start (or resume) a conversation, write, give an email.

use super::fired;
use super::identity::{StartInput, merge};
use super::state::VisitorState;
use super::*;
use crate::domain::naming::{base_channel_name, channel_candidate, visitor_name};
use crate::domain::text::check_message;
use crate::domain::{
    Command, EventName, Identity, Transition, email, hash_secret, new_secret, new_visitor_id,
};
use crate::store::VisitorRecord;

fn start_view(state: &VisitorState, token: &str) -> StartView {
    let c = &state
        .conversation
        .as_ref()
        .expect("a conversation exists")
        .record;
    StartView {
        conversation_id: c.id.clone(),
        visitor_id: state.visitor.id.clone(),
        visitor_name: state.visitor.name.clone(),
        channel_name: state.visitor.channel_name.clone(),
        visitor_token: token.to_string(),
        status: c.status.as_str(),
    }
}

/// Writes the visitor's message to their current conversation (starting one if it ended).
fn visitor_writes(p: &mut Planner, text: &str) -> Result<MessageRecord, ChatError> {
    let status = p.state.conversation.as_ref().map(|c| c.record.status);
    let t = match status {
        Some(s) => Transition::apply(s, Command::VisitorMessage)?,
        None => Transition::start(),
    };
    if t.starts_new {
        p.start_conversation();
        p.fire(EventName::Start);
    }
    let (name, picture) = (
        p.state.visitor.name.clone(),
        p.state.visitor.identity.picture.clone(),
    );
    let m = p.add_message(None, name, picture, text.to_string(), String::new());
    p.fire(EventName::MessageVisitor);
    Ok(m)
}

use crate::store::MessageRecord;

/// Refuses a message's text that breaks [`check_message`]; `field` names it in the request.
pub(super) fn check_text(field: &str, text: &str) -> Result<(), ChatError> {
    check_message(field, text).map_err(ChatError::Invalid)
}

impl Chat {
    /// `POST /visitor/conversations`: a new visitor, or a returning one, gets a conversation.
    pub async fn start(
        &self,
        team_seq: i64,
        input: StartInput,
        idem: Option<&Idempotency>,
    ) -> Result<Answer<StartView>, ChatError> {
        input.identity.check()?;
        if let Some(m) = &input.message {
            check_text("message", m)?;
        }
        let Some(token) = input.token.clone() else {
            return self.start_new_visitor(team_seq, input, idem).await;
        };
        let visitor = self
            .store
            .visitor_by_token_hash(&hash_secret(&token))
            .await?
            .filter(|v| v.team_seq == team_seq)
            .ok_or(ChatError::BadVisitorToken)?;
        self.run(team_seq, visitor.seq, idem, |p| {
            let mut identity = p.state.visitor.identity.clone();
            merge(&mut identity, &input.identity, &input.user_agent, &input.ip);
            if identity != p.state.visitor.identity {
                p.state.visitor.identity = identity.clone();
                p.steps.push(Step::UpdateIdentity {
                    seq: p.state.visitor.seq,
                    identity,
                });
            }
            let active = p
                .state
                .conversation
                .as_ref()
                .is_some_and(|c| c.record.status.is_active());
            if !active {
                p.start_conversation();
                p.fire(EventName::Start);
            }
            if let Some(text) = &input.message {
                visitor_writes(p, text)?;
            }
            let status = if active { 200 } else { 201 };
            Ok(Reply {
                status,
                body: start_view(p.state, &token),
            })
        })
        .await
    }

    async fn start_new_visitor(
        &self,
        team_seq: i64,
        input: StartInput,
        idem: Option<&Idempotency>,
    ) -> Result<Answer<StartView>, ChatError> {
        if let Some(a) = self.replay(team_seq, idem).await? {
            return Ok(a);
        }
        let mut identity = Identity::default();
        merge(&mut identity, &input.identity, &input.user_agent, &input.ip);
        for _ in 0..MAX_RETRIES {
            let id = new_visitor_id();
            let name = visitor_name(&identity.phone, &identity.name, &id);
            let base = base_channel_name(&name, &id);
            let mut channel_name = base.clone();
            for n in 2.. {
                if !self.store.channel_taken(team_seq, &channel_name).await? {
                    break;
                }
                channel_name = channel_candidate(&base, n);
            }
            let token = new_secret("vt_");
            let now = Millis::now();
            let mut state = VisitorState {
                visitor: VisitorRecord {
                    seq: 0,
                    id,
                    team_seq,
                    name,
                    channel_name,
                    identity: identity.clone(),
                    version: 1,
                },
                conversation: None,
            };
            let mut p = Planner::new(&mut state, now);
            let v = &p.state.visitor;
            p.steps.push(Step::InsertVisitor {
                id: v.id.clone(),
                name: v.name.clone(),
                channel_name: v.channel_name.clone(),
                identity: v.identity.clone(),
                token_hash: hash_secret(&token),
                at: now,
            });
            p.start_conversation();
            p.fire(EventName::Start);
            if let Some(text) = &input.message {
                visitor_writes(&mut p, text)?;
            }
            let reply = Reply {
                status: 201,
                body: start_view(p.state, &token),
            };
            let mut steps = p.steps;
            save_answer(&mut steps, idem, &reply);
            let events = fired(&steps);
            match self.store.commit(Commit { team_seq, steps }).await {
                Ok(done) => {
                    events.into_iter().for_each(crate::metrics::event);
                    state.visitor.seq = done.visitor_seq.expect("the visitor was inserted");
                    settle(&mut state, done.conversation_seq);
                    if let Some(c) = state.conversation.as_mut() {
                        c.record.visitor_seq = state.visitor.seq;
                    }
                    let mut locked = self.states.lock(state.visitor.seq).await;
                    *locked = Some(state);
                    return Ok(Answer::Fresh(reply));
                }
                Err(StoreError::Conflict(ConflictKind::IdempotencyKey)) => {
                    return self.replay(team_seq, idem).await?.ok_or(ChatError::Busy);
                }
                Err(StoreError::Conflict(ConflictKind::ChannelName)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ChatError::Busy)
    }

    /// `POST /visitor/conversations/{id}/messages`.
    pub async fn visitor_message(
        &self,
        visitor: &VisitorRecord,
        conversation_id: &str,
        text: &str,
        idem: Option<&Idempotency>,
    ) -> Result<Answer<MessageOut>, ChatError> {
        check_text("text", text)?;
        self.check_owner(visitor, conversation_id).await?;
        self.run(visitor.team_seq, visitor.seq, idem, |p| {
            let m = visitor_writes(p, text)?;
            let conversation_id = p.conversation().record.id.clone();
            Ok(Reply {
                status: 201,
                body: MessageOut::new(&conversation_id, &m),
            })
        })
        .await
    }

    /// `PUT /visitor/conversations/{id}/email`: fires `email` when valid and changed.
    pub async fn set_email(
        &self,
        visitor: &VisitorRecord,
        conversation_id: &str,
        address: &str,
        idem: Option<&Idempotency>,
    ) -> Result<Answer<EmailView>, ChatError> {
        let address = address.trim();
        if !email::is_valid(address) {
            return Err(ChatError::InvalidEmail(address.to_string()));
        }
        self.check_owner(visitor, conversation_id).await?;
        self.run(visitor.team_seq, visitor.seq, idem, |p| {
            // None left: purged (`--message-retention`) since the owner was cached.
            if p.state.conversation.is_none() {
                return Err(ChatError::NotFound("conversation"));
            }
            let changed = p.state.visitor.identity.email != address;
            if changed {
                p.state.visitor.identity.email = address.to_string();
                let identity = p.state.visitor.identity.clone();
                p.steps.push(Step::UpdateIdentity {
                    seq: p.state.visitor.seq,
                    identity,
                });
            }
            let status = p.conversation().record.status;
            for e in Transition::apply(status, Command::Email { changed })?.events {
                p.fire(e);
            }
            Ok(Reply {
                status: 200,
                body: EmailView {
                    email: address.to_string(),
                    changed,
                },
            })
        })
        .await
    }

    /// `GET /visitor/conversations/{id}`: the conversation's status and messages.
    pub async fn visitor_view(
        &self,
        visitor: &VisitorRecord,
        conversation_id: &str,
    ) -> Result<(ConversationRecord, Vec<MessageRecord>), ChatError> {
        let c = self.own_conversation(visitor, conversation_id).await?;
        let messages = self.store.messages(c.seq).await?;
        Ok((c, messages))
    }

    /// The conversation, if it is this visitor's.
    /// Fails unless the conversation is this visitor's.
    async fn check_owner(&self, visitor: &VisitorRecord, id: &str) -> Result<(), ChatError> {
        match self.owner(visitor.team_seq, id).await? {
            seq if seq == visitor.seq => Ok(()),
            _ => Err(ChatError::NotFound("conversation")),
        }
    }

    async fn own_conversation(
        &self,
        visitor: &VisitorRecord,
        id: &str,
    ) -> Result<ConversationRecord, ChatError> {
        match self.store.conversation(visitor.team_seq, id).await? {
            Some(c) if c.visitor_seq == visitor.seq => Ok(c),
            _ => Err(ChatError::NotFound("conversation")),
        }
    }
}

use crate::store::ConversationRecord;
