//! Who and where an event is about, asked of Slack and remembered: a channel's name (the
//! channel map of the channels Palaver made, else `conversations.info`, remembered an hour),
//! hence its visitor (by `channelName`); a user's profile (`users.info`, a day), stored
//! verbatim in the agent registry as the payloads' `agent`.

use super::Failure;
use crate::chat::cache::TtlCache;
use crate::slack::{BotToken, SlackClient, SlackOutcome};
use crate::store::{SlackConnection, Store};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// How long a channel's name is believed (a channel renamed in Slack is seen after this).
const CHANNEL_TTL: Duration = Duration::from_secs(3600);
/// How long a user's profile is used before `users.info` is asked again.
const PROFILE_TTL: Duration = Duration::from_secs(24 * 3600);
/// The bytes each of the two caches may hold (tens of thousands of channels or people).
const BUDGET: usize = 4 << 20;

/// What a Slack user is to Palaver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Person {
    /// A human, in the agent registry under their Slack id.
    Agent,
    /// A bot or an app user: its acts are ignored.
    Bot,
}

pub struct Lookups {
    store: Arc<dyn Store>,
    client: Arc<SlackClient>,
    /// (team, channel id) → the channel's name.
    channels: TtlCache<(i64, String), String>,
    /// (team, user id) → who they are, refreshed daily.
    people: TtlCache<(i64, String), Person>,
}

impl Lookups {
    pub fn new(store: Arc<dyn Store>, client: Arc<SlackClient>) -> Self {
        Lookups {
            store,
            client,
            channels: TtlCache::new(
                CHANNEL_TTL,
                BUDGET,
                |(_, id), name| id.len() + name.len(),
                &crate::memory::SLACK,
            ),
            people: TtlCache::new(
                PROFILE_TTL,
                BUDGET,
                |(_, id), _| id.len(),
                &crate::memory::SLACK,
            ),
        }
    }

    /// The visitor whose channel `channel` is, if it is a visitor's.
    pub async fn visitor(
        &self,
        c: &SlackConnection,
        channel: &str,
    ) -> Result<Option<i64>, Failure> {
        let key = (c.team_seq, channel.to_string());
        let mapped = match self.channels.get(&key) {
            Some(name) => Some(name),
            None => self.store.mapped_channel_name(c.team_seq, channel).await?,
        };
        let name = match mapped {
            Some(name) => name,
            None => {
                let answer = self
                    .ask(c, "conversations.info", json!({ "channel": channel }))
                    .await;
                let name = match answer {
                    Err(Failure::Drop(code)) if code == "channel_not_found" => String::new(),
                    other => other?["channel"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                };
                self.channels.insert(key, name.clone());
                name
            }
        };
        if !name.starts_with("z-") {
            return Ok(None); // visitors' channels are all z-…
        }
        Ok(self.store.visitor_by_channel(c.team_seq, &name).await?)
    }

    /// Who `user` is; a human's profile is in the agent registry once this answers.
    pub async fn person(&self, c: &SlackConnection, user: &str) -> Result<Person, Failure> {
        let key = (c.team_seq, user.to_string());
        if let Some(p) = self.people.get(&key) {
            return Ok(p);
        }
        let answer = match self.ask(c, "users.info", json!({ "user": user })).await {
            Ok(answer) => answer,
            Err(Failure::Retry { why, after }) => {
                // Slack is unreachable: a profile stored earlier will do until it answers.
                return match self.store.agent(c.team_seq, user).await? {
                    Some(_) => {
                        tracing::warn!(user, error = %why, "users.info failed; using the stored profile");
                        Ok(Person::Agent)
                    }
                    None => Err(Failure::Retry { why, after }),
                };
            }
            Err(e) => return Err(e),
        };
        let profile = &answer["user"];
        let bot = profile["is_bot"] == Value::Bool(true)
            || profile["is_app_user"] == Value::Bool(true)
            || user == "USLACKBOT";
        let person = if bot {
            Person::Bot
        } else {
            let text = serde_json::to_string(profile).expect("JSON serializes");
            self.store.put_agent(c.team_seq, user, &text).await?;
            Person::Agent
        };
        self.people.insert(key, person.clone());
        Ok(person)
    }

    /// The link of a file Slack sent without one (`files.info`), if it still exists.
    pub async fn file_link(
        &self,
        c: &SlackConnection,
        id: &str,
    ) -> Result<Option<String>, Failure> {
        match self.ask(c, "files.info", json!({ "file": id })).await {
            Ok(answer) => {
                let file = &answer["file"];
                let public = file["public_url_shared"] == Value::Bool(true);
                let key = if public {
                    "permalink_public"
                } else {
                    "permalink"
                };
                Ok(file[key].as_str().map(str::to_string))
            }
            Err(Failure::Drop(code)) => {
                tracing::warn!(file = id, error = %code, "files.info refused; the file is left out");
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Calls `method`: Slack's answer, or what to do about its failure.
    async fn ask(&self, c: &SlackConnection, method: &str, args: Value) -> Result<Value, Failure> {
        let token = BotToken::new(c.bot_token.clone());
        let reply = self.client.call(&token, method, &args).await;
        let retryable = reply.outcome.is_retryable();
        match reply.outcome {
            SlackOutcome::Ok(answer) => Ok(answer),
            SlackOutcome::RateLimited { retry_after } => Err(Failure::Retry {
                why: format!("{method}: rate limited"),
                after: Some(retry_after),
            }),
            SlackOutcome::Error(code) if retryable => Err(Failure::Retry {
                why: format!("{method}: {code}"),
                after: None,
            }),
            SlackOutcome::Error(code) => Err(Failure::Drop(code)),
            SlackOutcome::Failed(why) => Err(Failure::Retry {
                why: format!("{method}: {why}"),
                after: None,
            }),
        }
    }
}
