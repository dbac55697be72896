//! Random identifiers from a cryptographic RNG.

use rand::Rng;

/// The alphabet of Talkus visitor ids (no look-alike characters: no 0, 1, I, O, l, U, V).
pub const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz";

/// Length of a visitor id, as in the seed's `a3W7EEfSWanTWyGkg`.
pub const VISITOR_ID_LEN: usize = 17;

/// `len` characters of [`ALPHABET`] from the thread's cryptographic RNG (ChaCha, seeded by the OS).
pub fn random_string(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// A new visitor id: 17 characters of [`ALPHABET`].
pub fn new_visitor_id() -> String {
    random_string(VISITOR_ID_LEN)
}

/// A new public id for a row: `prefix`, the time in 8 characters, then 12 random characters
/// (about 69 bits). Ids sort by creation time (the alphabet is in ASCII order), so the store's
/// index of them grows at its end instead of touching a random page per insert.
pub fn new_id(prefix: &str) -> String {
    new_id_at(prefix, crate::domain::Millis::now().0)
}

/// [`new_id`] for a given time (unix milliseconds).
pub fn new_id_at(prefix: &str, millis: i64) -> String {
    let mut id = String::with_capacity(prefix.len() + 20);
    id.push_str(prefix);
    let base = ALPHABET.len() as u64;
    let mut t = millis.max(0) as u64;
    let mut time = [b'2'; 8];
    for slot in time.iter_mut().rev() {
        *slot = ALPHABET[(t % base) as usize];
        t /= base;
    }
    id.push_str(std::str::from_utf8(&time).expect("ASCII"));
    id.push_str(&random_string(12));
    id
}

/// A new secret token: `prefix` then 32 random characters (about 185 bits).
pub fn new_secret(prefix: &str) -> String {
    format!("{prefix}{}", random_string(32))
}

/// The SHA-256 of a secret token, hex: what the store keeps instead of the token.
pub fn hash_secret(token: &str) -> String {
    use sha2::{Digest, Sha256};
    lower_hex(&Sha256::digest(token.as_bytes()))
}

/// `bytes` in lowercase hex, in one allocation (hashes are made on every authenticated request).
pub fn lower_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 0xf)] as char);
    }
    out
}

/// Whether `s` has the form of a visitor id.
pub fn is_visitor_id(s: &str) -> bool {
    s.len() == VISITOR_ID_LEN && s.bytes().all(|b| ALPHABET.contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_hex_is_what_format_gives() {
        let bytes: Vec<u8> = (0..=255).collect();
        let expected: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            lower_hex(&bytes),
            expected,
            "stored fingerprints stay comparable"
        );
    }
    use std::collections::HashSet;

    #[test]
    fn secrets_hash_to_lowercase_hex_sha256() {
        assert_eq!(
            hash_secret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn visitor_ids_have_the_talkus_form() {
        assert!(is_visitor_id("a3W7EEfSWanTWyGkg"));
        for _ in 0..1000 {
            assert!(is_visitor_id(&new_visitor_id()));
        }
    }

    #[test]
    fn ids_do_not_repeat() {
        let ids: HashSet<String> = (0..10_000).map(|_| new_visitor_id()).collect();
        assert_eq!(ids.len(), 10_000);
    }

    #[test]
    fn ids_sort_by_time() {
        let a = new_id_at("m_", 1_700_000_000_000);
        let b = new_id_at("m_", 1_700_000_000_001);
        let c = new_id_at("m_", 2_700_000_000_000);
        assert!(a < b && b < c, "{a} {b} {c}");
        assert_eq!(a.len(), 22);
        let mut sorted = ALPHABET.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, ALPHABET, "the alphabet is in ASCII order");
    }

    #[test]
    fn prefixed_ids_and_secrets() {
        let id = new_id("c_");
        assert!(id.starts_with("c_") && id.len() == 22);
        assert_eq!(new_secret("sk_").len(), 35);
    }

    #[test]
    fn the_alphabet_has_no_look_alikes() {
        for c in b"01IOlUV" {
            assert!(!ALPHABET.contains(c));
        }
        assert_eq!(ALPHABET.len(), 55);
    }
}
