//! `kill -9` in the middle of a burst loses nothing an API call acknowledged.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

use crate::checks::assert_duplicates_share_their_webhook_id;
use crate::fixtures::named;
use crate::helpers::TestApp;
use crate::payload::texts;
use crate::receiver::{Received, Receiver};
use crate::stores::{TestStore, on_every_store};

on_every_store!(sigkill_mid_burst_loses_no_acknowledged_event,);

const TASKS: usize = 6;
const PER_TASK: usize = 50;
/// The kill comes once this many messages were acknowledged (of TASKS * PER_TASK).
const KILL_AFTER: usize = 100;
/// How long after the restart everything acknowledged must have arrived.
const RECOVERY: Duration = Duration::from_secs(60);

/// What the burst's tasks share: acknowledged (visitorId, text) pairs and the kill trigger.
#[derive(Default)]
struct Acks {
    acked: Mutex<Vec<(String, String)>>,
    count: AtomicUsize,
    enough: Notify,
}

/// One visitor writing as fast as the server acknowledges, until the server goes away.
async fn burst(
    app: Arc<TestApp>,
    acks: Arc<Acks>,
    n: usize,
    token: String,
    conv: String,
    visitor: String,
) {
    for i in 0..PER_TASK {
        let text = format!("burst t{n} m{i}");
        let call = app.visitor_message_call(&token, &conv, &text);
        match call.try_send().await {
            Ok(answer) if answer.status == 201 => {
                acks.acked.lock().unwrap().push((visitor.clone(), text));
                if acks.count.fetch_add(1, Ordering::SeqCst) + 1 == KILL_AFTER {
                    acks.enough.notify_one();
                }
            }
            _ => return,
        }
    }
}

/// (visitorId, text of the last message) of a `messageVisitor` request.
fn key_of(r: &Received) -> Option<(String, String)> {
    let e = r.event();
    let last = texts(&e).pop()?;
    (e["event"] == "messageVisitor").then(|| (e["visitorId"].as_str().unwrap().to_owned(), last))
}

async fn sigkill_mid_burst_loses_no_acknowledged_event(store: TestStore) {
    // A delivery in flight at the kill is leased to the dead process: it is sent again when
    // the lease (delivery timeout + the server's margin) expires, hence the short timeout.
    let app = TestApp::builder(store).delivery_timeout("1s").spawn().await;
    let app = Arc::new(app);
    let receiver = Receiver::start().await;
    let hook = app.create_webhook(&receiver.url(), None).await;
    let acks = Arc::new(Acks::default());
    let mut visitors = Vec::new();
    let mut tasks = Vec::new();
    for n in 0..TASKS {
        let v = app.visitor_start(named(&format!("Crash {n}")), None).await;
        visitors.push(v.clone());
        let job = burst(
            app.clone(),
            acks.clone(),
            n,
            v.token,
            v.conversation_id,
            v.visitor_id,
        );
        tasks.push(tokio::spawn(job));
    }
    tokio::time::timeout(Duration::from_secs(30), acks.enough.notified())
        .await
        .expect("the burst got KILL_AFTER acknowledgements");
    app.kill().await;
    for task in tasks {
        task.await.expect("burst task");
    }
    let acked: HashSet<(String, String)> = acks.acked.lock().unwrap().iter().cloned().collect();
    eprintln!("{} messages acknowledged before the kill", acked.len());
    assert!(
        acked.len() < TASKS * PER_TASK,
        "the kill came after the burst ended"
    );

    app.restart().await;
    let starts: HashSet<&str> = visitors.iter().map(|v| v.visitor_id.as_str()).collect();
    let reqs = receiver
        .wait_until("every acknowledged event", RECOVERY, |reqs| {
            let got: HashSet<_> = reqs.iter().filter_map(|r| key_of(r)).collect();
            let started: HashSet<String> = reqs
                .iter()
                .map(|r| r.event())
                .filter(|e| e["event"] == "start")
                .map(|e| e["visitorId"].as_str().unwrap().to_owned())
                .collect();
            acked.is_subset(&got) && starts.iter().all(|s| started.contains(*s))
        })
        .await;
    assert_duplicates_share_their_webhook_id(&reqs, &hook.secret);
    for v in &visitors {
        let detail = app.conversation(&v.conversation_id).await;
        let stored: HashSet<String> = texts(&detail).into_iter().collect();
        for (visitor, text) in &acked {
            if *visitor == v.visitor_id {
                assert!(
                    stored.contains(text),
                    "acknowledged {text:?} missing from {}",
                    v.conversation_id
                );
            }
        }
    }
}
