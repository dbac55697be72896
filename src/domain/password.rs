//! Agents' console passwords: argon2id with the crate's recommended parameters, stored as a PHC
//! string (algorithm, parameters and salt travel with the hash). Slow on purpose: call it on a
//! blocking thread.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// Shortest accepted password, in characters.
pub const MIN_LEN: usize = 10;
/// Longest accepted password (hashing cost grows with it).
pub const MAX_LEN: usize = 200;

/// Why a password is refused.
pub fn check(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < MIN_LEN {
        return Err(format!(
            "a console password has at least {MIN_LEN} characters"
        ));
    }
    if n > MAX_LEN {
        return Err(format!(
            "a console password has at most {MAX_LEN} characters"
        ));
    }
    Ok(())
}

/// The PHC string of a new hash of `password`, with a fresh random salt.
pub fn hash(password: &str) -> String {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2id hashes any password under the length limit")
        .to_string()
}

/// Whether `password` matches the stored PHC string (a malformed one matches nothing).
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let phc = hash("correct horse battery");
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(verify("correct horse battery", &phc));
        assert!(!verify("correct horse batterz", &phc));
        assert!(!verify("correct horse battery", "not a hash"));
        assert_ne!(phc, hash("correct horse battery"), "salted");
    }

    #[test]
    fn length_rules() {
        assert!(check("short").is_err());
        assert!(check("long enough!").is_ok());
        assert!(check(&"x".repeat(201)).is_err());
    }
}
