//! Visitor names and Slack channel names (PAYLOAD.md: `visitorName`, `channelName`).

/// Slack's limit on a channel name's length.
pub const MAX_CHANNEL_LEN: usize = 80;

/// The name a visitor keeps for life, fixed when first seen: the phone if given, else the name,
/// else `Visitor ` and the first five characters of the visitor id.
pub fn visitor_name(phone: &str, name: &str, visitor_id: &str) -> String {
    let (phone, name) = (phone.trim(), name.trim());
    if !phone.is_empty() {
        phone.to_string()
    } else if !name.is_empty() {
        name.to_string()
    } else {
        format!("Visitor {}", visitor_id.chars().take(5).collect::<String>())
    }
}

/// `slug(name)`: lowercase; each run of characters outside `[a-z0-9_]` becomes one `-`; leading
/// and trailing `-` trimmed.
pub fn slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// The channel name a visitor would get if nobody else had it: `z-` + slug, at most 80
/// characters; the lowercased visitor id when the slug is empty.
pub fn base_channel_name(visitor_name: &str, visitor_id: &str) -> String {
    let mut s = slug(visitor_name);
    if s.is_empty() {
        s = visitor_id.to_lowercase();
    }
    let mut name = format!("z-{s}");
    truncate_channel(&mut name, MAX_CHANNEL_LEN);
    name
}

/// The `n`th candidate for a base name: `n = 1` is the base itself, then `base-2`, `base-3`, …,
/// the base shortened so that the whole stays within 80 characters.
pub fn channel_candidate(base: &str, n: u32) -> String {
    if n <= 1 {
        return base.to_string();
    }
    let suffix = format!("-{n}");
    let mut name = base.to_string();
    truncate_channel(&mut name, MAX_CHANNEL_LEN - suffix.len());
    name.push_str(&suffix);
    name
}

/// The first candidate of `base` that is not taken.
pub fn first_free_channel(base: &str, taken: impl Fn(&str) -> bool) -> String {
    (1..)
        .map(|n| channel_candidate(base, n))
        .find(|c| !taken(c))
        .expect("an unbounded sequence of candidates has a free one")
}

/// Shortens to at most `max` bytes (channel names are ASCII), never ending in `-`.
fn truncate_channel(name: &mut String, max: usize) {
    name.truncate(max);
    while name.ends_with('-') && name.len() > 2 {
        name.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    #[test]
    fn names_follow_the_priority() {
        assert_eq!(
            visitor_name("+33123456789", "Scarlet", "a3W7E"),
            "+33123456789"
        );
        assert_eq!(visitor_name("", "Scarlet", "a3W7EEfSWanTWyGkg"), "Scarlet");
        assert_eq!(visitor_name(" ", "", "a3W7EEfSWanTWyGkg"), "Visitor a3W7E");
    }

    #[test]
    fn seed_channel() {
        assert_eq!(base_channel_name("+33123456789", "x"), "z-33123456789");
        assert_eq!(base_channel_name("Visitor a3W7E", "x"), "z-visitor-a3w7e");
        assert_eq!(
            base_channel_name("Jean--Marie  Dupré!", "x"),
            "z-jean-marie-dupr"
        );
        assert_eq!(base_channel_name("my_name", "x"), "z-my_name");
        assert_eq!(
            base_channel_name("日本", "a3W7EEfSWanTWyGkg"),
            "z-a3w7eefswantwygkg"
        );
    }

    #[test]
    fn suffixes_on_clash() {
        let taken: HashSet<&str> = ["z-bob", "z-bob-2"].into();
        assert_eq!(
            first_free_channel("z-bob", |c| taken.contains(c)),
            "z-bob-3"
        );
        assert_eq!(first_free_channel("z-ann", |c| taken.contains(c)), "z-ann");
    }

    proptest! {
        #[test]
        fn slugs_use_only_the_allowed_characters(name in ".{0,200}") {
            let s = slug(&name);
            prop_assert!(s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-'));
            prop_assert!(!s.starts_with('-') && !s.ends_with('-'));
            prop_assert!(!s.contains("--"));
        }

        #[test]
        fn channels_fit_slack(name in ".{0,300}", n in 1u32..100_000) {
            let base = base_channel_name(&name, "a3W7EEfSWanTWyGkg");
            let c = channel_candidate(&base, n);
            prop_assert!(c.len() <= MAX_CHANNEL_LEN);
            prop_assert!(c.starts_with("z-") && c.len() > 2);
        }

        #[test]
        fn candidates_are_unique(name in "[a-z ]{70,120}") {
            let base = base_channel_name(&name, "a3W7EEfSWanTWyGkg");
            let all: HashSet<String> = (1..300).map(|n| channel_candidate(&base, n)).collect();
            prop_assert_eq!(all.len(), 299);
        }
    }
}
