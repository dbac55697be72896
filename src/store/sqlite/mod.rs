//! The embedded SQLite store: WAL, one writer task with group commit, a pool of readers.

mod admin;
mod chat;
mod commit;
mod delivery;
mod directory;
mod disabling;
mod feed;
mod idle;
mod notes;
mod outbox;
mod purge;
mod reads;
mod requeue;
mod sessions;
mod slack;
mod slack_inbox;
mod wal;
mod writer;

#[cfg(test)]
pub(crate) use commit::TARGETS;

use super::*;
use crate::domain::Millis;
use crate::store::bodies::Recent;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, SqlitePool};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use writer::{Guard, Sync, Writer};

/// Palaver's state in one SQLite file.
pub struct SqliteStore {
    /// Readers: any number of concurrent queries, never a write.
    read: SqlitePool,
    /// The one connection that writes.
    writer: Writer,
    /// Wakes the delivery workers after a commit made deliveries due.
    work: Arc<Notify>,
    /// Tells live streams a conversation changed.
    live: tokio::sync::broadcast::Sender<LiveChange>,
    /// Dropping it stops the checkpoint thread.
    _checkpoints: std::sync::mpsc::Sender<()>,
    /// Deliveries claimed by commits, waiting for a worker.
    handoff: Handoff,
    /// Bodies of recent events, for deliveries read back (see [`super::bodies`]).
    recent: Arc<Recent>,
    /// How recorded outcomes judge endpoints' health, once delivery workers run here.
    healing: std::sync::OnceLock<HealthRules>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `url` (`sqlite://path` or a path) and migrates it.
    pub async fn open(url: &str) -> Result<Self> {
        let path = url.strip_prefix("sqlite://").unwrap_or(url).to_string();
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(false)
            .pragma("cache_size", "-16000");
        let mut conn = options.clone().connect().await?;
        sqlx::migrate!("./migrations/sqlite").run(&mut conn).await?;
        conn.close().await?;
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .min_connections(1)
            .connect_with(options)
            .await?;
        let (stop_checkpoints, stop) = std::sync::mpsc::channel();
        let checkpoint_path = path.clone();
        let wal_long = Arc::new(AtomicBool::new(false));
        let long = wal_long.clone();
        std::thread::Builder::new()
            .name("palaver-sqlite-checkpoint".into())
            .spawn(move || checkpoints(checkpoint_path, stop, long))
            .map_err(|e| StoreError::Commit(e.to_string()))?;
        let wal = std::path::PathBuf::from(format!("{path}-wal"));
        let writer = tokio::task::spawn_blocking(move || open_writer(&path))
            .await
            .map_err(|e| StoreError::Commit(e.to_string()))??;
        Ok(SqliteStore {
            read,
            writer: Writer::start(writer, wal, wal_long),
            work: Arc::new(Notify::new()),
            live: tokio::sync::broadcast::channel(1024).0,
            _checkpoints: stop_checkpoints,
            handoff: Handoff::default(),
            recent: Arc::default(),
            healing: std::sync::OnceLock::new(),
        })
    }

    /// Runs `f` in the writer's next transaction.
    async fn one<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Connection) -> Result<T> + Send + 'static,
    {
        self.writer.run(Sync::Durable, f).await
    }

    /// Like [`Self::one`] for writes nobody is answered about (claims, recorded outcomes,
    /// recovery progress): their batch is not flushed to disk on its own. A crash may lose
    /// them, which only means a delivery is sent again; the next durable commit flushes them.
    async fn lazy<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Connection) -> Result<T> + Send + 'static,
    {
        self.writer.run(Sync::Lazy, f).await
    }
}

/// The writer's connection: the readers' pragmas, but commits not flushed by SQLite itself.
fn open_writer(path: &str) -> Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "wal")?;
    // Commits are written, not flushed: the writer's syncer thread flushes the log before any
    // durable job is answered (see `writer`).
    conn.pragma_update(None, "synchronous", "normal")?;
    conn.pragma_update(None, "cache_size", -16000)?;
    // Savepoints' undo journals in memory, not in temporary files.
    conn.pragma_update(None, "temp_store", "memory")?;
    // Checkpoints happen on a thread of their own (see `checkpoints`), never in a commit.
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// Frames (pages) in the write-ahead log past which the writer starts it over.
const WAL_RESTART_FRAMES: i64 = 8192;

/// Copies the write-ahead log into the database beside the writer (a passive checkpoint never
/// blocks it), every 100 ms. Under continuous writes the log would never be wholly copied at a
/// moment when the writer starts a transaction, so it would grow without end (each commit then
/// allocating new file blocks); past [`WAL_RESTART_FRAMES`] this sets `long`, and the writer
/// copies the last frames itself between two transactions, so that the next one writes the log
/// from its start again. Ends when `stop`'s sender is dropped.
fn checkpoints(path: String, stop: std::sync::mpsc::Receiver<()>, long: Arc<AtomicBool>) {
    let conn = match rusqlite::Connection::open(&path) {
        Ok(c) => c,
        Err(e) => return tracing::error!(error = %e, "cannot open the checkpoint connection"),
    };
    let _ = conn.busy_timeout(Duration::from_secs(10));
    while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
        stop.recv_timeout(Duration::from_millis(100))
    {
        match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(1)) {
            Ok(frames) => long.store(frames > WAL_RESTART_FRAMES, Ordering::Relaxed),
            Err(e) => tracing::warn!(error = %e, "checkpoint failed"),
        }
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<()> {
        if let Some(why) = self.writer.broken() {
            return Err(StoreError::Commit(why));
        }
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    async fn close(&self) -> Result<()> {
        // Outside any transaction: the writer's next group runs in one, so a checkpoint there
        // could not finish. `TRUNCATE` waits for readers and empties the log.
        self.writer
            .outside(|conn| {
                let (busy, log, copied): (i64, i64, i64) =
                    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                    })?;
                tracing::info!(
                    busy = busy != 0,
                    log,
                    copied,
                    "checkpointed the write-ahead log"
                );
                Ok(())
            })
            .await
    }
}
