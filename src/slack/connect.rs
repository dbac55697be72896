//! Connecting a team to a workspace: the admin's bot token and signing secret, checked at once
//! with `auth.test` (a wrong token is refused before anything is stored), then stored with who
//! the bot is. Changing the settings later needs no secrets again.

use super::client::{BotToken, SlackClient};
use super::outcome::SlackOutcome;
use crate::domain::Millis;
use crate::store::slack::DEFAULT_NOTIFY_CHANNEL;
use crate::store::{SlackConnection, Store, StoreError};
use serde_json::json;
use std::time::Duration;

/// What the admin gives to connect (`PUT /api/v1/slack`). Absent settings keep their current
/// value, or take the default on a first connection.
pub struct Connect {
    pub bot_token: String,
    pub signing_secret: String,
    pub notify_channel: Option<String>,
    pub archive_on_end: Option<bool>,
}

/// Why connecting failed; nothing was stored.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// A field is wrong; the text starts with the field's name.
    #[error("{0}")]
    Invalid(String),
    /// Slack refused the token (`invalid_auth`, `account_inactive`, `token_revoked`, …).
    #[error(
        "`botToken`: Slack refused it ({0}); copy the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page"
    )]
    Refused(String),
    /// Slack could not be asked.
    #[error(
        "Slack could not be reached at {url} to check the token ({why}); nothing was changed, try again"
    )]
    Unreachable { url: String, why: String },
    #[error("Slack is limiting calls to auth.test; try again in {} s", .0.as_secs())]
    RateLimited(Duration),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Who the token belongs to, from `auth.test`.
struct Identity {
    workspace_id: String,
    workspace_name: String,
    workspace_url: String,
    bot_user_id: String,
    bot_id: String,
}

/// Checks `c` and the token, then connects the team (or replaces its connection).
pub async fn connect(
    store: &dyn Store,
    client: &SlackClient,
    team_seq: i64,
    c: Connect,
) -> Result<SlackConnection, ConnectError> {
    let bot_token = check_bot_token(&c.bot_token)?;
    let signing_secret = check_signing_secret(&c.signing_secret)?;
    let notify_channel = c
        .notify_channel
        .as_deref()
        .map(check_notify_channel)
        .transpose()
        .map_err(ConnectError::Invalid)?;
    let who = identify(client, &BotToken::new(bot_token.clone())).await?;
    let current = store.slack_connection(team_seq).await?;
    let now = Millis::now();
    let connection = SlackConnection {
        team_seq,
        bot_token,
        signing_secret,
        notify_channel: notify_channel
            .or_else(|| current.as_ref().map(|c| c.notify_channel.clone()))
            .unwrap_or_else(|| DEFAULT_NOTIFY_CHANNEL.to_string()),
        archive_on_end: c
            .archive_on_end
            .or(current.as_ref().map(|c| c.archive_on_end))
            .unwrap_or(false),
        workspace_id: who.workspace_id,
        workspace_name: who.workspace_name,
        workspace_url: who.workspace_url,
        bot_user_id: who.bot_user_id,
        bot_id: who.bot_id,
        created_at: now,
        updated_at: now,
    };
    let stored = store.put_slack_connection(connection).await?;
    tracing::info!(
        team_seq,
        workspace = %stored.workspace_id,
        bot_user = %stored.bot_user_id,
        "Slack connected"
    );
    Ok(stored)
}

/// Changes the settings of a connected team; `Ok(None)` when it is not connected.
pub async fn update_settings(
    store: &dyn Store,
    team_seq: i64,
    notify_channel: Option<String>,
    archive_on_end: Option<bool>,
) -> Result<Option<SlackConnection>, ConnectError> {
    let notify_channel = notify_channel
        .as_deref()
        .map(check_notify_channel)
        .transpose()
        .map_err(ConnectError::Invalid)?;
    let Some(mut c) = store.slack_connection(team_seq).await? else {
        return Ok(None);
    };
    if let Some(channel) = notify_channel {
        c.notify_channel = channel;
    }
    if let Some(archive) = archive_on_end {
        c.archive_on_end = archive;
    }
    c.updated_at = Millis::now();
    Ok(Some(store.put_slack_connection(c).await?))
}

