//! The harness: start the real `palaver` binary on a random port with its own data dir,
//! restart it on the same data dir, stop it with SIGTERM or SIGKILL.
//!
//! Typed API calls live in `client.rs` (the raw call builder) and `api.rs` (one method per
//! API operation), both as methods of [`TestApp`].

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::{Mutex, RwLock};
use std::time::Duration;

use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::OnceCell;

use crate::fixtures::random_token;
use crate::stores::TestStore;

/// The failure bound of every wait for something the server does.
pub const WAIT: Duration = Duration::from_secs(20);
/// How long the server may take to print its `listening on` line.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
/// Environment variables of the parent that must not leak into the server.
const SCRUBBED_ENV: &[&str] = &[
    "PALAVER_LISTEN",
    "PALAVER_DATA_DIR",
    "PALAVER_DATABASE_URL",
    "PALAVER_API_KEY",
    "PALAVER_ALLOW_PRIVATE_DESTINATIONS",
    "PALAVER_RETRY_SCHEDULE",
    "PALAVER_DELIVERY_TIMEOUT",
    "PALAVER_DELIVERY_CONCURRENCY",
    "PALAVER_DATABASE_POOL_SIZE",
    "PALAVER_TRUSTED_PROXIES",
    "PALAVER_SHUTDOWN_GRACE",
    "PALAVER_SESSION_IDLE",
    "PALAVER_SLACK_API_URL",
    "PALAVER_VISITOR_RATE_LIMIT",
    "PALAVER_VISITOR_SITE_RATE_LIMIT",
    "PALAVER_RETENTION",
    "PALAVER_MESSAGE_RETENTION",
    "PALAVER_LOG_FORMAT",
    "PALAVER_CONVERSATION_CACHE_MB",
    "PALAVER_ENDPOINT_DISABLE_AFTER",
    "PALAVER_ENDPOINT_PROBE_INTERVAL",
];

/// Everything needed to start (and restart) one server the same way.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub(crate) store: TestStore,
    allow_private: bool,
    retry_schedule: String,
    delivery_timeout: Option<String>,
    extra_env: Vec<(String, String)>,
}

/// Builder for a [`TestApp`] with environment overrides.
pub struct TestAppBuilder {
    config: ServerConfig,
    api_key: Option<String>,
}

impl TestAppBuilder {
    /// `PALAVER_RETRY_SCHEDULE`, e.g. `200ms,200ms,200ms`.
    pub fn retry_schedule(mut self, schedule: &str) -> Self {
        self.config.retry_schedule = schedule.to_owned();
        self
    }

    /// `PALAVER_DELIVERY_TIMEOUT`, e.g. `1s`.
    pub fn delivery_timeout(mut self, timeout: &str) -> Self {
        self.config.delivery_timeout = Some(timeout.to_owned());
        self
    }

    /// Whether `PALAVER_ALLOW_PRIVATE_DESTINATIONS=1` is set (on by default: receivers are local).
    pub fn allow_private_destinations(mut self, allow: bool) -> Self {
        self.config.allow_private = allow;
        self
    }

    /// `PALAVER_API_KEY` (random by default): servers sharing one database share the key.
    pub fn api_key(mut self, key: &str) -> Self {
        self.api_key = Some(key.to_owned());
        self
    }

    /// Any other environment variable for the server.
    #[allow(dead_code)]
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.config
            .extra_env
            .push((key.to_owned(), value.to_owned()));
        self
    }

    pub async fn spawn(self) -> TestApp {
        let app = self.stopped();
        app.start().await;
        app
    }

    /// The server, not started: its data dir is empty until [`TestApp::restart`] starts it
    /// (for tests that prepare the data dir first, e.g. `palaver restore`).
    pub fn stopped(self) -> TestApp {
        let dir = tempfile::tempdir().expect("create temp dir");
        let api_key = self
            .api_key
            .unwrap_or_else(|| format!("sk_test_{}", random_token(24)));
        TestApp {
            address: RwLock::new(String::new()),
            api_key,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("build http client"),
            config: self.config,
            dir,
            server: Mutex::new(None),
            site_key: OnceCell::new(),
        }
    }
}

/// A running server (or one that was stopped and can be restarted on the same data dir).
/// Every method takes `&self`, so an `Arc<TestApp>` can be shared with tasks (crash test).
pub struct TestApp {
    /// `http://127.0.0.1:PORT` of the current server process.
    address: RwLock<String>,
    /// The default team's admin key (`PALAVER_API_KEY`).
    pub api_key: String,
    pub client: reqwest::Client,
    pub(crate) config: ServerConfig,
    /// Holds `data/` (the server's data dir) and `server.log` (its stderr and stdout).
    dir: TempDir,
    server: Mutex<Option<Child>>,
    pub(crate) site_key: OnceCell<String>,
}

