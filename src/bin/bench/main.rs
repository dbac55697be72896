//! `bench`: measures Palaver's webhook delivery against this machine's loopback HTTP limit.
//! Starts everything it needs: the server (the `palaver` binary next to this one) on fresh data
//! dirs, a receiver and a load generator, all on loopback.

mod load;
mod purge;
mod receiver;
mod scenarios;
mod seed;
mod server;

use clap::Parser;
use palaver::store::testdb::TempDatabase;
use serde::Serialize;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::Mutex;

#[derive(Parser)]
#[command(about = "Measure Palaver's webhook delivery on loopback (build with --release first)")]
struct Args {
    /// A small version of every scenario, in about a minute.
    #[arg(long)]
    quick: bool,
    /// Print the results as one JSON object.
    #[arg(long)]
    json: bool,
    /// Run everything this many times and report the medians.
    #[arg(long, default_value_t = 1)]
    runs: usize,
    /// Measure on PostgreSQL: a server URL; each scenario gets a fresh database there.
    #[arg(long)]
    database_url: Option<String>,
    /// Only these scenarios (comma-separated: baseline,burst,batched,steady,backlog,slow,long;
    /// and purge, the backlog while retention purges a million rows, which runs only if named).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// API calls in flight in the burst, and baseline requests in flight.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
}

/// How big each scenario is.
pub struct Sizes {
    pub concurrency: usize,
    pub burst_conversations: usize,
    pub burst_events: usize,
    pub steady_rate: u64,
    pub steady_duration: Duration,
    pub backlog: usize,
    /// Deliveries delivered long ago, for retention to purge beside the backlog.
    pub purged: usize,
    pub slow_events: usize,
    pub long_messages: usize,
}

impl Sizes {
    fn full() -> Self {
        Sizes {
            concurrency: 64,
            burst_conversations: 1000,
            burst_events: 50_000,
            steady_rate: 1000,
            steady_duration: Duration::from_secs(30),
            backlog: 1_000_000,
            purged: 1_000_000,
            slow_events: 10_000,
            long_messages: 2000,
        }
    }

    fn quick() -> Self {
        Sizes {
            concurrency: 64,
            burst_conversations: 200,
            burst_events: 5_000,
            steady_rate: 1000,
            steady_duration: Duration::from_secs(5),
            backlog: 50_000,
            purged: 100_000,
            slow_events: 2_000,
            long_messages: 500,
        }
    }
}

/// Where scenarios keep their data: fresh dirs, and fresh PostgreSQL databases if asked.
pub struct Target {
    root: tempfile::TempDir,
    database_url: Option<String>,
    databases: Mutex<Vec<TempDatabase>>,
}

impl Target {
    /// A data dir, and a database URL when measuring PostgreSQL.
    pub async fn place(&self, tag: &str) -> (PathBuf, Option<String>) {
        let dir = self
            .root
            .path()
            .join(format!("{tag}-{}", palaver::domain::ids::random_string(6)));
        let url = match &self.database_url {
            None => None,
            Some(server) => {
                let db = TempDatabase::create(server)
                    .await
                    .expect("create a bench database");
                let url = db.url.clone();
                self.databases.lock().await.push(db);
                Some(url)
            }
        };
        (dir, url)
    }
}

