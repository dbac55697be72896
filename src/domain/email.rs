//! What counts as an email address: a pragmatic check, not RFC 5322's full grammar.

/// Whether `s` looks like a deliverable address: `local@domain.tld`, no spaces or control
/// characters, at most 254 characters, a domain of dot-separated non-empty labels.
pub fn is_valid(s: &str) -> bool {
    if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    if local.is_empty() || local.len() > 64 || local.contains('@') {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

#[cfg(test)]
mod tests {
    use super::is_valid;

    #[test]
    fn accepts_ordinary_addresses() {
        for ok in [
            "scar@let.com",
            "a.b+c@sub.example.org",
            "x@xn--bcher-kva.ch",
        ] {
            assert!(is_valid(ok), "{ok}");
        }
    }

    #[test]
    fn rejects_non_addresses() {
        for bad in [
            "",
            "scar",
            "@let.com",
            "scar@",
            "scar@let",
            "sc ar@let.com",
            "a@b@c.com",
            "scar@let..com",
            "scar@-let.com",
            "scar@let.com\n",
        ] {
            assert!(!is_valid(bad), "{bad:?}");
        }
    }
}
