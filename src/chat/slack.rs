//! What agents do in a visitor's Slack channel, as commands on the visitor's current
//! conversation: enter it (`open` if it was waiting), write in it (`open` first if it was waiting,
//! then `messageAgent`; exactly `.end` ends it). Each is idempotent by the Slack event it comes
//! from: acting on an event again (after a crash between the commit and the inbox's bookkeeping,
//! or by a second process whose lease ran out) changes nothing.

use super::agent::{Written, agent_acts};
use super::*;
use crate::domain::Command;

/// An agent's act in the visitor's Slack channel.
#[derive(Clone, Copy, Debug)]
pub enum FromSlack<'a> {
    /// The agent entered the channel.
    Joined,
    /// The agent wrote `text` (exactly `.end` ends the conversation) in the message `ts`.
    Wrote { text: &'a str, ts: &'a str },
}

impl Chat {
    /// Applies `act` of the agent `agent_id` (in the registry) to the visitor's current
    /// conversation, once per Slack `event_id`. [`ChatError::Ended`] when that conversation has
    /// ended: an agent cannot start one.
    pub async fn from_slack(
        &self,
        team_seq: i64,
        visitor_seq: i64,
        agent_id: &str,
        act: FromSlack<'_>,
        event_id: &str,
    ) -> Result<Answer<ConversationView>, ChatError> {
        if let FromSlack::Wrote { text, .. } = act {
            super::visitor::check_text("text", text)?;
        }
        let agent = self.agent_ref(team_seq, agent_id).await?;
        let idem = Idempotency {
            key: format!("slack-event:{event_id}"),
            fingerprint: "slack".into(),
        };
        let origin = match act {
            FromSlack::Wrote { ts, .. } => format!("slack:{ts}"),
            FromSlack::Joined => String::new(),
        };
        self.run(team_seq, visitor_seq, Some(&idem), |p| {
            let Some(current) = p.state.conversation.as_ref() else {
                return Err(ChatError::NotFound("conversation"));
            };
            let id = current.record.id.clone();
            let (cmd, written) = match act {
                FromSlack::Joined => (Command::Join, None),
                FromSlack::Wrote { text: ".end", .. } => (Command::End, None),
                FromSlack::Wrote { text, .. } => (
                    Command::AgentMessage,
                    Some(Written {
                        text,
                        origin: &origin,
                    }),
                ),
            };
            agent_acts(p, &id, &agent, cmd, written)?;
            Ok(Reply {
                status: 200,
                body: ConversationView::of(p.state),
            })
        })
        .await
    }
}
