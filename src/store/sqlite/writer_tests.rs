//! The writer's tests, and the fixtures the idle jobs' tests share: a writer on a table `t`.

use super::*;
use rusqlite::params;

pub(in crate::store::sqlite) fn writer(dir: &tempfile::TempDir) -> Writer {
    writer_with(dir, Duration::ZERO, false)
}

/// A writer on a table `t`, its flushes slowed by `slow_flush` or failing.
fn writer_with(dir: &tempfile::TempDir, slow_flush: Duration, fail_flushes: bool) -> Writer {
    let path = dir.path().join("w.db");
    let conn = super::super::open_writer(path.to_str().unwrap()).unwrap();
    conn.execute_batch("CREATE TABLE t (k TEXT PRIMARY KEY)")
        .unwrap();
    let wal = PathBuf::from(format!("{}-wal", path.display()));
    Writer::start_with(conn, wal, Arc::default(), slow_flush, fail_flushes)
}

/// Inserts `k`; then fails if `fail` says so.
async fn insert(w: &Writer, guard: Guard, k: &'static str, fail: bool) -> Result<()> {
    w.run_guarded(Sync::Durable, guard, move |c| {
        c.execute("INSERT INTO t (k) VALUES (?)", params![k])?;
        if fail {
            return Err(StoreError::Conflict(
                crate::store::ConflictKind::VisitorVersion,
            ));
        }
        Ok(())
    })
    .await
}

pub(in crate::store::sqlite) async fn keys(w: &Writer) -> Vec<String> {
    w.run(Sync::Lazy, |c| {
        let mut s = c.prepare("SELECT k FROM t ORDER BY k")?;
        let keys = s
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(keys)
    })
    .await
    .unwrap()
}

/// A lazy job that can see a commit still being flushed (a claim finding its deliveries) is
/// not answered before that flush is done: nothing may go out about an event a crash could
/// still undo.
#[tokio::test]
async fn a_lazy_job_is_answered_after_the_flushes_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let slow = Duration::from_millis(300);
    let w = writer_with(&dir, slow, false);
    let started = std::time::Instant::now();
    let durable = tokio::spawn({
        let w = w.clone();
        async move { insert(&w, Guard::Savepoint, "a", false).await }
    });
    // The durable commit is being flushed now; this read sees it.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(keys(&w).await, ["a"]);
    let answered = started.elapsed();
    assert!(
        answered >= slow,
        "answered after {answered:?}, before the flush ({slow:?}) of what it read"
    );
    durable.await.unwrap().unwrap();
    // With nothing being flushed, a lazy job is answered at once (no flush of its own).
    let again = std::time::Instant::now();
    assert_eq!(keys(&w).await, ["a"]);
    assert!(again.elapsed() < slow, "{:?}", again.elapsed());
}

/// After a failed flush nothing is acknowledged any more, durable or lazy, until a restart:
/// a later flush could not be trusted.
#[tokio::test]
async fn a_failed_flush_stops_all_writes() {
    let dir = tempfile::tempdir().unwrap();
    let w = writer_with(&dir, Duration::ZERO, true);
    assert!(w.broken().is_none());
    let first = insert(&w, Guard::Savepoint, "a", false).await;
    assert!(
        matches!(&first, Err(StoreError::Commit(e)) if e.contains("injected")),
        "{first:?}"
    );
    let why = w.broken().expect("broken after a failed flush");
    assert!(why.contains("restarted"), "{why}");
    for result in [
        insert(&w, Guard::Savepoint, "b", false).await,
        w.run(Sync::Lazy, |_| Ok(())).await,
    ] {
        assert!(
            matches!(&result, Err(StoreError::Commit(e)) if *e == why),
            "{result:?}"
        );
    }
}

#[tokio::test]
async fn an_unguarded_job_failing_before_it_writes_leaves_the_others_alone() {
    let dir = tempfile::tempdir().unwrap();
    let w = writer(&dir);
    let refuse = |c: &Connection| -> Result<()> {
        c.execute("UPDATE t SET k = 'x' WHERE k = 'nothing'", [])?;
        Err(StoreError::Conflict(
            crate::store::ConflictKind::VisitorVersion,
        ))
    };
    let (a, b, c) = tokio::join!(
        insert(&w, Guard::FailsFirst, "a", false),
        w.run_guarded(Sync::Durable, Guard::FailsFirst, refuse),
        insert(&w, Guard::Savepoint, "c", false),
    );
    assert!(a.is_ok() && c.is_ok(), "{a:?} {c:?}");
    assert!(matches!(b, Err(StoreError::Conflict(_))), "{b:?}");
    assert_eq!(keys(&w).await, ["a", "c"]);
}

#[tokio::test]
async fn an_unguarded_job_failing_after_it_wrote_undoes_its_transaction_never_half() {
    let dir = tempfile::tempdir().unwrap();
    let w = writer(&dir);
    for round in 0..20 {
        let (a, b, c) = tokio::join!(
            insert(&w, Guard::FailsFirst, ["a0", "a1"][round % 2], false),
            insert(&w, Guard::FailsFirst, "b", true),
            insert(&w, Guard::Savepoint, ["c0", "c1"][round % 2], true),
        );
        assert!(matches!(b, Err(StoreError::Commit(_))), "{b:?}");
        assert!(c.is_err(), "a guarded failure is its own");
        let keys = keys(&w).await;
        assert!(
            !keys.iter().any(|k| k == "b" || k.starts_with('c')),
            "{keys:?}"
        );
        // `a` answered Ok exactly when it is stored: it may have shared b's transaction.
        let stored = keys.iter().any(|k| k == ["a0", "a1"][round % 2]);
        assert_eq!(a.is_ok(), stored, "round {round}: {a:?} {keys:?}");
        w.run(Sync::Lazy, |c| Ok(c.execute("DELETE FROM t", [])?))
            .await
            .unwrap();
    }
}
