//! [`Directory`] on PostgreSQL.

use super::*;
use crate::store::shared_reads::{KeyColumn, on_postgres};

#[async_trait]
impl Directory for PgStore {
    async fn default_team(&self) -> Result<Option<Team>> {
        on_postgres::default_team(&self.pool).await
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
        rows::team(&r)
    }

    async fn team_by_api_key_hash(&self, hash: &str) -> Result<Option<Team>> {
        on_postgres::team_by(&self.pool, KeyColumn::ApiKeyHash, hash).await
    }
    async fn team_by_site_key(&self, site_key: &str) -> Result<Option<Team>> {
        on_postgres::team_by(&self.pool, KeyColumn::SiteKey, site_key).await
    }
    async fn team(&self, team_seq: i64) -> Result<Option<Team>> {
        on_postgres::team(&self.pool, team_seq).await
    }
    async fn set_widget(&self, team_seq: i64, widget: &WidgetSettings) -> Result<()> {
        let json = serde_json::to_string(widget).expect("settings serialize");
        let n = sqlx::query("UPDATE teams SET widget = $1 WHERE seq = $2")
            .bind(json)
            .bind(team_seq)
            .execute(&self.pool)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
    async fn api_key_matches(&self, team_seq: i64, hash: &str) -> Result<bool> {
        on_postgres::api_key_matches(&self.pool, team_seq, hash).await
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
        on_postgres::agent(&self.pool, team_seq, id).await
    }
    async fn agents(
        &self,
        team_seq: i64,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<(String, String)>> {
        on_postgres::agents(&self.pool, team_seq, after, limit).await
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
            "INSERT INTO endpoints (id, team_seq, kind, url, events, description, enabled, secret, batch_size, created_at,
                                    disabled_reason, disabled_at, max_in_flight, max_per_second)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING *",
        )
        .bind(e.id).bind(e.team_seq).bind(e.kind.as_str()).bind(e.url).bind(e.events).bind(e.description).bind(e.enabled)
        .bind(e.secret).bind(e.batch_size).bind(e.created_at.0)
        .bind(e.disabled.as_ref().map(|d| d.reason.clone())).bind(e.disabled.as_ref().and_then(|d| d.at).map(|t| t.0))
        .bind(e.limits.max_in_flight.map(i64::from)).bind(e.limits.max_per_second.map(i64::from))
        .fetch_one(&self.pool)
        .await?;
        rows::endpoint(&r)
    }

    async fn endpoint(&self, team_seq: i64, id: &str) -> Result<Option<Endpoint>> {
        on_postgres::endpoint(&self.pool, team_seq, id).await
    }
    async fn endpoints(&self, team_seq: i64, page: Page) -> Result<Vec<Endpoint>> {
        on_postgres::endpoints(&self.pool, team_seq, page).await
    }
    async fn update_endpoint(&self, e: Endpoint) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE endpoints SET url = $1, events = $2, description = $3, secret = $4,
             previous_secret = $5, previous_secret_until = $6, batch_size = $7, max_in_flight = $8,
             max_per_second = $9 WHERE seq = $10",
        )
        .bind(e.url)
        .bind(e.events)
        .bind(e.description)
        .bind(e.secret)
        .bind(e.previous_secret)
        .bind(e.previous_secret_until.map(|t| t.0))
        .bind(e.batch_size)
        .bind(e.limits.max_in_flight.map(i64::from))
        .bind(e.limits.max_per_second.map(i64::from))
        .bind(e.seq)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.announce(WORK, String::new());
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
}
