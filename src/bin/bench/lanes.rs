//! The lanes scenario: long lanes of a slow endpoint beside a healthy one on the same channels.
//!
//! Visitors start the lanes' conversations (before any webhook: their lanes hold only what is
//! seeded), a slow endpoint subscribes to every event of the team — its receiver answers after
//! [`SLOW_DELAY`], its `maxInFlight` is the number of lanes, so that every lane's head can be in
//! flight and none more — and, with the server stopped, each of those channels' lanes gets
//! `lane_length` pending deliveries for it, the first due, the rest waiting. Then the plain burst
//! runs to a healthy endpoint on the same receiver, its first conversations being the lanes'
//! (the rest start in the burst, as in the plain one): each event fans out to both endpoints,
//! adding one more waiting delivery behind the slow endpoint's long lane while the healthy
//! endpoint's delivery of it must find its own lane's head and promote the next as fast as in a
//! lane of its own.

use super::load::{Api, all_events};
use super::receiver::{Receiver, SLOW_DELAY};
use super::scenarios::{percentile, run_burst_with};
use super::seed::{self, Lanes};
use super::servers::Servers;
use super::{Results, Sizes, Target};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

pub async fn lanes(sizes: &Sizes, target: &Target, r: &mut Results) {
    let (dir, url) = target.place("lanes").await;
    let mut receiver = Receiver::start(Duration::ZERO).await;
    let server = Servers::start(&dir, url.as_deref(), &[], 1).await;
    let api = Arc::new(Api::connect(&server.bases()).await);
    let channels = api.visitors(sizes.lanes, sizes.concurrency).await;
    let slow = api
        .webhook_with(json!({
            "url": receiver.slow_url,
            "events": all_events(),
            "maxInFlight": sizes.lanes,
        }))
        .await;
    server.stop().await;
    let length = sizes.lanes * sizes.lane_length;
    let lanes = Lanes::OfVisitors(sizes.lanes);
    seed::pending(&dir, url.as_deref(), &slow, length, "lanes", lanes).await;

    let server = target.serve(&dir, url.as_deref(), &[]).await;
    let api = Arc::new(Api::connect(&server.bases()).await);
    api.webhook(&receiver.url).await;
    let slow_before = receiver.slow_count();
    let (_, delivery, lat) = run_burst_with(sizes, &api, &mut receiver, channels).await;
    r.lanes_delivery_rps = delivery;
    r.lanes_p50_ms = percentile(&lat, 0.5);
    r.lanes_p99_ms = percentile(&lat, 0.99);
    r.lanes_slow_delivered = (receiver.slow_count() - slow_before) as f64;
    r.lanes_cpu_s = server.cpu_seconds();
    r.lanes_rss_mb = server.peak_rss_mb();
    server.stop().await;
    eprintln!(
        "  lanes: healthy {delivery:.0}/s; the slow endpoint ({} ms, maxInFlight {}) took {:.0} meanwhile",
        SLOW_DELAY.as_millis(),
        sizes.lanes,
        r.lanes_slow_delivered
    );
}
