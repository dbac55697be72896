//! The HTTP client webhooks go out with, and the destinations it has checked.

use super::guard;
use super::proxy::Connector;
use super::worker::DeliveryConfig;
use axum::http::{self, HeaderValue};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Endpoint URLs parsed and checked once, not at each attempt; forgotten all at once past this
/// many bytes.
const KNOWN_URLS_BYTES: usize = 4 << 20;

/// How long an unused keep-alive connection stays open.
const IDLE_CONNECTION: Duration = Duration::from_secs(60);

pub type Client = hyper_util::client::legacy::Client<HttpsConnector<Connector>, Full<Bytes>>;

/// Where a URL's requests go: the URL without its credentials, which travel as
/// `Authorization: Basic` instead (as browsers and curl send them).
pub struct Target {
    pub uri: http::Uri,
    pub authorization: Option<HeaderValue>,
}

/// The HTTP client webhooks go out with, and the destinations it has checked.
///
/// hyper's pooled client: keep-alive connections per endpoint, HTTP/1.1, and HTTP/2 where a TLS
/// endpoint offers it. rustls trusts Mozilla's roots, the system's and `--ca-certs`. Names are
/// resolved by the [`GuardedResolver`]. No proxy is used, even if `HTTPS_PROXY` is set: a proxy
/// would resolve the name itself, out of the guard's sight.
pub struct Http {
    pub client: Client,
    allow_private: bool,
    /// The checked URLs, and the bytes they weigh together.
    urls: Mutex<(HashMap<String, Arc<Target>>, usize)>,
    pub user_agent: HeaderValue,
    /// `Proxy-Authorization` for the requests a proxy forwards (plain HTTP destinations; HTTPS
    /// ones send it with the tunnel's `CONNECT`).
    proxy_authorization: Option<HeaderValue>,
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
        let tcp = Connector::new(
            config.proxy.as_ref(),
            config.allow_private,
            config.connect_timeout,
        );
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
            proxy_authorization: config.proxy.as_ref().and_then(|p| p.authorization.clone()),
        }
    }

    /// The `Proxy-Authorization` a request to `uri` carries itself, if any.
    pub fn proxy_authorization(&self, uri: &http::Uri) -> Option<&HeaderValue> {
        match uri.scheme_str() {
            Some("http") => self.proxy_authorization.as_ref(),
            _ => None,
        }
    }

    /// `url` as a request target, if it may be a destination ([`guard::check_url`]). Addresses
    /// are checked again at each connection, by the resolver.
    pub fn destination(&self, url: &str) -> Result<Arc<Target>, String> {
        if let Some(known) = self.urls.lock().expect("not poisoned").0.get(url) {
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
        let weight = 2 * url.len() + crate::memory::ENTRY_OVERHEAD * 2;
        let mut urls = self.urls.lock().expect("not poisoned");
        let (known, bytes) = &mut *urls;
        if *bytes + weight > KNOWN_URLS_BYTES {
            for _ in known.drain() {
                crate::memory::URLS.removed(0, true);
            }
            crate::memory::URLS.resized(*bytes, 0);
            *bytes = 0;
        }
        if known.insert(url.to_string(), target.clone()).is_none() {
            *bytes += weight;
            crate::memory::URLS.added(weight);
        }
        Ok(target)
    }
}

/// `Basic` credentials from a URL's `user:password@`, if it has any.
pub(super) fn basic_auth(url: &url::Url) -> Option<HeaderValue> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn http(allow_private: bool) -> Http {
        Http::new(&DeliveryConfig {
            allow_private,
            ..DeliveryConfig::default()
        })
    }

    #[test]
    fn credentials_leave_the_url_for_a_basic_header() {
        let h = http(true);
        let t = h
            .destination("http://hook%40user:p%3Ass@127.0.0.1:9/x?y=1")
            .unwrap();
        assert_eq!(t.uri.to_string(), "http://127.0.0.1:9/x?y=1");
        let expected = format!("Basic {}", STANDARD.encode("hook@user:p:ss"));
        let value = t.authorization.as_ref().expect("credentials");
        assert_eq!(value.to_str().unwrap(), expected);
        assert!(value.is_sensitive(), "kept out of debug output");
        let plain = h.destination("https://example.com/hook").unwrap();
        assert!(plain.authorization.is_none());
        let fragment = h.destination("https://example.com/hook?a=1#part").unwrap();
        assert_eq!(fragment.uri.to_string(), "https://example.com/hook?a=1");
        let v6 = h.destination("http://[::1]:8080/hook").unwrap();
        assert_eq!(v6.uri.host(), Some("[::1]"));
    }

    #[test]
    fn destinations_are_checked_once_and_remembered() {
        let h = http(false);
        let refused = h
            .destination("http://127.0.0.1:9/x")
            .err()
            .unwrap_or_default();
        assert!(refused.contains("allow-private"), "{refused}");
        let a = h.destination("https://example.com/hook").unwrap();
        let b = h.destination("https://example.com/hook").unwrap();
        assert!(Arc::ptr_eq(&a, &b), "parsed once");
    }
}
