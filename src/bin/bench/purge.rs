//! The backlog scenario while retention purges a million rows (`--only purge`): the same data
//! twice — the backlog's pending deliveries for a dead endpoint, and a million deliveries
//! delivered long ago, each with its attempt — then the burst to a healthy endpoint, once with
//! `--retention off` and once with the default retention, whose first sweep starts with the
//! server. The two runs of a pair go in turns (which one first alternates with the run), so
//! that a busy neighbour on the machine weighs on both alike.

use super::load::Api;
use super::receiver::Receiver;
use super::scenarios::{percentile, run_burst};
use super::{Results, Sizes, Target};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long the purge may take before the bench gives up waiting for it.
const PURGE_LIMIT: Duration = Duration::from_secs(1800);

/// One pair; `run` says which goes first.
pub async fn pair(sizes: &Sizes, target: &Target, run: usize, r: &mut Results) {
    let odd = !run.is_multiple_of(2);
    for purging in [odd, !odd] {
        one(sizes, target, purging, r).await;
    }
    r.purge_ratio = r.purge_on_delivery_rps / r.purge_off_delivery_rps;
    eprintln!(
        "  pair: without {:.0}/s (p50 {:.1}, p99 {:.1} ms), with the purge {:.0}/s (p50 {:.1}, p99 {:.1} ms) = {:.2}×; purge {:.1} s",
        r.purge_off_delivery_rps,
        r.purge_off_p50_ms,
        r.purge_off_p99_ms,
        r.purge_on_delivery_rps,
        r.purge_on_p50_ms,
        r.purge_on_p99_ms,
        r.purge_ratio,
        r.purge_seconds
    );
}

async fn one(sizes: &Sizes, target: &Target, purging: bool, r: &mut Results) {
    let (dir, url) = target
        .place(if purging { "purge-on" } else { "purge-off" })
        .await;
    let retention = if purging { "30d" } else { "off" };
    let env = [("PALAVER_RETENTION", retention.to_string())];
    let server = target.serve(&dir, url.as_deref(), &env).await;
    let api = Arc::new(Api::connect(&server.bases()).await);
    let dead = api.webhook_for("http://127.0.0.1:9/hook", &["end"]).await;
    server.stop().await;
    let old = super::seed::old_delivered(&dir, url.as_deref(), &dead, sizes.purged).await;
    super::seed::backlog(&dir, url.as_deref(), &dead, sizes.backlog).await;

    let server = target.serve(&dir, url.as_deref(), &env).await;
    let started = Instant::now();
    let mut receiver = Receiver::start(Duration::ZERO).await;
    let api = Arc::new(Api::connect(&server.bases()).await);
    api.webhook(&receiver.url).await;
    let (_, delivery, lat) = run_burst(sizes, &api, &mut receiver).await;
    let (p50, p99) = (percentile(&lat, 0.5), percentile(&lat, 0.99));
    if !purging {
        (
            r.purge_off_delivery_rps,
            r.purge_off_p50_ms,
            r.purge_off_p99_ms,
        ) = (delivery, p50, p99);
        server.stop().await;
        return;
    }
    (
        r.purge_on_delivery_rps,
        r.purge_on_p50_ms,
        r.purge_on_p99_ms,
    ) = (delivery, p50, p99);
    let store = (dir.as_path(), url.as_deref());
    let running = super::seed::any_delivery_of(store.0, store.1, old).await;
    r.purge_running_after_burst = if running { 1.0 } else { 0.0 };
    if !running {
        eprintln!(
            "  the purge ended before the burst did: the burst did not run beside it all along"
        );
    }
    while super::seed::any_delivery_of(store.0, store.1, old).await {
        assert!(started.elapsed() < PURGE_LIMIT, "the purge ends in time");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    r.purge_seconds = started.elapsed().as_secs_f64();
    r.purge_cpu_s = server.cpu_seconds();
    r.purge_rss_mb = server.peak_rss_mb();
    server.stop().await;
}

/// The pair's rows in the results table, when it ran.
pub fn print(r: &Results, s: &Sizes) {
    if r.purge_on_delivery_rps <= 0.0 {
        return;
    }
    println!(
        "| backlog ({} pending) without / with a purge of {} delivered deliveries and their attempts | healthy endpoint's webhooks/s | {:.0} / {:.0} ({:.2}×) |",
        s.backlog, s.purged, r.purge_off_delivery_rps, r.purge_on_delivery_rps, r.purge_ratio
    );
    println!(
        "| | accept → arrival p50 / p99 without | {:.1} / {:.1} ms |",
        r.purge_off_p50_ms, r.purge_off_p99_ms
    );
    println!(
        "| | accept → arrival p50 / p99 with | {:.1} / {:.1} ms |",
        r.purge_on_p50_ms, r.purge_on_p99_ms
    );
    let running = match r.purge_running_after_burst > 0.5 {
        true => "yes",
        false => "NO",
    };
    println!(
        "| | purge time (server start → last row gone); still running when the burst ended | {:.1} s; {running} |",
        r.purge_seconds
    );
    println!(
        "| | server CPU / peak RSS | {:.1} s / {:.0} MB |",
        r.purge_cpu_s, r.purge_rss_mb
    );
}
