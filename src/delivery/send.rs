//! One attempt: sign, POST, time it, keep the first KiB of the answer; and the HTTP client that
//! sends it.

use super::guard::{self, GuardedResolver};
use super::sign;
use super::worker::DeliveryConfig;
use crate::domain::Millis;
use crate::store::{AttemptRecord, Claimed};
use axum::http::{self, HeaderValue, Request, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use std::collections::HashMap;
use std::error::Error as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How much of a receiver's answer is kept.
const KEEP_BYTES: usize = 1024;

/// Endpoint URLs parsed and checked once, not at each attempt; forgotten all at once past this
/// many.
const KNOWN_URLS: usize = 10_000;

/// How long an unused keep-alive connection stays open.
const IDLE_CONNECTION: Duration = Duration::from_secs(60);

type Client =
    hyper_util::client::legacy::Client<HttpsConnector<HttpConnector<GuardedResolver>>, Full<Bytes>>;

/// Where a URL's requests go: the URL without its credentials, which travel as
/// `Authorization: Basic` instead (as browsers and curl send them).
struct Target {
    uri: http::Uri,
    authorization: Option<HeaderValue>,
}

/// The HTTP client webhooks go out with, and the destinations it has checked.
///
/// hyper's pooled client: keep-alive connections per endpoint, HTTP/1.1, and HTTP/2 where a TLS
/// endpoint offers it. rustls trusts Mozilla's roots, the system's and `--ca-certs`. Names are
/// resolved by the [`GuardedResolver`]. No proxy is used, even if `HTTPS_PROXY` is set: a proxy
/// would resolve the name itself, out of the guard's sight.
pub struct Http {
    client: Client,
    allow_private: bool,
    urls: Mutex<HashMap<String, Arc<Target>>>,
    user_agent: HeaderValue,
}

impl Http {
    pub fn new(config: &DeliveryConfig) -> Self {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let system = rustls_native_certs::load_native_certs();
        for e in &system.errors {
            tracing::debug!(error = %e, "a system certificate could not be read");
        }
        roots.add_parsable_certificates(system.certs);
        roots.add_parsable_certificates(config.ca_certs.iter().cloned());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports the default TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut tcp = HttpConnector::new_with_resolver(GuardedResolver {
            allow_private: config.allow_private,
        });
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        tcp.set_connect_timeout(Some(config.connect_timeout));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(tcp);
        let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .pool_idle_timeout(IDLE_CONNECTION)
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .build(connector);
        Http {
            client,
            allow_private: config.allow_private,
            urls: Mutex::default(),
            user_agent: HeaderValue::from_static(concat!("Palaver/", env!("CARGO_PKG_VERSION"))),
        }
    }

    /// `url` as a request target, if it may be a destination ([`guard::check_url`]). Addresses
    /// are checked again at each connection, by the resolver.
    fn destination(&self, url: &str) -> Result<Arc<Target>, String> {
        if let Some(known) = self.urls.lock().expect("not poisoned").get(url) {
            return Ok(known.clone());
        }
        let mut parsed = guard::check_url(url, self.allow_private)?;
        let authorization = basic_auth(&parsed);
        // Both always succeed on an http(s) URL with a host.
        let _ = parsed.set_username("");
        let _ = parsed.set_password(None);
        let uri = parsed
            .as_str()
            .parse()
            .map_err(|e| format!("`url` cannot be requested ({e})"))?;
        let target = Arc::new(Target { uri, authorization });
        let mut urls = self.urls.lock().expect("not poisoned");
        if urls.len() >= KNOWN_URLS {
            urls.clear();
        }
        urls.insert(url.to_string(), target.clone());
        Ok(target)
    }
}

/// `Basic` credentials from a URL's `user:password@`, if it has any.
fn basic_auth(url: &url::Url) -> Option<HeaderValue> {
    if url.username().is_empty() && url.password().is_none() {
        return None;
    }
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let pair = format!(
        "{}:{}",
        decode(url.username()),
        decode(url.password().unwrap_or(""))
    );
    let mut value = HeaderValue::try_from(format!("Basic {}", STANDARD.encode(pair))).ok()?;
    value.set_sensitive(true);
    Some(value)
}

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
