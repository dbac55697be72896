//! HTTPS webhooks: a real TLS receiver on loopback, its certificate issued by a throw-away
//! certificate authority that Palaver is told to trust with `PALAVER_CA_CERTS`; without it,
//! the attempt fails on the certificate.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::fixtures::named;
use crate::helpers::TestApp;
use crate::stores::{TestStore, on_every_store};

on_every_store!(
    https_webhooks_reach_a_receiver_with_a_trusted_certificate,
    an_untrusted_certificate_fails_the_attempt,
);

/// What the receiver got: each request's `webhook-signature` and body.
type Seen = Arc<Mutex<Vec<(Option<String>, Bytes)>>>;

/// A TLS receiver: its URL, the PEM of the authority that issued its certificate, and the
/// requests it got.
pub(crate) struct TlsReceiver {
    pub(crate) url: String,
    pub(crate) ca_pem: String,
    pub(crate) bodies: Seen,
}

pub(crate) async fn tls_receiver() -> TlsReceiver {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("CA key"))
        .expect("CA certificate");
    let leaf_key = KeyPair::generate().expect("leaf key");
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .expect("leaf params")
        .signed_by(&leaf_key, &ca)
        .expect("leaf certificate");
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone(), ca.der().clone()], key)
        .expect("server TLS config");
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("address").port();
    let bodies: Seen = Arc::new(Mutex::new(Vec::new()));
    let seen = bodies.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (acceptor, seen) = (acceptor.clone(), seen.clone());
            tokio::spawn(async move {
                // A client that rejects the certificate ends the handshake: nothing to serve.
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let seen = seen.clone();
                    async move {
                        let signature = req
                            .headers()
                            .get("webhook-signature")
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_owned);
                        let body = req.into_body().collect().await.map(|b| b.to_bytes());
                        seen.lock()
                            .unwrap()
                            .push((signature, body.unwrap_or_default()));
                        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"ok"))))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    TlsReceiver {
        url: format!("https://127.0.0.1:{port}/hook"),
        ca_pem: ca.pem(),
        bodies,
    }
}

async fn https_webhooks_reach_a_receiver_with_a_trusted_certificate(store: TestStore) {
    let receiver = tls_receiver().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &receiver.ca_pem).expect("write the CA");
    let app = TestApp::builder(store)
        .env("PALAVER_CA_CERTS", ca_file.to_str().expect("utf-8 path"))
        .spawn()
        .await;
    app.create_webhook(&receiver.url, Some(&["start"])).await;
    let visitor = app.visitor_start(named("Tls Visitor"), None).await;

    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some((signature, body)) = receiver.bodies.lock().unwrap().first().cloned() {
            let events: serde_json::Value = serde_json::from_slice(&body).expect("JSON body");
            assert_eq!(events[0]["event"], "start", "{events}");
            assert_eq!(events[0]["visitorId"], visitor.visitor_id.as_str());
            assert!(
                signature.is_some_and(|s| s.starts_with("v1,")),
                "signed over TLS too"
            );
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no webhook over HTTPS within 20 s; log:\n{}",
            app.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn an_untrusted_certificate_fails_the_attempt(store: TestStore) {
    let receiver = tls_receiver().await;
    let app = TestApp::spawn(store).await;
    let hook = app.create_webhook(&receiver.url, Some(&["start"])).await;
    app.visitor_start(named("Tls Visitor"), None).await;
    let log = app
        .wait_until_deliveries(&hook.id, |log| {
            log.first()
                .is_some_and(|d| d["lastAttempt"]["error"].is_string())
        })
        .await;
    let error = log[0]["lastAttempt"]["error"].as_str().unwrap();
    assert!(
        error.contains("certificate") || error.contains("Certificate"),
        "the attempt fails on the certificate: {error}"
    );
    assert!(
        receiver.bodies.lock().unwrap().is_empty(),
        "nothing was sent"
    );
}