/// Asks Slack who the token is.
async fn identify(client: &SlackClient, token: &BotToken) -> Result<Identity, ConnectError> {
    let reply = client.call(token, "auth.test", &json!({})).await;
    let transient = reply.outcome.is_retryable();
    let answer = match reply.outcome {
        SlackOutcome::Ok(answer) => answer,
        SlackOutcome::Error(code) if transient => {
            return Err(unreachable(client, format!("Slack answered {code}")));
        }
        SlackOutcome::Error(code) => return Err(ConnectError::Refused(code)),
        SlackOutcome::RateLimited { retry_after } => {
            return Err(ConnectError::RateLimited(retry_after));
        }
        SlackOutcome::Failed(why) => return Err(unreachable(client, why)),
    };
    let text = |key: &str| answer[key].as_str().unwrap_or_default().to_string();
    let who = Identity {
        workspace_id: text("team_id"),
        workspace_name: text("team"),
        workspace_url: text("url"),
        bot_user_id: text("user_id"),
        bot_id: text("bot_id"),
    };
    if who.workspace_id.is_empty() || who.bot_user_id.is_empty() {
        return Err(unreachable(
            client,
            "auth.test answered without team_id or user_id".into(),
        ));
    }
    Ok(who)
}

fn unreachable(client: &SlackClient, why: String) -> ConnectError {
    ConnectError::Unreachable {
        url: client.base_url().to_string(),
        why,
    }
}

fn check_bot_token(token: &str) -> Result<String, ConnectError> {
    let token = token.trim();
    if !token.starts_with("xoxb-") || token.len() > 512 || token.contains(char::is_whitespace) {
        return Err(ConnectError::Invalid(
            "`botToken` must be the app's Bot User OAuth Token (xoxb-…), from its OAuth & Permissions page".into(),
        ));
    }
    Ok(token.to_string())
}

fn check_signing_secret(secret: &str) -> Result<String, ConnectError> {
    let secret = secret.trim();
    if !(8..=256).contains(&secret.len()) || !secret.chars().all(|c| c.is_ascii_graphic()) {
        return Err(ConnectError::Invalid(
            "`signingSecret` must be the app's Signing Secret, from its Basic Information page"
                .into(),
        ));
    }
    Ok(secret.to_string())
}

/// A channel name (`#` optional; Slack's rules: lowercase letters, digits, `-` and `_`, at most
/// 80 characters) or a channel id (`C…`, or `G…` for a private channel the bot was invited to).
pub fn check_notify_channel(channel: &str) -> Result<String, String> {
    let channel = channel.trim();
    let name = channel.strip_prefix('#').unwrap_or(channel);
    let is_name = (1..=80).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    let is_id = name.len() >= 9
        && name.len() <= 24
        && (name.starts_with('C') || name.starts_with('G'))
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if is_name || is_id {
        Ok(name.to_string())
    } else {
        Err(format!(
            "`notifyChannel` {channel:?} is neither a Slack channel name (lowercase letters, digits, - and _, at most 80) nor a channel id (C…)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notify_channels_are_names_or_ids() {
        assert_eq!(
            check_notify_channel("#palaver-support").unwrap(),
            "palaver-support"
        );
        assert_eq!(check_notify_channel("support_2").unwrap(), "support_2");
        assert_eq!(check_notify_channel("C0123ABCD").unwrap(), "C0123ABCD");
        assert_eq!(check_notify_channel("G0123ABCD").unwrap(), "G0123ABCD");
        for bad in ["", "#", "Support", "a b", "a.b", &"x".repeat(81), "C01"] {
            let err = check_notify_channel(bad).unwrap_err();
            assert!(err.starts_with("`notifyChannel`"), "{bad}: {err}");
        }
    }

    #[test]
    fn secrets_are_checked_for_their_shape_only() {
        assert!(check_bot_token("xoxb-1-abc").is_ok());
        for bad in ["", "xoxp-1-abc", "xoxb-1 abc", "whsec_x"] {
            let err = check_bot_token(bad).unwrap_err().to_string();
            assert!(err.starts_with("`botToken`"), "{err}");
            assert!(!err.contains(bad) || bad.is_empty(), "never echoed: {err}");
        }
        assert!(check_signing_secret("8f742231b10e8888abcd99yyyzzz85a5").is_ok());
        for bad in ["", "short", "has space in it"] {
            let err = check_signing_secret(bad).unwrap_err().to_string();
            assert!(err.starts_with("`signingSecret`"), "{err}");
        }
    }
}
