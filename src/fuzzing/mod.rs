//! Fuzz targets: one function per parser of outside input, taking the fuzzer's bytes and
//! asserting the parser's properties: it never panics and, where it can be said, its answer
//! round-trips or agrees with a second formulation of the rule. `fuzz/` (cargo-fuzz) runs each
//! under libFuzzer; `tests/fuzz_corpus.rs` replays every file of every target's corpus
//! (`fuzz/corpus/<target>/`) through the same function on every `cargo test`.
//!
//! Like `server`, this sits above every module and nothing of the product uses it.

mod api;
mod delivery;
mod slack;
mod visitor;

/// A target: the fuzzer's bytes in, a panic if a property does not hold.
pub type Target = fn(&[u8]);

/// Every target by name: the name of its `fuzz/fuzz_targets/*.rs` and of its corpus folder.
pub const TARGETS: &[(&str, Target)] = &[
    ("api_body", api::body),
    ("page_query", api::page_query),
    ("idempotency_key", api::idempotency_key),
    ("visitor_identity", visitor::identity),
    ("widget_settings", visitor::widget_settings),
    ("client_ip", visitor::client_ip),
    ("cookie", visitor::cookie),
    ("retry_schedule", delivery::retry_schedule),
    ("webhook_verify", delivery::webhook_verify),
    ("webhook_retry_after", delivery::webhook_retry_after),
    ("destination", delivery::destination),
    ("slack_signature", slack::signature),
    ("slack_events", slack::events),
    ("slack_retry_after", slack::retry_after),
];

/// Runs target `name` on `data`; `false` if there is no such target.
pub fn run(name: &str, data: &[u8]) -> bool {
    match TARGETS.iter().find(|(n, _)| *n == name) {
        Some((_, target)) => {
            target(data);
            true
        }
        None => false,
    }
}

/// `data` cut into `n` parts at each `0xFF` byte (which UTF-8 text never holds), the last part
/// keeping the rest; missing parts are empty.
fn parts(data: &[u8], n: usize) -> Vec<&[u8]> {
    let mut out: Vec<&[u8]> = data.splitn(n, |b| *b == 0xFF).collect();
    out.resize(n, &[]);
    out
}

/// `data` cut into `n` strings, as [`parts`] (invalid UTF-8 replaced).
fn texts(data: &[u8], n: usize) -> Vec<String> {
    parts(data, n)
        .into_iter()
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect()
}

/// The first byte (to choose a case) and the rest.
fn choice(data: &[u8]) -> (u8, &[u8]) {
    match data.split_first() {
        Some((first, rest)) => (*first, rest),
        None => (0, data),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_cut_at_ff_bytes() {
        assert_eq!(
            parts(b"a\xFFb\xFFc\xFFd", 3),
            vec![&b"a"[..], b"b", b"c\xFFd"]
        );
        assert_eq!(parts(b"a", 3), vec![&b"a"[..], b"", b""]);
        assert_eq!(texts(b"\xC3\xA9\xFFx", 2), vec!["é", "x"]);
        assert_eq!(choice(b""), (0, &b""[..]));
        assert_eq!(choice(b"\x05ab"), (5, &b"ab"[..]));
    }

    #[test]
    fn every_target_is_found_by_name() {
        for (name, _) in TARGETS {
            assert!(run(name, b""), "{name}");
        }
        assert!(!run("nothing", b""));
    }
}
