//! What Slack (or anyone posting to `/slack/events`) sends: the signature headers, the Events
//! API body, and `Retry-After` on the Web API's answers.

use super::texts;
use crate::domain::Millis;
use crate::slack::events::kind::{Kind, channel_of, kind};
use crate::slack::events::receive::{Request, read};
use crate::slack::outbound::limits::Limits;
use crate::slack::outcome::retry_after as retry_after_of;
use crate::slack::signature::{MAX_SKEW_SECS, sign, verify};
use crate::store::SlackConnection;
use serde_json::Value;

/// The signing secret, `X-Slack-Request-Timestamp`, `X-Slack-Signature`, the body and the clock
/// (unix seconds), cut at `0xFF` bytes (an empty header part stands for an absent header): a
/// request that verifies was signed with the secret within five minutes of now, and what Slack
/// would sign verifies.
pub fn signature(data: &[u8]) {
    let t = texts(data, 5);
    let (secret, body) = (&t[0], t[3].as_bytes());
    let (timestamp, sig) = (present(&t[1]), present(&t[2]));
    let now: i64 = t[4].trim().parse().unwrap_or(1_700_000_000);
    if verify(secret, timestamp, sig, body, now).is_ok() {
        let ts = timestamp.expect("verified with a timestamp");
        let at: i64 = ts.parse().expect("a verified timestamp is a number");
        assert!(at.abs_diff(now) <= MAX_SKEW_SECS as u64);
        let sig = sig.expect("verified with a signature");
        assert_eq!(sig.to_ascii_lowercase(), sign(secret, ts, body));
    }
    let ts = now.to_string();
    let signed = sign(secret, &ts, body);
    assert_eq!(verify(secret, Some(&ts), Some(&signed), body, now), Ok(()));
}

/// An Events API body, read as the receiver reads it once its signature verified; the event the
/// inbox keeps reads back as the same event, and what it asks is told without panicking.
pub fn events(data: &[u8]) {
    let c = connection();
    match read(data) {
        Request::Event(queued) => {
            let stored: Value = serde_json::from_str(&queued.body).expect("stored events are JSON");
            let envelope: Value = serde_json::from_slice(data).expect("the envelope is JSON");
            assert_eq!(stored, envelope["event"]);
            assert_eq!(queued.channel, channel_of(&stored));
            match kind(&stored, &c) {
                Kind::Joined { channel, user } => {
                    assert!(!channel.is_empty() && !user.is_empty() && user != c.bot_user_id)
                }
                Kind::Wrote {
                    channel,
                    user,
                    text,
                    ts,
                    files,
                    ..
                } => {
                    assert!(!channel.is_empty() && !user.is_empty() && !ts.is_empty());
                    assert!(!text.trim().is_empty() || !files.is_empty());
                }
                Kind::Ignored(why) => assert!(!why.is_empty()),
            }
        }
        Request::NotJson => assert!(serde_json::from_slice::<Value>(data).is_err()),
        _ => {}
    }
    // The worker reads each stored event on its own; anything JSON is told something.
    if let Ok(v) = serde_json::from_slice::<Value>(data) {
        let _ = kind(&v, &c);
    }
}

/// `Retry-After` on a Web API answer, then waited for: a wait the limits and the schedule can
/// hold.
pub fn retry_after(data: &[u8]) {
    let value = String::from_utf8_lossy(data);
    if let Some(wait) = retry_after_of(&value) {
        let limits = Limits::default();
        limits.limited(1, "chat.postMessage", wait);
        let ms = i64::try_from(wait.as_millis()).expect("milliseconds fit an i64");
        let _ = Millis::now().plus_ms(ms);
    }
}

/// `s`, unless empty.
fn present(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

fn connection() -> SlackConnection {
    SlackConnection {
        team_seq: 1,
        bot_token: "xoxb-1".into(),
        signing_secret: "secret".into(),
        notify_channel: "palaver-support".into(),
        archive_on_end: false,
        workspace_id: "T1".into(),
        workspace_name: "W".into(),
        workspace_url: "https://w.slack.com/".into(),
        bot_user_id: "UBOT".into(),
        bot_id: "BBOT".into(),
        created_at: Millis(0),
        updated_at: Millis(0),
    }
}
