//! `bench`: measures Palaver's webhook delivery against this machine's loopback HTTP limit.
//! Starts everything it needs: the server (the `palaver` binary next to this one) on fresh data
//! dirs — several processes sharing one PostgreSQL database with `--processes` — a receiver and
//! a load generator, all on loopback.

mod args;
mod lanes;
mod load;
mod pgstats;
mod purge;
mod receiver;
mod results;
mod scenarios;
mod seed;
mod server;
mod servers;
mod steady;
mod table;

use args::{Args, Sizes};
use clap::Parser;
use palaver::store::testdb::TempDatabase;
use results::Results;
use servers::Servers;
use std::path::PathBuf;
use tokio::sync::Mutex;

/// Where scenarios keep their data: fresh dirs, and fresh PostgreSQL databases if asked; and how
/// many server processes share each.
pub struct Target {
    root: tempfile::TempDir,
    database_url: Option<String>,
    databases: Mutex<Vec<TempDatabase>>,
    processes: usize,
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

    /// The servers under test on a place: `--processes` of them.
    pub async fn serve(
        &self,
        dir: &std::path::Path,
        url: Option<&str>,
        env: &[(&str, String)],
    ) -> Servers {
        Servers::start(dir, url, env, self.processes).await
    }
}

#[tokio::main]
async fn main() {
    let args = Args::parse().check().unwrap_or_else(|e| {
        eprintln!("bench: {e}");
        std::process::exit(2)
    });
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
            processes: args.processes,
        };
        let mut r = Results {
            processes: args.processes as f64,
            ..Results::default()
        };
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
            steady::steady(&sizes, &target, &mut r).await;
        }
        if wants("backlog") {
            eprintln!("  backlog…");
            scenarios::backlog(&sizes, &target, &mut r).await;
        }
        if wants("lanes") {
            eprintln!("  long lanes of a slow endpoint…");
            lanes::lanes(&sizes, &target, &mut r).await;
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
        r.busy_retries = load::BUSY.swap(0, std::sync::atomic::Ordering::Relaxed) as f64;
        r.finish();
        runs.push(r);
    }
    let r = results::median(&runs);
    if args.json {
        println!("{}", serde_json::to_string(&r).expect("results serialize"));
    } else {
        let setting = table::Setting {
            sizes: &sizes,
            runs: args.runs.max(1),
            postgres: args.database_url.is_some(),
            processes: args.processes,
            ran: &wants,
        };
        table::print(&r, &setting);
    }
}
