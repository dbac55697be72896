//! `palaver listen` refuses what Palaver did not sign, saying why (401, and a printed line),
//! answers 502 when the forward target does not answer, and will not start with a malformed
//! secret.

use crate::fixtures::seed_example;
use crate::listen::{Listen, now, signed};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const OTHER: &str = "whsec_bmV2ZXIgdGhlIHNhbWUgc2VjcmV0IHR3aWNl";

async fn answer(request: reqwest::RequestBuilder) -> (u16, String) {
    let response = request.send().await.expect("listen answers");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_stale_and_unsigned_deliveries_get_401_with_why() {
    let listen = Listen::start(&["--secret", SECRET]).await;
    let body = serde_json::to_vec(&seed_example()).unwrap();
    let url = listen.url.as_str();

    let good = answer(signed(url, SECRET, "msg_good", now(), &body)).await;
    assert_eq!(good.0, 200, "{good:?}");
    let cases = [
        (
            "a forged signature",
            signed(url, OTHER, "msg_forged", now(), &body),
            "no signature matches",
        ),
        (
            "a stale timestamp",
            signed(url, SECRET, "msg_stale", now() - 600, &body),
            "s old, more than the 300 s allowed",
        ),
        (
            "a timestamp from the future",
            signed(url, SECRET, "msg_future", now() + 600, &body),
            "in the future",
        ),
        (
            "a body changed after signing",
            signed(url, SECRET, "msg_changed", now(), &body).body(body[1..].to_vec()),
            "no signature matches",
        ),
        (
            "no signature",
            reqwest::Client::new()
                .post(url)
                .header("webhook-id", "msg_bare")
                .body(body.clone()),
            "no webhook-timestamp header",
        ),
    ];
    for (what, request, why) in cases {
        let (status, text) = answer(request).await;
        assert_eq!(status, 401, "{what}: {text}");
        assert!(text.contains(why), "{what}: {text}");
    }
    // Each refusal printed with its delivery id and reason; the good one printed as events.
    let out = listen
        .wait_until("five refusals", |l| {
            l.iter().filter(|l| l.starts_with("x 401 refused")).count() == 5
        })
        .await
        .join("\n");
    for (id, why) in [
        ("msg_forged", "no signature matches"),
        ("msg_stale", "s old"),
        ("msg_future", "in the future"),
        ("msg_changed", "no signature matches"),
        ("msg_bare", "no webhook-timestamp header"),
    ] {
        let line = format!("x 401 refused delivery {id}: ");
        let printed = out.lines().find(|l| l.starts_with(&line));
        assert!(printed.is_some_and(|l| l.contains(why)), "{id}: {out}");
    }
    assert!(
        out.contains("ok msg_good: verified\nmessageAgent  2016-01-09T11:09:09.111Z"),
        "{out}"
    );

    let get = reqwest::get(url).await.unwrap();
    assert_eq!(get.status().as_u16(), 405);
}

/// A forward target that does not answer: 502 to Palaver, a line saying so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswering_forward_target_is_a_502() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let target = format!("http://{}/hook", closed.local_addr().unwrap());
    drop(closed);
    let listen = Listen::start(&["--secret", SECRET, "--forward-to", &target]).await;
    let body = serde_json::to_vec(&seed_example()).unwrap();
    let (status, text) = answer(signed(&listen.url, SECRET, "msg_1", now(), &body)).await;
    assert_eq!(status, 502, "{text}");
    assert!(
        text.contains(&target) && text.contains("did not answer"),
        "{text}"
    );
    let line = listen
        .wait_for_line("the forwarding failure", |l| l.starts_with("x 502"))
        .await;
    assert!(line.contains(&target), "{line}");
}

#[test]
fn a_malformed_secret_or_target_stops_it_at_once_saying_why() {
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_palaver"))
            .env_remove("PALAVER_WEBHOOK_SECRET")
            .args(["listen", "--port", "0"])
            .args(args)
            .output()
            .expect("run palaver listen");
        assert!(!out.status.success(), "{args:?} started");
        String::from_utf8(out.stderr).unwrap()
    };
    let no_prefix = run(&["--secret", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]);
    assert!(no_prefix.contains("starts with `whsec_`"), "{no_prefix}");
    let not_base64 = run(&["--secret", "whsec_%%%"]);
    assert!(not_base64.contains("not base64"), "{not_base64}");
    let empty = run(&["--secret", "whsec_"]);
    assert!(empty.contains("nothing after"), "{empty}");
    let missing = run(&[]);
    assert!(missing.contains("--secret"), "{missing}");
    let target = run(&["--secret", SECRET, "--forward-to", "localhost:3000"]);
    assert!(target.contains("--forward-to"), "{target}");
}
