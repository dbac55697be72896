//! The Slack Web API client: one POST per method call to `<base>/<method>`, the bot token as
//! `Authorization: Bearer`, and the answer sorted into what a caller acts on ([`SlackOutcome`]).

use super::outcome::{SlackOutcome, SlackReply, sort};
use serde_json::Value;
use std::time::{Duration, Instant};

/// Slack's Web API.
pub const DEFAULT_API_URL: &str = "https://slack.com/api";

/// Methods that take no JSON body (Slack: "This method does not currently accept
/// application/json"): their arguments go form-encoded. Every other method gets JSON.
const FORM_ONLY: &[&str] = &[
    "bots.info",
    "chat.getPermalink",
    "conversations.history",
    "conversations.info",
    "conversations.list",
    "conversations.members",
    "conversations.replies",
    "files.info",
    "team.info",
    "users.info",
    "users.list",
    "users.lookupByEmail",
];

/// Most bytes of an answer read: a page of `conversations.list` is well below.
const MAX_ANSWER: usize = 8 << 20;

/// Where the Web API is and how long a call may take.
#[derive(Clone, Debug)]
pub struct SlackConfig {
    /// `https://slack.com/api`, or a stand-in's (tests point it at a fake).
    pub api_url: String,
    /// Total time of one call, answer included.
    pub timeout: Duration,
}

impl Default for SlackConfig {
    fn default() -> Self {
        SlackConfig {
            api_url: DEFAULT_API_URL.to_string(),
            timeout: Duration::from_secs(15),
        }
    }
}

/// A bot user OAuth token (`xoxb-…`). Kept out of `Debug` and logs; [`BotToken::expose`] is
/// the one way to its text.
#[derive(Clone, PartialEq, Eq)]
pub struct BotToken(String);

impl BotToken {
    pub fn new(token: impl Into<String>) -> Self {
        BotToken(token.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for BotToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BotToken(<redacted>)")
    }
}

/// The Web API client. Slack is a fixed public host chosen by the operator, not by API callers,
/// so the webhook destination guard does not apply; HTTPS goes through rustls with Mozilla's and
/// the system's roots, and the standard `HTTPS_PROXY` variables are honoured.
pub struct SlackClient {
    http: reqwest::Client,
    base: String,
}

impl SlackClient {
    /// Fails when `api_url` is not an http(s) URL.
    pub fn new(config: &SlackConfig) -> Result<Self, String> {
        let base = check_api_url(&config.api_url)?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("Palaver/", env!("CARGO_PKG_VERSION")))
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(5)))
            .build()
            .map_err(|e| format!("the Slack client cannot be built: {e}"))?;
        Ok(SlackClient { http, base })
    }

    /// The Web API's base URL, without a trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Calls `method` with `args` (a JSON object; form-encoded for the methods that need it).
    pub async fn call(&self, token: &BotToken, method: &str, args: &Value) -> SlackReply {
        let started = Instant::now();
        let url = format!("{}/{method}", self.base);
        let request = self.http.post(url).bearer_auth(token.expose());
        let request = if FORM_ONLY.contains(&method) {
            request
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form(args))
        } else {
            request
                .header("content-type", "application/json; charset=utf-8")
                .body(serde_json::to_vec(args).expect("JSON serializes"))
        };
        let (outcome, status, body) = match request.send().await {
            Err(e) => (SlackOutcome::Failed(describe(&e)), None, String::new()),
            Ok(response) => read(response).await,
        };
        SlackReply {
            method: method.to_string(),
            outcome,
            status,
            body,
            duration: started.elapsed(),
        }
    }
}

/// `url` as the base URL of the Web API, without its trailing `/`.
pub fn check_api_url(url: &str) -> Result<String, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("{url:?} is not a URL ({e})"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(format!(
            "{url:?} is not an http(s) URL like {DEFAULT_API_URL}"
        ));
    }
    Ok(url.trim_end_matches('/').to_string())
}

/// The arguments of a form-only method: strings as they are, other scalars as JSON text,
/// objects and arrays JSON-encoded (as Slack takes `blocks` in a form); nulls left out.
fn form(args: &Value) -> String {
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    if let Some(map) = args.as_object() {
        for (key, value) in map {
            match value {
                Value::Null => {}
                Value::String(s) => {
                    out.append_pair(key, s);
                }
                other => {
                    out.append_pair(key, &other.to_string());
                }
            }
        }
    }
    out.finish()
}

/// Reads an answer (at most [`MAX_ANSWER`] bytes) and sorts it.
async fn read(mut response: reqwest::Response) -> (SlackOutcome, Option<u16>, String) {
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(super::outcome::retry_after);
    let mut bytes = Vec::new();
    let mut broken = None;
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) if bytes.len() + chunk.len() <= MAX_ANSWER => {
                bytes.extend_from_slice(&chunk)
            }
            Ok(Some(_)) => {
                broken = Some(format!("the answer is over {} MiB", MAX_ANSWER >> 20));
                break;
            }
            Ok(None) => break,
            Err(e) => {
                broken = Some(describe(&e));
                break;
            }
        }
    }
    let (outcome, kept) = sort(status, retry_after, &bytes, broken);
    (outcome, Some(status), kept)
}

/// A person-readable cause, without the request (and so without the token).
fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut text = what.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tokens_stay_out_of_debug_output() {
        let token = BotToken::new("xoxb-1-secret");
        assert_eq!(format!("{token:?}"), "BotToken(<redacted>)");
        assert_eq!(token.expose(), "xoxb-1-secret");
    }

    #[test]
    fn form_arguments_flatten_like_slack_takes_them() {
        let body = form(&json!({"user": "U1", "limit": 200, "include_locale": true,
            "cursor": null, "blocks": [{"type": "divider"}]}));
        assert_eq!(
            body,
            "user=U1&limit=200&include_locale=true&blocks=%5B%7B%22type%22%3A%22divider%22%7D%5D"
        );
    }

    #[test]
    fn api_urls_must_be_http() {
        assert_eq!(
            check_api_url("http://127.0.0.1:9/api/").unwrap(),
            "http://127.0.0.1:9/api"
        );
        assert!(check_api_url("ftp://slack.com/api").is_err());
        assert!(check_api_url("slack.com/api").is_err());
    }
}
