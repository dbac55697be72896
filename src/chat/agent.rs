//! The agents' commands: join, write (`.end` ends), end.

use super::*;
use crate::domain::{Command, EventName, Transition};

/// What an agent brings to a conversation: their id and stored profile.
pub(super) struct AgentRef {
    id: String,
    profile: String,
    name: String,
    picture: String,
}

/// What an agent writes, and where it was written (see [`crate::store::MessageRecord::origin`]).
pub(super) struct Written<'a> {
    pub text: &'a str,
    pub origin: &'a str,
}

/// Applies an agent's command to the conversation `conversation_id`, which must be the visitor's
/// current one (an older one has ended).
pub(super) fn agent_acts(
    p: &mut Planner,
    conversation_id: &str,
    agent: &AgentRef,
    cmd: Command,
    written: Option<Written<'_>>,
) -> Result<Option<crate::store::MessageRecord>, ChatError> {
    let current = p
        .state
        .conversation
        .as_ref()
        .filter(|c| c.record.id == conversation_id);
    let Some(current) = current else {
        return Err(ChatError::Ended);
    };
    let t = Transition::apply(current.record.status, cmd)?;
    p.update(t.status, Some((agent.id.clone(), agent.profile.clone())));
    let mut message = None;
    for e in t.events {
        if e == EventName::MessageAgent {
            let (text, origin) = written
                .as_ref()
                .map(|w| (w.text.to_string(), w.origin.to_string()))
                .unwrap_or_default();
            message = Some(p.add_message(
                Some(agent.id.clone()),
                agent.name.clone(),
                agent.picture.clone(),
                text,
                origin,
            ));
        }
        p.fire(e);
    }
    Ok(message)
}

/// The answer to an agent's message: the message, or the conversation when `.end` ended it.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum AgentMessageOut {
    Message(MessageOut),
    Ended(ConversationView),
}

impl Chat {
    pub(super) async fn agent_ref(
        &self,
        team_seq: i64,
        agent_id: &str,
    ) -> Result<AgentRef, ChatError> {
        let profile = self
            .store
            .agent(team_seq, agent_id)
            .await?
            .ok_or_else(|| ChatError::UnknownAgent(agent_id.to_string()))?;
        let (name, picture) = state::agent_view(&profile);
        Ok(AgentRef {
            id: agent_id.to_string(),
            profile,
            name,
            picture,
        })
    }

    /// `POST /conversations/{id}/messages`; a text of exactly `.end` ends the conversation.
    pub async fn agent_message(
        &self,
        team_seq: i64,
        conversation_id: &str,
        agent_id: &str,
        text: &str,
        idem: Option<&Idempotency>,
    ) -> Result<Answer<AgentMessageOut>, ChatError> {
        super::visitor::check_text("text", text)?;
        let visitor_seq = self.owner(team_seq, conversation_id).await?;
        let agent = self.agent_ref(team_seq, agent_id).await?;
        let ends = text == ".end";
        self.run(team_seq, visitor_seq, idem, |p| {
            let cmd = if ends {
                Command::End
            } else {
                Command::AgentMessage
            };
            let written = Written { text, origin: "" };
            match agent_acts(p, conversation_id, &agent, cmd, Some(written))? {
                Some(m) => Ok(Reply {
                    status: 201,
                    body: AgentMessageOut::Message(MessageOut::new(conversation_id, &m)),
                }),
                None => Ok(Reply {
                    status: 200,
                    body: AgentMessageOut::Ended(ConversationView::of(p.state)),
                }),
            }
        })
        .await
    }

    /// `POST /conversations/{id}/join` and `POST /conversations/{id}/end`.
    pub async fn agent_command(
        &self,
        team_seq: i64,
        conversation_id: &str,
        agent_id: &str,
        cmd: Command,
        idem: Option<&Idempotency>,
    ) -> Result<Answer<ConversationView>, ChatError> {
        let visitor_seq = self.owner(team_seq, conversation_id).await?;
        let agent = self.agent_ref(team_seq, agent_id).await?;
        self.run(team_seq, visitor_seq, idem, |p| {
            agent_acts(p, conversation_id, &agent, cmd, None)?;
            Ok(Reply {
                status: 200,
                body: ConversationView::of(p.state),
            })
        })
        .await
    }
}