impl TestApp {
    pub fn builder(store: TestStore) -> TestAppBuilder {
        TestAppBuilder {
            api_key: None,
            config: ServerConfig {
                store,
                allow_private: true,
                retry_schedule: "100ms,200ms,500ms".to_owned(),
                delivery_timeout: None,
                extra_env: Vec::new(),
            },
        }
    }

    /// A server on `store` with the default test configuration.
    pub async fn spawn(store: TestStore) -> TestApp {
        Self::builder(store).spawn().await
    }

    /// `http://127.0.0.1:PORT` of the current server process.
    pub fn address(&self) -> String {
        self.address.read().unwrap().clone()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    pub(crate) fn base_command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_palaver"));
        for key in SCRUBBED_ENV {
            cmd.env_remove(key);
        }
        cmd.env("PALAVER_API_KEY", &self.api_key)
            .env("PALAVER_RETRY_SCHEDULE", &self.config.retry_schedule)
            // Tests make many visitor calls from 127.0.0.1; the abuse tests turn the limit on.
            .env("PALAVER_VISITOR_RATE_LIMIT", "0")
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
            );
        if self.config.allow_private {
            cmd.env("PALAVER_ALLOW_PRIVATE_DESTINATIONS", "1");
        }
        if let Some(timeout) = &self.config.delivery_timeout {
            cmd.env("PALAVER_DELIVERY_TIMEOUT", timeout);
        }
        for (key, value) in &self.config.extra_env {
            cmd.env(key, value);
        }
        cmd
    }

    fn open_log(&self) -> File {
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("open server log")
    }

    /// Starts a server process on the data dir; waits for its `listening on` line.
    async fn start(&self) {
        assert!(
            self.server.lock().unwrap().is_none(),
            "the server is already running"
        );
        let mut cmd = self.base_command();
        cmd.arg("serve")
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(self.data_dir())
            .args(self.config.store.args())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(self.open_log()))
            .kill_on_drop(true);
        let mut child = cmd.spawn().expect("spawn palaver serve");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(STARTUP_TIMEOUT, lines.next_line()).await;
        let first = match first {
            Ok(Ok(Some(line))) => line,
            other => panic!(
                "the server printed no first line on stdout ({other:?}); log:\n{}",
                self.log()
            ),
        };
        let port = first
            .strip_prefix("listening on http://127.0.0.1:")
            .and_then(|p| p.trim_end().parse::<u16>().ok())
            .unwrap_or_else(|| {
                panic!(
                    "first stdout line must be `listening on http://127.0.0.1:PORT`, got {first:?}"
                )
            });
        *self.address.write().unwrap() = format!("http://127.0.0.1:{port}");
        let mut log = self.open_log();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                let _ = writeln!(log, "[stdout] {line}");
            }
        });
        *self.server.lock().unwrap() = Some(child);
    }

    /// The server's stderr and stdout so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        let server = self.server.lock().unwrap();
        let child = server.as_ref().expect("the server is not running");
        child.id().expect("the server has exited")
    }

    fn take_child(&self) -> Child {
        let child = self.server.lock().unwrap().take();
        child.expect("the server is not running")
    }

    /// SIGKILL, then reap the process.
    pub async fn kill(&self) {
        let mut child = self.take_child();
        child.kill().await.expect("kill -9 the server");
    }

    /// SIGTERM; waits up to `within` for the process to exit and returns its status.
    pub async fn terminate(&self, within: Duration) -> ExitStatus {
        let pid = self.pid().to_string();
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run kill -TERM");
        assert!(status.success(), "kill -TERM {pid} failed");
        let mut child = self.take_child();
        match tokio::time::timeout(within, child.wait()).await {
            Ok(status) => status.expect("wait for the server"),
            Err(_) => panic!("the server did not exit within {within:?} after SIGTERM"),
        }
    }

    /// Starts the server again on the same data dir (after `kill` or `terminate`).
    pub async fn restart(&self) {
        self.start().await;
    }
}

impl Drop for TestApp {
    /// Stops the process and reaps it before the fields (the store's database among them) go.
    fn drop(&mut self) {
        let server = self.server.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Some(mut child) = server.take() {
            let _ = child.start_kill();
            let deadline = std::time::Instant::now() + Duration::from_secs(5);
            while matches!(child.try_wait(), Ok(None)) && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        if std::thread::panicking() {
            eprintln!(
                "----- palaver log ({}) -----\n{}\n----- end of palaver log -----",
                self.data_dir().display(),
                self.log()
            );
        }
    }
}
