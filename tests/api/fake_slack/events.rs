//! Events API requests as Slack sends them: the `event_callback` envelope around an event, and
//! the signature headers (`X-Slack-Signature: v0=` + hex HMAC-SHA256 of `v0:timestamp:body`
//! with the app's signing secret). Written apart from the server's code, so that a mistake there
//! makes the tests fail.

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::TEAM_ID;

/// A request body with the headers Slack would send with it.
#[derive(Clone, Debug)]
pub struct SignedEvent {
    pub body: String,
    /// `X-Slack-Request-Timestamp`: unix seconds.
    pub timestamp: String,
    /// `X-Slack-Signature`: `v0=<hex>`.
    pub signature: String,
}

impl SignedEvent {
    /// The two headers, to add to a request.
    pub fn headers(&self) -> [(&'static str, String); 2] {
        [
            ("x-slack-request-timestamp", self.timestamp.clone()),
            ("x-slack-signature", self.signature.clone()),
        ]
    }
}

/// `X-Slack-Signature` for `body` sent at `timestamp` (unix seconds).
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("v0:{timestamp}:{body}").as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("v0={hex}")
}

/// Signs `body` as sent at `timestamp` (unix seconds; [`now`] for a fresh request, older for a
/// stale one).
pub fn sign(secret: &str, body: &str, timestamp: i64) -> SignedEvent {
    SignedEvent {
        body: body.to_owned(),
        timestamp: timestamp.to_string(),
        signature: signature(secret, timestamp, body),
    }
}

/// Unix seconds now.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64
}

/// The `event_callback` envelope Slack wraps `event` in, with its `event_id` (what retries
/// repeat) and the workspace's `team_id`.
pub fn callback(event_id: &str, event: Value) -> String {
    json!({
        "token": "verification-token-unused",
        "team_id": TEAM_ID,
        "api_app_id": "A0PALAVER",
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": now(),
        "authorizations": [{"team_id": TEAM_ID, "user_id": super::BOT_USER_ID, "is_bot": true}],
        "is_ext_shared_channel": false,
    })
    .to_string()
}

/// A human's `message` event in `channel` (an id), at `ts`.
pub fn message(channel: &str, user: &str, text: &str, ts: &str) -> Value {
    json!({
        "type": "message", "channel": channel, "user": user, "text": text, "ts": ts,
        "event_ts": ts, "channel_type": "channel", "team": TEAM_ID,
    })
}

/// `member_joined_channel`: `user` entered `channel` (an id).
pub fn member_joined(channel: &str, user: &str) -> Value {
    json!({
        "type": "member_joined_channel", "user": user, "channel": channel,
        "channel_type": "C", "team": TEAM_ID, "event_ts": format!("{}.000100", now()),
    })
}

/// The `url_verification` request Slack sends when the request URL is set.
pub fn url_verification(challenge: &str) -> String {
    json!({"token": "verification-token-unused", "challenge": challenge, "type": "url_verification"})
        .to_string()
}
