//! The fake's workspace and what each Web API method does to it, answering Slack's fields
//! (without `ok`) or Slack's `error` code.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::{BOT_ID, BOT_USER_ID, TEAM_ID, TEAM_NAME, TEAM_URL};
use crate::fixtures::moss;

/// A channel of the workspace.
#[derive(Clone, Debug)]
pub struct Channel {
    pub id: String,
    pub name: String,
    pub archived: bool,
    /// User ids of its members (the bot's is [`BOT_USER_ID`]).
    pub members: Vec<String>,
    /// Messages posted with `chat.postMessage`: `(ts, the call's arguments)`.
    pub messages: Vec<(String, Value)>,
}

impl Channel {
    fn object(&self) -> Value {
        json!({
            "id": self.id, "name": self.name, "is_channel": true, "is_group": false,
            "is_im": false, "is_mpim": false, "is_private": false, "created": 1_700_000_000,
            "creator": BOT_USER_ID, "is_archived": self.archived, "is_general": self.name == "general",
            "name_normalized": self.name, "is_member": self.members.iter().any(|m| m == BOT_USER_ID),
            "num_members": self.members.len(),
        })
    }
}

pub struct Workspace {
    pub channels: Vec<Channel>,
    users: HashMap<String, Value>,
    /// The last message `ts` handed out, in microseconds.
    last_ts: u64,
}

type Answer = Result<Map<String, Value>, String>;

fn fields(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => unreachable!("answers are objects"),
    }
}

fn text(args: &Value, name: &str) -> String {
    match &args[name] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

impl Workspace {
    pub fn new() -> Self {
        let mut w = Workspace {
            channels: Vec::new(),
            users: HashMap::new(),
            last_ts: 1_700_000_000_000_000,
        };
        w.add_channel("general", false, true);
        w.add_channel("palaver-support", false, false);
        w.add_user(moss());
        w
    }

    pub fn add_channel(&mut self, name: &str, archived: bool, bot_member: bool) -> String {
        let id = format!("C{:08}", self.channels.len() + 1);
        self.channels.push(Channel {
            id: id.clone(),
            name: name.to_owned(),
            archived,
            members: if bot_member {
                vec![BOT_USER_ID.to_owned()]
            } else {
                Vec::new()
            },
            messages: Vec::new(),
        });
        id
    }

    pub fn add_user(&mut self, user: Value) {
        let id = user["id"].as_str().expect("a user has an id").to_owned();
        self.users.insert(id, user);
    }

    /// A channel by id, or by name (`#` optional), as `chat.postMessage` takes either.
    fn channel(&mut self, args: &Value) -> Result<&mut Channel, String> {
        let given = text(args, "channel");
        let name = given.trim_start_matches('#');
        self.channels
            .iter_mut()
            .find(|c| c.id == given || c.name == name)
            .ok_or_else(|| "channel_not_found".to_owned())
    }

    pub fn call(&mut self, method: &str, args: &Value) -> Answer {
        match method {
            "auth.test" => Ok(fields(json!({
                "url": TEAM_URL, "team": TEAM_NAME, "user": "palaver", "team_id": TEAM_ID,
                "user_id": BOT_USER_ID, "bot_id": BOT_ID, "is_enterprise_install": false,
            }))),
            "conversations.create" => self.create(args),
            "conversations.list" => self.list(args),
            "conversations.info" => {
                let c = self.channel(args)?;
                Ok(fields(json!({"channel": c.object()})))
            }
            "conversations.join" => {
                let c = self.channel(args)?;
                if c.archived {
                    return Err("is_archived".into());
                }
                if !c.members.iter().any(|m| m == BOT_USER_ID) {
                    c.members.push(BOT_USER_ID.into());
                }
                Ok(fields(json!({"channel": c.object()})))
            }
            "conversations.unarchive" | "conversations.archive" => {
                let archive = method == "conversations.archive";
                let c = self.channel(args)?;
                match (archive, c.archived) {
                    (true, true) => Err("already_archived".into()),
                    (false, false) => Err("not_archived".into()),
                    _ if !c.members.iter().any(|m| m == BOT_USER_ID) && archive => {
                        Err("not_in_channel".into())
                    }
                    _ => {
                        c.archived = archive;
                        Ok(Map::new())
                    }
                }
            }
            "chat.postMessage" => self.post(args),
            "chat.getPermalink" => {
                let ts = text(args, "message_ts");
                let c = self.channel(args)?;
                if !c.messages.iter().any(|(t, _)| *t == ts) {
                    return Err("message_not_found".into());
                }
                let link = format!("{TEAM_URL}archives/{}/p{}", c.id, ts.replace('.', ""));
                Ok(fields(json!({"channel": c.id, "permalink": link})))
            }
            "users.info" => match self.users.get(&text(args, "user")) {
                Some(user) => Ok(fields(json!({"user": user}))),
                None => Err("user_not_found".into()),
            },
            _ => Err("unknown_method".into()),
        }
    }

    fn create(&mut self, args: &Value) -> Answer {
        let name = text(args, "name");
        if name.is_empty() {
            return Err("invalid_name_required".into());
        }
        if name.chars().count() > 80 {
            return Err("invalid_name_maxlength".into());
        }
        let allowed =
            |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
        if !name.chars().all(allowed) {
            return Err("invalid_name_specials".into());
        }
        if self.channels.iter().any(|c| c.name == name) {
            return Err("name_taken".into());
        }
        let id = self.add_channel(&name, false, true);
        let c = self
            .channels
            .iter()
            .find(|c| c.id == id)
            .expect("just added");
        Ok(fields(json!({"channel": c.object()})))
    }

    /// Public channels in pages of `limit` (default 100); `cursor` is the next index.
    fn list(&mut self, args: &Value) -> Answer {
        let limit: usize = text(args, "limit").parse().unwrap_or(100).clamp(1, 1000);
        let start: usize = text(args, "cursor").parse().unwrap_or(0);
        let skip_archived = text(args, "exclude_archived") == "true";
        let all: Vec<&Channel> = self
            .channels
            .iter()
            .filter(|c| !(skip_archived && c.archived))
            .collect();
        let page: Vec<Value> = all
            .iter()
            .skip(start)
            .take(limit)
            .map(|c| c.object())
            .collect();
        let next = if start + limit < all.len() {
            (start + limit).to_string()
        } else {
            String::new()
        };
        Ok(fields(
            json!({"channels": page, "response_metadata": {"next_cursor": next}}),
        ))
    }

    fn post(&mut self, args: &Value) -> Answer {
        if text(args, "text").is_empty() && args["blocks"].is_null() {
            return Err("no_text".into());
        }
        self.last_ts += 100;
        let ts = format!(
            "{}.{:06}",
            self.last_ts / 1_000_000,
            self.last_ts % 1_000_000
        );
        let c = self.channel(args)?;
        if c.archived {
            return Err("is_archived".into());
        }
        if !c.members.iter().any(|m| m == BOT_USER_ID) {
            return Err("not_in_channel".into());
        }
        c.messages.push((ts.clone(), args.clone()));
        let message = json!({
            "type": "message", "subtype": "bot_message", "text": text(args, "text"), "ts": ts,
            "username": text(args, "username"), "bot_id": BOT_ID,
        });
        Ok(fields(
            json!({"channel": c.id, "ts": ts, "message": message}),
        ))
    }
}
