//! How an attempt ends: Slack's faults sorted into the workers' verdicts (retry on the schedule,
//! wait out a rate limit uncounted, fail for good), with the attempt record's error and the
//! calls' log.

use super::session::{Fault, Session};
use crate::delivery::Verdict;
use crate::store::Claimed;

/// Slack errors that say the token is dead: no retry can succeed until Slack is connected again.
const TOKEN_DEAD: &[&str] = &[
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "team_access_not_granted",
    "ekm_access_denied",
    "org_login_required",
];

/// Whether Slack's `code` says the token is dead.
pub fn token_dead(code: &str) -> bool {
    TOKEN_DEAD.contains(&code)
}

/// Slack errors about the request itself: sent again, it would be refused again.
const REQUEST_REFUSED: &[&str] = &[
    "invalid_arguments",
    "invalid_arg_name",
    "invalid_array_arg",
    "invalid_charset",
    "invalid_form_data",
    "invalid_post_type",
    "missing_post_type",
    "invalid_blocks",
    "invalid_blocks_format",
    "msg_too_long",
    "no_text",
    "too_many_attachments",
    "invalid_name",
    "invalid_name_maxlength",
    "invalid_name_punctuation",
    "invalid_name_required",
    "invalid_name_specials",
    "unknown_method",
    "method_deprecated",
    "deprecated_endpoint",
];

/// How much of the calls' log an attempt record keeps (as webhooks keep of the answer).
const KEEP_BYTES: usize = 1024;

/// How an attempt ended, before it becomes a record.
pub struct Ended {
    pub verdict: Verdict,
    pub error: Option<String>,
    pub status: Option<u16>,
    pub body: String,
}

impl Ended {
    pub fn early(verdict: Verdict, error: String) -> Self {
        Ended {
            verdict,
            error: Some(error),
            status: None,
            body: String::new(),
        }
    }
}

/// The end of an attempt that met `fault`.
pub fn failed(c: &Claimed, team_seq: i64, s: Session<'_>, fault: Fault) -> Ended {
    let method = fault.method().to_string();
    let (verdict, error) = match &fault {
        Fault::Limited {
            after,
            called: true,
            ..
        } => (
            Verdict::Wait(*after),
            format!(
                "{method}: rate limited by Slack (429, Retry-After {} s)",
                after.as_secs()
            ),
        ),
        Fault::Limited { after, .. } => (
            Verdict::Wait(*after),
            format!(
                "{method}: not called, Slack limits it for {} ms more",
                after.as_millis()
            ),
        ),
        Fault::Down { why, .. } => (Verdict::Retry, format!("{method}: {why}")),
        Fault::Slack { code, .. } if token_dead(code) => {
            tracing::error!(
                team_seq,
                delivery = %c.id,
                method = %method,
                error = %code,
                "Slack refused the bot token: the delivery failed; connect Slack again with a valid token (PUT /api/v1/slack)"
            );
            let why =
                format!("{method}: {code} (Slack refused the bot token; connect Slack again)");
            (Verdict::Failed, why)
        }
        Fault::Slack { code, .. } if REQUEST_REFUSED.contains(&code.as_str()) => {
            (Verdict::Failed, format!("{method}: {code}"))
        }
        Fault::Slack { code, .. } => (Verdict::Retry, format!("{method}: {code}")),
    };
    let mut body = s.log.join("\n");
    if !s.last_body.is_empty() {
        body.push_str("\n\n");
        body.push_str(&s.last_body);
    }
    Ended {
        verdict,
        error: Some(error),
        status: s.last_status,
        body,
    }
}

/// The first [`KEEP_BYTES`] of `text`, cut on a character.
pub fn keep(mut text: String) -> String {
    if text.len() > KEEP_BYTES {
        let mut end = KEEP_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}
