//! The measurements. Each scenario runs against a fresh server and data dir.

use super::load::{self, Answers, Api, Visitor};
use super::receiver::Receiver;
use super::servers::Servers;
use super::{Results, Sizes, Target, pgstats};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The baseline's body size when the burst did not run to say what a webhook weighs.
pub const DEFAULT_BODY: usize = 700;
/// The batching webhook's `batchSize` in the batched burst.
pub const BATCH_SIZE: usize = 50;
/// How long any wait for deliveries may take before the bench gives up on it.
pub const DRAIN_LIMIT: Duration = Duration::from_secs(600);

/// The loopback HTTP limit: the same receiver, hit directly with the same concurrency and the
/// same body size (`body_bytes`: the burst's mean webhook body).
pub async fn baseline(sizes: &Sizes, body_bytes: usize) -> f64 {
    let mut receiver = Receiver::start(Duration::ZERO).await;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .build()
        .unwrap();
    let filler = body_bytes.saturating_sub(r#"[{"text":""}]"#.len());
    let body = format!("[{{\"text\":\"{}\"}}]", "x".repeat(filler));
    let total = sizes.burst_events;
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..sizes.concurrency {
        let (client, body, url, next) = (
            client.clone(),
            body.clone(),
            receiver.url.clone(),
            next.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < total {
                client
                    .post(&url)
                    .body(body.clone())
                    .send()
                    .await
                    .expect("baseline POST");
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    receiver.wait_for(total as u64, DRAIN_LIMIT).await;
    total as f64 / started.elapsed().as_secs_f64()
}

/// Accept → arrival latencies in milliseconds, sorted.
pub fn latencies(receiver: &Receiver, answers: &Answers) -> Vec<f64> {
    let mut ms: Vec<f64> = answers
        .iter()
        .filter_map(|(tag, answered)| {
            receiver
                .arrival(*tag)
                .map(|a| a.saturating_duration_since(*answered).as_secs_f64() * 1000.0)
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    ms
}

pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// The servers with a webhook to a fresh receiver; and the database's URL on PostgreSQL.
pub async fn setup(
    target: &Target,
    tag: &str,
    delay: Duration,
    env: &[(&str, String)],
) -> (Servers, Arc<Api>, Receiver, Option<String>) {
    setup_batched(target, tag, delay, env, 1).await
}

/// [`setup`], the webhook taking up to `batch_size` events per request.
async fn setup_batched(
    target: &Target,
    tag: &str,
    delay: Duration,
    env: &[(&str, String)],
    batch_size: usize,
) -> (Servers, Arc<Api>, Receiver, Option<String>) {
    let (dir, url) = target.place(tag).await;
    let server = target.serve(&dir, url.as_deref(), env).await;
    let receiver = Receiver::start_counting(delay, batch_size > 1).await;
    let api = Arc::new(Api::connect(&server.bases()).await);
    let id = api.webhook(&receiver.url).await;
    if batch_size > 1 {
        api.batch(&id, batch_size).await;
    }
    (server, api, receiver, url)
}

/// The burst: many conversations, as fast as accepted; fills accept, delivery, latency figures.
pub async fn run_burst(
    sizes: &Sizes,
    api: &Arc<Api>,
    receiver: &mut Receiver,
) -> (f64, f64, Vec<f64>) {
    run_burst_with(sizes, api, receiver, Vec::new()).await
}

/// The burst, its first conversations being `known`'s, started before it (their `start` events
/// are not the burst's); the rest start in it. Messages go to all in turn.
pub async fn run_burst_with(
    sizes: &Sizes,
    api: &Arc<Api>,
    receiver: &mut Receiver,
    known: Vec<Visitor>,
) -> (f64, f64, Vec<f64>) {
    let started = Instant::now();
    let mut visitors = known;
    let starts = sizes.burst_conversations.saturating_sub(visitors.len());
    visitors.extend(api.visitors(starts, sizes.concurrency).await);
    let messages = sizes.burst_events - sizes.burst_conversations;
    let (answers, took) = load::burst(api, &visitors, messages, sizes.concurrency, 0).await;
    let accept_rps = messages as f64 / took.as_secs_f64();
    let events = starts + messages;
    let last = receiver
        .wait_for(events as u64, DRAIN_LIMIT)
        .await
        .expect("every burst event arrives");
    let delivery_rps = events as f64 / last.duration_since(started).as_secs_f64();
    (accept_rps, delivery_rps, latencies(receiver, &answers))
}

pub async fn burst(sizes: &Sizes, target: &Target, r: &mut Results) {
    let (server, api, mut receiver, url) = setup(target, "burst", Duration::ZERO, &[]).await;
    let before = pgstats::read(url.as_deref()).await;
    let (accept, delivery, lat) = run_burst(sizes, &api, &mut receiver).await;
    r.burst_body_bytes = receiver.bytes() as f64 / sizes.burst_events as f64;
    r.accept_rps = accept;
    r.delivery_rps = delivery;
    r.burst_p50_ms = percentile(&lat, 0.5);
    r.burst_p99_ms = percentile(&lat, 0.99);
    r.burst_cpu_s = server.cpu_seconds();
    r.burst_rss_mb = server.peak_rss_mb();
    server.stop().await;
    let after = pgstats::read(url.as_deref()).await;
    r.burst_pg = pgstats::per_event(before, after, sizes.burst_events as u64);
}

/// The burst to a webhook that opted into batches of up to `BATCH_SIZE` events.
pub async fn batched(sizes: &Sizes, target: &Target, r: &mut Results) {
    let (server, api, mut receiver, _) =
        setup_batched(target, "batched", Duration::ZERO, &[], BATCH_SIZE).await;
    let (_, delivery, _) = run_burst(sizes, &api, &mut receiver).await;
    r.batch_delivery_rps = delivery;
    r.batch_events_per_request = sizes.burst_events as f64 / receiver.requests() as f64;
    r.batch_cpu_s = server.cpu_seconds();
    r.batch_rss_mb = server.peak_rss_mb();
    server.stop().await;
}

pub async fn backlog(sizes: &Sizes, target: &Target, r: &mut Results) {
    let (dir, url) = target.place("backlog").await;
    let server = Servers::start(&dir, url.as_deref(), &[], 1).await;
    let api = Arc::new(Api::connect(&server.bases()).await);
    // The dead endpoint listens for `end` only, which the burst never fires: what is measured is
    // the backlog's effect, not the cost of fanning every new event out to a second endpoint.
    let dead = api.webhook_for("http://127.0.0.1:9/hook", &["end"]).await;
    server.stop().await;
    super::seed::backlog(&dir, url.as_deref(), &dead, sizes.backlog).await;
    let server = target.serve(&dir, url.as_deref(), &[]).await;
    let mut receiver = Receiver::start(Duration::ZERO).await;
    let api = Arc::new(Api::connect(&server.bases()).await);
    api.webhook(&receiver.url).await;
    let (_, delivery, _) = run_burst(sizes, &api, &mut receiver).await;
    r.backlog_delivery_rps = delivery;
    r.backlog_cpu_s = server.cpu_seconds();
    r.backlog_rss_mb = server.peak_rss_mb();
    server.stop().await;
}

pub async fn slow(sizes: &Sizes, target: &Target, r: &mut Results) {
    let (server, api, mut receiver, _) =
        setup(target, "slow", Duration::from_millis(100), &[]).await;
    let started = Instant::now();
    let visitors = api.visitors(sizes.slow_events / 4, sizes.concurrency).await;
    let rest = sizes.slow_events - visitors.len();
    load::burst(&api, &visitors, rest, sizes.concurrency, 0).await;
    let last = receiver
        .wait_for(sizes.slow_events as u64, DRAIN_LIMIT)
        .await
        .expect("every slow event arrives");
    r.slow_rps = sizes.slow_events as f64 / last.duration_since(started).as_secs_f64();
    r.slow_cpu_s = server.cpu_seconds();
    r.slow_rss_mb = server.peak_rss_mb();
    server.stop().await;
}

/// One long conversation: server CPU per event and payload size, early and late.
pub async fn long(sizes: &Sizes, target: &Target, r: &mut Results) {
    let (server, api, mut receiver, _) = setup(target, "long", Duration::ZERO, &[]).await;
    let visitor = api.visitors(1, 1).await.remove(0);
    let window = (sizes.long_messages / 10).max(1);
    let mut tag = 0;
    let mut sent = 1; // the start event
    let measure = |cpu_before: f64, bytes_before: u64, server: &Servers, receiver: &Receiver| {
        let cpu = (server.cpu_seconds() - cpu_before) * 1000.0 / window as f64;
        let bytes = (receiver.bytes() - bytes_before) as f64 / window as f64;
        (cpu, bytes)
    };
    let mut early = (0.0, 0.0);
    let mut late = (0.0, 0.0);
    for w in 0..10 {
        let (cpu0, bytes0) = (server.cpu_seconds(), receiver.bytes());
        for _ in 0..window {
            api.message(&visitor, tag).await;
            tag += 1;
        }
        sent += window as u64;
        receiver
            .wait_for(sent, DRAIN_LIMIT)
            .await
            .expect("long conversation events arrive");
        if w == 0 {
            early = measure(cpu0, bytes0, &server, &receiver);
        }
        if w == 9 {
            late = measure(cpu0, bytes0, &server, &receiver);
        }
    }
    (r.long_early_cpu_ms, r.long_early_bytes) = early;
    (r.long_late_cpu_ms, r.long_late_bytes) = late;
    r.long_rss_mb = server.peak_rss_mb();
    server.stop().await;
    if target.database_url.is_none() {
        let dirs = std::fs::read_dir(target.root.path())
            .into_iter()
            .flatten()
            .flatten();
        let bytes: u64 = dirs
            .filter(|d| d.file_name().to_string_lossy().starts_with("long-"))
            .map(|d| dir_bytes(&d.path()))
            .sum();
        r.long_stored_bytes = bytes as f64 / sizes.long_messages as f64;
    }
}

/// The bytes of the files under `dir`.
fn dir_bytes(dir: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}
