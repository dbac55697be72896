//! The single SQLite writer, on a thread of its own, with group commit: concurrent write jobs
//! share one transaction and one fsync; each job runs inside its own savepoint, so a failing job
//! undoes only itself; each caller is answered only after the commit. Statements are prepared
//! once and cached, and run without crossing threads.

use super::super::{Result, StoreError};
use rusqlite::Connection;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc as std_mpsc;
use tokio::sync::oneshot;

/// Most jobs in one transaction.
const MAX_BATCH: usize = 1024;

/// Whether a job's effects must be on disk before its caller hears of them.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Sync {
    /// Flushed (fsync) before the answer: for everything an API call acknowledges.
    Durable,
    /// Written, but flushed only with the next durable batch.
    Lazy,
}

/// Called with whether the transaction committed, once it is over.
type Finisher = Box<dyn FnOnce(std::result::Result<(), String>) + Send>;
/// A job: runs on the writer's connection; says whether it succeeded, and how to answer.
type Job = (
    Sync,
    Box<dyn FnOnce(&Connection) -> (bool, Finisher) + Send>,
);

/// The handle to the writer thread.
#[derive(Clone)]
pub struct Writer {
    jobs: std_mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer thread on `conn`.
    pub fn start(conn: Connection, wal_long: Arc<AtomicBool>) -> Self {
        let (jobs, rx) = std_mpsc::channel();
        std::thread::Builder::new()
            .name("palaver-sqlite-writer".into())
            .spawn(move || write_loop(conn, rx, wal_long))
            .expect("the writer thread starts");
        Writer { jobs }
    }

    /// Runs `f` in the next transaction; answers its result once committed.
    pub async fn run<T, F>(&self, sync: Sync, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<Result<T>>();
        let job: Job = (
            sync,
            Box::new(move |conn| {
                let result = f(conn);
                let ok = result.is_ok();
                let finish: Finisher = Box::new(move |committed| {
                    let answer = match committed {
                        Ok(()) => result,
                        Err(e) => Err(StoreError::Commit(e)),
                    };
                    let _ = tx.send(answer);
                });
                (ok, finish)
            }),
        );
        self.jobs.send(job).map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }
}

fn write_loop(conn: Connection, rx: std_mpsc::Receiver<Job>, wal_long: Arc<AtomicBool>) {
    while let Ok(first) = rx.recv() {
        if wal_long.swap(false, Ordering::Relaxed) {
            // The checkpoint thread has copied nearly all of the log; copying the rest here,
            // between transactions, lets the next one start the log over.
            if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                tracing::warn!(error = %e, "checkpoint failed");
            }
        }
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let mut finishers = Vec::with_capacity(batch.len());
        let result = run_batch(&conn, batch, &mut finishers);
        if let Err(e) = &result {
            tracing::error!(error = %e, jobs = finishers.len(), "write transaction failed");
            let _ = conn.execute_batch("ROLLBACK");
        }
        let result = result.map_err(|e| e.to_string());
        for finish in finishers {
            finish(result.clone());
        }
    }
}

fn run_batch(
    conn: &Connection,
    jobs: Vec<Job>,
    finishers: &mut Vec<Finisher>,
) -> rusqlite::Result<()> {
    // In WAL mode, `synchronous = NORMAL` commits without fsync; `FULL` fsyncs the log, and with
    // it every lazy batch committed before.
    let durable = jobs.iter().any(|(sync, _)| *sync == Sync::Durable);
    conn.pragma_update(None, "synchronous", if durable { "full" } else { "normal" })?;
    conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
    for (_, job) in jobs {
        conn.prepare_cached("SAVEPOINT job")?.execute([])?;
        let (ok, finish) = job(conn);
        finishers.push(finish);
        if !ok {
            conn.prepare_cached("ROLLBACK TO job")?.execute([])?;
        }
        conn.prepare_cached("RELEASE job")?.execute([])?;
    }
    conn.prepare_cached("COMMIT")?.execute([])?;
    Ok(())
}
