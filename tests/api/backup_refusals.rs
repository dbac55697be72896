//! What `palaver backup` and `palaver restore` refuse: replacing a file without `--force`, a
//! data dir a server runs on, files that are not Palaver databases, PostgreSQL. And a restore
//! over a killed server's data dir (its write-ahead log left behind) keeps the old database.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Output;

use crate::backup::{integrity, palaver, succeeded};
use crate::fixtures::named;
use crate::helpers::TestApp;
use crate::payload::texts;
use crate::stores::{TestStore, on_postgres_only};

on_postgres_only!(postgresql_is_sent_to_its_own_tools);

/// `palaver backup FILE --data-dir DIR [EXTRA…]`.
async fn backup(app: &TestApp, file: &Path, dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        OsStr::new("backup"),
        file.as_os_str(),
        OsStr::new("--data-dir"),
        dir.as_os_str(),
    ];
    args.extend(extra.iter().map(OsStr::new));
    palaver(app, &args).await
}

/// `palaver restore FILE --data-dir DIR`.
async fn restore(app: &TestApp, file: &Path, dir: &Path) -> Output {
    let args = [
        OsStr::new("restore"),
        file.as_os_str(),
        OsStr::new("--data-dir"),
        dir.as_os_str(),
    ];
    palaver(app, &args).await
}

/// Asserts `palaver` failed saying `why`.
fn refused(out: &Output, why: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "palaver did not refuse ({why}): {stderr}"
    );
    assert!(stderr.contains(why), "expected {why:?} in: {stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_and_restore_refuse_what_would_lose_data() {
    let app = TestApp::spawn(TestStore::Sqlite).await;
    let v = app.visitor_start(named("Kept"), Some("before")).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("palaver.backup");
    std::fs::write(&file, "precious").unwrap();

    refused(
        &backup(&app, &file, &app.data_dir(), &[]).await,
        "pass --force to replace it",
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "precious");
    let live = app.data_dir().join("palaver.db");
    let out = backup(&app, &live, &app.data_dir(), &["--force"]).await;
    refused(&out, "the live database's own file");
    succeeded(&backup(&app, &file, &app.data_dir(), &["--force"]).await);
    assert_eq!(integrity(&file), "ok");

    // The server runs: its data dir is not restored under it.
    refused(
        &restore(&app, &file, &app.data_dir()).await,
        "a palaver server is running",
    );
    app.visitor_message(&v.token, &v.conversation_id, "still here")
        .await;

    let fresh = dir.path().join("fresh");
    let text = dir.path().join("notes.txt");
    std::fs::write(
        &text,
        "not a database at all, but long enough to look like one? no.",
    )
    .unwrap();
    refused(
        &restore(&app, &text, &fresh).await,
        "is not a SQLite database",
    );
    let other = dir.path().join("other.db");
    let conn = rusqlite::Connection::open(&other).unwrap();
    conn.execute_batch("CREATE TABLE things (id INTEGER PRIMARY KEY)")
        .unwrap();
    drop(conn);
    refused(
        &restore(&app, &other, &fresh).await,
        "is not a Palaver database",
    );
    refused(
        &restore(&app, &dir.path().join("missing.db"), &fresh).await,
        "is not a file",
    );
    assert!(
        !fresh.join("palaver.db").exists(),
        "a refused restore wrote a database"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_over_a_killed_server_keeps_the_old_database_aside() {
    let app = TestApp::spawn(TestStore::Sqlite).await;
    let first = app.visitor_start(named("First"), Some("before")).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("palaver.backup");
    succeeded(&backup(&app, &file, &app.data_dir(), &[]).await);
    let later = app.visitor_start(named("Later"), Some("after")).await;
    // SIGKILL: the write-ahead log stays beside the database, holding the later commits.
    app.kill().await;
    assert!(app.data_dir().join("palaver.db-wal").exists());

    let (stdout, _) = succeeded(&restore(&app, &file, &app.data_dir()).await);
    assert!(stdout.contains("palaver.db.before-restore"), "{stdout}");
    assert!(
        !app.data_dir().join("palaver.db-wal").exists(),
        "the old log was left behind"
    );
    app.restart().await;
    assert_eq!(
        texts(&app.conversation(&first.conversation_id).await),
        ["before"]
    );
    let path = format!("/conversations/{}", later.conversation_id);
    app.api(reqwest::Method::GET, &path)
        .send()
        .await
        .expect_status(404);

    // The old database, log included, comes back the same way.
    app.terminate(std::time::Duration::from_secs(20)).await;
    let old = app.data_dir().join("palaver.db.before-restore");
    let kept = dir.path().join("kept.db");
    std::fs::copy(&old, &kept).unwrap();
    succeeded(&restore(&app, &kept, &app.data_dir()).await);
    app.restart().await;
    assert_eq!(
        texts(&app.conversation(&later.conversation_id).await),
        ["after"]
    );
}

async fn postgresql_is_sent_to_its_own_tools(store: TestStore) {
    let app = TestApp::spawn(store.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("palaver.backup");
    let mut args = vec!["backup".to_owned(), file.display().to_string()];
    args.extend(store.args());
    refused(&palaver(&app, &args).await, "pg_dump");
    assert!(!file.exists());
    let sqlite = dir.path().join("x.db");
    std::fs::write(&sqlite, "").unwrap();
    args[0] = "restore".to_owned();
    args[1] = sqlite.display().to_string();
    refused(&palaver(&app, &args).await, "pg_restore");
}
