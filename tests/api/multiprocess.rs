//! Three `palaver serve` processes on one PostgreSQL database share the delivery work: 5,000
//! events posted round-robin through them, one process SIGKILLed half-way, and every
//! acknowledged event still reaches the receiver, in order per channel, repeated only under
//! the same `webhook-id`.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::Notify;

use crate::api::{VisitorSession, VisitorStart};
use crate::checks::assert_duplicates_share_their_webhook_id;
use crate::cluster::Cluster;
use crate::fixtures::named;
use crate::payload::texts;
use crate::receiver::{Received, Receiver, Reply};
use crate::stores::{TestStore, on_postgres_only};

on_postgres_only!(three_processes_deliver_everything_acknowledged_through_a_sigkill);

const PROCESSES: usize = 3;
const CONVERSATIONS: usize = 200;
/// Events per conversation: the start, then 24 visitor messages (5,000 events in all).
const ROUNDS: usize = 25;
const EVENTS: usize = CONVERSATIONS * ROUNDS;
/// Concurrent posting tasks; each drives `CONVERSATIONS / TASKS` conversations in turn.
const TASKS: usize = 32;
const KILLED: usize = 1;
/// Bound on the wait for every acknowledged event (the dead process's leases last ~11 s).
const DRAIN: Duration = Duration::from_secs(120);

/// An acknowledged event: a visitor's start (`None`) or one of its messages.
type Key = (String, Option<String>);

/// One API call of the load.
enum Step<'a> {
    Start(usize),
    Message {
        v: &'a VisitorSession,
        text: &'a str,
    },
}

/// What the posting tasks share.
struct Load {
    cluster: Cluster,
    alive: Vec<AtomicBool>,
    turn: AtomicUsize,
    answered: AtomicUsize,
    half_way: Notify,
    acked: Mutex<Vec<Key>>,
    lost: AtomicUsize,
}

impl Load {
    /// Posts `step` through the next live process. `Some(answer)` when acknowledged; `None`
    /// when the call failed because its process was killed.
    async fn post(&self, step: &Step<'_>) -> Option<Value> {
        let i = loop {
            let i = self.turn.fetch_add(1, Ordering::Relaxed) % PROCESSES;
            if self.alive[i].load(Ordering::SeqCst) {
                break i;
            }
        };
        let app = &self.cluster.apps[i];
        let call = match step {
            Step::Start(n) => {
                let req = VisitorStart {
                    identity: Some(named(&format!("Load {n}"))),
                    ..VisitorStart::default()
                };
                app.visitor_start_call(&req).await
            }
            Step::Message { v, text } => {
                app.visitor_message_call(&v.token, &v.conversation_id, text)
            }
        };
        let outcome = call.try_send().await;
        if self.answered.fetch_add(1, Ordering::SeqCst) + 1 == EVENTS / 2 {
            self.half_way.notify_one();
        }
        match outcome {
            Ok(answer) => Some(answer.expect_json(201)),
            Err(_) if !self.alive[i].load(Ordering::SeqCst) => {
                self.lost.fetch_add(1, Ordering::Relaxed);
                None
            }
            Err(e) => panic!("process {i} failed while it was alive: {e}"),
        }
    }

    fn ack(&self, key: Key) {
        self.acked.lock().unwrap().push(key);
    }
}

/// One task's conversations, round after round: each starts, then writes one message a round.
async fn drive(load: Arc<Load>, task: usize) {
    let mine: Vec<usize> = (task..CONVERSATIONS).step_by(TASKS).collect();
    let mut sessions: Vec<Option<VisitorSession>> = vec![None; mine.len()];
    for (slot, &n) in mine.iter().enumerate() {
        if let Some(answer) = load.post(&Step::Start(n)).await {
            let v = VisitorSession::from_json(&answer);
            load.ack((v.visitor_id.clone(), None));
            sessions[slot] = Some(v);
        }
    }
    for round in 1..ROUNDS {
        for (v, n) in sessions.iter().zip(&mine) {
            let Some(v) = v else { continue };
            let text = format!("c{n} m{round}");
            if load.post(&Step::Message { v, text: &text }).await.is_some() {
                load.ack((v.visitor_id.clone(), Some(text)));
            }
        }
    }
}

fn key_of(e: &Value) -> Key {
    let visitor = e["visitorId"].as_str().expect("visitorId").to_owned();
    let text = if e["event"] == "start" {
        None
    } else {
        texts(e).pop()
    };
    (visitor, text)
}

