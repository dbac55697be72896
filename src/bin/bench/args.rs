//! The bench's command line and the sizes of its scenarios.

use clap::Parser;
use std::time::Duration;

#[derive(Parser)]
#[command(about = "Measure Palaver's webhook delivery on loopback (build with --release first)")]
pub struct Args {
    /// A small version of every scenario, in about a minute.
    #[arg(long)]
    pub quick: bool,
    /// Print the results as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Run everything this many times and report the medians.
    #[arg(long, default_value_t = 1)]
    pub runs: usize,
    /// Measure on PostgreSQL: a server URL; each scenario gets a fresh database there.
    #[arg(long)]
    pub database_url: Option<String>,
    /// `palaver serve` processes sharing each scenario's database (PostgreSQL only); API calls go
    /// to them in turn, one receiver takes every webhook.
    #[arg(long, default_value_t = 1)]
    pub processes: usize,
    /// Only these scenarios (comma-separated: baseline,burst,batched,steady,backlog,lanes,slow,
    /// long; and purge, the backlog while retention purges a million rows, which runs only if
    /// named).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// API calls in flight in the burst, and baseline requests in flight.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
}

impl Args {
    /// The arguments, or why they cannot be measured.
    pub fn check(self) -> Result<Args, String> {
        if self.processes == 0 {
            return Err("--processes must be at least 1".into());
        }
        if self.processes > 1 && self.database_url.is_none() {
            return Err(format!(
                "--processes {} needs --database-url: SQLite is one process's store; several \
                 processes share a PostgreSQL database",
                self.processes
            ));
        }
        Ok(self)
    }
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
    /// The lanes scenario: how many lanes, and how many pending deliveries each holds.
    pub lanes: usize,
    pub lane_length: usize,
    pub slow_events: usize,
    pub long_messages: usize,
}

impl Sizes {
    pub fn full() -> Self {
        Sizes {
            concurrency: 64,
            burst_conversations: 1000,
            burst_events: 50_000,
            steady_rate: 1000,
            steady_duration: Duration::from_secs(30),
            backlog: 1_000_000,
            purged: 1_000_000,
            lanes: 100,
            lane_length: 10_000,
            slow_events: 10_000,
            long_messages: 2000,
        }
    }

    pub fn quick() -> Self {
        Sizes {
            concurrency: 64,
            burst_conversations: 200,
            burst_events: 5_000,
            steady_rate: 1000,
            steady_duration: Duration::from_secs(5),
            backlog: 50_000,
            purged: 100_000,
            lanes: 100,
            lane_length: 1_000,
            slow_events: 2_000,
            long_messages: 500,
        }
    }
}
