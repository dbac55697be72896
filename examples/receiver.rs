//! A Palaver webhook receiver in Rust (axum, hmac, sha2, base64).
//!
//! ```sh
//! WEBHOOK_SECRET=whsec_… PORT=3000 cargo run --example receiver
//! ```
//!
//! It checks each delivery's Standard Webhooks signature (`webhook-id`, `webhook-timestamp`,
//! `webhook-signature`) with the webhook's secret, refuses timestamps more than 5 minutes away,
//! handles each `webhook-id` once, and answers 200 quickly. `WEBHOOK_SECRET` may hold several
//! secrets, comma-separated (during a rotation, the old and the new). `PORT=0` picks a free
//! port; the first line on stdout says which. See docs/receiving-webhooks.md.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

const TOLERANCE_SECS: u64 = 5 * 60;
const MAX_BODY: usize = 64 << 20;

struct Receiver {
    /// The key bytes of each secret.
    keys: Vec<Vec<u8>>,
    /// The webhook-ids handled so far. A real receiver keeps them in its database, for longer
    /// than Palaver retries (about 28 hours), recorded in the same transaction as its effects.
    seen: Mutex<HashSet<String>>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secrets = std::env::var("WEBHOOK_SECRET").map_err(|_| "set WEBHOOK_SECRET")?;
    let keys = secrets
        .split(',')
        .map(|s| secret_key(s.trim()))
        .collect::<Result<_, _>>()?;
    let port: u16 = std::env::var("PORT")
        .unwrap_or_else(|_| "3000".into())
        .parse()?;
    let receiver = Arc::new(Receiver {
        keys,
        seen: Mutex::default(),
    });
    let app = Router::new()
        .route("/", post(receive))
        .route("/{*path}", post(receive))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(receiver);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

/// The key bytes of a `whsec_` secret.
fn secret_key(secret: &str) -> Result<Vec<u8>, String> {
    let b64 = secret
        .strip_prefix("whsec_")
        .ok_or("WEBHOOK_SECRET: each secret starts with whsec_, as Palaver gave it")?;
    STANDARD
        .decode(b64)
        .map_err(|e| format!("WEBHOOK_SECRET: the part after whsec_ is not base64: {e}"))
}

async fn receive(
    State(r): State<Arc<Receiver>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let id = match verify(&r.keys, &headers, &body, now) {
        Ok(id) => id,
        Err((status, why)) => {
            println!("rejected {} {why}", status.as_u16());
            return (status, format!("{why}\n"));
        }
    };
    let mut seen = r.seen.lock().unwrap();
    if seen.contains(&id) {
        println!("duplicate {id}");
        return (StatusCode::OK, "already handled\n".into());
    }
    match handle(&id, &body) {
        Ok(()) => {
            seen.insert(id);
            (StatusCode::OK, "ok\n".into())
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
    }
}

/// Your work goes here. Keep it short: Palaver waits at most 15 s for the answer.
fn handle(id: &str, body: &[u8]) -> Result<(), serde_json::Error> {
    let events: Vec<serde_json::Value> = serde_json::from_slice(body)?;
    let names: Vec<&str> = events.iter().filter_map(|e| e["event"].as_str()).collect();
    println!("accepted {id} {}", names.join(","));
    Ok(())
}

/// The delivery's webhook-id if it is genuine and fresh, else the answer and why.
fn verify(
    keys: &[Vec<u8>],
    headers: &HeaderMap,
    body: &[u8],
    now: u64,
) -> Result<String, (StatusCode, &'static str)> {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(id), Some(timestamp), Some(signatures)) = (
        header("webhook-id"),
        header("webhook-timestamp"),
        header("webhook-signature"),
    ) else {
        let why = "missing webhook-id, webhook-timestamp or webhook-signature";
        return Err((StatusCode::BAD_REQUEST, why));
    };
    let Ok(sent) = timestamp.parse::<u64>() else {
        return Err((
            StatusCode::BAD_REQUEST,
            "webhook-timestamp is not unix seconds",
        ));
    };
    if now.abs_diff(sent) > TOLERANCE_SECS {
        let why = "webhook-timestamp is more than 5 minutes away from our clock";
        return Err((StatusCode::UNAUTHORIZED, why));
    }
    // Space-separated `v1,<base64>` signatures: one per secret while the webhook's is rotated.
    for signature in signatures.split(' ') {
        let Some(("v1", value)) = signature.split_once(',') else {
            continue;
        };
        let Ok(given) = STANDARD.decode(value) else {
            continue;
        };
        for key in keys {
            let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
            mac.update(format!("{id}.{timestamp}.").as_bytes());
            mac.update(body);
            // verify_slice compares in constant time.
            if mac.verify_slice(&given).is_ok() {
                return Ok(id.to_owned());
            }
        }
    }
    Err((StatusCode::UNAUTHORIZED, "no signature matches our secret"))
}
