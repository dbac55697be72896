//! The single SQLite writer, on a thread of its own, with group commit: concurrent write jobs
//! share one transaction and one fsync; each job runs inside its own savepoint, so a failing job
//! undoes only itself; each caller is answered only after the commit. Statements are prepared
//! once and cached, and run without crossing threads.
//!
//! A savepoint costs a copy of every page the job changes (SQLite keeps them to undo the job):
//! about 64 KiB per chat command. Jobs that can only fail before they write anything (a chat
//! command fails on its first statement, the version check) run without one
//! ([`Guard::FailsFirst`]); should such a job still fail after writing, the whole transaction is
//! undone and every job in it is answered with the error — never a half-applied job.
//!
//! The fsync is pipelined. The writer commits with `synchronous = NORMAL` (the commit reaches
//! the write-ahead log, not the disk) and a syncer thread flushes the log (`fdatasync`) before
//! answering the durable jobs of that commit. While a flush is under way the writer does not
//! commit durable jobs, so that they gather into the next group as before, but it already runs
//! them in the next transaction as they arrive: their work overlaps the flush instead of waiting
//! for it. Every acknowledged write is on disk, as with `synchronous = FULL`; SQLite keeps the
//! log consistent in this mode whatever a crash interrupts. The syncer and what a failed flush
//! does are in [`super::wal`].

use super::super::{Result, StoreError};
use super::wal::{Log, sync_loop};
use rusqlite::Connection;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

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
pub(super) type Finisher = Box<dyn FnOnce(std::result::Result<(), String>) + Send>;
/// The work of a job: runs on the writer's connection; says whether it succeeded, and how to
/// answer.
type Work = Box<dyn FnOnce(&Connection) -> (bool, Finisher) + Send>;
/// Whether a job runs in a savepoint of its own.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Guard {
    /// In a savepoint: a failure undoes this job only.
    Savepoint,
    /// Without: for jobs whose expected failures happen before they change anything.
    FailsFirst,
}

/// A job: its work, whether it must be flushed before it is answered, and how it is guarded.
pub(super) type Job = (Sync, Guard, Work);

/// Work to run between transactions (see [`Writer::outside`]).
type Outside = Box<dyn FnOnce(&Connection) + Send>;

/// What the writer thread hears.
pub(super) enum Msg {
    Job(Job),
    Outside(Outside),
    /// The syncer flushed a commit the writer handed it.
    Synced,
    /// A job that runs only if the writer is idle when it comes (see [`super::idle`]); `busy`
    /// answers it otherwise.
    Idle(Job, Busy),
}

/// Answers an idle job that did not run.
pub(super) type Busy = Box<dyn FnOnce() + Send>;

/// A commit for the syncer: the answers waiting for it, and how to tell the writer it was
/// flushed. Without a way to tell, it is a lazy commit, answered as soon as the flushes handed
/// over before it are done, with no flush of its own.
pub(super) type Flush = (Vec<Finisher>, Option<mpsc::UnboundedSender<Msg>>);

/// The handle to the writer thread.
#[derive(Clone)]
pub struct Writer {
    pub(super) jobs: mpsc::UnboundedSender<Msg>,
    pub(super) log: Arc<Log>,
}

impl Writer {
    /// Starts the writer thread on `conn`, whose write-ahead log is the file `wal`, and the
    /// syncer thread that flushes it.
    pub fn start(conn: Connection, wal: PathBuf, wal_long: Arc<AtomicBool>) -> Self {
        Self::start_with(conn, wal, wal_long, Duration::ZERO, false)
    }

    /// [`Self::start`], each flush taking at least `slow_flush`, or failing (for tests).
    fn start_with(
        conn: Connection,
        wal: PathBuf,
        wal_long: Arc<AtomicBool>,
        slow_flush: Duration,
        fail_flushes: bool,
    ) -> Self {
        let (jobs, rx) = mpsc::unbounded_channel();
        let (to_sync, flushes) = std_mpsc::channel::<Flush>();
        let me = jobs.downgrade();
        let log = Arc::new(Log {
            path: wal,
            broken: std::sync::OnceLock::new(),
            slow: slow_flush,
            fail: fail_flushes,
        });
        let syncer_log = log.clone();
        std::thread::Builder::new()
            .name("palaver-sqlite-sync".into())
            .spawn(move || sync_loop(&syncer_log, flushes))
            .expect("the syncer thread starts");
        let pipe = Pipe {
            me,
            to_sync,
            log: log.clone(),
            wal_long,
        };
        std::thread::Builder::new()
            .name("palaver-sqlite-writer".into())
            .spawn(move || write_loop(conn, rx, pipe))
            .expect("the writer thread starts");
        Writer { jobs, log }
    }

