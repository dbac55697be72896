//! The widget in a real browser: headless Chromium (Debian's, never a downloaded one) driven by
//! playwright-core from the Node scripts in `tests/browser/`.
//!
//! Each test starts the real server, a webhook receiver subscribed to every event and the seed's
//! agent Moss, then serves a host page from a second origin (another loopback port) whose own
//! CSS is hostile and which embeds the widget as a customer would. A Node script plays the
//! visitor (and the agent, through the team API); the test checks its exit status, then the
//! webhooks. Screenshots go to `target/screenshots/`.
//!
//! The console's scenarios (`console.rs`, scripts `tests/browser/console_*.mjs`) start their own
//! server, with agents who have console passwords, and use the demo page as the host page.
//!
//! Without node, Chromium or `tests/browser/node_modules`, the tests print what is missing and
//! pass, unless `PALAVER_BROWSER_TESTS=require` (set by `.ci/run`, which installs them).

mod console;
mod scenarios;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use axum::http::header;
use axum::response::IntoResponse;
use serde_json::Value;

use crate::fixtures::{MOSS_ID, moss};
use crate::helpers::TestApp;
use crate::receiver::Receiver;
use crate::stores::TestStore;

/// The host page's `<title>`, which the identity's `title` must carry.
pub const HOST_TITLE: &str = "Acme Garden Supplies — Checkout";
/// The failure bound of one Node script (each waits for its own steps far below this).
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(90);

/// What the scripts need from this machine.
pub struct Tools {
    chromium: PathBuf,
}

/// The machine's browser tools, or `None` after printing what is missing (a failure instead
/// when `PALAVER_BROWSER_TESTS=require`).
pub fn tools() -> Option<Tools> {
    let chromium = std::env::var_os("PALAVER_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    let node = std::process::Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let mut missing = Vec::new();
    if !node {
        missing.push("node (Debian's nodejs, or any Node.js ≥ 20 on PATH)".to_owned());
    }
    if !chromium.is_file() {
        missing.push(format!(
            "Chromium at {} (apt-get install chromium, or set PALAVER_CHROMIUM)",
            chromium.display()
        ));
    }
    if !scripts_dir().join("node_modules/playwright-core").is_dir() {
        missing.push("playwright-core (npm ci --prefix tests/browser)".to_owned());
    }
    if missing.is_empty() {
        return Some(Tools { chromium });
    }
    let missing = format!(
        "missing {}. `.ci/run` installs them (no browser is ever downloaded)",
        missing.join("; ")
    );
    if std::env::var("PALAVER_BROWSER_TESTS").as_deref() == Ok("require") {
        panic!("browser tests cannot run (PALAVER_BROWSER_TESTS=require): {missing}");
    }
    // Once per run, on the real stderr: the test harness would hide a passing test's output.
    static NOTICE: std::sync::Once = std::sync::Once::new();
    NOTICE.call_once(|| {
        let notice = format!(
            "browser tests SKIPPED: {missing}; PALAVER_BROWSER_TESTS=require makes this a failure\n"
        );
        let _ = std::io::Write::write_all(&mut std::io::stderr(), notice.as_bytes());
    });
    None
}

fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// `$CARGO_TARGET_DIR/screenshots` (or `target/screenshots`), created.
pub fn screenshots_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).expect("create the screenshots folder");
    // Absolute: the scripts run in tests/browser, and CARGO_TARGET_DIR may be relative.
    dir.canonicalize().expect("the screenshots folder's path")
}

/// A server, a receiver subscribed to every event, Moss, and the host page embedding the widget.
pub struct Stage {
    pub app: TestApp,
    pub receiver: Receiver,
    pub secret: String,
    pub site_key: String,
    /// `http://127.0.0.1:PORT/`, the host page (another origin than the server's).
    pub host_url: String,
    tools: Tools,
    host: tokio::task::JoinHandle<()>,
}

impl Drop for Stage {
    fn drop(&mut self) {
        self.host.abort();
    }
}

