//! The server under test: a real `palaver serve` child process on a fresh data dir, with its CPU
//! time and peak RSS read from /proc.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The admin key the bench gives the server.
pub const API_KEY: &str = "sk_bench";

pub struct Server {
    child: Child,
    pub base: String,
    pub pid: u32,
}

/// The `palaver` binary next to this one (same target dir and profile).
fn palaver_binary() -> PathBuf {
    let me = std::env::current_exe().expect("own path");
    me.with_file_name("palaver")
}

impl Server {
    /// Starts a server on `data_dir` (created if needed) with `env` on top of the defaults.
    pub async fn start(
        data_dir: &Path,
        database_url: Option<&str>,
        env: &[(&str, String)],
    ) -> Server {
        std::fs::create_dir_all(data_dir).expect("data dir");
        let mut cmd = Command::new(palaver_binary());
        cmd.arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(data_dir);
        if let Some(url) = database_url {
            cmd.arg("--database-url").arg(url);
        }
        cmd.env("PALAVER_API_KEY", API_KEY)
            .env("PALAVER_ALLOW_PRIVATE_DESTINATIONS", "1")
            // The load comes from one address: the visitor API's rate limits would cap it.
            .env("PALAVER_VISITOR_RATE_LIMIT", "0")
            .env("RUST_LOG", "palaver=warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap_or_else(|e| {
            panic!(
                "cannot start {}: {e} (build it: cargo build --release)",
                palaver_binary().display()
            )
        });
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let base = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await.expect("server stdout") {
                if let Some(addr) = line.strip_prefix("listening on ") {
                    return addr.to_string();
                }
            }
            panic!("the server exited before listening")
        })
        .await
        .expect("the server starts within 60 s");
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let pid = child.id().expect("pid");
        Server { child, base, pid }
    }

    /// User + system CPU seconds so far.
    pub fn cpu_seconds(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).unwrap_or_default();
        let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks: f64 = fields
            .get(11)
            .and_then(|u| u.parse::<f64>().ok())
            .unwrap_or(0.0)
            + fields
                .get(12)
                .and_then(|s| s.parse::<f64>().ok())
                .unwrap_or(0.0);
        ticks / 100.0
    }

    /// Peak resident memory in MB.
    pub fn peak_rss_mb(&self) -> f64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
            .unwrap_or(0.0)
    }

    /// SIGTERM, then wait.
    pub async fn stop(mut self) {
        let _ = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .status();
        let _ = tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await;
    }
}
