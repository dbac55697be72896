//! The embedded SQLite store: WAL, one writer task with group commit, a pool of readers.

mod admin;
mod commit;
mod outbox;
mod reads;
mod writer;

use super::rows;
use super::*;
use crate::domain::Millis;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, Row, SqlitePool};
use std::str::FromStr;
use std::time::Duration;
use writer::{Sync, Writer};

/// Most deliveries waiting in the hand-off queue; past it, commits leave new deliveries for a
/// claim to find when the workers have room.
const HANDOFF_QUEUE: usize = 1024;

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
    /// The lease of handed-off deliveries in milliseconds; 0 while hand-off is off.
    handoff_lease: std::sync::atomic::AtomicI64,
    /// Deliveries claimed by commits, waiting for a worker.
    handed_off: std::sync::Mutex<std::collections::VecDeque<Claimed>>,
    handoff_signal: Arc<Notify>,
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
        std::thread::Builder::new()
            .name("palaver-sqlite-checkpoint".into())
            .spawn(move || checkpoints(checkpoint_path, stop))
            .map_err(|e| StoreError::Commit(e.to_string()))?;
        let writer = tokio::task::spawn_blocking(move || open_writer(&path))
            .await
            .map_err(|e| StoreError::Commit(e.to_string()))??;
        Ok(SqliteStore {
            read,
            writer: Writer::start(writer),
            work: Arc::new(Notify::new()),
            live: tokio::sync::broadcast::channel(1024).0,
            _checkpoints: stop_checkpoints,
            handoff_lease: std::sync::atomic::AtomicI64::new(0),
            handed_off: std::sync::Mutex::new(std::collections::VecDeque::new()),
            handoff_signal: Arc::new(Notify::new()),
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

    /// The lease end for deliveries handed off now, if hand-off is on and the workers keep up.
    fn handoff_until(&self) -> Option<Millis> {
        let lease = self
            .handoff_lease
            .load(std::sync::atomic::Ordering::Relaxed);
        let queued = self
            .handed_off
            .lock()
            .expect("hand-off queue poisoned")
            .len();
        (lease > 0 && queued < HANDOFF_QUEUE).then(|| Millis::now().plus_ms(lease))
    }

    /// Queues handed-off deliveries for the workers.
    fn hand_over(&self, claimed: Vec<Claimed>) {
        if !claimed.is_empty() {
            self.handed_off
                .lock()
                .expect("hand-off queue poisoned")
                .extend(claimed);
            self.handoff_signal.notify_one();
        }
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

/// The writer's connection, with the same pragmas as the readers'.
fn open_writer(path: &str) -> Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "wal")?;
    conn.pragma_update(None, "synchronous", "full")?;
    conn.pragma_update(None, "cache_size", -16000)?;
    // Savepoints' undo journals in memory, not in temporary files.
    conn.pragma_update(None, "temp_store", "memory")?;
    // Checkpoints happen on a thread of their own (see `checkpoints`), never in a commit.
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// Copies the write-ahead log into the database every half second, beside the writer (a
/// passive checkpoint never blocks it). Ends when `stop`'s sender is dropped.
fn checkpoints(path: String, stop: std::sync::mpsc::Receiver<()>) {
    let conn = match rusqlite::Connection::open(&path) {
        Ok(c) => c,
        Err(e) => return tracing::error!(error = %e, "cannot open the checkpoint connection"),
    };
    let _ = conn.busy_timeout(Duration::from_secs(10));
    while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
        stop.recv_timeout(Duration::from_millis(500))
    {
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "checkpoint failed");
        }
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    fn work_signal(&self) -> Arc<Notify> {
        self.work.clone()
    }

    fn enable_handoff(&self, lease: Duration) {
        self.handoff_lease.store(
            lease.as_millis() as i64,
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    fn take_handed_off(&self, max: usize) -> Vec<Claimed> {
        let mut queue = self.handed_off.lock().expect("hand-off queue poisoned");
        let n = max.min(queue.len());
        queue.drain(..n).collect()
    }

    fn handoff_signal(&self) -> Option<Arc<Notify>> {
        Some(self.handoff_signal.clone())
    }

    async fn default_team(&self) -> Result<Option<Team>> {
        let r = sqlx::query("SELECT * FROM teams WHERE is_default = 1")
            .fetch_optional(&self.read)
            .await?;
        Ok(r.as_ref().map(rows::team))
    }

    async fn create_team(&self, t: NewTeam) -> Result<Team> {
        self.one(move |c| admin::create_team(c, t)).await
    }

    async fn team_by_api_key_hash(&self, hash: &str) -> Result<Option<Team>> {
        let r = sqlx::query("SELECT * FROM teams WHERE api_key_hash = ?")
            .bind(hash)
            .fetch_optional(&self.read)
            .await?;
        Ok(r.as_ref().map(rows::team))
    }

    async fn team_by_site_key(&self, site_key: &str) -> Result<Option<Team>> {
        let r = sqlx::query("SELECT * FROM teams WHERE site_key = ?")
            .bind(site_key)
            .fetch_optional(&self.read)
            .await?;
        Ok(r.as_ref().map(rows::team))
    }

    async fn api_key_matches(&self, team_seq: i64, hash: &str) -> Result<bool> {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM teams WHERE seq = ? AND api_key_hash = ?")
                .bind(team_seq)
                .bind(hash)
                .fetch_one(&self.read)
                .await?;
        Ok(n == 1)
    }

    async fn put_agent(&self, team_seq: i64, id: &str, profile: &str) -> Result<bool> {
        let (id, profile) = (id.to_string(), profile.to_string());
        self.one(move |c| admin::put_agent(c, team_seq, &id, &profile))
            .await
    }

    async fn agent(&self, team_seq: i64, id: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT profile FROM agents WHERE team_seq = ? AND id = ?")
                .bind(team_seq)
                .bind(id)
                .fetch_optional(&self.read)
                .await?,
        )
    }

    async fn agents(
        &self,
        team_seq: i64,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT id, profile FROM agents WHERE team_seq = ? AND id > ? ORDER BY id LIMIT ?",
        )
        .bind(team_seq)
        .bind(after.unwrap_or(""))
        .bind(limit as i64)
        .fetch_all(&self.read)
        .await?)
    }

    async fn delete_agent(&self, team_seq: i64, id: &str) -> Result<bool> {
        let id = id.to_string();
        self.one(move |c| admin::delete_agent(c, team_seq, &id))
            .await
    }

    async fn create_endpoint(&self, e: Endpoint) -> Result<Endpoint> {
        self.one(move |c| admin::create_endpoint(c, e)).await
    }

    async fn endpoint(&self, team_seq: i64, id: &str) -> Result<Option<Endpoint>> {
        let r = sqlx::query("SELECT * FROM endpoints WHERE team_seq = ? AND id = ?")
            .bind(team_seq)
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        Ok(r.as_ref().map(rows::endpoint))
    }

    async fn endpoints(&self, team_seq: i64, page: Page) -> Result<Vec<Endpoint>> {
        let rows = sqlx::query(
            "SELECT * FROM endpoints WHERE team_seq = ? AND seq < ? ORDER BY seq DESC LIMIT ?",
        )
        .bind(team_seq)
        .bind(page.before.unwrap_or(i64::MAX))
        .bind(page.limit as i64)
        .fetch_all(&self.read)
        .await?;
        Ok(rows.iter().map(rows::endpoint).collect())
    }

    async fn update_endpoint(&self, e: Endpoint) -> Result<()> {
        self.one(move |c| admin::update_endpoint(c, &e)).await?;
        self.work.notify_one();
        Ok(())
    }

    async fn delete_endpoint(&self, team_seq: i64, endpoint_seq: i64) -> Result<()> {
        self.one(move |c| admin::delete_endpoint(c, team_seq, endpoint_seq))
            .await
    }

    async fn visitor_by_token_hash(&self, hash: &str) -> Result<Option<VisitorRecord>> {
        let r = sqlx::query("SELECT * FROM visitors WHERE token_hash = ?")
            .bind(hash)
            .fetch_optional(&self.read)
            .await?;
        r.as_ref().map(rows::visitor).transpose()
    }

    async fn visitor(&self, visitor_seq: i64) -> Result<Option<VisitorRecord>> {
        let r = sqlx::query("SELECT * FROM visitors WHERE seq = ?")
            .bind(visitor_seq)
            .fetch_optional(&self.read)
            .await?;
        r.as_ref().map(rows::visitor).transpose()
    }

    async fn latest_conversation(
        &self,
        visitor_seq: i64,
    ) -> Result<Option<(ConversationRecord, Vec<MessageRecord>)>> {
        let r = sqlx::query(
            "SELECT * FROM conversations WHERE visitor_seq = ? ORDER BY seq DESC LIMIT 1",
        )
        .bind(visitor_seq)
        .fetch_optional(&self.read)
        .await?;
        let Some(r) = r else { return Ok(None) };
        let conversation = rows::conversation(&r)?;
        let messages = self.messages(conversation.seq).await?;
        Ok(Some((conversation, messages)))
    }

    async fn conversation(&self, team_seq: i64, id: &str) -> Result<Option<ConversationRecord>> {
        let r = sqlx::query("SELECT * FROM conversations WHERE team_seq = ? AND id = ?")
            .bind(team_seq)
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        r.as_ref().map(rows::conversation).transpose()
    }

    async fn conversations(
        &self,
        team_seq: i64,
        status: Option<&str>,
        page: Page,
    ) -> Result<Vec<ConversationSummary>> {
        reads::conversations(&self.read, team_seq, status, page).await
    }

    async fn messages(&self, conversation_seq: i64) -> Result<Vec<MessageRecord>> {
        let rows = sqlx::query("SELECT * FROM messages WHERE conversation_seq = ? ORDER BY seq")
            .bind(conversation_seq)
            .fetch_all(&self.read)
            .await?;
        Ok(rows.iter().map(rows::message).collect())
    }

    async fn messages_after(
        &self,
        conversation_seq: i64,
        after_seq: i64,
    ) -> Result<Vec<MessageRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM messages WHERE conversation_seq = ? AND seq > ? ORDER BY seq",
        )
        .bind(conversation_seq)
        .bind(after_seq)
        .fetch_all(&self.read)
        .await?;
        Ok(rows.iter().map(rows::message).collect())
    }

    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<LiveChange> {
        self.live.subscribe()
    }

    async fn channel_taken(&self, team_seq: i64, channel_name: &str) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM visitors WHERE team_seq = ? AND channel_name = ?",
        )
        .bind(team_seq)
        .bind(channel_name)
        .fetch_one(&self.read)
        .await?;
        Ok(n > 0)
    }

    async fn commit(&self, c: Commit) -> Result<Committed> {
        let team = c.team_seq;
        let handoff = self.handoff_until();
        let mut done = self
            .one(move |conn| commit::apply(conn, c, handoff))
            .await?;
        if handoff.is_none() && done.deliveries > 0 {
            self.work.notify_one(); // without hand-off, a claim must find them
        }
        self.hand_over(std::mem::take(&mut done.handed_off));
        if let Some(conversation_seq) = done.conversation_seq {
            let _ = self.live.send(LiveChange {
                team_seq: team,
                conversation_seq,
            });
        }
        Ok(done)
    }

    async fn idempotent_answer(&self, team_seq: i64, key: &str) -> Result<Option<StoredAnswer>> {
        let cutoff = Millis::now().plus_ms(-24 * 3600 * 1000);
        let r = sqlx::query("SELECT fingerprint, status, body FROM idempotency WHERE team_seq = ? AND key = ? AND created_at > ?")
            .bind(team_seq).bind(key).bind(cutoff.0).fetch_optional(&self.read).await?;
        Ok(r.map(|r| StoredAnswer {
            fingerprint: r.get(0),
            status: r.get::<i64, _>(1) as u16,
            body: r.get(2),
        }))
    }

    async fn save_answer(
        &self,
        team_seq: i64,
        key: String,
        a: StoredAnswer,
        at: Millis,
    ) -> Result<()> {
        self.one(move |c| admin::save_answer(c, team_seq, &key, &a, at))
            .await
    }

    async fn prune_answers(&self, before: Millis) -> Result<u64> {
        self.lazy(move |c| admin::prune_answers(c, before)).await
    }

    async fn claim(&self, now: Millis, lease_until: Millis, limit: u32) -> Result<Claim> {
        self.lazy(move |c| outbox::claim(c, now, lease_until, limit))
            .await
    }

    async fn finish(&self, outcomes: Vec<Outcome>, now: Millis) -> Result<()> {
        let handoff = self.handoff_until();
        let finished = self
            .lazy(move |c| outbox::finish(c, outcomes, now, handoff))
            .await?;
        if finished.claim_needed {
            self.work.notify_one();
        }
        self.hand_over(finished.handed_off);
        Ok(())
    }

    async fn release_leases(&self, now: Millis) -> Result<u64> {
        self.one(move |c| outbox::release_leases(c, now)).await
    }

    async fn pending_deliveries(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM deliveries INDEXED BY deliveries_lane WHERE state IN ('ready', 'waiting')",
        )
        .fetch_one(&self.read)
        .await?;
        Ok(n as u64)
    }

    async fn deliveries(
        &self,
        endpoint_seq: i64,
        status: Option<DeliveryStatus>,
        page: Page,
    ) -> Result<Vec<DeliveryRecord>> {
        reads::deliveries(&self.read, endpoint_seq, status, page).await
    }

    async fn delivery(&self, endpoint_seq: i64, id: &str) -> Result<Option<DeliveryRecord>> {
        reads::delivery_by_id(&self.read, endpoint_seq, id).await
    }

    async fn attempts(&self, delivery_seq: i64) -> Result<Vec<AttemptRecord>> {
        let rows = sqlx::query("SELECT * FROM attempts WHERE delivery_seq = ? ORDER BY n")
            .bind(delivery_seq)
            .fetch_all(&self.read)
            .await?;
        Ok(rows.iter().map(rows::attempt).collect())
    }

    async fn event_body(&self, delivery_seq: i64) -> Result<String> {
        Ok(sqlx::query_scalar("SELECT ev.body FROM deliveries d JOIN events ev ON ev.seq = d.event_seq WHERE d.seq = ?")
            .bind(delivery_seq).fetch_one(&self.read).await?)
    }

    async fn enqueue_test(&self, endpoint: &Endpoint, body: String, now: Millis) -> Result<String> {
        let endpoint = endpoint.clone();
        let id = self
            .one(move |c| outbox::enqueue_test(c, &endpoint, &body, now))
            .await?;
        self.work.notify_one();
        Ok(id)
    }

    async fn redeliver(&self, delivery_seq: i64, now: Millis) -> Result<()> {
        self.one(move |c| outbox::redeliver(c, delivery_seq, now))
            .await?;
        self.work.notify_one();
        Ok(())
    }

    async fn create_recovery(&self, endpoint_seq: i64, since: Millis, now: Millis) -> Result<u64> {
        self.one(move |c| outbox::create_recovery(c, endpoint_seq, since, now))
            .await
    }

    async fn recovery_step(&self, now: Millis, batch: u32) -> Result<bool> {
        let more = self
            .lazy(move |c| outbox::recovery_step(c, now, batch))
            .await?;
        if more {
            self.work.notify_one();
        }
        Ok(more)
    }
}
