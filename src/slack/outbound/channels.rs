//! The channels a delivery posts in: the visitor's (named `channelName`: made, or found and
//! reused when the name is taken, unarchived, joined) and the notification channel (joined when
//! the bot is not in it, made when it does not exist). Where they are is remembered in the
//! channel map, so that a retry finds the channel instead of making another.

use super::lookup::{Found, channel_id, find, found, is_channel_id, join, reopen, unarchive};
use super::session::{Fault, Session};
use crate::store::SlackChannel;
use serde_json::{Value, json};
/// Most posts of one message (each after a recovery: join, unarchive, make the channel again).
const MAX_POSTS: usize = 4;

/// The channels of one delivery, as known so far.
pub struct Channels {
    /// The visitor's channel's name (`channelName`) and where it is, if known.
    pub visitor_name: String,
    pub visitor: Option<SlackChannel>,
    /// The notification channel as the admin gave it (a name, or an id) and its id, if known.
    pub notify_name: String,
    pub notify: Option<SlackChannel>,
}

impl Channels {
    /// The visitor's channel's id: made or found, not archived.
    pub async fn visitor_channel(&mut self, s: &mut Session<'_>) -> Result<String, Fault> {
        let Some(known) = self.visitor.clone() else {
            return self.make_or_reuse(s).await;
        };
        if !known.archived {
            return Ok(known.id);
        }
        match unarchive(s, &known.id).await {
            Ok(()) => {}
            Err(f) if f.code() == Some("channel_not_found") => {
                s.forget(&self.visitor_name).await;
                self.visitor = None;
                return self.make_or_reuse(s).await;
            }
            Err(f) => return Err(f),
        }
        self.set_visitor(s, &known.id, false).await;
        Ok(known.id)
    }

    /// Makes the visitor's channel; when its name is taken, reuses the channel that has it.
    async fn make_or_reuse(&mut self, s: &mut Session<'_>) -> Result<String, Fault> {
        let name = self.visitor_name.clone();
        let args = json!({"name": name, "is_private": false});
        let id = match s.call("conversations.create", args).await {
            Ok(answer) => channel_id(&answer, "conversations.create")?,
            Err(f) if f.code() == Some("name_taken") => {
                let found = find(s, &name).await?.ok_or(Fault::Slack {
                    method: "conversations.create".into(),
                    code: "name_taken (by a channel the bot cannot see, e.g. a private one)".into(),
                })?;
                reopen(s, &found).await?;
                found.id
            }
            Err(f) => return Err(f),
        };
        self.set_visitor(s, &id, false).await;
        Ok(id)
    }

    async fn set_visitor(&mut self, s: &Session<'_>, id: &str, archived: bool) {
        let channel = SlackChannel {
            id: id.to_string(),
            archived,
        };
        s.remember(&self.visitor_name, channel.clone()).await;
        self.visitor = Some(channel);
    }

    /// Posts `args` in the visitor's channel, recovering from what can be: the bot not in it,
    /// the channel archived or gone, Slack refusing the blocks (then `plain` is posted).
    pub async fn post_visitor(
        &mut self,
        s: &mut Session<'_>,
        mut args: Value,
        mut plain: Option<Value>,
    ) -> Result<Value, Fault> {
        let mut last = None;
        for _ in 0..MAX_POSTS {
            let id = self.visitor_channel(s).await?;
            args["channel"] = json!(id);
            let f = match s.call("chat.postMessage", args.clone()).await {
                Ok(answer) => return Ok(answer),
                Err(f) => f,
            };
            match f.code() {
                Some("not_in_channel") => match join(s, &id).await {
                    Err(j) if j.code() == Some("is_archived") => self.mark_archived(&id),
                    other => other?,
                },
                Some("is_archived") => self.mark_archived(&id),
                Some("channel_not_found") => {
                    s.forget(&self.visitor_name).await;
                    self.visitor = None;
                }
                Some("invalid_blocks" | "invalid_blocks_format") if plain.is_some() => {
                    args = plain.take().expect("checked");
                }
                _ => return Err(f),
            }
            last = Some(f);
        }
        Err(last.expect("tried"))
    }

    fn mark_archived(&mut self, id: &str) {
        self.visitor = Some(SlackChannel {
            id: id.to_string(),
            archived: true,
        });
    }

    /// Posts `args` in the notification channel: by its id when known, else by its name; the
    /// bot joins it when not in it, and it is made when it does not exist.
    pub async fn announce(&mut self, s: &mut Session<'_>, mut args: Value) -> Result<(), Fault> {
        let by_id = is_channel_id(&self.notify_name);
        let mut last = None;
        for _ in 0..MAX_POSTS {
            let target = match &self.notify {
                Some(known) => known.id.clone(),
                None => self.notify_name.clone(),
            };
            args["channel"] = json!(target);
            let f = match s.call("chat.postMessage", args.clone()).await {
                Ok(answer) => {
                    if self.notify.is_none() && !by_id {
                        let id = channel_id(&answer, "chat.postMessage")?;
                        self.set_notify(s, &id).await;
                    }
                    return Ok(());
                }
                Err(f) => f,
            };
            match f.code() {
                Some("not_in_channel" | "is_archived") => {
                    let found = self.notify_channel(s).await?;
                    reopen(s, &found).await?;
                    self.set_notify(s, &found.id).await;
                }
                Some("channel_not_found") if self.notify.is_some() => {
                    s.forget(&self.notify_name).await;
                    self.notify = None;
                }
                Some("channel_not_found") if !by_id => {
                    let args = json!({"name": self.notify_name, "is_private": false});
                    let made = s.call("conversations.create", args).await?;
                    let id = channel_id(&made, "conversations.create")?;
                    self.set_notify(s, &id).await;
                }
                _ => return Err(f),
            }
            last = Some(f);
        }
        Err(last.expect("tried"))
    }

    /// The notification channel as `conversations.list` (or `conversations.info`) shows it.
    async fn notify_channel(&mut self, s: &mut Session<'_>) -> Result<Found, Fault> {
        if let Some(id) = self
            .notify
            .as_ref()
            .map(|c| c.id.clone())
            .or_else(|| is_channel_id(&self.notify_name).then(|| self.notify_name.clone()))
        {
            let info = s.call("conversations.info", json!({"channel": id})).await?;
            return Ok(found(&info["channel"]).unwrap_or(Found {
                id,
                archived: false,
                member: false,
            }));
        }
        let name = self.notify_name.clone();
        find(s, &name).await?.ok_or(Fault::Slack {
            method: "conversations.list".into(),
            code: "channel_not_found".into(),
        })
    }

    async fn set_notify(&mut self, s: &Session<'_>, id: &str) {
        let channel = SlackChannel {
            id: id.to_string(),
            archived: false,
        };
        if !is_channel_id(&self.notify_name) {
            s.remember(&self.notify_name, channel.clone()).await;
        }
        self.notify = Some(channel);
    }

    /// Archives the visitor's channel (the bot joins it first if it must).
    pub async fn archive(&mut self, s: &mut Session<'_>) -> Result<(), Fault> {
        let id = self.visitor_channel(s).await?;
        for _ in 0..2 {
            let f = match s
                .call("conversations.archive", json!({"channel": id}))
                .await
            {
                Ok(_) => break,
                Err(f) => f,
            };
            match f.code() {
                Some("already_archived") => break,
                Some("not_in_channel") => join(s, &id).await?,
                Some("channel_not_found") => {
                    s.forget(&self.visitor_name).await;
                    self.visitor = None;
                    return Ok(());
                }
                _ => return Err(f),
            }
        }
        self.set_visitor(s, &id, true).await;
        Ok(())
    }
}
