//! The in-memory caches are bounded in bytes: many long conversations (each message near the
//! 10,000-character cap) through a server whose conversation cache may hold 1 MiB keep that
//! cache within it, as its own accounting at `/metrics` says, with the least recently used
//! visitors evicted — and the webhooks built after an eviction still carry the whole transcript.

use reqwest::Method;

use crate::fixtures::named;
use crate::helpers::TestApp;
use crate::payload::texts;
use crate::receiver::Receiver;
use crate::stores::{TestStore, on_every_store};

on_every_store!(many_long_conversations_stay_within_the_cache_budget);

const VISITORS: usize = 30;
const MESSAGES: usize = 8;
const BUDGET: u64 = 1 << 20;

/// The value of `palaver_cache_*{cache="name"}` at `/metrics`.
async fn cache_metric(app: &TestApp, series: &str, cache: &str) -> u64 {
    let text = app.call(Method::GET, "/metrics").send().await.text();
    let prefix = format!("{series}{{cache=\"{cache}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {prefix} in /metrics:\n{text}"))
}

async fn many_long_conversations_stay_within_the_cache_budget(store: TestStore) {
    let app = TestApp::builder(store)
        .env("PALAVER_CONVERSATION_CACHE_MB", "1")
        .spawn()
        .await;
    let receiver = Receiver::start().await;
    app.create_webhook(&receiver.url(), Some(&["messageVisitor"]))
        .await;
    let mut visitors = Vec::new();
    for v in 0..VISITORS {
        visitors.push(app.visitor_start(named(&format!("Long {v}")), None).await);
    }
    // Round after round, every visitor writes a long message: each command finds its visitor
    // evicted since its last one, and reads them back.
    let mut most = 0;
    for m in 0..MESSAGES {
        for (v, s) in visitors.iter().enumerate() {
            let text = format!("{v}:{m} {}", "x".repeat(9_000));
            app.visitor_message(&s.token, &s.conversation_id, &text)
                .await;
        }
        let bytes = cache_metric(&app, "palaver_cache_bytes", "conversations").await;
        assert!(bytes <= BUDGET, "round {m}: the cache holds {bytes} bytes");
        most = most.max(bytes);
    }
    // Written: 30 conversations of some 150 KB of transcript each, far over the budget.
    assert!(
        most > BUDGET / 2,
        "the cache was used: at most {most} bytes"
    );
    let evicted = cache_metric(&app, "palaver_cache_evictions_total", "conversations").await;
    assert!(evicted >= VISITORS as u64, "only {evicted} evictions");
    let entries = cache_metric(&app, "palaver_cache_entries", "conversations").await;
    assert!(entries < VISITORS as u64, "{entries} visitors kept");

    // Every event's transcript is whole, however often its visitor was read back.
    let all = receiver
        .wait_for(VISITORS * MESSAGES, crate::helpers::WAIT)
        .await;
    for r in &all {
        let e = r.event();
        let t = texts(&e);
        let last = t.last().expect("a message");
        let (who, n) = last.split_once(' ').unwrap().0.split_once(':').unwrap();
        let n: usize = n.parse().unwrap();
        assert_eq!(t.len(), n + 1, "visitor {who}'s transcript at message {n}");
        for (i, text) in t.iter().enumerate() {
            assert!(
                text.starts_with(&format!("{who}:{i} ")),
                "{who}: message {i}"
            );
        }
    }
}
