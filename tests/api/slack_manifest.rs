//! `palaver slack manifest --url`: the Slack app manifest, as JSON and as YAML, with the Events
//! API request URL below the given URL, the bot events and scopes the bridge needs; a URL that
//! is not http(s) is refused with a message saying so.

use serde_json::Value;

/// Runs `palaver slack manifest` with `args`; answers (success, stdout, stderr).
fn manifest(args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_palaver"))
        .args(["slack", "manifest"])
        .args(args)
        .output()
        .expect("run palaver slack manifest");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

const SCOPES: [&str; 9] = [
    "channels:manage",
    "channels:read",
    "channels:join",
    "channels:history",
    "chat:write",
    "chat:write.customize",
    "users:read",
    "users:read.email",
    "files:read",
];

#[test]
fn the_json_manifest_has_the_request_url_events_and_scopes() {
    let (ok, out, err) = manifest(&["--url", "https://chat.example.com/", "--format", "json"]);
    assert!(ok, "{err}");
    let m: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"));
    assert_eq!(m["display_information"]["name"], "Palaver");
    assert_eq!(m["features"]["bot_user"]["display_name"], "Palaver");
    let events = &m["settings"]["event_subscriptions"];
    assert_eq!(
        events["request_url"],
        "https://chat.example.com/slack/events"
    );
    let bot_events: Vec<&str> = events["bot_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert_eq!(bot_events, ["message.channels", "member_joined_channel"]);
    let scopes: Vec<&str> = m["oauth_config"]["scopes"]["bot"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(scopes, SCOPES);
    assert!(
        !scopes.iter().any(|s| s.starts_with("groups:")),
        "visitor channels are public"
    );
    assert_eq!(m["settings"]["socket_mode_enabled"], false);
}

#[test]
fn the_yaml_manifest_says_why_each_scope_is_needed() {
    let (ok, out, err) = manifest(&["--url", "https://example.com/palaver", "--name", "Help"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("    request_url: \"https://example.com/palaver/slack/events\"\n"),
        "{out}"
    );
    assert!(out.contains("  name: \"Help\"\n"), "{out}");
    for scope in SCOPES {
        let line = out
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("- \"{scope}\"")))
            .unwrap_or_else(|| panic!("no {scope} in {out}"));
        assert!(line.contains("  # "), "{scope} without its reason: {line}");
    }
    for event in ["message.channels", "member_joined_channel"] {
        assert!(out.contains(&format!("- \"{event}\"  # ")), "{out}");
    }
}

#[test]
fn a_url_that_is_not_http_is_refused() {
    for bad in [
        "chat.example.com",
        "ftp://chat.example.com",
        "https://x.example/?a=1",
    ] {
        let (ok, out, err) = manifest(&["--url", bad]);
        assert!(!ok, "{bad} accepted: {out}");
        assert!(out.is_empty(), "no manifest for {bad}: {out}");
        assert!(
            err.contains("--url") && err.contains("https://"),
            "{bad}: {err}"
        );
    }
    let (ok, _, err) = manifest(&["--url", "http://10.0.0.2:8080"]);
    assert!(ok, "{err}");
    assert!(err.contains("https"), "warns that Slack wants https: {err}");
}
