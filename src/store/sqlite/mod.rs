//! The embedded SQLite store: WAL, one writer task with group commit, a pool of readers.

mod commit;
mod outbox;
mod reads;
mod writer;

use super::rows;
use super::*;
use crate::domain::Millis;
use futures::FutureExt;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Row, SqlitePool};
use std::str::FromStr;
use std::time::Duration;
use writer::Writer;

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
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `url` (`sqlite://path` or a path) and migrates it.
    pub async fn open(url: &str) -> Result<Self> {
        let path = url.strip_prefix("sqlite://").unwrap_or(url);
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(false)
            .pragma("cache_size", "-16000");
        let mut conn = options.clone().connect().await?;
        sqlx::migrate!("./migrations/sqlite").run(&mut conn).await?;
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .min_connections(1)
            .connect_with(options)
            .await?;
        Ok(SqliteStore {
            read,
            writer: Writer::start(conn),
            work: Arc::new(Notify::new()),
            live: tokio::sync::broadcast::channel(1024).0,
        })
    }

    async fn one<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(
                &'c mut sqlx::SqliteConnection,
            ) -> futures::future::BoxFuture<'c, Result<T>>
            + Send
            + 'static,
    {
        self.writer.run(f).await
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

    async fn default_team(&self) -> Result<Option<Team>> {
        let r = sqlx::query("SELECT * FROM teams WHERE is_default = 1")
            .fetch_optional(&self.read)
            .await?;
        Ok(r.as_ref().map(rows::team))
    }

    async fn create_team(&self, t: NewTeam) -> Result<Team> {
        self.one(move |c| {
            async move {
                let r = sqlx::query(
                    "INSERT INTO teams (id, name, api_key_hash, site_key, is_default, created_at)
                     VALUES (?, ?, ?, ?, ?, ?) RETURNING *",
                )
                .bind(t.id)
                .bind(t.name)
                .bind(t.api_key_hash)
                .bind(t.site_key)
                .bind(t.is_default)
                .bind(t.created_at.0)
                .fetch_one(c)
                .await?;
                Ok(rows::team(&r))
            }
            .boxed()
        })
        .await
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
        let (id, profile, now) = (id.to_string(), profile.to_string(), Millis::now());
        self.one(move |c| {
            async move {
                let existed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM agents WHERE team_seq = ? AND id = ?")
                    .bind(team_seq).bind(&id).fetch_one(&mut *c).await?;
                sqlx::query("INSERT OR REPLACE INTO agents (team_seq, id, profile, updated_at) VALUES (?, ?, ?, ?)")
                    .bind(team_seq).bind(&id).bind(profile).bind(now.0).execute(&mut *c).await?;
                Ok(existed == 0)
            }
            .boxed()
        })
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
        self.one(move |c| {
            async move {
                let n = sqlx::query("DELETE FROM agents WHERE team_seq = ? AND id = ?")
                    .bind(team_seq)
                    .bind(id)
                    .execute(c)
                    .await?
                    .rows_affected();
                Ok(n == 1)
            }
            .boxed()
        })
        .await
    }

    async fn create_endpoint(&self, e: Endpoint) -> Result<Endpoint> {
        self.one(move |c| {
            async move {
                let r = sqlx::query(
                    "INSERT INTO endpoints (id, team_seq, url, events, description, enabled, secret, created_at)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
                )
                .bind(e.id).bind(e.team_seq).bind(e.url).bind(e.events).bind(e.description)
                .bind(e.enabled).bind(e.secret).bind(e.created_at.0)
                .fetch_one(c)
                .await?;
                Ok(rows::endpoint(&r))
            }
            .boxed()
        })
        .await
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
        self.one(move |c| {
            async move {
                sqlx::query(
                    "UPDATE endpoints SET url = ?, events = ?, description = ?, enabled = ?, secret = ?,
                     previous_secret = ?, previous_secret_until = ? WHERE seq = ?",
                )
                .bind(e.url).bind(e.events).bind(e.description).bind(e.enabled).bind(e.secret)
                .bind(e.previous_secret).bind(e.previous_secret_until.map(|t| t.0)).bind(e.seq)
                .execute(c)
                .await?;
                Ok(())
            }
            .boxed()
        })
        .await?;
        self.work.notify_one();
        Ok(())
    }

    async fn delete_endpoint(&self, team_seq: i64, endpoint_seq: i64) -> Result<()> {
        self.one(move |c| {
            async move {
                sqlx::query("DELETE FROM endpoints WHERE team_seq = ? AND seq = ?")
                    .bind(team_seq).bind(endpoint_seq).execute(&mut *c).await?;
                sqlx::query("DELETE FROM attempts WHERE delivery_seq IN (SELECT seq FROM deliveries WHERE endpoint_seq = ?)")
                    .bind(endpoint_seq).execute(&mut *c).await?;
                sqlx::query("DELETE FROM deliveries WHERE endpoint_seq = ?").bind(endpoint_seq).execute(&mut *c).await?;
                sqlx::query("DELETE FROM recoveries WHERE endpoint_seq = ?").bind(endpoint_seq).execute(&mut *c).await?;
                Ok(())
            }
            .boxed()
        })
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
        let done = self.one(move |conn| commit::apply(conn, c).boxed()).await?;
        if done.deliveries > 0 {
            self.work.notify_one();
        }
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
        self.one(move |c| {
            async move {
                sqlx::query(
                    "INSERT OR IGNORE INTO idempotency (team_seq, key, fingerprint, status, body, created_at)
                     VALUES (?, ?, ?, ?, ?, ?)",
                )
                .bind(team_seq).bind(key).bind(a.fingerprint).bind(a.status as i64).bind(a.body).bind(at.0)
                .execute(c)
                .await?;
                Ok(())
            }
            .boxed()
        })
        .await
    }

    async fn prune_answers(&self, before: Millis) -> Result<u64> {
        self.one(move |c| {
            async move {
                let n = sqlx::query("DELETE FROM idempotency WHERE created_at < ?")
                    .bind(before.0)
                    .execute(c)
                    .await?
                    .rows_affected();
                Ok(n)
            }
            .boxed()
        })
        .await
    }

    async fn claim(&self, now: Millis, lease_until: Millis, limit: u32) -> Result<Vec<Claimed>> {
        self.one(move |c| outbox::claim(c, now, lease_until, limit).boxed())
            .await
    }

    async fn finish(&self, outcomes: Vec<Outcome>, now: Millis) -> Result<()> {
        self.one(move |c| outbox::finish(c, outcomes, now).boxed())
            .await?;
        self.work.notify_one();
        Ok(())
    }

    async fn release_leases(&self, now: Millis) -> Result<u64> {
        self.one(move |c| outbox::release_leases(c, now).boxed())
            .await
    }

    async fn next_due(&self) -> Result<Option<Millis>> {
        let t: Option<i64> =
            sqlx::query_scalar("SELECT MIN(next_attempt_at) FROM deliveries WHERE state = 'ready'")
                .fetch_one(&self.read)
                .await?;
        Ok(t.map(Millis))
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
            .one(move |c| outbox::enqueue_test(c, endpoint, body, now).boxed())
            .await?;
        self.work.notify_one();
        Ok(id)
    }

    async fn redeliver(&self, delivery_seq: i64, now: Millis) -> Result<()> {
        self.one(move |c| outbox::redeliver(c, delivery_seq, now).boxed())
            .await?;
        self.work.notify_one();
        Ok(())
    }

    async fn create_recovery(&self, endpoint_seq: i64, since: Millis, now: Millis) -> Result<u64> {
        self.one(move |c| outbox::create_recovery(c, endpoint_seq, since, now).boxed())
            .await
    }

    async fn recovery_step(&self, now: Millis, batch: u32) -> Result<bool> {
        let more = self
            .one(move |c| outbox::recovery_step(c, now, batch).boxed())
            .await?;
        if more {
            self.work.notify_one();
        }
        Ok(more)
    }
}