/// The stage, or `None` when the browser tools are missing (the test then passes, skipped).
pub async fn stage() -> Option<Stage> {
    let tools = tools()?;
    let app = TestApp::spawn(TestStore::Sqlite).await;
    let receiver = Receiver::start().await;
    let secret = app.create_webhook(&receiver.url(), None).await.secret;
    app.put_agent(&moss()).await.expect_status(201);
    let site_key = app.site_key().await;
    let page = host_page(&app.address(), &site_key);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the host page's server");
    let host_url = format!(
        "http://127.0.0.1:{}/",
        listener.local_addr().unwrap().port()
    );
    let router = axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let page = page.clone();
        async move {
            match uri.path() {
                "/" => {}
                "/favicon.ico" => return axum::http::StatusCode::NO_CONTENT.into_response(),
                _ => return axum::http::StatusCode::NOT_FOUND.into_response(),
            }
            let headers = [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
            ];
            (headers, page).into_response()
        }
    });
    let host = tokio::spawn(async move {
        axum::serve(listener, router)
            .await
            .expect("host page serve");
    });
    Some(Stage {
        app,
        receiver,
        secret,
        site_key,
        host_url,
        tools,
        host,
    })
}

impl Stage {
    /// Runs `tests/browser/<script>` (see [`run_script`]).
    pub async fn run(&self, script: &str) -> Value {
        let vars = [
            ("PALAVER_URL", self.app.address()),
            ("PALAVER_API_KEY", self.app.api_key.clone()),
            ("PALAVER_SITE_KEY", self.site_key.clone()),
            ("HOST_URL", self.host_url.clone()),
            ("HOST_TITLE", HOST_TITLE.to_owned()),
            ("AGENT_ID", MOSS_ID.to_owned()),
        ];
        run_script(&self.tools, script, &vars).await
    }
}

/// Runs `tests/browser/<script>` with `vars` (and `PALAVER_CHROMIUM`, `SCREENSHOTS`) in its
/// environment; fails with its output unless it exits 0. Returns the JSON of its last
/// `RESULT {…}` line (`Null` if none).
pub async fn run_script(tools: &Tools, script: &str, vars: &[(&str, String)]) -> Value {
    let mut cmd = tokio::process::Command::new("node");
    cmd.arg(scripts_dir().join(script))
        .current_dir(scripts_dir())
        .envs(vars.iter().map(|(k, v)| (k, v)))
        .env("PALAVER_CHROMIUM", &tools.chromium)
        .env("SCREENSHOTS", screenshots_dir())
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(SCRIPT_TIMEOUT, cmd.output())
        .await
        .unwrap_or_else(|_| panic!("{script} did not finish within {SCRIPT_TIMEOUT:?}"))
        .expect("run node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{script} failed ({}):\n----- stdout -----\n{stdout}\n----- stderr -----\n{stderr}",
        output.status
    );
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("RESULT "))
        .next_back()
        .map(|json| serde_json::from_str(json).expect("RESULT line is JSON"))
        .unwrap_or(Value::Null)
}

/// A shop's checkout page whose own CSS would wreck any widget that inherits or shares it.
fn host_page(palaver: &str, site_key: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{HOST_TITLE}</title>
<style>
  * {{ all: unset; }}
  head, script, style, title {{ display: none !important; }}
  html {{ font-size: 30px; font-family: Georgia, serif; color: #3b2a14; background: #fbf6ea;
         line-height: 2.2; letter-spacing: 0.06em; text-transform: uppercase; cursor: crosshair; }}
  body {{ display: block; padding: 1rem; font-size: 1.2rem; overflow-wrap: anywhere; }}
  div {{ display: flex !important; flex-direction: column; gap: 0.5rem; }}
  body > div, body > * {{ position: relative !important; z-index: 3 !important; }}
  h1 {{ display: block; font-size: 2.4rem; font-weight: 900; }}
  p, li {{ display: block; font-size: 28px !important; }}
  button, input, textarea, [role], [aria-label] {{ display: block !important; font-size: 40px !important;
         background: #ff00ff !important; color: #00ff00 !important; border: 6px dashed #0000ff !important;
         padding: 20px !important; width: 300px !important; height: 120px !important; }}
  svg, img {{ width: 500px !important; height: 500px !important; fill: red !important; }}
  *, *::before, *::after {{ box-sizing: content-box !important; transition: none !important;
         animation: none !important; }}
  :root {{ --color: red; --primary: red; --accent: red; --palaver-color: red; }}
</style>
</head>
<body>
<div id="top"><h1 id="title">Acme Garden Supplies</h1><p id="lead">Your basket: 3 items</p></div>
<ul id="items"><li>Watering can, 9 L</li><li>Secateurs</li><li>Seed tray ×12</li></ul>
<div id="checkout"><p id="total">Total: €42.50</p><button id="pay" type="button">Pay now</button>
<input id="coupon" aria-label="Coupon code" placeholder="Coupon"></div>
<p id="footer">Questions? Chat with us, bottom right.</p>
<script src="{palaver}/widget.js" data-site-key="{site_key}" async></script>
</body>
</html>
"#
    )
}
