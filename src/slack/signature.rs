//! Slack's request signatures (Events API): `X-Slack-Signature: v0=` + hex of HMAC-SHA256 over
//! `v0:{X-Slack-Request-Timestamp}:{body}` keyed with the app's signing secret. A request is
//! believed only if it verifies and its timestamp is within five minutes of now (a replay of an
//! old request fails).

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How far a request's timestamp may be from now, either way.
pub const MAX_SKEW_SECS: i64 = 5 * 60;

/// Why a request is not believed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    #[error("X-Slack-Request-Timestamp is missing or not unix seconds")]
    BadTimestamp,
    #[error("X-Slack-Request-Timestamp is more than five minutes from now")]
    Stale,
    #[error("X-Slack-Signature is missing or not v0=<hex>")]
    BadSignature,
    #[error("X-Slack-Signature does not match the body")]
    Mismatch,
}

fn mac(secret: &str, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    mac
}

/// The `X-Slack-Signature` Slack would send with `body` at `timestamp` (unix seconds).
pub fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let digest = mac(secret, timestamp, body).finalize().into_bytes();
    let mut out = String::with_capacity(67);
    out.push_str("v0=");
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Checks a request's headers against its raw body at `now` (unix seconds); the comparison
/// takes the same time whatever the signature.
pub fn verify(
    secret: &str,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), Rejected> {
    let timestamp = timestamp.ok_or(Rejected::BadTimestamp)?;
    let at: i64 = timestamp.parse().map_err(|_| Rejected::BadTimestamp)?;
    // Without overflow: the header may hold any i64.
    if now.abs_diff(at) > MAX_SKEW_SECS.unsigned_abs() {
        return Err(Rejected::Stale);
    }
    let hex = signature
        .and_then(|s| s.strip_prefix("v0="))
        .ok_or(Rejected::BadSignature)?;
    let expected = decode_hex(hex).ok_or(Rejected::BadSignature)?;
    mac(secret, timestamp, body)
        .verify_slice(&expected)
        .map_err(|_| Rejected::Mismatch)
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() != 64 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const BODY: &[u8] = b"token=xyz&team_id=T1&text=hi";

    #[test]
    fn signs_as_slack_does() {
        // Computed independently: Python's hmac.new(secret, b"v0:1531420618:" + body, sha256).
        assert_eq!(
            sign(SECRET, "1531420618", BODY),
            "v0=a18534929256988d8478aa1cf1d284073f9ebdbc7c0af65d83e340bac7f765a5"
        );
    }

    #[test]
    fn verifies_only_fresh_matching_requests() {
        let now = 1_531_420_618;
        let sig = sign(SECRET, "1531420618", BODY);
        let check = |ts: Option<&str>, sig: Option<&str>, body: &[u8], now: i64| {
            verify(SECRET, ts, sig, body, now)
        };
        assert_eq!(check(Some("1531420618"), Some(&sig), BODY, now), Ok(()));
        assert_eq!(
            check(Some("1531420618"), Some(&sig), BODY, now + 300),
            Ok(())
        );
        assert_eq!(
            check(Some("1531420618"), Some(&sig), BODY, now + 301),
            Err(Rejected::Stale)
        );
        assert_eq!(
            check(Some("1531420618"), Some(&sig), b"token=xyz", now),
            Err(Rejected::Mismatch)
        );
        assert_eq!(
            check(Some("1531420619"), Some(&sig), BODY, now),
            Err(Rejected::Mismatch)
        );
        assert_eq!(
            check(None, Some(&sig), BODY, now),
            Err(Rejected::BadTimestamp)
        );
        assert_eq!(
            check(Some("soon"), Some(&sig), BODY, now),
            Err(Rejected::BadTimestamp)
        );
        assert_eq!(
            check(Some("1531420618"), None, BODY, now),
            Err(Rejected::BadSignature)
        );
        let v1 = sig.replace("v0=", "v1=");
        assert_eq!(
            check(Some("1531420618"), Some(&v1), BODY, now),
            Err(Rejected::BadSignature)
        );
        // The farthest timestamps overflowed `now - at` (a panic in debug builds).
        for far in ["-9223372036854775808", "9223372036854775807"] {
            let sig = sign(SECRET, far, BODY);
            assert_eq!(
                check(Some(far), Some(&sig), BODY, now),
                Err(Rejected::Stale)
            );
        }
        let other = sign("another secret", "1531420618", BODY);
        assert_eq!(
            check(Some("1531420618"), Some(&other), BODY, now),
            Err(Rejected::Mismatch)
        );
    }
}