/// Every figure, as `--json` prints it.
#[derive(Serialize, serde::Deserialize, Default, Clone)]
pub struct Results {
    pub baseline_rps: f64,
    /// The body size the baseline sent: the burst's mean webhook body.
    pub baseline_body_bytes: f64,
    /// The burst's mean webhook body.
    pub burst_body_bytes: f64,
    pub accept_rps: f64,
    pub delivery_rps: f64,
    pub delivery_ratio: f64,
    pub burst_p50_ms: f64,
    pub burst_p99_ms: f64,
    pub burst_cpu_s: f64,
    pub burst_rss_mb: f64,
    /// The same burst to a webhook with `batchSize` 50: events delivered per second.
    pub batch_delivery_rps: f64,
    pub batch_ratio: f64,
    pub batch_events_per_request: f64,
    pub batch_cpu_s: f64,
    pub batch_rss_mb: f64,
    pub steady_p50_ms: f64,
    pub steady_p99_ms: f64,
    pub steady_max_ms: f64,
    pub steady_cpu_s: f64,
    pub steady_rss_mb: f64,
    pub backlog_delivery_rps: f64,
    pub backlog_ratio: f64,
    pub backlog_cpu_s: f64,
    pub backlog_rss_mb: f64,
    /// The backlog scenario beside a purge (`--only purge`): without it, then with it.
    pub purge_off_delivery_rps: f64,
    pub purge_off_p50_ms: f64,
    pub purge_off_p99_ms: f64,
    pub purge_on_delivery_rps: f64,
    pub purge_on_p50_ms: f64,
    pub purge_on_p99_ms: f64,
    /// Delivered/s with the purge running, against without.
    pub purge_ratio: f64,
    /// 1 when the purge was still running when the burst ended (it ran beside all of it).
    pub purge_running_after_burst: f64,
    /// From the server's start to the last purged row.
    pub purge_seconds: f64,
    pub purge_cpu_s: f64,
    pub purge_rss_mb: f64,
    pub slow_rps: f64,
    pub slow_cpu_s: f64,
    pub slow_rss_mb: f64,
    pub long_early_cpu_ms: f64,
    pub long_late_cpu_ms: f64,
    pub long_early_bytes: f64,
    pub long_late_bytes: f64,
    pub long_rss_mb: f64,
    /// SQLite: the data directory's size after the long conversation, per message.
    pub long_stored_bytes: f64,
    pub peak_rss_mb: f64,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let mut sizes = if args.quick {
        Sizes::quick()
    } else {
        Sizes::full()
    };
    sizes.concurrency = args.concurrency.max(1);
    let wants = |s: &str| args.only.is_empty() || args.only.iter().any(|o| o == s);
    let mut runs = Vec::new();
    for run in 0..args.runs.max(1) {
        eprintln!("run {} of {}", run + 1, args.runs.max(1));
        let target = Target {
            root: tempfile::tempdir().expect("temp dir"),
            database_url: args.database_url.clone(),
            databases: Mutex::new(Vec::new()),
        };
        let mut r = Results::default();
        // The burst first: the baseline sends bodies of its webhooks' mean size.
        if wants("burst") {
            eprintln!("  burst…");
            scenarios::burst(&sizes, &target, &mut r).await;
        }
        if wants("baseline") {
            eprintln!("  baseline…");
            let body = match r.burst_body_bytes {
                b if b > 0.0 => b.round() as usize,
                _ => scenarios::DEFAULT_BODY,
            };
            r.baseline_body_bytes = body as f64;
            r.baseline_rps = scenarios::baseline(&sizes, body).await;
        }
        if wants("batched") {
            eprintln!("  batched burst…");
            scenarios::batched(&sizes, &target, &mut r).await;
        }
        if wants("steady") {
            eprintln!("  steady…");
            scenarios::steady(&sizes, &target, &mut r).await;
        }
        if wants("backlog") {
            eprintln!("  backlog…");
            scenarios::backlog(&sizes, &target, &mut r).await;
        }
        if args.only.iter().any(|o| o == "purge") {
            eprintln!("  backlog with and without a purge…");
            purge::pair(&sizes, &target, run, &mut r).await;
        }
        if wants("slow") {
            eprintln!("  slow receiver…");
            scenarios::slow(&sizes, &target, &mut r).await;
        }
        if wants("long") {
            eprintln!("  long conversation…");
            scenarios::long(&sizes, &target, &mut r).await;
        }
        r.delivery_ratio = r.delivery_rps / r.baseline_rps;
        r.backlog_ratio = r.backlog_delivery_rps / r.delivery_rps;
        r.batch_ratio = r.batch_delivery_rps / r.baseline_rps;
        r.peak_rss_mb = [
            r.burst_rss_mb,
            r.batch_rss_mb,
            r.steady_rss_mb,
            r.backlog_rss_mb,
            r.slow_rss_mb,
            r.long_rss_mb,
            r.purge_rss_mb,
        ]
        .into_iter()
        .fold(0.0, f64::max);
        runs.push(r);
    }
    let r = median(&runs);
    if args.json {
        println!("{}", serde_json::to_string(&r).expect("results serialize"));
    } else {
        print_table(
            &r,
            &sizes,
            args.runs.max(1),
            args.database_url.is_some(),
            &wants,
        );
    }
}

