//! Standard Webhooks signature verification, written from the spec (not from the server).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::receiver::Received;

/// `base64(HMAC-SHA256(base64decode(secret without "whsec_"), "{id}.{timestamp}.{body}"))`.
pub fn sign(secret: &str, id: &str, timestamp: &str, body: &[u8]) -> String {
    let key = secret
        .strip_prefix("whsec_")
        .unwrap_or_else(|| panic!("secret {secret:?} lacks the whsec_ prefix"));
    let key = STANDARD
        .decode(key)
        .unwrap_or_else(|e| panic!("secret {secret:?} is not base64 after whsec_: {e}"));
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("any key length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    STANDARD.encode(mac.finalize().into_bytes())
}

/// The `v1,` signatures of the `webhook-signature` header, in order.
pub fn signatures(req: &Received) -> Vec<String> {
    let header = req.header("webhook-signature");
    header
        .split(' ')
        .map(|part| {
            part.strip_prefix("v1,")
                .unwrap_or_else(|| panic!("signature {part:?} is not `v1,<base64>`: {header:?}"))
                .to_owned()
        })
        .collect()
}

/// How many of the request's signatures verify with `secret`; also checks the timestamp.
pub fn valid_signatures(req: &Received, secret: &str) -> usize {
    let id = req.webhook_id();
    let timestamp = req.header("webhook-timestamp");
    let seconds: i64 = timestamp
        .parse()
        .unwrap_or_else(|_| panic!("webhook-timestamp {timestamp:?} is not unix seconds"));
    let now = chrono::Utc::now().timestamp();
    assert!(
        (now - seconds).abs() <= 300,
        "webhook-timestamp {seconds} is more than 5 minutes from now ({now})"
    );
    let expected = sign(secret, id, timestamp, &req.body);
    signatures(req).iter().filter(|s| **s == expected).count()
}

/// The verifier itself must be right, or every signature check above proves nothing.
#[test]
fn sign_matches_the_standard_webhooks_example() {
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let body = br#"{"test": 2432232314}"#;
    let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    let expected = "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    assert_eq!(sign(secret, id, "1614265330", body), expected);
    assert_ne!(sign(secret, id, "1614265331", body), expected);
}
