//! The `bench` binary still runs: a small burst, a batched burst and the baseline, as JSON with
//! the figures the benchmarks issue names. (The figures themselves are the bench's business,
//! never asserted here.)

use std::process::Command;

#[test]
fn the_bench_runs_and_reports_its_figures() {
    let out = Command::new(env!("CARGO_BIN_EXE_bench"))
        .args(["--quick", "--json", "--only", "burst,batched,baseline"])
        .output()
        .expect("run the bench");
    assert!(
        out.status.success(),
        "bench failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let figures: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("one JSON object on stdout");
    for key in [
        "baseline_rps",
        "accept_rps",
        "delivery_rps",
        "delivery_ratio",
        "steady_p50_ms",
        "steady_p99_ms",
        "burst_p99_ms",
        "backlog_ratio",
        "peak_rss_mb",
        "batch_delivery_rps",
        "batch_events_per_request",
    ] {
        assert!(figures.get(key).is_some(), "no {key} in {figures}");
    }
    for key in [
        "baseline_rps",
        "delivery_rps",
        "batch_delivery_rps",
        "peak_rss_mb",
    ] {
        assert!(
            figures[key].as_f64().is_some_and(|v| v > 0.0),
            "{key} measured: {figures}"
        );
    }
}
