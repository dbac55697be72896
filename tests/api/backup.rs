//! `palaver backup` of a running server in the middle of a burst, `palaver restore` of the copy
//! into a fresh data dir and a server started on it: everything acknowledged before the backup
//! began is there, consistent, and its pending deliveries go out. The refusals are in
//! `backup_refusals.rs`.

use std::collections::{HashMap, HashSet};
use std::ffi::OsStr;
use std::path::Path;
use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use crate::fixtures::named;
use crate::helpers::{TestApp, WAIT};
use crate::payload::texts;
use crate::receiver::{Received, Receiver, Reply};
use crate::stores::TestStore;

const TASKS: usize = 6;
const PER_TASK: usize = 40;
/// The backup starts once this many messages were acknowledged (of TASKS * PER_TASK).
const BACKUP_AFTER: usize = 60;

/// Runs `palaver ARGS` to its end, with the test server's environment.
pub async fn palaver<S: AsRef<OsStr>>(app: &TestApp, args: &[S]) -> Output {
    let mut cmd = app.base_command();
    cmd.args(args).stdin(std::process::Stdio::null());
    let run = tokio::time::timeout(WAIT, cmd.output()).await;
    run.expect("palaver finished in time").expect("run palaver")
}

/// Asserts `palaver` succeeded; its stdout and stderr.
pub fn succeeded(out: &Output) -> (String, String) {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "palaver failed: {stdout}\n{stderr}");
    (stdout, stderr)
}

/// `PRAGMA integrity_check` on a SQLite file, as the test sees it.
pub fn integrity(file: &Path) -> String {
    let conn = rusqlite::Connection::open(file).expect("open the copy");
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check")
}

/// Acknowledged messages, in the order of their acknowledgements, and the backup's trigger.
#[derive(Default)]
struct Acks {
    /// (task, message number).
    acked: Mutex<Vec<(usize, usize)>>,
    count: AtomicUsize,
    enough: Notify,
}

/// One visitor writing `m0`, `m1`, … as fast as the server acknowledges.
async fn burst(app: Arc<TestApp>, acks: Arc<Acks>, n: usize, token: String, conv: String) {
    for i in 0..PER_TASK {
        app.visitor_message(&token, &conv, &format!("m{i}")).await;
        acks.acked.lock().unwrap().push((n, i));
        if acks.count.fetch_add(1, Ordering::SeqCst) + 1 == BACKUP_AFTER {
            acks.enough.notify_one();
        }
    }
}

/// (visitorId, the new message) of each `messageVisitor` event of a request.
fn messages_of(r: &Received) -> Vec<(String, String)> {
    let events = r.events();
    let news = events.iter().filter(|e| e["event"] == "messageVisitor");
    news.filter_map(|e| Some((e["visitorId"].as_str()?.to_owned(), texts(e).pop()?)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_mid_burst_restores_what_was_acknowledged_before_it() {
    let app = TestApp::builder(TestStore::Sqlite)
        .delivery_timeout("60s")
        .spawn()
        .await;
    let app = Arc::new(app);
    // The receiver does not answer the first server: its deliveries all wait in the outbox.
    let receiver = Receiver::start().await;
    receiver.set_default(Reply::Hang);
    let hook = app.create_webhook(&receiver.url(), None).await;
    let acks = Arc::new(Acks::default());
    let (mut visitors, mut tasks) = (Vec::new(), Vec::new());
    for n in 0..TASKS {
        let v = app.visitor_start(named(&format!("Backup {n}")), None).await;
        let job = burst(
            app.clone(),
            acks.clone(),
            n,
            v.token.clone(),
            v.conversation_id.clone(),
        );
        visitors.push(v);
        tasks.push(tokio::spawn(job));
    }
    tokio::time::timeout(WAIT, acks.enough.notified())
        .await
        .expect("the burst got BACKUP_AFTER acknowledgements");
    let before: Vec<(usize, usize)> = acks.acked.lock().unwrap().clone();
    let file = tempfile::tempdir().unwrap();
    let copy = file.path().join("mid-burst.db");
    let out = palaver(
        &app,
        &[
            OsStr::new("backup"),
            copy.as_os_str(),
            OsStr::new("--data-dir"),
            app.data_dir().as_os_str(),
            // Small steps: the burst's commits land between many of them.
            OsStr::new("--step-pages"),
            OsStr::new("8"),
        ],
    )
    .await;
    let (stdout, stderr) = succeeded(&out);
    assert!(stdout.contains("integrity check ok"), "{stdout}");
    assert!(stderr.contains("palaver backup: 100%"), "{stderr}");
    let progress = stderr.matches("palaver backup: ").count();
    assert!(
        progress >= 3,
        "a copy in steps shows its progress: {stderr}"
    );
    for task in tasks {
        task.await.expect("burst task");
    }
    assert!(
        before.len() < TASKS * PER_TASK,
        "the backup came after the burst"
    );
    app.kill().await;
    assert_eq!(integrity(&copy), "ok");

    // A fresh data dir, the same admin key (the database holds only its hash).
    let restored = TestApp::builder(TestStore::Sqlite)
        .api_key(&app.api_key)
        .stopped();
    let out = palaver(
        &restored,
        &[
            OsStr::new("restore"),
            copy.as_os_str(),
            OsStr::new("--data-dir"),
            restored.data_dir().as_os_str(),
        ],
    )
    .await;
    let (stdout, _) = succeeded(&out);
    assert!(stdout.contains("restored"), "{stdout}");
    assert_eq!(integrity(&restored.data_dir().join("palaver.db")), "ok");
    receiver.set_default(Reply::Status(200));
    restored.restart().await;

    // Each conversation holds its first messages in order: all those acknowledged before the
    // backup, maybe some after, never a gap.
    let mut acked_before: HashMap<usize, usize> = HashMap::new();
    for (n, i) in &before {
        let most = acked_before.entry(*n).or_default();
        *most = (*most).max(i + 1);
    }
    let mut expected = HashSet::new();
    for (n, v) in visitors.iter().enumerate() {
        let stored = texts(&restored.conversation(&v.conversation_id).await);
        let sent: Vec<String> = (0..stored.len()).map(|i| format!("m{i}")).collect();
        assert_eq!(
            stored, sent,
            "conversation {n} is not a prefix of what was sent"
        );
        let must = acked_before.get(&n).copied().unwrap_or(0);
        assert!(
            stored.len() >= must,
            "conversation {n} lost acknowledged messages: {} of {must}",
            stored.len()
        );
        expected.extend((0..must).map(|i| (v.visitor_id.clone(), format!("m{i}"))));
    }
    // The copy's pending deliveries reach the receiver from the restored server, signed with
    // the webhook's secret.
    let starts: HashSet<&str> = visitors.iter().map(|v| v.visitor_id.as_str()).collect();
    let reqs = receiver
        .wait_until("the backup's pending deliveries", WAIT * 3, |reqs| {
            let answered = reqs.iter().filter(|r| r.status.get() == Some(&200));
            let events: Vec<_> = answered.clone().flat_map(|r| r.events()).collect();
            let started: HashSet<&str> = events
                .iter()
                .filter(|e| e["event"] == "start")
                .filter_map(|e| e["visitorId"].as_str())
                .collect();
            let got: HashSet<_> = answered.flat_map(|r| messages_of(r)).collect();
            expected.is_subset(&got) && starts.is_subset(&started)
        })
        .await;
    for r in reqs.iter().filter(|r| r.status.get() == Some(&200)) {
        r.assert_signed(&hook.secret);
    }
}
