//! The harness of `palaver listen`: the real binary on a free port, its stdout and stderr read
//! line by line as they come, and requests signed from the spec (`signature::sign`).

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::watch;

use crate::helpers::WAIT;
use crate::signature;

/// Which stream a line came on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

#[derive(Default)]
struct Lines {
    all: Mutex<Vec<(Stream, String)>>,
}

/// A running `palaver listen`, killed when dropped.
pub struct Listen {
    /// `http://127.0.0.1:PORT/`.
    pub url: String,
    lines: Arc<Lines>,
    changed: watch::Sender<usize>,
    _child: Child,
}

impl Listen {
    /// `palaver listen --port 0 ARGS…`; waits for its `listening on` line.
    pub async fn start(args: &[&str]) -> Listen {
        let mut child = Command::new(env!("CARGO_BIN_EXE_palaver"))
            .env_remove("PALAVER_WEBHOOK_SECRET")
            .arg("listen")
            .args(["--port", "0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn palaver listen");
        let lines = Arc::new(Lines::default());
        let changed = watch::channel(0).0;
        read_lines(
            child.stdout.take().unwrap(),
            Stream::Stdout,
            &lines,
            &changed,
        );
        read_lines(
            child.stderr.take().unwrap(),
            Stream::Stderr,
            &lines,
            &changed,
        );
        let mut listen = Listen {
            url: String::new(),
            lines,
            changed,
            _child: child,
        };
        let first = listen.wait_for_line("the `listening on` line", |l| {
            l.starts_with("listening on ")
        });
        let address = first.await.trim_start_matches("listening on ").to_owned();
        listen.url = format!("{address}/");
        listen
    }

    /// Every line so far, both streams.
    pub fn output(&self) -> String {
        let all = self.lines.all.lock().unwrap();
        let lines: Vec<&str> = all.iter().map(|(_, l)| l.as_str()).collect();
        lines.join("\n")
    }

    /// The lines of one stream so far.
    pub fn lines(&self, stream: Stream) -> Vec<String> {
        let all = self.lines.all.lock().unwrap();
        all.iter()
            .filter(|(s, _)| *s == stream)
            .map(|(_, l)| l.clone())
            .collect()
    }

    /// Awaits a line (either stream) for which `matches` holds; fails after `WAIT`.
    pub async fn wait_for_line(&self, what: &str, matches: impl Fn(&str) -> bool) -> String {
        let found = self
            .wait_until(what, |lines| lines.iter().any(|l| matches(l)))
            .await;
        found.into_iter().find(|l| matches(l)).expect("found")
    }

    /// Awaits until `done` holds for the lines so far (either stream); fails after `WAIT`.
    pub async fn wait_until(&self, what: &str, done: impl Fn(&[String]) -> bool) -> Vec<String> {
        let mut rx = self.changed.subscribe();
        let wait = async {
            loop {
                rx.borrow_and_update();
                let lines: Vec<String> = {
                    let all = self.lines.all.lock().unwrap();
                    all.iter().map(|(_, l)| l.clone()).collect()
                };
                if done(&lines) {
                    return lines;
                }
                if rx.changed().await.is_err() {
                    panic!("palaver listen ended before {what}:\n{}", self.output());
                }
            }
        };
        match tokio::time::timeout(WAIT, wait).await {
            Ok(lines) => lines,
            Err(_) => panic!(
                "no {what} from palaver listen; its output:\n{}",
                self.output()
            ),
        }
    }
}

fn read_lines(
    stream: impl AsyncRead + Unpin + Send + 'static,
    which: Stream,
    lines: &Arc<Lines>,
    changed: &watch::Sender<usize>,
) {
    let (lines, changed) = (lines.clone(), changed.clone());
    tokio::spawn(async move {
        let mut reader = BufReader::new(stream).lines();
        while let Ok(Some(line)) = reader.next_line().await {
            lines.all.lock().unwrap().push((which, line));
            changed.send_modify(|n| *n += 1);
        }
    });
}

/// A request as Palaver would sign it with `secret` at `timestamp` (unix seconds).
pub fn signed(
    url: &str,
    secret: &str,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> reqwest::RequestBuilder {
    let ts = timestamp.to_string();
    let signature = format!("v1,{}", signature::sign(secret, id, &ts, body));
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", id)
        .header("webhook-timestamp", ts)
        .header("webhook-signature", signature)
        .body(body.to_vec())
}

/// Unix seconds now.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}
