//! The results as a Markdown table, as BENCHMARKS.md records them.

use super::args::Sizes;
use super::pgstats::PerEvent;
use super::results::Results;
use super::scenarios;

/// What was measured, and on what.
pub struct Setting<'a> {
    pub sizes: &'a Sizes,
    pub runs: usize,
    pub postgres: bool,
    pub processes: usize,
    pub ran: &'a dyn Fn(&str) -> bool,
}

pub fn print(r: &Results, s: &Setting) {
    let (sizes, ran) = (s.sizes, s.ran);
    let store = if s.postgres { "PostgreSQL" } else { "SQLite" };
    let processes = match s.processes {
        1 => String::new(),
        n => format!(", {n} server processes (calls in turn)"),
    };
    println!(
        "Palaver bench — {store} store{processes}, concurrency {}, median of {} run(s)\n",
        sizes.concurrency, s.runs
    );
    println!("| scenario | figure | value |");
    println!("|---|---|---|");
    let server = |cpu: f64, rss: f64| match s.processes {
        1 => println!("| | server CPU / peak RSS | {cpu:.1} s / {rss:.0} MB |"),
        n => println!(
            "| | server CPU (sum of {n} processes) / peak RSS (largest process) | {cpu:.1} s / {rss:.0} MB |"
        ),
    };
    // A share of the baseline, when the baseline ran.
    let share = |rps: f64| match ran("baseline") {
        true => format!(" ({:.1}% of baseline)", rps / r.baseline_rps * 100.0),
        false => String::new(),
    };
    // A ratio to the plain burst, when the burst ran.
    let against_burst = |ratio: f64| match ran("burst") {
        true => format!(" ({ratio:.2}× the burst)"),
        false => String::new(),
    };
    if ran("baseline") {
        println!(
            "| baseline | loopback POSTs/s (plain client → receiver, {:.0}-byte bodies) | {:.0} |",
            r.baseline_body_bytes, r.baseline_rps
        );
    }
    if ran("burst") {
        println!(
            "| burst ({} events, {} conversations) | accepted API calls/s | {:.0} |",
            sizes.burst_events, sizes.burst_conversations, r.accept_rps
        );
        println!(
            "| | delivered webhooks/s | {:.0}{} |",
            r.delivery_rps,
            share(r.delivery_rps)
        );
        println!(
            "| | accept → arrival p50 / p99 | {:.1} / {:.1} ms |",
            r.burst_p50_ms, r.burst_p99_ms
        );
        server(r.burst_cpu_s, r.burst_rss_mb);
        postgres(&r.burst_pg, s.postgres);
    }
    if ran("batched") {
        println!(
            "| batched burst (batchSize {}) | delivered events/s | {:.0}{}, {:.1} events per request |",
            scenarios::BATCH_SIZE,
            r.batch_delivery_rps,
            share(r.batch_delivery_rps),
            r.batch_events_per_request
        );
        server(r.batch_cpu_s, r.batch_rss_mb);
    }
    if ran("steady") {
        println!(
            "| steady ({}/s for {} s) | accept → arrival p50 / p99 / max | {:.2} / {:.2} / {:.1} ms |",
            sizes.steady_rate,
            sizes.steady_duration.as_secs(),
            r.steady_p50_ms,
            r.steady_p99_ms,
            r.steady_max_ms
        );
        println!(
            "| | offered / delivered events/s (same window) | {:.0} / {:.0} ({:.1}%) |",
            r.steady_offered_rps,
            r.steady_delivered_rps,
            r.steady_delivered_rps / r.steady_offered_rps * 100.0
        );
        println!(
            "| | behind when the offered load stopped: events not yet arrived / seconds to drain them | {:.0} / {:.3} s |",
            r.steady_behind_events, r.steady_drain_s
        );
        server(r.steady_cpu_s, r.steady_rss_mb);
        postgres(&r.steady_pg, s.postgres);
    }
    if ran("backlog") {
        println!(
            "| backlog ({} pending for a dead endpoint) | healthy endpoint's webhooks/s | {:.0}{} |",
            sizes.backlog,
            r.backlog_delivery_rps,
            against_burst(r.backlog_ratio)
        );
        server(r.backlog_cpu_s, r.backlog_rss_mb);
    }
    if ran("lanes") {
        println!(
            "| lanes ({} lanes × {} pending for a slow endpoint) | healthy endpoint's webhooks/s | {:.0}{} |",
            sizes.lanes,
            sizes.lane_length,
            r.lanes_delivery_rps,
            against_burst(r.lanes_ratio)
        );
        println!(
            "| | accept → arrival p50 / p99; slow endpoint's deliveries meanwhile | {:.1} / {:.1} ms; {:.0} |",
            r.lanes_p50_ms, r.lanes_p99_ms, r.lanes_slow_delivered
        );
        server(r.lanes_cpu_s, r.lanes_rss_mb);
    }
    super::purge::print(r, sizes);
    if ran("slow") {
        println!(
            "| slow receiver (100 ms, {} events) | webhooks/s | {:.0} |",
            sizes.slow_events, r.slow_rps
        );
        server(r.slow_cpu_s, r.slow_rss_mb);
    }
    if ran("long") {
        println!(
            "| long conversation ({} messages) | server CPU per event, first / last tenth | {:.2} / {:.2} ms |",
            sizes.long_messages, r.long_early_cpu_ms, r.long_late_cpu_ms
        );
        println!(
            "| | payload bytes per event, first / last tenth | {:.0} / {:.0} |",
            r.long_early_bytes, r.long_late_bytes
        );
        if !s.postgres {
            println!(
                "| | database size after it, per message | {:.0} bytes |",
                r.long_stored_bytes
            );
        }
    }
    let largest = match s.processes {
        1 => "",
        _ => " (largest process)",
    };
    println!("| all | peak RSS{largest} | {:.0} MB |", r.peak_rss_mb);
    if r.busy_retries > 0.0 {
        println!(
            "| all | visitor messages answered 503 (busy) and sent again | {:.0} |",
            r.busy_retries
        );
    }
}

/// PostgreSQL's work per delivered event (nothing on SQLite).
fn postgres(p: &PerEvent, postgres: bool) {
    if !postgres {
        return;
    }
    let f = |v: Option<f64>, digits: usize| match v {
        Some(v) => format!("{v:.digits$}"),
        None => "n/a".to_string(),
    };
    println!(
        "| | PostgreSQL per delivered event: transactions / WAL syncs / WAL bytes / statements | {} / {} / {} / {} |",
        f(p.transactions, 2),
        f(p.wal_syncs, 3),
        f(p.wal_bytes, 0),
        f(p.statements, 1)
    );
}
