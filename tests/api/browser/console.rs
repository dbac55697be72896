//! The console (`/admin`) in a real browser, one test per `tests/browser/console_*.mjs` script:
//! an admin adds a webhook on the Integration page and the seed's conversation reaches it, a
//! failing receiver's attempts and "Redeliver", two consoles following one conversation live,
//! and a screenshot of every page at 1280×800 and 390×844 (`target/screenshots/console-*`).
//!
//! Each test starts the real server with Moss (the seed's agent, with a console password) and a
//! real receiver; the visitor is the widget on the demo page (`/demo`) or the visitor API.

use std::sync::Arc;

use serde_json::{Value, json};

use super::{Tools, run_script, tools};
use crate::checks::checked_events;
use crate::console_auth::{agent_with_email, set_password};
use crate::fixtures::{MOSS_ID, moss};
use crate::helpers::{TestApp, TestAppBuilder, WAIT};
use crate::payload::texts;
use crate::receiver::{Received, Receiver, Reply};
use crate::stores::TestStore;

/// Moss's console sign-in: his Slack profile's email and the password an admin gave him.
const MOSS_EMAIL: &str = "moss@reynholm.com";
const MOSS_PASSWORD: &str = "it-crowd-basement-7";
/// Roy, a second agent, as a Slack user with an email.
const ROY_ID: &str = "U0R0Y5678";
const ROY_EMAIL: &str = "roy@reynholm.com";
const ROY_PASSWORD: &str = "have-you-tried-it-off";
/// The demo page's `<title>` (`src/web/templates/demo.html`).
const DEMO_TITLE: &str = "Alpine Supply Co. (Palaver demo)";
/// The seed's conversation.
const FIRST: &str = "Hi! Do you have any doc to your API?";
const ANSWER: &str = "Yes! Go to <http://developer.talkus.io/>";

/// A server with Moss (console password set), a receiver, and the browser tools.
struct Desk {
    app: TestApp,
    receiver: Receiver,
    site_key: String,
    tools: Tools,
}

/// The desk on a server built by `builder`, or `None` when the browser tools are missing.
async fn desk(builder: TestAppBuilder) -> Option<Desk> {
    let tools = tools()?;
    let app = builder.spawn().await;
    app.put_agent(&moss()).await.expect_status(201);
    set_password(&app, MOSS_ID, MOSS_PASSWORD).await;
    let receiver = Receiver::start().await;
    let site_key = app.site_key().await;
    Some(Desk {
        app,
        receiver,
        site_key,
        tools,
    })
}

impl Desk {
    /// Roy, who may sign in too.
    async fn add_roy(&self) {
        let roy = agent_with_email(ROY_ID, "Roy", ROY_EMAIL);
        self.app.put_agent(&roy).await.expect_status(201);
        set_password(&self.app, ROY_ID, ROY_PASSWORD).await;
    }

    /// Runs the script with the server, the demo page as the host page, the people's
    /// credentials, the receiver's URL and `extra`.
    async fn run(&self, script: &str, extra: &[(&str, String)]) -> Value {
        let address = self.app.address();
        let mut vars = vec![
            ("PALAVER_URL", address.clone()),
            ("PALAVER_API_KEY", self.app.api_key.clone()),
            ("PALAVER_SITE_KEY", self.site_key.clone()),
            ("HOST_URL", format!("{address}/demo")),
            ("HOST_TITLE", DEMO_TITLE.to_owned()),
            ("AGENT_ID", MOSS_ID.to_owned()),
            ("AGENT_EMAIL", MOSS_EMAIL.to_owned()),
            ("AGENT_PASSWORD", MOSS_PASSWORD.to_owned()),
            ("ROY_ID", ROY_ID.to_owned()),
            ("ROY_EMAIL", ROY_EMAIL.to_owned()),
            ("ROY_PASSWORD", ROY_PASSWORD.to_owned()),
            ("RECEIVER_URL", self.receiver.url()),
        ];
        vars.extend(extra.iter().cloned());
        run_script(&self.tools, script, &vars).await
    }

    /// The receiver's requests once one carries event `name`.
    async fn until_event(&self, name: &str) -> Vec<Arc<Received>> {
        self.receiver
            .wait_until(&format!("a `{name}` webhook"), WAIT, |r| {
                r.iter().any(|x| x.event()["event"] == name)
            })
            .await
    }
}