/// The median of each figure over the runs.
fn median(runs: &[Results]) -> Results {
    let values: Vec<serde_json::Map<String, serde_json::Value>> = runs
        .iter()
        .map(|r| {
            serde_json::to_value(r)
                .unwrap()
                .as_object()
                .unwrap()
                .clone()
        })
        .collect();
    let mut out = values[0].clone();
    for (key, v) in out.iter_mut() {
        let mut xs: Vec<f64> = values.iter().filter_map(|m| m[key].as_f64()).collect();
        xs.sort_by(f64::total_cmp);
        if !xs.is_empty() {
            *v = serde_json::json!(xs[xs.len() / 2]);
        }
    }
    serde_json::from_value(serde_json::Value::Object(out)).unwrap_or_else(|_| runs[0].clone())
}

fn print_table(r: &Results, s: &Sizes, runs: usize, postgres: bool, ran: &dyn Fn(&str) -> bool) {
    let store = if postgres { "PostgreSQL" } else { "SQLite" };
    println!(
        "Palaver bench — {store} store, concurrency {}, median of {runs} run(s)\n",
        s.concurrency
    );
    println!("| scenario | figure | value |");
    println!("|---|---|---|");
    let server =
        |cpu: f64, rss: f64| println!("| | server CPU / peak RSS | {cpu:.1} s / {rss:.0} MB |");
    // A share of the baseline, when the baseline ran.
    let share = |rps: f64| match ran("baseline") {
        true => format!(" ({:.1}% of baseline)", rps / r.baseline_rps * 100.0),
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
            s.burst_events, s.burst_conversations, r.accept_rps
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
            s.steady_rate,
            s.steady_duration.as_secs(),
            r.steady_p50_ms,
            r.steady_p99_ms,
            r.steady_max_ms
        );
        server(r.steady_cpu_s, r.steady_rss_mb);
    }
    if ran("backlog") {
        let against = match ran("burst") {
            true => format!(" ({:.2}× the burst)", r.backlog_ratio),
            false => String::new(),
        };
        println!(
            "| backlog ({} pending for a dead endpoint) | healthy endpoint's webhooks/s | {:.0}{against} |",
            s.backlog, r.backlog_delivery_rps
        );
        server(r.backlog_cpu_s, r.backlog_rss_mb);
    }
    if r.purge_on_delivery_rps > 0.0 {
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
        println!(
            "| | purge time (server start → last row gone); still running when the burst ended | {:.1} s; {} |",
            r.purge_seconds,
            if r.purge_running_after_burst > 0.5 {
                "yes"
            } else {
                "NO"
            }
        );
        server(r.purge_cpu_s, r.purge_rss_mb);
    }
    if ran("slow") {
        println!(
            "| slow receiver (100 ms, {} events) | webhooks/s | {:.0} |",
            s.slow_events, r.slow_rps
        );
        server(r.slow_cpu_s, r.slow_rss_mb);
    }
    if ran("long") {
        println!(
            "| long conversation ({} messages) | server CPU per event, first / last tenth | {:.2} / {:.2} ms |",
            s.long_messages, r.long_early_cpu_ms, r.long_late_cpu_ms
        );
        println!(
            "| | payload bytes per event, first / last tenth | {:.0} / {:.0} |",
            r.long_early_bytes, r.long_late_bytes
        );
        if !postgres {
            println!(
                "| | database size after it, per message | {:.0} bytes |",
                r.long_stored_bytes
            );
        }
    }
    println!("| all | peak RSS | {:.0} MB |", r.peak_rss_mb);
}
