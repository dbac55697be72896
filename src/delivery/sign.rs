//! Standard Webhooks signatures: `v1,` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")):
//! made for each delivery, and checked by `palaver listen` ([`verify`]).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

const PREFIX: &str = "whsec_";

/// A new endpoint secret: `whsec_` + base64 of 24 random bytes.
pub fn new_secret() -> String {
    let bytes: [u8; 24] = rand::random();
    format!("{PREFIX}{}", STANDARD.encode(bytes))
}

/// The key bytes of a `whsec_` secret.
fn key(secret: &str) -> Vec<u8> {
    let b64 = secret.strip_prefix(PREFIX).unwrap_or(secret);
    STANDARD
        .decode(b64)
        .unwrap_or_else(|_| b64.as_bytes().to_vec())
}

/// The key bytes of a secret as a receiver must be given it: `whsec_` + non-empty base64.
pub fn parse_secret(secret: &str) -> Result<Vec<u8>, String> {
    let Some(b64) = secret.trim().strip_prefix(PREFIX) else {
        return Err(format!(
            "a webhook secret starts with `{PREFIX}` (as POST /api/v1/webhooks answers it); got {:?}",
            abbreviate(secret)
        ));
    };
    match STANDARD.decode(b64) {
        Ok(key) if !key.is_empty() => Ok(key),
        Ok(_) => Err(format!("the secret has nothing after `{PREFIX}`")),
        Err(e) => Err(format!(
            "the part of the secret after `{PREFIX}` is not base64 ({e}); copy it whole, as Palaver answered it"
        )),
    }
}

/// The first characters of a secret, enough to tell which one it is.
pub fn abbreviate(secret: &str) -> String {
    let shown: String = secret.chars().take(10).collect();
    if shown.len() < secret.len() {
        format!("{shown}…")
    } else {
        shown
    }
}

/// How far `webhook-timestamp` may be from the receiver's clock, either way.
pub const TOLERANCE_SECS: i64 = 300;

/// Why a delivery does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("webhook-timestamp {0:?} is not unix seconds")]
    BadTimestamp(String),
    #[error(
        "webhook-timestamp is {0} s old, more than the {TOLERANCE_SECS} s allowed: a replay, or a clock is off"
    )]
    TooOld(i64),
    #[error(
        "webhook-timestamp is {0} s in the future, more than the {TOLERANCE_SECS} s allowed: a clock is off"
    )]
    InFuture(i64),
    #[error("webhook-signature holds no `v1,<base64>` signature: {0:?}")]
    NoSignature(String),
    #[error(
        "no signature matches (of {0}): the body, webhook-id or webhook-timestamp was altered, or it was signed with another secret"
    )]
    Mismatch(usize),
}

/// Checks a delivery as a receiver should: the timestamp within [`TOLERANCE_SECS`] of `now`
/// (unix seconds), then any `v1,` signature of the space-separated `signature` header made with
/// any of `secrets` (compared in constant time); signatures of other versions are ignored.
pub fn verify(
    secrets: &[String],
    id: &str,
    timestamp: &str,
    signature: &str,
    body: &[u8],
    now: i64,
) -> Result<(), Rejection> {
    let seconds: i64 = match timestamp.trim().parse() {
        Ok(s) => s,
        Err(_) => return Err(Rejection::BadTimestamp(timestamp.to_owned())),
    };
    // Saturating: the header may hold any i64.
    let age = now.saturating_sub(seconds);
    if age > TOLERANCE_SECS {
        return Err(Rejection::TooOld(age));
    }
    if age < -TOLERANCE_SECS {
        return Err(Rejection::InFuture(seconds.saturating_sub(now)));
    }
    let given: Vec<Vec<u8>> = signature
        .split(' ')
        .filter_map(|s| s.strip_prefix("v1,"))
        .filter_map(|b64| STANDARD.decode(b64).ok())
        .collect();
    if given.is_empty() {
        return Err(Rejection::NoSignature(signature.to_owned()));
    }
    for secret in secrets {
        let mac = mac(secret, id, seconds, body);
        if given.iter().any(|g| mac.clone().verify_slice(g).is_ok()) {
            return Ok(());
        }
    }
    Err(Rejection::Mismatch(given.len()))
}