    /// Why writing stopped, if a flush failed (see [`Log`]).
    pub fn broken(&self) -> Option<String> {
        self.log.broken.get().cloned()
    }

    /// Runs `f` in the next transaction, in a savepoint; answers its result once committed.
    pub async fn run<T, F>(&self, sync: Sync, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        self.run_guarded(sync, Guard::Savepoint, f).await
    }

    /// [`Self::run`], guarded as `guard` says.
    pub async fn run_guarded<T, F>(&self, sync: Sync, guard: Guard, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        if let Some(why) = self.log.broken.get() {
            return Err(StoreError::Commit(why.clone()));
        }
        let (tx, rx) = oneshot::channel::<Result<T>>();
        let job = job(sync, guard, f, tx);
        self.jobs
            .send(Msg::Job(job))
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }
}

/// The job running `f`, whose answer goes to `tx` once its transaction is over.
pub(super) fn job<T, F>(sync: Sync, guard: Guard, f: F, tx: oneshot::Sender<Result<T>>) -> Job
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> Result<T> + Send + 'static,
{
    (
        sync,
        guard,
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
    )
}

impl Writer {
    /// Runs `f` outside any transaction (for what cannot run inside one, such as a truncating
    /// checkpoint): the open transaction is committed and flushed first.
    pub async fn outside<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<Result<T>>();
        let work: Outside = Box::new(move |conn| {
            let _ = tx.send(f(conn));
        });
        self.jobs
            .send(Msg::Outside(work))
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }
}

/// How the writer reaches the syncer.
struct Pipe {
    /// Given to the syncer with each flush, to say when it is done; weak, so that the channel
    /// closes when the last [`Writer`] goes.
    me: mpsc::WeakUnboundedSender<Msg>,
    to_sync: std_mpsc::Sender<Flush>,
    log: Arc<Log>,
    /// Set by the checkpoint thread when the log should start over.
    wal_long: Arc<AtomicBool>,
}

/// The transaction being filled.
#[derive(Default)]
struct Open {
    finishers: Vec<Finisher>,
    durable: bool,
}

fn write_loop(conn: Connection, mut rx: mpsc::UnboundedReceiver<Msg>, pipe: Pipe) {
    let mut open: Option<Open> = None;
    // Commits handed to the syncer and not yet flushed.
    let mut flushing = 0usize;
    // When the writer last ran a job other than an idle one.
    let mut worked = Instant::now();
    while let Some(msg) = rx.blocking_recv() {
        let mut next = Some(msg);
        while let Some(msg) = next.take() {
            match msg {
                Msg::Synced => flushing = flushing.saturating_sub(1),
                Msg::Idle(job, busy) => {
                    let idle = open.is_none()
                        && flushing == 0
                        && rx.is_empty()
                        && worked.elapsed() >= super::idle::QUIET;
                    if !idle {
                        busy();
                    } else if let Err(e) = run_job(&conn, &mut open, job.0, job.1, job.2) {
                        fail(&conn, &mut open, &e);
                    }
                }
                Msg::Outside(work) => {
                    if let Some(o) = open.take() {
                        match conn.execute_batch("COMMIT") {
                            Ok(()) if o.durable => answer(o.finishers, pipe.log.flush(&mut None)),
                            Ok(()) => answer_lazy(o.finishers, flushing, &pipe),
                            Err(e) => {
                                open = Some(o);
                                fail(&conn, &mut open, &e);
                            }
                        }
                    }
                    work(&conn);
                    worked = Instant::now();
                }
                Msg::Job((sync, guard, job)) => {
                    if let Err(e) = run_job(&conn, &mut open, sync, guard, job) {
                        fail(&conn, &mut open, &e);
                    }
                    worked = Instant::now();
                }
            }
            if open
                .as_ref()
                .is_some_and(|o| o.finishers.len() >= MAX_BATCH)
            {
                break;
            }
            next = rx.try_recv().ok();
        }
        let ready = open
            .as_ref()
            .is_some_and(|o| !o.durable || flushing == 0 || o.finishers.len() >= MAX_BATCH);
        if !ready {
            continue;
        }
        let o = open.take().expect("an open transaction");
        if o.durable {
            crate::metrics::commit_group(o.finishers.len());
        }
        match conn
            .prepare_cached("COMMIT")
            .and_then(|mut c| c.execute([]))
        {
            Err(e) => {
                open = Some(o);
                fail(&conn, &mut open, &e);
            }
            // A lazy batch is flushed with the next durable one.
            Ok(_) if !o.durable => answer_lazy(o.finishers, flushing, &pipe),
            Ok(_) => match pipe.me.upgrade() {
                Some(me) => match pipe.to_sync.send((o.finishers, Some(me))) {
                    Ok(()) => flushing += 1,
                    Err(std_mpsc::SendError((finishers, _))) => {
                        answer(finishers, pipe.log.flush(&mut None))
                    }
                },
                // Shutting down: no syncer to come back.
                None => answer(o.finishers, pipe.log.flush(&mut None)),
            },
        }
        if pipe.wal_long.swap(false, Ordering::Relaxed) {
            // The checkpoint thread has copied nearly all of the log; copying the rest here,
            // between transactions, lets the next one start the log over.
            if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                tracing::warn!(error = %e, "checkpoint failed");
            }
        }
    }
}

