//! PostgreSQL: for several `palaver serve` processes sharing the work. Each write is one
//! transaction from the pool; `LISTEN/NOTIFY` carries wake-ups and live changes between
//! processes.

mod commit;
mod outbox;

use super::rows::{self, Columns, DELIVERY_COLUMNS};
use super::*;
use crate::domain::Millis;
use sqlx::postgres::{PgListener, PgPoolOptions};
use sqlx::{Acquire, PgPool};
use std::time::Duration;
use tokio::sync::broadcast;

/// The channel that wakes delivery workers in every process.
const WORK: &str = "palaver_work";
/// The channel of conversation changes (`team_seq:conversation_seq`).
const LIVE: &str = "palaver_live";

pub struct PgStore {
    pool: PgPool,
    work: Arc<Notify>,
    live: broadcast::Sender<LiveChange>,
}

impl PgStore {
    /// Connects, migrates (safe when several processes start at once: the migrator takes an
    /// advisory lock) and starts listening.
    pub async fn open(url: &str, max_connections: u32) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        let store = PgStore {
            pool,
            work: Arc::new(Notify::new()),
            live: broadcast::channel(1024).0,
        };
        let listener = PgListener::connect_with(&store.pool).await?;
        tokio::spawn(listen(listener, store.work.clone(), store.live.clone()));
        Ok(store)
    }

    async fn notify(conn: &mut sqlx::PgConnection, channel: &str, payload: &str) -> Result<()> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(channel)
            .bind(payload)
            .execute(conn)
            .await?;
        Ok(())
    }
}

