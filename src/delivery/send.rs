//! One attempt: sign, POST, time it, keep the first KiB of the answer, and sort the answer into
//! what it says about the receiver ([`Answer`]).

use super::client::Http;
use super::{retry_after, sign};
use crate::domain::Millis;
use crate::store::{AttemptRecord, Claimed};
use axum::http::{HeaderValue, Request, header};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use std::error::Error as _;
use std::time::{Duration, Instant, SystemTime};

/// How much of a receiver's answer is kept.
const KEEP_BYTES: usize = 1024;

/// What an attempt's answer says (Standard Webhooks' HTTP semantics; README, *Delivery
/// guarantees*).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// A `2xx`.
    Delivered,
    /// Any other failure that says nothing about the receiver's load: another status (a
    /// redirect too: never followed), a refused or broken connection, a bad certificate.
    Failed,
    /// No answer within the delivery timeout.
    TimedOut,
    /// `429`, `502`, `503` or `504`: the receiver is overloaded or its upstream is; with the
    /// `Retry-After` it gave, if any, already clamped ([`retry_after`]).
    SlowDown {
        status: u16,
        retry_after: Option<Duration>,
    },
    /// `410 Gone`: the receiver says the endpoint no longer exists.
    Gone,
}

impl Answer {
    /// The answer of `status` carrying `retry_after` (the header's value, if any).
    pub fn of_status(status: u16, retry_after: Option<&str>, now: SystemTime) -> Answer {
        match status {
            200..=299 => Answer::Delivered,
            410 => Answer::Gone,
            429 | 502 | 503 | 504 => Answer::SlowDown {
                status,
                retry_after: retry_after.and_then(|v| retry_after::parse(v, now)),
            },
            _ => Answer::Failed,
        }
    }
}

/// Sends `c` once.
pub async fn attempt(http: &Http, c: &mut Claimed, timeout: Duration) -> (AttemptRecord, Answer) {
    let at = Millis::now();
    let started = Instant::now();
    let body = std::mem::take(&mut c.body);
    let (result, timed_out) = match tokio::time::timeout(timeout, post(http, c, body, at)).await {
        Ok(r) => (r, false),
        Err(_) => (
            Err(format!("timed out after {} ms", timeout.as_millis())),
            true,
        ),
    };
    let duration_ms = started.elapsed().as_millis() as i64;
    crate::metrics::attempt_took(c.endpoint_seq, started.elapsed());
    let (status_code, error, response_body, answer) = match result {
        Ok(sent) => {
            let answer =
                Answer::of_status(sent.status, sent.retry_after.as_deref(), SystemTime::now());
            let error = match answer {
                Answer::Delivered => None,
                Answer::SlowDown {
                    retry_after: Some(wait),
                    ..
                } => Some(format!(
                    "the receiver answered {} (Retry-After: {} s)",
                    sent.status,
                    wait.as_secs()
                )),
                _ => Some(format!("the receiver answered {}", sent.status)),
            };
            (Some(sent.status), error, sent.body, answer)
        }
        Err(e) if timed_out => (None, Some(e), String::new(), Answer::TimedOut),
        Err(e) => (None, Some(e), String::new(), Answer::Failed),
    };
    let record = AttemptRecord {
        n: c.attempt,
        at,
        status_code,
        duration_ms,
        error,
        response_body,
    };
    (record, answer)
}

/// What a receiver answered.
struct Sent {
    status: u16,
    /// Its `Retry-After`, if any.
    retry_after: Option<String>,
    /// The first [`KEEP_BYTES`] of its body.
    body: String,
}

async fn post(http: &Http, c: &Claimed, body: String, at: Millis) -> Result<Sent, String> {
    let target = http.destination(&c.url)?;
    let ts = at.0.div_euclid(1000);
    let signature = sign::header(&c.secrets, &c.id, ts, body.as_bytes());
    let mut request = Request::post(target.uri.clone())
        .header(header::USER_AGENT, http.user_agent.clone())
        .header(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )
        .header("webhook-id", c.id.as_str())
        .header("webhook-timestamp", ts)
        .header("webhook-signature", signature)
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| format!("the request cannot be made: {e}"))?;
    if let Some(credentials) = &target.authorization {
        request
            .headers_mut()
            .insert(header::AUTHORIZATION, credentials.clone());
    }
    if let Some(credentials) = http.proxy_authorization(&target.uri) {
        request
            .headers_mut()
            .insert(header::PROXY_AUTHORIZATION, credentials.clone());
    }
    let response = http
        .client
        .request(request)
        .await
        .map_err(|e| describe(&e))?;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut body = response.into_body();
    let mut kept = Vec::new();
    while kept.len() < KEEP_BYTES {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Some(chunk) = frame.data_ref() {
                    kept.extend_from_slice(&chunk[..chunk.len().min(KEEP_BYTES - kept.len())]);
                }
            }
            // What the receiver answered is known; a broken rest of the body changes nothing.
            Some(Err(_)) | None => break,
        }
    }
    Ok(Sent {
        status,
        retry_after,
        body: String::from_utf8_lossy(&kept).into_owned(),
    })
}

/// A person-readable cause: the error and its sources.
fn describe(e: &hyper_util::client::legacy::Error) -> String {
    let mut text = if e.is_connect() {
        "could not connect".to_string()
    } else {
        "request failed".to_string()
    };
    let mut source = e.source();
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

    #[test]
    fn answers_sort_by_status() {
        let now = SystemTime::now();
        assert_eq!(Answer::of_status(200, None, now), Answer::Delivered);
        assert_eq!(Answer::of_status(204, Some("5"), now), Answer::Delivered);
        assert_eq!(Answer::of_status(410, Some("5"), now), Answer::Gone);
        for redirect in [301, 302, 307, 308] {
            assert_eq!(Answer::of_status(redirect, None, now), Answer::Failed);
        }
        for failed in [400, 404, 500, 501] {
            assert_eq!(Answer::of_status(failed, Some("5"), now), Answer::Failed);
        }
        for status in [429, 502, 503, 504] {
            assert_eq!(
                Answer::of_status(status, Some("5"), now),
                Answer::SlowDown {
                    status,
                    retry_after: Some(Duration::from_secs(5))
                }
            );
            assert_eq!(
                Answer::of_status(status, Some("later"), now),
                Answer::SlowDown {
                    status,
                    retry_after: None
                },
                "an unreadable Retry-After counts as none"
            );
        }
    }
}
