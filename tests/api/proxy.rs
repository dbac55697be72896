//! `--webhook-proxy`: webhooks through a real forwarding proxy on loopback — plain HTTP in
//! absolute form with `Proxy-Authorization`, HTTPS in a `CONNECT` tunnel with TLS end to end.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::fixtures::named;
use crate::helpers::{TestApp, WAIT};
use crate::receiver::Receiver;
use crate::stores::{TestStore, on_every_store};

on_every_store!(
    plain_http_webhooks_are_forwarded_by_the_proxy,
    https_webhooks_go_through_a_connect_tunnel,
);

/// What the proxy saw of each connection's first request: method, target and
/// `Proxy-Authorization`.
type Seen = Arc<Mutex<Vec<(String, String, Option<String>)>>>;

/// A forwarding proxy: `CONNECT host:port` opens a tunnel; a request in absolute form
/// (`POST http://host:port/…`) is passed to that host as it is (hyper servers take absolute
/// form too). Answers its URL and what it saw.
async fn proxy() -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let seen: Seen = Arc::default();
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match client.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&head).into_owned();
                let mut first = text.lines().next().unwrap_or("").split(' ');
                let (method, target) = (
                    first.next().unwrap_or("").to_owned(),
                    first.next().unwrap_or("").to_owned(),
                );
                let auth = text
                    .lines()
                    .find_map(|l| l.strip_prefix("proxy-authorization: "))
                    .or_else(|| {
                        text.lines()
                            .find_map(|l| l.strip_prefix("Proxy-Authorization: "))
                    })
                    .map(str::to_owned);
                log.lock()
                    .unwrap()
                    .push((method.clone(), target.clone(), auth));
                let authority = match method.as_str() {
                    "CONNECT" => target.clone(),
                    _ => target
                        .strip_prefix("http://")
                        .and_then(|rest| rest.split('/').next())
                        .unwrap_or("")
                        .to_owned(),
                };
                let Ok(mut upstream) = TcpStream::connect(&authority).await else {
                    let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
                    return;
                };
                if method == "CONNECT" {
                    let end = head.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
                    let _ = client
                        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                        .await;
                    let _ = upstream.write_all(&head[end..]).await;
                } else {
                    let _ = upstream.write_all(&head).await;
                }
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            });
        }
    });
    (url, seen)
}

async fn plain_http_webhooks_are_forwarded_by_the_proxy(store: TestStore) {
    let (proxy_url, seen) = proxy().await;
    let with_credentials = proxy_url.replacen("http://", "http://egress:s%40cret@", 1);
    let app = TestApp::builder(store)
        .env("PALAVER_WEBHOOK_PROXY", &with_credentials)
        .spawn()
        .await;
    let receiver = Receiver::start().await;
    app.create_webhook(&receiver.url(), Some(&["start"])).await;
    let visitor = app.visitor_start(named("Proxied"), None).await;

    let reqs = receiver.wait_for(1, WAIT).await;
    assert_eq!(reqs[0].event()["visitorId"], visitor.visitor_id.as_str());
    let seen = seen.lock().unwrap().clone();
    assert!(!seen.is_empty(), "the webhook went through the proxy");
    let (method, target, auth) = &seen[0];
    assert_eq!(method, "POST");
    assert_eq!(
        target,
        &receiver.url(),
        "absolute form, for the proxy to forward"
    );
    let expected = base64::engine::general_purpose::STANDARD.encode("egress:s@cret");
    assert_eq!(auth.as_deref(), Some(format!("Basic {expected}").as_str()));
}

async fn https_webhooks_go_through_a_connect_tunnel(store: TestStore) {
    let (proxy_url, seen) = proxy().await;
    let receiver = crate::tls::tls_receiver().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &receiver.ca_pem).expect("write the CA");
    let app = TestApp::builder(store)
        .env("PALAVER_WEBHOOK_PROXY", &proxy_url)
        .env("PALAVER_CA_CERTS", ca_file.to_str().expect("utf-8 path"))
        .spawn()
        .await;
    app.create_webhook(&receiver.url, Some(&["start"])).await;
    app.visitor_start(named("Tunnelled"), None).await;

    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while receiver.bodies.lock().unwrap().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no webhook through the tunnel within 20 s; log:\n{}",
            app.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let seen = seen.lock().unwrap().clone();
    let port = receiver
        .url
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    assert_eq!(seen[0].0, "CONNECT", "{seen:?}");
    assert_eq!(seen[0].1, format!("127.0.0.1:{port}"), "{seen:?}");
    assert_eq!(seen[0].2, None, "no credentials configured");
}