/// The HMAC over `id.timestamp.body`, before finalizing.
fn mac(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(&key(secret)).expect("HMAC takes any key length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// One `v1,…` signature.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut out = String::with_capacity(47);
    sign_into(&mut out, secret, id, timestamp, body);
    out
}

/// Appends one `v1,…` signature to `out`.
fn sign_into(out: &mut String, secret: &str, id: &str, timestamp: i64, body: &[u8]) {
    out.push_str("v1,");
    STANDARD.encode_string(
        mac(secret, id, timestamp, body).finalize().into_bytes(),
        out,
    );
}

/// The `webhook-signature` header: one signature per valid secret, space-separated.
pub fn header(secrets: &[String], id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut out = String::with_capacity(secrets.len() * 48);
    for (i, secret) in secrets.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        sign_into(&mut out, secret, id, timestamp, body);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_standard_webhooks_example() {
        // The example from the Standard Webhooks specification.
        let sig = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn one_signature_per_secret() {
        let secrets = vec![new_secret(), new_secret()];
        let h = header(&secrets, "msg_1", 1, b"[]");
        let parts: Vec<&str> = h.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1], sign(&secrets[1], "msg_1", 1, b"[]"));
        assert_ne!(parts[0], parts[1]);
        assert!(secrets[0].starts_with("whsec_"));
    }

    #[test]
    fn verifies_its_own_signatures_and_says_why_not() {
        let (a, b) = (new_secret(), new_secret());
        let body = br#"[{"event":"start"}]"#;
        let now = 1_700_000_000;
        let ts = now.to_string();
        let header = header(&[a.clone(), b.clone()], "msg_1", now, body);
        let (only_a, only_b) = ([a.clone()], [b]);
        // During a rotation either secret verifies the two-signature header.
        assert_eq!(verify(&only_a, "msg_1", &ts, &header, body, now), Ok(()));
        assert_eq!(verify(&only_b, "msg_1", &ts, &header, body, now), Ok(()));
        let other = new_secret();
        let mismatch = verify(&[other], "msg_1", &ts, &header, body, now);
        assert_eq!(mismatch, Err(Rejection::Mismatch(2)));
        let tampered = verify(&only_a, "msg_1", &ts, &header, b"[]", now);
        assert_eq!(tampered, Err(Rejection::Mismatch(2)));
        let other_id = verify(&only_a, "msg_2", &ts, &header, body, now);
        assert_eq!(other_id, Err(Rejection::Mismatch(2)));
        // The timestamp is part of what is signed, and must be recent.
        let late = now + TOLERANCE_SECS + 1;
        assert_eq!(
            verify(&only_a, "msg_1", &ts, &header, body, late),
            Err(Rejection::TooOld(TOLERANCE_SECS + 1))
        );
        let early = now - TOLERANCE_SECS - 1;
        assert!(matches!(
            verify(&only_a, "msg_1", &ts, &header, body, early),
            Err(Rejection::InFuture(_))
        ));
        let within = now + TOLERANCE_SECS;
        assert_eq!(verify(&only_a, "msg_1", &ts, &header, body, within), Ok(()));
        let moved = verify(&only_a, "msg_1", &(now + 1).to_string(), &header, body, now);
        assert_eq!(moved, Err(Rejection::Mismatch(2)));
        assert!(matches!(
            verify(&only_a, "msg_1", "soon", &header, body, now),
            Err(Rejection::BadTimestamp(_))
        ));
        // Other versions are ignored; none at all is said so.
        let v2 = header.replace("v1,", "v2,");
        assert!(matches!(
            verify(&only_a, "msg_1", &ts, &v2, body, now),
            Err(Rejection::NoSignature(_))
        ));
        let mixed = format!("v1a,xyz {}", sign(&a, "msg_1", now, body));
        assert_eq!(verify(&only_a, "msg_1", &ts, &mixed, body, now), Ok(()));
    }

    #[test]
    fn the_farthest_timestamps_are_refused_not_a_panic() {
        // `now - seconds` overflowed for timestamps near i64::MIN (a panic in debug builds).
        let secrets = [new_secret()];
        let now = 1_700_000_000;
        for (far, old) in [(i64::MIN, true), (i64::MIN + 1, true), (i64::MAX, false)] {
            let header = header(&secrets, "msg_1", far, b"[]");
            let got = verify(&secrets, "msg_1", &far.to_string(), &header, b"[]", now);
            match got {
                Err(Rejection::TooOld(age)) => assert!(old && age == i64::MAX, "{age}"),
                Err(Rejection::InFuture(ahead)) => assert!(!old && ahead > 0, "{ahead}"),
                other => panic!("{far}: {other:?}"),
            }
        }
    }

    #[test]
    fn secrets_must_be_whsec_base64() {
        let s = new_secret();
        assert_eq!(parse_secret(&s).unwrap(), key(&s));
        let e = parse_secret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap_err();
        assert!(e.contains("starts with `whsec_`"), "{e}");
        assert!(
            parse_secret("whsec_")
                .unwrap_err()
                .contains("nothing after")
        );
        let e = parse_secret("whsec_not base64!").unwrap_err();
        assert!(e.contains("not base64"), "{e}");
        assert_eq!(abbreviate("whsec_MfKQ9r8GKYqr"), "whsec_MfKQ…");
    }
}
