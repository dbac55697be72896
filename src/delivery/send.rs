//! One attempt: sign, POST, time it, keep the first KiB of the answer.

use super::client::Http;
use super::sign;
use crate::domain::Millis;
use crate::store::{AttemptRecord, Claimed};
use axum::http::{HeaderValue, Request, header};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use std::error::Error as _;
use std::time::{Duration, Instant};

/// How much of a receiver's answer is kept.
const KEEP_BYTES: usize = 1024;

/// Sends `c` once; `Ok` status means a 2xx answer.
pub async fn attempt(http: &Http, c: &mut Claimed, timeout: Duration) -> (AttemptRecord, bool) {
    let at = Millis::now();
    let started = Instant::now();
    let body = std::mem::take(&mut c.body);
    let result = match tokio::time::timeout(timeout, post(http, c, body, at)).await {
        Ok(r) => r,
        Err(_) => Err(format!("timed out after {} ms", timeout.as_millis())),
    };
    let duration_ms = started.elapsed().as_millis() as i64;
    crate::metrics::attempt_took(c.endpoint_seq, started.elapsed());
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

async fn post(http: &Http, c: &Claimed, body: String, at: Millis) -> Result<(u16, String), String> {
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
    Ok((status, String::from_utf8_lossy(&kept).into_owned()))
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
