//! `--log-format json` (`PALAVER_LOG_FORMAT=json`): one JSON object a line, with its level,
//! target and fields, and no secret in any of them.

use serde_json::Value;

use crate::fixtures::named;
use crate::helpers::{TestApp, WAIT};
use crate::receiver::{Receiver, Reply};
use crate::stores::{TestStore, on_every_store};

on_every_store!(serve_logs_one_json_object_a_line_without_secrets);

/// Each line of `log` parsed, checked to be an object with a timestamp, a level, a target and
/// fields holding a message.
fn json_lines(log: &str) -> Vec<Value> {
    log.lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not a JSON object ({e}): {line}"));
            assert!(v["timestamp"].is_string(), "{line}");
            let level = v["level"].as_str().unwrap_or_default();
            assert!(
                ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"].contains(&level),
                "{line}"
            );
            assert!(v["target"].is_string(), "{line}");
            assert!(v["fields"]["message"].is_string(), "{line}");
            v
        })
        .collect()
}

async fn serve_logs_one_json_object_a_line_without_secrets(store: TestStore) {
    let app = TestApp::builder(store)
        .retry_schedule("50ms")
        .env("PALAVER_LOG_FORMAT", "json")
        .env("RUST_LOG", "palaver=debug")
        .spawn()
        .await;
    let receiver = Receiver::start().await;
    receiver.script([Reply::Status(500)]);
    let hook = app.create_webhook(&receiver.url(), None).await;
    let v = app.visitor_start(named("Json"), Some("hello")).await;
    let first = receiver.wait_for(3, WAIT).await[0].clone();
    app.wait_until_deliveries(&hook.id, |log| {
        log.len() == 2 && log.iter().all(|d| d["status"] == "delivered")
    })
    .await;

    // The harness adds the server's stdout to the same file, marked.
    let log = app.log();
    let stderr: String = log
        .lines()
        .filter(|l| !l.starts_with("[stdout]"))
        .map(|l| format!("{l}\n"))
        .collect();
    let lines = json_lines(&stderr);
    let failed = lines
        .iter()
        .find(|l| l["fields"]["message"] == "attempt failed")
        .unwrap_or_else(|| panic!("no failed attempt logged:\n{stderr}"));
    assert_eq!(failed["level"], "INFO");
    assert_eq!(failed["target"], "palaver::delivery::request");
    assert_eq!(failed["fields"]["delivery"], first.webhook_id());
    assert_eq!(failed["fields"]["attempt"], 1);
    assert_eq!(failed["fields"]["error"], "the receiver answered 500");
    assert!(
        lines.iter().any(|l| l["fields"]["message"] == "listening"),
        "{stderr}"
    );
    let secret = hook.secret.trim_start_matches("whsec_");
    for secret in [app.api_key.as_str(), secret, v.token.as_str()] {
        assert!(!log.contains(secret), "a secret in the log:\n{log}");
    }
}

/// Any command takes the flag; a command that stops with an error says why in one JSON line,
/// without echoing the secret it was given.
#[test]
fn a_command_stopping_with_an_error_says_why_in_json() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_palaver"))
        .args(["listen", "--port", "0", "--secret", "whsec_not*base64"])
        .args(["--log-format", "json"])
        .env_remove("PALAVER_LOG_FORMAT")
        .output()
        .expect("run palaver listen");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines = json_lines(&stderr);
    assert_eq!(lines.len(), 1, "{stderr}");
    assert_eq!(lines[0]["level"], "ERROR");
    let why = lines[0]["fields"]["error"].as_str().unwrap_or_default();
    assert!(why.starts_with("--secret:"), "{stderr}");
    assert!(!stderr.contains("not*base64"), "{stderr}");

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_palaver"))
        .args(["serve", "--log-format", "yaml"])
        .output()
        .expect("run palaver serve");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("invalid value 'yaml' for '--log-format") && stderr.contains("json"),
        "{stderr}"
    );
}
