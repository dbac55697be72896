//! Chaos: 5,000 events over 100 channels to a receiver that at random answers 500, resets the
//! connection, hangs past the delivery timeout, answers slowly or answers 200 with a huge body
//! (`chaos_receiver.rs`; the seed is printed, and `CHAOS_SEED=<n>` replays one), and to a second
//! webhook that answers `410 Gone` once, with Palaver killed (`kill -9`) twice mid-run and
//! restarted on the same store. Every event reaches the chaotic endpoint, each channel's in order
//! (the first 2xx of each `webhook-id`, as received); the attempt log of sampled deliveries says
//! what the receiver saw, attempt by attempt; the gone webhook is disabled with the reason after
//! its first answer, sent nothing more than what was in flight, and its deliveries are held, not
//! failed; the final process stays within a generous memory bound.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::api::VisitorSession;
use crate::chaos_receiver::{Arrival, ChaosReceiver, Fate, by_delivery};
use crate::client::Call;
use crate::fixtures::named;
use crate::helpers::TestApp;
use crate::stores::{TestStore, on_every_store};

on_every_store!(five_thousand_events_through_chaos_and_two_kills,);

const CHANNELS: usize = 100;
/// Per channel: `start`, then the visitor's messages `m0` … `m48` (`m0` sent with the start).
const PER_CHANNEL: usize = 50;
const EVENTS: usize = CHANNELS * PER_CHANNEL;
/// The delivery timeout; a hang lasts three of them.
const TIMEOUT: Duration = Duration::from_secs(1);
/// Short, and long enough (13 attempts) that no delivery runs out of them by bad luck.
const SCHEDULE: &str = "100ms,200ms,300ms,500ms,500ms,1s,1s,1s,1s,1s,1s,1s";
/// Kills when this many events of the channels were delivered.
const KILL_AT: [usize; 2] = [1_200, 3_500];
/// How long everything may take to arrive.
const WITHIN: Duration = Duration::from_secs(240);
/// The final process's resident memory must stay below this.
const RSS_BOUND_KB: u64 = 256 * 1024;
/// Deliveries whose attempt log is compared with what the receiver saw.
const SAMPLED: usize = 150;

