//! Work that gives way to everything else on the SQLite writer: retention's purges. An idle job
//! runs only if the writer is idle when the job reaches it: no other job queued behind it, no
//! transaction open, no commit being flushed, and no other job for [`QUIET`]. Otherwise it is
//! answered "busy" without running, and [`Writer::when_idle`] tries again [`RETRY`] later.
//!
//! So under a burst that keeps the writer busy, idle jobs wait (a look every few milliseconds
//! costs the writer nothing it would notice), and in the gaps of lighter traffic they run, each
//! in a lazy transaction of its own: a job arriving meanwhile waits for one idle job at most,
//! which is why idle jobs are kept short (a purge batch holds the writer about a millisecond).
//! The writer's side of it is [`super::writer::Msg::Idle`].

use super::super::{Result, StoreError};
use super::writer::{Busy, Guard, Msg, Sync, Writer, job};
use rusqlite::Connection;
use std::time::Duration;
use tokio::sync::oneshot;

/// How long the writer must have been without other work for an idle job to run: longer than
/// the gaps between the jobs of a burst, shorter than those of moderate traffic.
pub(super) const QUIET: Duration = Duration::from_millis(2);
/// How long after a "busy" answer an idle job is offered again.
const RETRY: Duration = Duration::from_millis(5);

impl Writer {
    /// Runs `f` in a lazy transaction of its own if the writer is idle (see the module docs);
    /// `None` when it was busy and `f` did not run.
    pub async fn try_idle<T, F>(&self, f: F) -> Result<Option<T>>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        if let Some(why) = self.log.broken.get() {
            return Err(StoreError::Commit(why.clone()));
        }
        let (tx, rx) = oneshot::channel::<Result<T>>();
        let (busy_tx, mut busy_rx) = oneshot::channel::<()>();
        let busy: Busy = Box::new(move || {
            let _ = busy_tx.send(());
        });
        let job = job(Sync::Lazy, Guard::Savepoint, f, tx);
        self.jobs
            .send(Msg::Idle(job, busy))
            .map_err(|_| StoreError::Closed)?;
        match rx.await {
            Ok(answer) => answer.map(Some),
            // A busy writer drops the job (and with it `tx`) after saying so.
            Err(_) if busy_rx.try_recv().is_ok() => Ok(None),
            Err(_) => Err(StoreError::Closed),
        }
    }

    /// Runs `f` as [`Self::try_idle`] does, as soon as the writer is idle: however long that
    /// takes (the caller may give up by dropping the future).
    pub async fn when_idle<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Clone + Send + 'static,
    {
        loop {
            if let Some(done) = self.try_idle(f.clone()).await? {
                return Ok(done);
            }
            tokio::time::sleep(RETRY).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::writer::tests::{keys, writer};
    use super::*;
    use rusqlite::params;

    /// Inserts `k`: a writer's job, or an idle job.
    fn insert(k: &'static str) -> impl FnOnce(&Connection) -> Result<()> + Clone + Send {
        move |c| {
            c.execute("INSERT INTO t (k) VALUES (?)", params![k])?;
            Ok(())
        }
    }

    /// An idle job offered while the writer is busy, with jobs queued before and after it, does
    /// not run; offered until the writer is idle, it runs once.
    #[tokio::test]
    async fn an_idle_job_runs_only_once_the_other_jobs_are_done() {
        let dir = tempfile::tempdir().unwrap();
        let w = writer(&dir);
        // A job that holds the writer until `release` says.
        let (release, held) = std::sync::mpsc::channel::<()>();
        let hold = w.run(Sync::Lazy, move |_| {
            let _ = held.recv();
            Ok(())
        });
        // `join!` polls in order: each job is queued before the next, and the writer is let go
        // only once all of them are.
        let (hold, a, idle, b, ()) = tokio::join!(
            hold,
            w.run(Sync::Durable, insert("a")),
            w.try_idle(insert("idle")),
            w.run(Sync::Durable, insert("b")),
            async { release.send(()).unwrap() },
        );
        assert!(hold.is_ok() && a.is_ok() && b.is_ok(), "{a:?} {b:?}");
        assert!(matches!(idle, Ok(None)), "ran while the writer was busy");
        assert_eq!(keys(&w).await, ["a", "b"]);

        w.when_idle(insert("idle")).await.unwrap();
        assert_eq!(keys(&w).await, ["a", "b", "idle"]);
    }

    /// An idle job's error is its own: answered to it, nothing of it kept.
    #[tokio::test]
    async fn a_failing_idle_job_is_answered_its_error() {
        let dir = tempfile::tempdir().unwrap();
        let w = writer(&dir);
        w.when_idle(insert("a")).await.unwrap();
        let again = w.when_idle(insert("a")).await;
        assert!(matches!(again, Err(StoreError::Sqlite(_))), "{again:?}");
        assert_eq!(keys(&w).await, ["a"]);
    }
}