fn names(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["event"].as_str().unwrap_or_default())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_adds_a_webhook_and_the_seed_conversation_reaches_it() {
    let Some(d) = desk(TestApp::builder(TestStore::Sqlite)).await else {
        return;
    };
    let out = d.run("console_webhook.mjs", &[]).await;
    let reqs = d.until_event("end").await;

    // The webhook the page made: what was typed and ticked, and the secret it revealed.
    let webhook_id = out["webhookId"].as_str().expect("RESULT.webhookId");
    let hook = d
        .app
        .api(reqwest::Method::GET, &format!("/webhooks/{webhook_id}"))
        .send()
        .await
        .expect_json(200);
    assert_eq!(hook["url"], d.receiver.url().as_str(), "{hook}");
    assert_eq!(hook["enabled"], true, "{hook}");
    assert_eq!(hook["maxInFlight"], 4, "the limit typed: {hook}");
    assert!(
        hook["maxPerSecond"].is_null(),
        "left empty, no limit: {hook}"
    );
    let mut events = hook["events"].as_array().expect("events").clone();
    events.sort_by_key(|e| e.as_str().unwrap_or_default().to_owned());
    let all = [
        "email",
        "end",
        "messageAgent",
        "messageVisitor",
        "open",
        "start",
    ];
    assert_eq!(events, all.map(|e| json!(e)), "{hook}");
    let secret = out["secret"].as_str().expect("RESULT.secret");
    assert_eq!(
        hook["secret"], secret,
        "the revealed secret is the webhook's"
    );

    // The six events, each once, signed with that secret, in the conversation's order.
    let events = checked_events(&reqs, secret);
    let got = names(&events);
    for name in all {
        let n = got.iter().filter(|&&x| x == name).count();
        assert_eq!(n, 1, "one `{name}` webhook expected, got {got:?}");
    }
    let pos = |n: &str| got.iter().position(|&x| x == n).unwrap();
    assert_eq!(got[0], "start", "{got:?}");
    assert!(pos("messageVisitor") < pos("open"), "{got:?}");
    assert!(pos("open") < pos("messageAgent"), "{got:?}");
    assert_eq!(got[5], "end", "{got:?}");
    let conversation = out["conversationId"]
        .as_str()
        .expect("RESULT.conversationId");
    for e in &events {
        assert_eq!(e["visitorName"], "Scarlet", "{e}");
        assert_eq!(e["identity"]["title"], DEMO_TITLE, "{e}");
    }
    let answer = &events[pos("messageAgent")];
    assert_eq!(
        answer["agent"]["id"], MOSS_ID,
        "the signed-in agent answered: {answer}"
    );
    assert_eq!(answer["identity"]["email"], "scar@let.com", "{answer}");
    assert_eq!(texts(answer), [FIRST, ANSWER], "{answer}");
    let end = &events[pos("end")];
    assert_eq!(end["agent"]["id"], MOSS_ID, "{end}");
    assert_eq!(texts(end), [FIRST, ANSWER], "`.end` is no message: {end}");
    let listed = d.app.conversation(conversation).await;
    assert_eq!(listed["status"], "ended", "{listed}");

    // The delivery log the page showed: the six, delivered at the first attempt with a 200.
    let rows = out["rows"].as_array().expect("RESULT.rows");
    let mut shown: Vec<&str> = rows.iter().map(|r| r["event"].as_str().unwrap()).collect();
    shown.sort_unstable();
    assert_eq!(shown, all, "{rows:?}");
    for r in rows {
        assert_eq!(r["status"], "delivered", "{r}");
        assert_eq!(r["attempts"], "1", "{r}");
        assert_eq!(r["code"], "200", "{r}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_receiver_shows_its_attempts_and_redeliver_succeeds() {
    // Three attempts (two retries) fail for good within a second.
    let builder = TestApp::builder(TestStore::Sqlite).retry_schedule("100ms,100ms");
    let Some(d) = desk(builder).await else { return };
    // The receiver answers 500 three times, then 200 (its default) to the redelivery.
    d.receiver
        .script([Reply::Status(500), Reply::Status(500), Reply::Status(500)]);
    let hook = d.app.create_webhook(&d.receiver.url(), None).await;
    d.app
        .patch_webhook(&hook.id, &json!({ "description": "CRM sync" }))
        .await;
    let out = d
        .run("console_redeliver.mjs", &[("WEBHOOK_ID", hook.id.clone())])
        .await;
    let delivery = out["deliveryId"].as_str().expect("RESULT.deliveryId");

    let reqs = d.receiver.wait_for(4, WAIT).await;
    assert_eq!(reqs.len(), 4, "three failures and the redelivery");
    let statuses: Vec<u16> = reqs.iter().map(|r| *r.status.get().unwrap()).collect();
    assert_eq!(statuses, [500, 500, 500, 200]);
    for r in &reqs {
        crate::checks::check_request(r, &hook.secret);
        assert_eq!(
            r.webhook_id(),
            delivery,
            "every attempt is the same delivery"
        );
        assert_eq!(
            r.event()["event"],
            "messageAgent",
            "the test event is the seed's"
        );
    }
    let stored = d.app.delivery(&hook.id, delivery).await;
    assert_eq!(stored["status"], "delivered", "{stored}");
    assert_eq!(stored["attempts"], 4, "{stored}");
    assert_eq!(
        out["attemptsShown"],
        json!(["200", "500", "500", "500"]),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_consoles_follow_one_conversation_live() {
    let Some(d) = desk(TestApp::builder(TestStore::Sqlite)).await else {
        return;
    };
    d.add_roy().await;
    let hook = d.app.create_webhook(&d.receiver.url(), None).await;
    let out = d.run("console_live.mjs", &[]).await;
    let reqs = d.until_event("end").await;
    let events = checked_events(&reqs, &hook.secret);
    let conversation = out["conversationId"]
        .as_str()
        .expect("RESULT.conversationId");
    assert!(
        events.iter().all(|e| e["visitorId"].is_string()),
        "{events:#?}"
    );
    let answer = events
        .iter()
        .find(|e| e["event"] == "messageAgent")
        .expect("messageAgent");
    assert_eq!(answer["agent"]["id"], MOSS_ID, "Moss answered: {answer}");
    // The admin ended it acting as Roy, chosen in "Act as".
    let end = events.iter().find(|e| e["event"] == "end").expect("end");
    assert_eq!(end["agent"]["id"], ROY_ID, "the admin acted as Roy: {end}");
    assert_eq!(
        texts(end),
        [FIRST, "Are you there?", ANSWER, "Thanks!"],
        "{end}"
    );
    let stored = d.app.conversation(conversation).await;
    assert_eq!(stored["status"], "ended", "{stored}");
}

/// A visitor with a browser's user agent, as the widget would start them.
async fn visitor(app: &TestApp, identity: Value, text: &str) -> crate::api::VisitorSession {
    let req = crate::api::VisitorStart {
        identity: Some(identity),
        message: Some(text.to_owned()),
        user_agent: Some(crate::fixtures::SEED_USER_AGENT.to_owned()),
        ..Default::default()
    };
    let answer = app.visitor_start_call(&req).await.send().await;
    crate::api::VisitorSession::from_json(&answer.expect_json(201))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn screenshots_of_every_console_page() {
    let builder = TestApp::builder(TestStore::Sqlite).retry_schedule("100ms,100ms");
    let Some(d) = desk(builder).await else { return };
    let app = &d.app;
    d.add_roy().await;
    let jen = crate::fixtures::agent("U0JEN0042", "Jen");
    app.put_agent(&jen).await.expect_status(201);
    // A webhook that works and one whose receiver answers 500.
    let hook = app.create_webhook(&d.receiver.url(), None).await;
    app.patch_webhook(&hook.id, &json!({ "description": "CRM sync" }))
        .await;
    let failing = Receiver::start().await;
    failing.set_default(Reply::Status(500));
    let broken = app
        .create_webhook(&failing.url_with_path("/staging"), Some(&["start", "end"]))
        .await;
    app.patch_webhook(&broken.id, &json!({ "description": "Analytics (staging)" }))
        .await;

    // Scarlet, open with Moss; Douglas waiting; Jen's question, answered and ended by Roy.
    let mut identity = crate::fixtures::scarlet_identity();
    identity["location"] = json!("https://shop.example.com/checkout?step=2");
    identity["title"] = json!("Checkout — Example Shop");
    identity["languages"] = json!("en-GB,en;q=0.9,fr;q=0.8");
    let scarlet = visitor(app, identity, FIRST).await;
    let s = &scarlet.conversation_id;
    app.set_email(&scarlet.token, s, "scar@let.com").await;
    app.join(s, MOSS_ID).await;
    app.agent_message(s, MOSS_ID, ANSWER).await;
    app.visitor_message(&scarlet.token, s, "Great, thanks! Is there a sandbox too?")
        .await;
    let jen_v = visitor(
        app,
        json!({ "name": "Jen Barber" }),
        "Can I change my delivery address?",
    )
    .await;
    app.join(&jen_v.conversation_id, ROY_ID).await;
    app.agent_message(&jen_v.conversation_id, ROY_ID, "Done: it's updated.")
        .await;
    app.end(&jen_v.conversation_id, ROY_ID).await;
    let douglas = visitor(
        app,
        json!({ "name": "Douglas" }),
        "Hello? My order #4512 has not arrived.",
    )
    .await;
    let settled = |log: &[Value], n: usize, status: &str| {
        log.len() == n && log.iter().all(|x| x["status"] == status)
    };
    app.wait_until_deliveries(&hook.id, |log| settled(log, 12, "delivered"))
        .await;
    let failed = app
        .wait_until_deliveries(&broken.id, |log| settled(log, 4, "failed"))
        .await;

    let failed_id = failed[0]["id"].as_str().unwrap().to_owned();
    d.run(
        "console_screens.mjs",
        &[
            ("WEBHOOK_ID", hook.id.clone()),
            ("FAILING_WEBHOOK_ID", broken.id.clone()),
            ("FAILED_DELIVERY_ID", failed_id),
            ("CONVERSATION_ID", scarlet.conversation_id.clone()),
            ("DOUGLAS_ID", douglas.conversation_id.clone()),
            ("DOUGLAS_TOKEN", douglas.token.clone()),
        ],
    )
    .await;
    let dir = super::screenshots_dir();
    for page in [
        "sign-in",
        "conversations",
        "integration",
        "webhook",
        "delivery",
        "agents",
    ] {
        for width in ["1280", "390"] {
            let file = dir.join(format!("console-{page}-{width}.png"));
            let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
            assert!(size > 10_000, "{} missing or blank", file.display());
        }
    }
}