async fn five_thousand_events_through_chaos_and_two_kills(store: TestStore) {
    let seed = std::env::var("CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random::<u64>);
    eprintln!("chaos seed {seed} (replay with CHAOS_SEED={seed})");
    let receiver = ChaosReceiver::start(seed, TIMEOUT * 3).await;
    let app = TestApp::builder(store)
        .retry_schedule(SCHEDULE)
        .delivery_timeout("1s")
        .spawn()
        .await;
    let app = Arc::new(app);
    let hook = app.create_webhook(&receiver.url("/chaos"), None).await;
    let gone = app.create_webhook(&receiver.url("/gone"), None).await;

    // The producers: one task per channel, each message acknowledged before the next, retried
    // under the same Idempotency-Key when the server was killed under it.
    let (up_tx, up_rx) = watch::channel(0u32);
    let mut producers = Vec::new();
    for c in 0..CHANNELS {
        producers.push(tokio::spawn(channel(app.clone(), up_rx.clone(), c)));
    }

    let mut kills = Vec::new();
    for (n, at) in KILL_AT.into_iter().enumerate() {
        let what = format!("{at} events delivered before kill {}", n + 1);
        receiver.wait_accepted(&what, at, WITHIN).await;
        let killed_at = Instant::now();
        app.kill().await;
        app.restart().await;
        kills.push((killed_at, Instant::now()));
        up_tx.send_modify(|g| *g += 1);
        eprintln!("kill {} after {at} events delivered; restarted", n + 1);
    }
    let mut visitors = Vec::new();
    for p in producers {
        visitors.push(p.await.expect("producer"));
    }

    let arrivals = receiver
        .wait_accepted("every event delivered", EVENTS, WITHIN)
        .await;
    let fates = count_fates(&arrivals);
    eprintln!("{} requests: {fates:?}", arrivals.len());
    for fate in [Fate::Fail, Fate::Reset, Fate::Hang, Fate::Slow, Fate::Huge] {
        assert!(
            fates.get(&fate).copied().unwrap_or(0) > 0,
            "no {fate:?} met"
        );
    }
    assert_channels_in_order(&arrivals, &visitors);
    assert_attempts_logged(&app, &hook.id, &arrivals, &kills).await;
    assert_gone_disabled(&app, &gone.id, &arrivals).await;
    let rss = rss_kb(app.pid());
    eprintln!("final process: {} MiB resident", rss / 1024);
    assert!(
        rss < RSS_BOUND_KB,
        "the server holds {rss} KiB after the run (bound {RSS_BOUND_KB} KiB)"
    );
}

/// One channel: a visitor starts with `m0` and writes `m1` … `m48`. Answers the visitor.
async fn channel(app: Arc<TestApp>, up: watch::Receiver<u32>, c: usize) -> VisitorSession {
    let start = json!({ "identity": named(&format!("Chaos {c}")), "message": format!("c{c} m0") });
    let site = app.site_key().await;
    let key = format!("chaos-{c}-start");
    let answer = acknowledged(&app, &up, &key, |app| {
        app.call(Method::POST, "/api/v1/visitor/conversations")
            .header("x-site-key", &site)
            .json(&start)
    })
    .await;
    let v = VisitorSession::from_json(&answer);
    for i in 1..PER_CHANNEL - 1 {
        let key = format!("chaos-{c}-m{i}");
        let text = format!("c{c} m{i}");
        acknowledged(&app, &up, &key, |app| {
            app.visitor_message_call(&v.token, &v.conversation_id, &text)
        })
        .await;
    }
    v
}

/// Sends the call under `key` until the server answers 201 (a kill in between is waited out).
async fn acknowledged<'a>(
    app: &'a TestApp,
    up: &watch::Receiver<u32>,
    key: &str,
    call: impl Fn(&'a TestApp) -> Call<'a>,
) -> Value {
    let mut up = up.clone();
    loop {
        up.borrow_and_update();
        match call(app).header("idempotency-key", key).try_send().await {
            Ok(r) => return r.expect_json(201),
            // The server was killed under the call: wait for the restart, then again.
            Err(_) => up.changed().await.expect("the test is running"),
        }
    }
}

/// The arrivals the chaotic endpoint accepted (2xx), the first of each `webhook-id`.
fn delivered(arrivals: &[Arrival]) -> Vec<&Arrival> {
    let mut seen = HashSet::new();
    arrivals
        .iter()
        .filter(|a| a.path == "/chaos" && a.fate.status() == Some(200))
        .filter(|a| seen.insert(a.webhook_id.as_str()))
        .collect()
}

fn count_fates(arrivals: &[Arrival]) -> HashMap<Fate, usize> {
    let mut n = HashMap::new();
    for a in arrivals {
        *n.entry(a.fate).or_default() += 1;
    }
    n
}

/// Each channel got its events once each, in order ([`crate::chaos_receiver::Arrival::events`]).
fn assert_channels_in_order(arrivals: &[Arrival], visitors: &[VisitorSession]) {
    let mut seen: HashMap<&str, Vec<usize>> = HashMap::new();
    for a in delivered(arrivals) {
        for (visitor, n) in &a.events {
            seen.entry(visitor).or_default().push(*n);
        }
    }
    let mut twice: HashMap<(&str, usize), Vec<&str>> = HashMap::new();
    for a in delivered(arrivals) {
        for (visitor, n) in &a.events {
            twice.entry((visitor, *n)).or_default().push(&a.webhook_id);
        }
    }
    twice.retain(|_, ids| ids.len() > 1);
    assert!(
        twice.is_empty(),
        "events delivered under several webhook-ids: {twice:?}"
    );
    let expected: Vec<usize> = (0..PER_CHANNEL).collect();
    for v in visitors {
        let got = seen.get(v.visitor_id.as_str()).cloned().unwrap_or_default();
        assert_eq!(
            got, expected,
            "channel {} ({}) as received",
            v.channel_name, v.visitor_id
        );
    }
}

/// For sampled deliveries no kill could have cut short, the attempt log has one attempt per
/// request the receiver got, each with what it was answered. A kill cuts short the attempts in
/// flight (sent up to a timeout before it) and the receiver may read what the dead process sent
/// a little late: deliveries with a request from shortly before a kill to shortly after the
/// restart (`kills`: when each kill was sent and when the server was up again) are left out.
async fn assert_attempts_logged(
    app: &TestApp,
    hook: &str,
    arrivals: &[Arrival],
    kills: &[(Instant, Instant)],
) {
    let cut = |a: &Arrival| {
        kills
            .iter()
            .any(|(kill, up)| a.at + TIMEOUT * 3 > *kill && a.at < *up + TIMEOUT)
    };
    let mut sample: Vec<(String, Vec<Arrival>)> = by_delivery(arrivals)
        .into_iter()
        .filter(|(_, a)| !a.iter().any(cut))
        .collect();
    // The troubled ones first (several attempts), then any.
    sample.sort_by_key(|(id, a)| (std::cmp::Reverse(a.len().min(3)), id.clone()));
    sample.truncate(SAMPLED);
    let mut multi = 0;
    for (id, seen) in &sample {
        let d = app.delivery(hook, id).await;
        let log = d["attemptLog"].as_array().expect("attemptLog");
        assert_eq!(
            log.len(),
            seen.len(),
            "{id}: attempts {log:#?}, received {seen:#?}"
        );
        multi += usize::from(seen.len() > 1);
        for (attempt, got) in log.iter().zip(seen) {
            let error = attempt["error"].as_str().unwrap_or_default();
            if error.contains("timed out") && got.fate != Fate::Hang {
                // A receiver too busy to answer in time: it answered after the attempt gave up.
                let at = chrono::DateTime::parse_from_rfc3339(attempt["at"].as_str().unwrap())
                    .expect("an attempt's time")
                    .timestamp_millis();
                let gave_up = at + attempt["durationMs"].as_i64().unwrap();
                let answered = got.answered_ms.get().copied().unwrap_or(i64::MAX);
                assert!(answered + 50 >= gave_up, "{id}: {attempt} for {got:?}");
                continue;
            }
            let status = attempt["statusCode"].as_u64().map(|s| s as u16);
            assert_eq!(status, got.fate.status(), "{id}: {attempt} for {got:?}");
            match got.fate {
                Fate::Hang => assert!(error.contains("timed out"), "{id}: {attempt}"),
                Fate::Reset => assert!(!error.is_empty(), "{id}: {attempt}"),
                Fate::Huge => {
                    let kept = attempt["responseBody"].as_str().unwrap_or_default();
                    assert!(
                        kept.len() <= 1024 && kept.starts_with("xxxx"),
                        "{id}: {attempt}"
                    );
                }
                _ => {}
            }
        }
        assert_eq!(d["status"], "delivered", "{id}: {d}");
    }
    assert!(
        multi >= 50,
        "only {multi} sampled deliveries had several attempts"
    );
}

/// The webhook that answered `410 Gone` is disabled with the reason; it got nothing after the
/// requests in flight then (at most one per channel); none of its deliveries failed (held).
async fn assert_gone_disabled(app: &TestApp, id: &str, arrivals: &[Arrival]) {
    let sent: Vec<&Arrival> = arrivals.iter().filter(|a| a.path == "/gone").collect();
    assert_eq!(
        sent.first().map(|a| a.fate),
        Some(Fate::Gone),
        "the first is the 410"
    );
    eprintln!("the gone webhook got {} requests", sent.len());
    assert!(
        sent.len() <= CHANNELS,
        "the gone webhook got {} requests",
        sent.len()
    );
    let shown = app
        .api(Method::GET, &format!("/webhooks/{id}"))
        .send()
        .await
        .expect_json(200);
    assert_eq!(shown["enabled"], false, "{shown}");
    let reason = shown["disabledReason"].as_str().unwrap_or_default();
    assert!(reason.contains("410"), "{shown}");
    assert!(shown["disabledAt"].is_string(), "{shown}");
    let failed = app
        .list(&format!("/webhooks/{id}/deliveries?status=failed"))
        .await;
    assert!(failed.is_empty(), "held, not failed: {failed:?}");
}

/// The resident memory of process `pid`, in KiB.
fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/<pid>/status")
}
