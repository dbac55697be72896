//! Webhooks through an egress proxy (`--webhook-proxy`): HTTPS destinations through a `CONNECT`
//! tunnel (TLS runs end to end, inside it), plain HTTP ones as absolute-form requests to the
//! proxy. Without a proxy, connections go straight to the destination, each address checked by
//! the [`GuardedResolver`].

use super::guard::GuardedResolver;
use axum::http::{HeaderValue, Uri, uri::Scheme};
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::io::IoSlice;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpStream;
use tower_service::Service;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// An egress proxy: where it is, and its credentials.
#[derive(Clone, Debug)]
pub struct WebhookProxy {
    /// `http://host:port`.
    pub uri: Uri,
    /// `Proxy-Authorization`, from the proxy URL's `user:password@`.
    pub authorization: Option<HeaderValue>,
}

impl WebhookProxy {
    /// Parses `http://[user:password@]host:port`. Errors never repeat the URL: it may hold a
    /// password.
    pub fn parse(url: &str) -> Result<Self, String> {
        let mut parsed =
            url::Url::parse(url).map_err(|e| format!("the webhook proxy is not a URL ({e})"))?;
        if parsed.scheme() != "http" {
            return Err(format!(
                "the webhook proxy must be an http:// URL (HTTPS destinations go through it in a \
                 CONNECT tunnel), not {}://",
                parsed.scheme()
            ));
        }
        if parsed.host_str().is_none() {
            return Err("the webhook proxy URL has no host".to_string());
        }
        let authorization = super::client::basic_auth(&parsed);
        let _ = parsed.set_username("");
        let _ = parsed.set_password(None);
        let port = parsed.port_or_known_default().unwrap_or(80);
        let host = parsed.host_str().unwrap_or_default();
        let uri = format!("http://{host}:{port}")
            .parse()
            .map_err(|e| format!("the webhook proxy URL cannot be used ({e})"))?;
        Ok(WebhookProxy { uri, authorization })
    }
}

/// How webhooks connect: straight to the destination, or through the proxy.
#[derive(Clone)]
pub enum Connector {
    Direct(HttpConnector<GuardedResolver>),
    Proxied(Box<Proxied>),
}

/// The connectors of [`Connector::Proxied`].
#[derive(Clone)]
pub struct Proxied {
    /// `CONNECT` tunnels, for HTTPS destinations.
    tunnel: Tunnel<HttpConnector>,
    /// Connections to the proxy itself, for plain HTTP destinations.
    plain: HttpConnector,
    proxy: Uri,
}

impl Connector {
    pub fn new(
        proxy: Option<&WebhookProxy>,
        allow_private: bool,
        connect_timeout: Duration,
    ) -> Self {
        let Some(proxy) = proxy else {
            let mut tcp = HttpConnector::new_with_resolver(GuardedResolver { allow_private });
            tcp.enforce_http(false);
            tcp.set_nodelay(true);
            tcp.set_connect_timeout(Some(connect_timeout));
            return Connector::Direct(tcp);
        };
        // The proxy is the operator's: its own address is not a webhook destination to guard.
        let mut tcp = HttpConnector::new();
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        tcp.set_connect_timeout(Some(connect_timeout));
        let mut tunnel = Tunnel::new(proxy.uri.clone(), tcp.clone());
        if let Some(auth) = &proxy.authorization {
            tunnel = tunnel.with_auth(auth.clone());
        }
        Connector::Proxied(Box::new(Proxied {
            tunnel,
            plain: tcp,
            proxy: proxy.uri.clone(),
        }))
    }
}

impl Service<Uri> for Connector {
    type Response = Conn;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Conn, BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        match self {
            Connector::Direct(tcp) => {
                let connecting = tcp.call(dst);
                Box::pin(async move {
                    let io = connecting.await?;
                    Ok(Conn { io, proxied: false })
                })
            }
            Connector::Proxied(p) if dst.scheme() == Some(&Scheme::HTTPS) => {
                let connecting = p.tunnel.call(dst);
                Box::pin(async move {
                    let io = connecting.await?;
                    Ok(Conn { io, proxied: false })
                })
            }
            Connector::Proxied(p) => {
                let connecting = p.plain.call(p.proxy.clone());
                Box::pin(async move {
                    let io = connecting.await?;
                    // Requests on it are sent in absolute form, for the proxy to forward.
                    Ok(Conn { io, proxied: true })
                })
            }
        }
    }
}

/// A connection made by [`Connector`]: TCP, marked when it goes to the proxy for forwarding.
pub struct Conn {
    io: TokioIo<TcpStream>,
    proxied: bool,
}

impl Connection for Conn {
    fn connected(&self) -> Connected {
        self.io.connected().proxy(self.proxied)
    }
}

impl Read for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl Write for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_urls_are_parsed_with_their_credentials() {
        let p = WebhookProxy::parse("http://user:p%40ss@proxy.internal:3128").unwrap();
        assert_eq!(p.uri.to_string(), "http://proxy.internal:3128/");
        let auth = p.authorization.expect("credentials");
        assert!(auth.to_str().unwrap().starts_with("Basic "));
        let plain = WebhookProxy::parse("http://10.0.0.1").unwrap();
        assert_eq!(plain.uri.port_u16(), Some(80));
        assert!(plain.authorization.is_none());
        for bad in ["https://proxy:3128", "socks5://proxy:1080", "not a url"] {
            assert!(WebhookProxy::parse(bad).is_err(), "{bad}");
        }
    }
}
