//! What a Web API call came to, sorted for the caller: Slack's answer, Slack's error code, a rate
//! limit with its wait, or a failure to try again later; with what the attempt log keeps.

use serde_json::Value;
use std::time::Duration;

/// Slack `error` codes that say Slack failed, not the call: tried again like a 5xx.
const TRANSIENT_ERRORS: &[&str] = &[
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
];

/// How long to wait after a 429 that gives no (readable) `Retry-After`.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(30);

/// How much of the answer a [`SlackReply`] keeps for the attempt log.
const KEEP_BYTES: usize = 1024;

/// What one call came to.
#[derive(Clone, Debug, PartialEq)]
pub enum SlackOutcome {
    /// `ok: true`: the whole answer (`channel`, `ts`, `user`, …).
    Ok(Value),
    /// `ok: false` with Slack's `error` code: `name_taken`, `invalid_auth`, `channel_not_found`,
    /// `not_in_channel`, `is_archived`, … Final unless [`SlackOutcome::is_retryable`].
    Error(String),
    /// HTTP 429: this method may be called again after `retry_after` (Slack limits each
    /// method per workspace on its own).
    RateLimited { retry_after: Duration },
    /// No answer to go by: network failure, timeout, HTTP 5xx, or a body that is not Slack's
    /// JSON. Try again later.
    Failed(String),
}

impl SlackOutcome {
    /// Whether trying the same call again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            SlackOutcome::Ok(_) => false,
            SlackOutcome::Error(code) => TRANSIENT_ERRORS.contains(&code.as_str()),
            SlackOutcome::RateLimited { .. } | SlackOutcome::Failed(_) => true,
        }
    }
}

/// One call's outcome, with what the attempt log records.
#[derive(Clone, Debug)]
pub struct SlackReply {
    /// The method called, e.g. `chat.postMessage` (rate limits are per method).
    pub method: String,
    pub outcome: SlackOutcome,
    /// The HTTP status, if an answer came.
    pub status: Option<u16>,
    /// The first KiB of the answer.
    pub body: String,
    pub duration: Duration,
}

/// The longest wait a `Retry-After` is taken for. Slack asks for seconds, a minute at most; a
/// larger number (a proxy's, a broken answer's) must not park a workspace's calls for ever.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// A `Retry-After` header's seconds, at most [`MAX_RETRY_AFTER`].
pub fn retry_after(value: &str) -> Option<Duration> {
    let secs = value.trim().parse::<u64>().ok()?;
    Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER))
}

/// Sorts an answer of HTTP `status` whose body is `bytes` (`broken`: why it could not be read
/// whole): 429 → rate limited; Slack's JSON, whatever the status → its answer or its error;
/// anything else → failed. Answers the outcome and the first KiB of the body.
pub(super) fn sort(
    status: u16,
    retry_after: Option<Duration>,
    bytes: &[u8],
    broken: Option<String>,
) -> (SlackOutcome, String) {
    let kept = String::from_utf8_lossy(&bytes[..bytes.len().min(KEEP_BYTES)]).into_owned();
    if status == 429 {
        let retry_after = retry_after.unwrap_or(DEFAULT_RETRY_AFTER);
        return (SlackOutcome::RateLimited { retry_after }, kept);
    }
    if let Some(why) = broken {
        return (SlackOutcome::Failed(why), kept);
    }
    let parsed: Option<Value> = serde_json::from_slice(bytes).ok();
    let outcome = match parsed {
        Some(v) if v["ok"] == Value::Bool(true) => SlackOutcome::Ok(v),
        Some(v) if v["ok"] == Value::Bool(false) => match v["error"].as_str() {
            Some("ratelimited") => SlackOutcome::RateLimited {
                retry_after: retry_after.unwrap_or(DEFAULT_RETRY_AFTER),
            },
            Some(code) => SlackOutcome::Error(code.to_string()),
            None => SlackOutcome::Failed(format!("Slack answered {status} without an error code")),
        },
        _ if status >= 500 => SlackOutcome::Failed(format!("Slack answered {status}")),
        _ => SlackOutcome::Failed(format!(
            "Slack answered {status} with something other than its JSON"
        )),
    };
    (outcome, kept)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_slack_failures_are_retried() {
        assert!(!SlackOutcome::Error("name_taken".into()).is_retryable());
        assert!(!SlackOutcome::Error("invalid_auth".into()).is_retryable());
        assert!(SlackOutcome::Error("internal_error".into()).is_retryable());
        assert!(SlackOutcome::Failed("down".into()).is_retryable());
        let limited = SlackOutcome::RateLimited {
            retry_after: Duration::from_secs(3),
        };
        assert!(limited.is_retryable());
        assert!(!SlackOutcome::Ok(json!({"ok": true})).is_retryable());
    }

    #[test]
    fn retry_after_is_seconds_capped_at_an_hour() {
        assert_eq!(retry_after(" 30 "), Some(Duration::from_secs(30)));
        assert_eq!(retry_after("0"), Some(Duration::ZERO));
        assert_eq!(retry_after("soon"), None);
        assert_eq!(retry_after("-1"), None);
        // Found by fuzzing: 4888888888888888888 s did not fit the milliseconds the events
        // worker schedules with (wrapping to a time in the past: retried at once), and u64::MAX
        // made the rate limits' `Instant + wait` panic.
        assert_eq!(retry_after("4888888888888888888  "), Some(MAX_RETRY_AFTER));
        let most = retry_after("18446744073709551615").unwrap();
        assert_eq!(most, MAX_RETRY_AFTER);
        super::super::outbound::limits::Limits::default().limited(1, "chat.postMessage", most);
    }

    #[test]
    fn answers_are_sorted_by_what_slack_said() {
        let secs = |n| Some(Duration::from_secs(n));
        let limited = |d| SlackOutcome::RateLimited { retry_after: d };
        assert_eq!(
            sort(429, secs(7), b"", None).0,
            limited(Duration::from_secs(7))
        );
        assert_eq!(sort(429, None, b"", None).0, limited(DEFAULT_RETRY_AFTER));
        let said_limited = br#"{"ok":false,"error":"ratelimited"}"#;
        assert_eq!(
            sort(200, secs(3), said_limited, None).0,
            limited(Duration::from_secs(3))
        );
        let taken = br#"{"ok":false,"error":"name_taken"}"#;
        assert_eq!(
            sort(200, None, taken, None).0,
            SlackOutcome::Error("name_taken".into())
        );
        let ts = br#"{"ok":true,"ts":"1.2"}"#;
        assert_eq!(
            sort(200, None, ts, None).0,
            SlackOutcome::Ok(json!({"ok": true, "ts": "1.2"}))
        );
        assert!(matches!(
            sort(502, None, b"<html>", None).0,
            SlackOutcome::Failed(_)
        ));
        assert!(matches!(
            sort(200, None, b"<html>", None).0,
            SlackOutcome::Failed(_)
        ));
        let cut = sort(200, None, ts, Some("reset".into())).0;
        assert_eq!(cut, SlackOutcome::Failed("reset".into()));
        let long = vec![b'x'; 5000];
        assert_eq!(sort(500, None, &long, None).1.len(), KEEP_BYTES);
    }
}
