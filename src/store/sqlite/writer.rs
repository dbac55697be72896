//! The single SQLite writer with group commit: concurrent write jobs share one transaction and one
//! fsync; each job runs inside its own savepoint, so a failing job undoes only itself; each caller
//! is answered only after the commit.

use super::super::{Result, StoreError};
use futures::future::BoxFuture;
use sqlx::{Connection, Executor, SqliteConnection};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Most jobs in one transaction.
const MAX_BATCH: usize = 512;

/// Called with the commit's result once the transaction is over.
type Finisher = Box<dyn FnOnce(std::result::Result<(), Arc<sqlx::Error>>) + Send>;
/// A job: runs on the writer's connection; says whether it succeeded, and how to answer.
type Job =
    Box<dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, (bool, Finisher)> + Send>;

/// The handle to the writer task.
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer task on `conn`.
    pub fn start(conn: SqliteConnection) -> Self {
        let (jobs, rx) = mpsc::channel(4096);
        tokio::spawn(write_loop(conn, rx));
        Writer { jobs }
    }

    /// Runs `f` in the next transaction; answers its result once committed.
    pub async fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T>> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<Result<T>>();
        let job: Job = Box::new(move |conn| {
            Box::pin(async move {
                let result = f(conn).await;
                let ok = result.is_ok();
                let finish: Finisher = Box::new(move |committed| {
                    let answer = match committed {
                        Ok(()) => result,
                        Err(e) => Err(StoreError::Db(sqlx::Error::Protocol(format!(
                            "commit failed: {e}"
                        )))),
                    };
                    let _ = tx.send(answer);
                });
                (ok, finish)
            })
        });
        self.jobs.send(job).await.map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }
}

async fn write_loop(mut conn: SqliteConnection, mut rx: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let mut finishers = Vec::with_capacity(batch.len());
        let result = run_batch(&mut conn, batch.drain(..), &mut finishers).await;
        if let Err(e) = &result {
            tracing::error!(error = %e, jobs = finishers.len(), "write transaction failed");
            let _ = conn.execute("ROLLBACK").await;
        }
        let result = result.map_err(Arc::new);
        for finish in finishers {
            finish(result.clone());
        }
    }
    let _ = conn.close().await;
}

async fn run_batch(
    conn: &mut SqliteConnection,
    jobs: impl Iterator<Item = Job>,
    finishers: &mut Vec<Finisher>,
) -> std::result::Result<(), sqlx::Error> {
    conn.execute("BEGIN IMMEDIATE").await?;
    for job in jobs {
        conn.execute("SAVEPOINT job").await?;
        let (ok, finish) = job(conn).await;
        finishers.push(finish);
        if !ok {
            conn.execute("ROLLBACK TO job").await?;
        }
        conn.execute("RELEASE job").await?;
    }
    conn.execute("COMMIT").await?;
    Ok(())
}
