//! One attempt: sign, POST, time it, keep the first KiB of the answer.

use super::{guard, sign};
use crate::domain::Millis;
use crate::store::{AttemptRecord, Claimed};
use std::error::Error as _;
use std::time::{Duration, Instant};

/// How much of a receiver's answer is kept.
const KEEP_BYTES: usize = 1024;

/// Sends `c` once; `Ok` status means a 2xx answer.
pub async fn attempt(
    client: &reqwest::Client,
    c: &mut Claimed,
    allow_private: bool,
    timeout: Duration,
) -> (AttemptRecord, bool) {
    let at = Millis::now();
    let started = Instant::now();
    let body = std::mem::take(&mut c.body);
    let result = post(client, c, body, at, allow_private, timeout).await;
    let duration_ms = started.elapsed().as_millis() as i64;
    let (status_code, error, response_body, ok) = match result {
        Ok((status, body)) => {
            let ok = (200..300).contains(&status);
            let error = (!ok).then(|| format!("the receiver answered {status}"));
            (Some(status), error, body, ok)
        }
        Err(e) => (None, Some(e), String::new(), false),
    };
    let record = AttemptRecord {
        n: c.attempt,
        at,
        status_code,
        duration_ms,
        error,
        response_body,
    };
    (record, ok)
}

async fn post(
    client: &reqwest::Client,
    c: &Claimed,
    body: String,
    at: Millis,
    allow_private: bool,
    timeout: Duration,
) -> Result<(u16, String), String> {
    let url = guard::check_url(&c.url, allow_private)?;
    let ts = at.0.div_euclid(1000);
    let signature = sign::header(&c.secrets, &c.id, ts, body.as_bytes());
    let mut response = client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &c.id)
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await
        .map_err(|e| describe(&e, timeout))?;
    let status = response.status().as_u16();
    let mut kept = Vec::new();
    while kept.len() < KEEP_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                kept.extend_from_slice(&chunk[..chunk.len().min(KEEP_BYTES - kept.len())])
            }
            Ok(None) => break,
            Err(e) if e.is_timeout() => return Err(describe(&e, timeout)),
            Err(_) => break,
        }
    }
    Ok((status, String::from_utf8_lossy(&kept).into_owned()))
}

/// A person-readable cause: the error and its sources.
fn describe(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("timed out after {} ms", timeout.as_millis());
    }
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
