//! Acting on one queued event: find the visitor behind the channel and the agent behind the
//! user, then join, write or end through chat (exactly as the console would, so that the
//! visitor's live stream, the team stream and the webhooks follow), or keep a private note.

use super::Failure;
use super::kind::{Kind, SharedFile, kind, with_links};
use super::lookup::{Lookups, Person};
use crate::chat::{Chat, ChatError, FromSlack};
use crate::domain::payload::agent_author;
use crate::domain::{Millis, new_id};
use crate::store::{InboxEvent, NoteRecord, SlackConnection, Store};
use serde_json::Value;
use std::sync::Arc;

pub struct Actor {
    pub store: Arc<dyn Store>,
    pub chat: Arc<Chat>,
    pub lookups: Lookups,
}

impl Actor {
    /// Acts on `e`: `Ok` when it needs nothing more (acted on, or nothing to do).
    pub async fn act(&self, e: &InboxEvent) -> Result<(), Failure> {
        let Some(c) = self.store.slack_connection(e.team_seq).await? else {
            return Err(Failure::Drop("the team disconnected Slack".into()));
        };
        let event: Value = serde_json::from_str(&e.body)
            .map_err(|_| Failure::Drop("the queued event is not JSON".into()))?;
        let what = kind(&event, &c);
        let (channel, user) = match &what {
            Kind::Ignored(why) => return skip(e, why),
            Kind::Joined { channel, user } | Kind::Wrote { channel, user, .. } => {
                (channel.clone(), user.clone())
            }
        };
        let Some(visitor) = self.lookups.visitor(&c, &channel).await? else {
            return skip(e, "not a visitor's channel");
        };
        if self.lookups.person(&c, &user).await? == Person::Bot {
            return skip(e, "a bot");
        }
        match what {
            Kind::Joined { .. } => self.chat_act(e, visitor, &user, FromSlack::Joined).await,
            Kind::Wrote {
                text,
                ts,
                files,
                note,
                ..
            } => {
                let text = with_links(&text, &self.links(&c, &files).await?);
                if note {
                    self.note(visitor, &user, &text, &ts).await
                } else {
                    let act = FromSlack::Wrote {
                        text: &text,
                        ts: &ts,
                    };
                    self.chat_act(e, visitor, &user, act).await
                }
            }
            Kind::Ignored(why) => skip(e, &why),
        }
    }

    async fn chat_act(
        &self,
        e: &InboxEvent,
        visitor: i64,
        agent: &str,
        act: FromSlack<'_>,
    ) -> Result<(), Failure> {
        let done = self
            .chat
            .from_slack(e.team_seq, visitor, agent, act, &e.event_id)
            .await;
        match done {
            Ok(_) => Ok(()),
            Err(ChatError::Ended) => {
                tracing::info!(event = %e.event_id, agent,
                    "acted on in Slack after the conversation ended: nothing reaches the visitor");
                Ok(())
            }
            Err(ChatError::NotFound(what)) => skip(e, what),
            Err(ChatError::Invalid(why)) => Err(Failure::Drop(why)),
            Err(other) => Err(Failure::Retry {
                why: other.to_string(),
                after: None,
            }),
        }
    }

    /// A reply in a thread: a note on the visitor's current conversation, once per message.
    async fn note(&self, visitor: i64, agent: &str, text: &str, ts: &str) -> Result<(), Failure> {
        let Some((conversation, _)) = self.store.latest_conversation(visitor).await? else {
            return Ok(());
        };
        let profile = self.store.agent(conversation.team_seq, agent).await?;
        let author = profile
            .and_then(|p| serde_json::from_str::<Value>(&p).ok())
            .map(|p| agent_author(&p).0)
            .unwrap_or_default();
        let note = NoteRecord {
            id: new_id("n_"),
            conversation_seq: conversation.seq,
            agent_id: agent.to_string(),
            user_name: if author.is_empty() {
                agent.to_string()
            } else {
                author
            },
            text: text.to_string(),
            created_at: Millis::now(),
            origin: format!("slack:{ts}"),
        };
        self.store.add_note(note).await?;
        Ok(())
    }

    /// The links of the shared files, asking Slack for those it sent without one.
    async fn links(
        &self,
        c: &SlackConnection,
        files: &[SharedFile],
    ) -> Result<Vec<String>, Failure> {
        let mut links = Vec::with_capacity(files.len());
        for f in files {
            match &f.link {
                Some(link) => links.push(link.clone()),
                None => links.extend(self.lookups.file_link(c, &f.id).await?),
            }
        }
        Ok(links)
    }
}

fn skip(e: &InboxEvent, why: &str) -> Result<(), Failure> {
    tracing::debug!(event = %e.event_id, why, "Slack event ignored");
    Ok(())
}