/// Polls the receiver until every acknowledged event arrived; fails after [`DRAIN`].
async fn wait_for_all(receiver: &Receiver, acked: &[Key]) -> Vec<Arc<Received>> {
    let mut missing: HashSet<&Key> = acked.iter().collect();
    let mut seen = 0;
    let deadline = Instant::now() + DRAIN;
    loop {
        let reqs = receiver.received();
        for r in &reqs[seen..] {
            missing.remove(&key_of(&r.event()));
        }
        seen = reqs.len();
        if missing.is_empty() {
            return reqs;
        }
        let examples: Vec<_> = missing.iter().take(10).collect();
        assert!(
            Instant::now() < deadline,
            "after {DRAIN:?}, {} of {} acknowledged events have not arrived ({seen} requests), e.g. {examples:?}",
            missing.len(),
            acked.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Per channel, each delivery's first arrival carries at least as many messages as the one
/// before, and the last holds the acknowledged messages in acknowledgement order. Returns the
/// number of distinct events received.
fn assert_channel_order(reqs: &[Arc<Received>], acked: &[Key]) -> usize {
    let mut first_arrivals = HashSet::new();
    let mut events = HashSet::new();
    let mut latest: HashMap<String, Vec<String>> = HashMap::new();
    for r in reqs {
        if !first_arrivals.insert(r.webhook_id()) {
            continue;
        }
        let e = r.event();
        let key = key_of(&e);
        let visitor = key.0.clone();
        events.insert(key);
        let now = texts(&e);
        let before = latest.get(&visitor).map_or(0, Vec::len);
        assert!(
            now.len() >= before,
            "channel of {visitor}: request #{} carries {} messages after one with {before}",
            r.seq,
            now.len()
        );
        latest.insert(visitor, now);
    }
    let mut acked_texts: HashMap<&str, Vec<&str>> = HashMap::new();
    for (visitor, text) in acked {
        if let Some(text) = text {
            acked_texts.entry(visitor).or_default().push(text);
        }
    }
    for (visitor, want) in acked_texts {
        let got = &latest[visitor];
        let mut rest = got.iter();
        assert!(
            want.iter().all(|t| rest.any(|g| g == t)),
            "channel of {visitor}: the last transcript {got:?} lacks or reorders {want:?}"
        );
    }
    events.len()
}

async fn three_processes_deliver_everything_acknowledged_through_a_sigkill(store: TestStore) {
    let configure = |b: crate::helpers::TestAppBuilder| {
        b.delivery_timeout("1s")
            .retry_schedule("200ms,500ms,1s,2s,2s,2s")
    };
    let cluster = Cluster::spawn(store, PROCESSES, configure).await;
    let receiver = Receiver::start().await;
    receiver.set_default(Reply::RandomDelay(20));
    let hook = cluster.apps[0].create_webhook(&receiver.url(), None).await;
    let load = Arc::new(Load {
        cluster,
        alive: (0..PROCESSES).map(|_| AtomicBool::new(true)).collect(),
        turn: AtomicUsize::new(0),
        answered: AtomicUsize::new(0),
        half_way: Notify::new(),
        acked: Mutex::new(Vec::new()),
        lost: AtomicUsize::new(0),
    });

    let start = Instant::now();
    let tasks: Vec<_> = (0..TASKS)
        .map(|t| tokio::spawn(drive(load.clone(), t)))
        .collect();
    tokio::time::timeout(Duration::from_secs(60), load.half_way.notified())
        .await
        .expect("half the events answered within 60 s");
    load.alive[KILLED].store(false, Ordering::SeqCst);
    load.cluster.apps[KILLED].kill().await;
    let killed = Instant::now();
    for task in tasks {
        task.await.expect("posting task");
    }
    let posted = Instant::now();
    let acked = load.acked.lock().unwrap().clone();
    let lost = load.lost.load(Ordering::Relaxed);
    assert_eq!(acked.len() + lost, EVENTS, "every call answered or lost");
    assert!(
        acked.len() > EVENTS / 2 + 1000,
        "posting went on after the kill"
    );

    let reqs = wait_for_all(&receiver, &acked).await;
    let drained = Instant::now();
    let duplicates = assert_duplicates_share_their_webhook_id(&reqs, &hook.secret);
    let events = assert_channel_order(&reqs, &acked);
    eprintln!(
        "multi-process: {} events acknowledged, {lost} calls lost with the killed process, \
         {} requests received ({events} distinct events, {} unacknowledged ones delivered, \
         {duplicates} duplicates); posting took {:?} (kill after {:?}), drained {:?} after \
         the last post, {:?} after the kill",
        acked.len(),
        reqs.len(),
        events - acked.len(),
        posted - start,
        killed - start,
        drained - posted,
        drained - killed
    );
}