/// Relays notifications from every process to this one's workers and live streams.
async fn listen(mut listener: PgListener, work: Arc<Notify>, live: broadcast::Sender<LiveChange>) {
    loop {
        if let Err(e) = listener.listen_all([WORK, LIVE]).await {
            tracing::warn!(error = %e, "LISTEN failed; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        loop {
            match listener.try_recv().await {
                Ok(Some(n)) if n.channel() == WORK => work.notify_one(),
                Ok(Some(n)) => {
                    if let Some((t, c)) = n.payload().split_once(':')
                        && let (Ok(team_seq), Ok(conversation_seq)) = (t.parse(), c.parse())
                    {
                        let _ = live.send(LiveChange {
                            team_seq,
                            conversation_seq,
                        });
                    }
                }
                Ok(None) => {
                    // The connection dropped and came back: notifications may be lost, look again.
                    tracing::warn!("the LISTEN connection was lost and re-established");
                    work.notify_one();
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "receiving notifications failed; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    break;
                }
            }
        }
    }
}

#[async_trait]
impl Store for PgStore {
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    fn work_signal(&self) -> Arc<Notify> {
        self.work.clone()
    }

    async fn default_team(&self) -> Result<Option<Team>> {
        let r = sqlx::query("SELECT * FROM teams WHERE is_default")
            .fetch_optional(&self.pool)
            .await?;
        Ok(r.as_ref().map(rows::team))
    }

    async fn create_team(&self, t: NewTeam) -> Result<Team> {
        let r = sqlx::query(
            "INSERT INTO teams (id, name, api_key_hash, site_key, is_default, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
        )
        .bind(t.id)
        .bind(t.name)
        .bind(t.api_key_hash)
        .bind(t.site_key)
        .bind(t.is_default)
        .bind(t.created_at.0)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| match e.as_database_error() {
            Some(d) if d.is_unique_violation() => StoreError::Conflict(ConflictKind::State),
            _ => StoreError::Db(e),
        })?;
        Ok(rows::team(&r))
    }

    async fn team_by_api_key_hash(&self, hash: &str) -> Result<Option<Team>> {
        let r = sqlx::query("SELECT * FROM teams WHERE api_key_hash = $1")
            .bind(hash)
            .fetch_optional(&self.pool)
            .await?;
        Ok(r.as_ref().map(rows::team))
    }

    async fn team_by_site_key(&self, site_key: &str) -> Result<Option<Team>> {
        let r = sqlx::query("SELECT * FROM teams WHERE site_key = $1")
            .bind(site_key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(r.as_ref().map(rows::team))
    }

    async fn api_key_matches(&self, team_seq: i64, hash: &str) -> Result<bool> {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM teams WHERE seq = $1 AND api_key_hash = $2")
                .bind(team_seq)
                .bind(hash)
                .fetch_one(&self.pool)
                .await?;
        Ok(n == 1)
    }

    async fn put_agent(&self, team_seq: i64, id: &str, profile: &str) -> Result<bool> {
        let inserted: bool = sqlx::query_scalar(
            "INSERT INTO agents (team_seq, id, profile, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (team_seq, id) DO UPDATE SET profile = EXCLUDED.profile, updated_at = EXCLUDED.updated_at
             RETURNING (xmax = 0)",
        )
        .bind(team_seq).bind(id).bind(profile).bind(Millis::now().0)
        .fetch_one(&self.pool)
        .await?;
        Ok(inserted)
    }

    async fn agent(&self, team_seq: i64, id: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT profile FROM agents WHERE team_seq = $1 AND id = $2")
                .bind(team_seq)
                .bind(id)
                .fetch_optional(&self.pool)
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
            "SELECT id, profile FROM agents WHERE team_seq = $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(team_seq)
        .bind(after.unwrap_or(""))
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn delete_agent(&self, team_seq: i64, id: &str) -> Result<bool> {
        let n = sqlx::query("DELETE FROM agents WHERE team_seq = $1 AND id = $2")
            .bind(team_seq)
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    async fn create_endpoint(&self, e: Endpoint) -> Result<Endpoint> {
        let r = sqlx::query(
            "INSERT INTO endpoints (id, team_seq, url, events, description, enabled, secret, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *",
        )
        .bind(e.id).bind(e.team_seq).bind(e.url).bind(e.events).bind(e.description).bind(e.enabled)
        .bind(e.secret).bind(e.created_at.0)
        .fetch_one(&self.pool)
        .await?;
        Ok(rows::endpoint(&r))
    }

    async fn endpoint(&self, team_seq: i64, id: &str) -> Result<Option<Endpoint>> {
        let r = sqlx::query("SELECT * FROM endpoints WHERE team_seq = $1 AND id = $2")
            .bind(team_seq)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(r.as_ref().map(rows::endpoint))
    }

    async fn endpoints(&self, team_seq: i64, page: Page) -> Result<Vec<Endpoint>> {
        let rows = sqlx::query(
            "SELECT * FROM endpoints WHERE team_seq = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3",
        )
        .bind(team_seq)
        .bind(page.before.unwrap_or(i64::MAX))
        .bind(page.limit as i64)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(rows::endpoint).collect())
    }

    async fn update_endpoint(&self, e: Endpoint) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE endpoints SET url = $1, events = $2, description = $3, enabled = $4, secret = $5,
             previous_secret = $6, previous_secret_until = $7 WHERE seq = $8",
        )
        .bind(e.url).bind(e.events).bind(e.description).bind(e.enabled).bind(e.secret)
        .bind(e.previous_secret).bind(e.previous_secret_until.map(|t| t.0)).bind(e.seq)
        .execute(&mut *tx)
        .await?;
        Self::notify(&mut tx, WORK, "").await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_endpoint(&self, team_seq: i64, endpoint_seq: i64) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM endpoints WHERE team_seq = $1 AND seq = $2")
            .bind(team_seq)
            .bind(endpoint_seq)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM attempts WHERE delivery_seq IN (SELECT seq FROM deliveries WHERE endpoint_seq = $1)")
            .bind(endpoint_seq).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM deliveries WHERE endpoint_seq = $1")
            .bind(endpoint_seq)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM recoveries WHERE endpoint_seq = $1")
            .bind(endpoint_seq)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn visitor_by_token_hash(&self, hash: &str) -> Result<Option<VisitorRecord>> {
        let r = sqlx::query("SELECT * FROM visitors WHERE token_hash = $1")
            .bind(hash)
            .fetch_optional(&self.pool)
            .await?;
        r.as_ref().map(rows::visitor).transpose()
    }

    async fn visitor(&self, visitor_seq: i64) -> Result<Option<VisitorRecord>> {
        let r = sqlx::query("SELECT * FROM visitors WHERE seq = $1")
            .bind(visitor_seq)
            .fetch_optional(&self.pool)
            .await?;
        r.as_ref().map(rows::visitor).transpose()
    }

    async fn latest_conversation(
        &self,
        visitor_seq: i64,
    ) -> Result<Option<(ConversationRecord, Vec<MessageRecord>)>> {
        let r = sqlx::query(
            "SELECT * FROM conversations WHERE visitor_seq = $1 ORDER BY seq DESC LIMIT 1",
        )
        .bind(visitor_seq)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = r else { return Ok(None) };
        let conversation = rows::conversation(&r)?;
        let messages = self.messages(conversation.seq).await?;
        Ok(Some((conversation, messages)))
    }

    async fn conversation(&self, team_seq: i64, id: &str) -> Result<Option<ConversationRecord>> {
        let r = sqlx::query("SELECT * FROM conversations WHERE team_seq = $1 AND id = $2")
            .bind(team_seq)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        r.as_ref().map(rows::conversation).transpose()
    }

    async fn conversations(
        &self,
        team_seq: i64,
        status: Option<&str>,
        page: Page,
    ) -> Result<Vec<ConversationSummary>> {
        let rows = sqlx::query(
            "SELECT c.*, v.id AS visitor_id, v.name AS visitor_name, v.channel_name
             FROM conversations c JOIN visitors v ON v.seq = c.visitor_seq
             WHERE c.team_seq = $1 AND c.seq < $2 AND ($3::text IS NULL OR c.status = $3)
             ORDER BY c.seq DESC LIMIT $4",
        )
        .bind(team_seq)
        .bind(page.before.unwrap_or(i64::MAX))
        .bind(status)
        .bind(page.limit as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rows::conversation_summary).collect()
    }

    async fn messages(&self, conversation_seq: i64) -> Result<Vec<MessageRecord>> {
        self.messages_after(conversation_seq, 0).await
    }

    async fn messages_after(
        &self,
        conversation_seq: i64,
        after_seq: i64,
    ) -> Result<Vec<MessageRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM messages WHERE conversation_seq = $1 AND seq > $2 ORDER BY seq",
        )
        .bind(conversation_seq)
        .bind(after_seq)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(rows::message).collect())
    }

    fn subscribe(&self) -> broadcast::Receiver<LiveChange> {
        self.live.subscribe()
    }

    async fn channel_taken(&self, team_seq: i64, channel_name: &str) -> Result<bool> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM visitors WHERE team_seq = $1 AND channel_name = $2)",
        )
        .bind(team_seq)
        .bind(channel_name)
        .fetch_one(&self.pool)
        .await?)
    }

    async fn commit(&self, c: Commit) -> Result<Committed> {
        let team = c.team_seq;
        let mut tx = self.pool.begin().await?;
        let done = commit::apply(tx.acquire().await?, c).await?;
        if done.deliveries > 0 {
            Self::notify(&mut tx, WORK, "").await?;
        }
        if let Some(conversation) = done.conversation_seq {
            Self::notify(&mut tx, LIVE, &format!("{team}:{conversation}")).await?;
        }
        tx.commit().await?;
        if done.deliveries > 0 {
            self.work.notify_one();
        }
        Ok(done)
    }

    async fn idempotent_answer(&self, team_seq: i64, key: &str) -> Result<Option<StoredAnswer>> {
        let cutoff = Millis::now().plus_ms(-24 * 3600 * 1000);
        let r = sqlx::query("SELECT fingerprint, status, body FROM idempotency WHERE team_seq = $1 AND key = $2 AND created_at > $3")
            .bind(team_seq).bind(key).bind(cutoff.0).fetch_optional(&self.pool).await?;
        Ok(r.map(|r| StoredAnswer {
            fingerprint: r.text("fingerprint"),
            status: r.int("status") as u16,
            body: r.text("body"),
        }))
    }

    async fn save_answer(
        &self,
        team_seq: i64,
        key: String,
        a: StoredAnswer,
        at: Millis,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO idempotency (team_seq, key, fingerprint, status, body, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind(team_seq)
        .bind(key)
        .bind(a.fingerprint)
        .bind(a.status as i64)
        .bind(a.body)
        .bind(at.0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn prune_answers(&self, before: Millis) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM idempotency WHERE created_at < $1")
            .bind(before.0)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    async fn claim(&self, now: Millis, lease_until: Millis, limit: u32) -> Result<Claim> {
        let mut conn = self.pool.acquire().await?;
        outbox::claim(&mut conn, now, lease_until, limit).await
    }

    async fn finish(&self, outcomes: Vec<Outcome>, now: Millis) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        if outbox::finish(&mut tx, outcomes, now).await? {
            Self::notify(&mut tx, WORK, "").await?;
        }
        tx.commit().await?;
        self.work.notify_one();
        Ok(())
    }

    async fn release_leases(&self, _now: Millis) -> Result<u64> {
        Ok(0) // other processes may hold live leases: let them expire
    }

    async fn pending_deliveries(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM deliveries WHERE state IN ('ready', 'waiting')",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(n as u64)
    }

    async fn deliveries(
        &self,
        endpoint_seq: i64,
        status: Option<DeliveryStatus>,
        page: Page,
    ) -> Result<Vec<DeliveryRecord>> {
        let sql = format!(
            "{DELIVERY_COLUMNS} WHERE d.endpoint_seq = $1 AND d.seq < $2 AND d.state = ANY($3) ORDER BY d.seq DESC LIMIT $4"
        );
        let rows = sqlx::query(&sql)
            .bind(endpoint_seq)
            .bind(page.before.unwrap_or(i64::MAX))
            .bind(rows::states(status))
            .bind(page.limit as i64)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(rows::delivery).collect())
    }

    async fn delivery(&self, endpoint_seq: i64, id: &str) -> Result<Option<DeliveryRecord>> {
        let sql = format!("{DELIVERY_COLUMNS} WHERE d.endpoint_seq = $1 AND d.id = $2");
        let r = sqlx::query(&sql)
            .bind(endpoint_seq)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(r.as_ref().map(rows::delivery))
    }

    async fn attempts(&self, delivery_seq: i64) -> Result<Vec<AttemptRecord>> {
        let rows = sqlx::query("SELECT * FROM attempts WHERE delivery_seq = $1 ORDER BY n")
            .bind(delivery_seq)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(rows::attempt).collect())
    }

    async fn event_body(&self, delivery_seq: i64) -> Result<String> {
        Ok(sqlx::query_scalar("SELECT ev.body FROM deliveries d JOIN events ev ON ev.seq = d.event_seq WHERE d.seq = $1")
            .bind(delivery_seq).fetch_one(&self.pool).await?)
    }

    async fn enqueue_test(&self, endpoint: &Endpoint, body: String, now: Millis) -> Result<String> {
        let mut tx = self.pool.begin().await?;
        let id = outbox::enqueue_test(&mut tx, endpoint, body, now).await?;
        Self::notify(&mut tx, WORK, "").await?;
        tx.commit().await?;
        self.work.notify_one();
        Ok(id)
    }

    async fn redeliver(&self, delivery_seq: i64, now: Millis) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        outbox::redeliver(&mut tx, delivery_seq, now).await?;
        Self::notify(&mut tx, WORK, "").await?;
        tx.commit().await?;
        self.work.notify_one();
        Ok(())
    }

    async fn create_recovery(&self, endpoint_seq: i64, since: Millis, now: Millis) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        let n = outbox::create_recovery(&mut tx, endpoint_seq, since, now).await?;
        tx.commit().await?;
        Ok(n)
    }

    async fn recovery_step(&self, now: Millis, batch: u32) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let more = outbox::recovery_step(&mut tx, now, batch).await?;
        if more {
            Self::notify(&mut tx, WORK, "").await?;
        }
        tx.commit().await?;
        if more {
            self.work.notify_one();
        }
        Ok(more)
    }
}
