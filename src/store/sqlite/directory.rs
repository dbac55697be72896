//! [`Directory`] on SQLite.

use super::*;

#[async_trait]
impl Directory for SqliteStore {
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
}