/// Runs one job in the open transaction (beginning one if needed), inside its own savepoint
/// unless it is [`Guard::FailsFirst`]. An error undoes the whole transaction.
fn run_job(
    conn: &Connection,
    open: &mut Option<Open>,
    sync: Sync,
    guard: Guard,
    job: Work,
) -> rusqlite::Result<()> {
    if open.is_none() {
        conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
        *open = Some(Open::default());
    }
    let o = open.as_mut().expect("open");
    if guard == Guard::FailsFirst {
        let before = conn.total_changes();
        let (ok, finish) = job(conn);
        o.finishers.push(finish);
        o.durable |= sync == Sync::Durable;
        if !ok && conn.total_changes() != before {
            return Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ABORT),
                Some(
                    "a job failed after it had written, without a savepoint to undo it alone"
                        .into(),
                ),
            ));
        }
        return Ok(());
    }
    conn.prepare_cached("SAVEPOINT job")?.execute([])?;
    let (ok, finish) = job(conn);
    o.finishers.push(finish);
    o.durable |= sync == Sync::Durable;
    if !ok {
        conn.prepare_cached("ROLLBACK TO job")?.execute([])?;
    }
    conn.prepare_cached("RELEASE job")?.execute([])?;
    Ok(())
}

/// The open transaction failed: undone, and every job in it answered with the error.
fn fail(conn: &Connection, open: &mut Option<Open>, e: &rusqlite::Error) {
    let finishers = open.take().map(|o| o.finishers).unwrap_or_default();
    tracing::error!(error = %e, jobs = finishers.len(), "write transaction failed");
    let _ = conn.execute_batch("ROLLBACK");
    answer(finishers, Err(e.to_string()));
}

/// Answers a committed lazy batch. What it read may include the commits being flushed (a claim
/// can find the deliveries of an event whose commit is not on disk yet): while any is, its
/// answers wait for those flushes, so that nothing goes out about an event a crash could still
/// undo. They need no flush of their own.
fn answer_lazy(finishers: Vec<Finisher>, flushing: usize, pipe: &Pipe) {
    if let Some(why) = pipe.log.broken.get() {
        return answer(finishers, Err(why.clone()));
    }
    if flushing == 0 {
        return answer(finishers, Ok(()));
    }
    if let Err(std_mpsc::SendError((finishers, _))) = pipe.to_sync.send((finishers, None)) {
        answer(finishers, pipe.log.flush(&mut None));
    }
}

pub(super) fn answer(finishers: Vec<Finisher>, result: std::result::Result<(), String>) {
    for finish in finishers {
        finish(result.clone());
    }
}

#[cfg(test)]
#[path = "writer_tests.rs"]
pub(super) mod tests;
