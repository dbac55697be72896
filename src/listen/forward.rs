//! `--forward-to`: the verified delivery passed on as it came (the same bytes, the same headers
//! but the connection's own), and the target's answer passed back, so that a failing receiver
//! makes Palaver retry. A target that does not answer in time is a 502.

use super::Out;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::time::Duration;

/// How long the target may take: under Palaver's default attempt timeout (15 s), so that the
/// listener answers 502 before Palaver gives up on the attempt.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Headers that belong to one connection, not to the delivery (RFC 9110, 7.6.1), and those
/// the client sets itself (`host`, `content-length`).
const NOT_FORWARDED: [HeaderName; 9] = [
    header::CONNECTION,
    header::CONTENT_LENGTH,
    header::HOST,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    header::EXPECT,
];

pub struct Forwarder {
    url: reqwest::Url,
    http: reqwest::Client,
}

impl Forwarder {
    pub fn new(url: &str) -> anyhow::Result<Forwarder> {
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| anyhow::anyhow!("--forward-to {url:?} is not a URL: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            anyhow::bail!(
                "--forward-to takes an http:// or https:// URL, e.g. http://localhost:3000/hook; got {url:?}"
            );
        }
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()?;
        Ok(Forwarder { url: parsed, http })
    }

    pub fn url(&self) -> &str {
        self.url.as_str()
    }

    /// Sends the delivery on and answers what the target answered.
    pub async fn pass(&self, headers: &HeaderMap, body: Bytes, out: Out) -> Response {
        let mut forwarded = headers.clone();
        for name in &NOT_FORWARDED {
            forwarded.remove(name);
        }
        let sent = self
            .http
            .post(self.url.clone())
            .headers(forwarded)
            .body(body)
            .send()
            .await;
        let answer = match sent {
            Ok(answer) => answer,
            Err(e) => return self.unanswered(&describe(&e), out),
        };
        let status = answer.status();
        let content_type = answer.headers().get(header::CONTENT_TYPE).cloned();
        let body = match answer.bytes().await {
            Ok(body) => body,
            Err(e) => return self.unanswered(&describe(&e), out),
        };
        out.note(&format!("  forwarded to {}: {status}", self.url));
        let status = StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
        let mut response = (status, body).into_response();
        if let Some(ct) = content_type {
            response.headers_mut().insert(header::CONTENT_TYPE, ct);
        }
        response
    }

    fn unanswered(&self, why: &str, out: Out) -> Response {
        let line = format!("{} did not answer: {why}", self.url);
        out.note(&format!("x 502 forwarding failed: {line}"));
        let body = format!("palaver listen: the forward target {line}\n");
        (StatusCode::BAD_GATEWAY, body).into_response()
    }
}

/// reqwest's error with its causes (the refused connection, the timeout).
fn describe(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() {
        format!("no answer within {} s", TIMEOUT.as_secs())
    } else {
        e.to_string()
    };
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
