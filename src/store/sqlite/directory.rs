//! [`Directory`] on SQLite.

use super::*;
use crate::store::shared_reads::{KeyColumn, on_sqlite};

#[async_trait]
impl Directory for SqliteStore {
    async fn default_team(&self) -> Result<Option<Team>> {
        on_sqlite::default_team(&self.read).await
    }
    async fn create_team(&self, t: NewTeam) -> Result<Team> {
        self.one(move |c| admin::create_team(c, t)).await
    }

    async fn team_by_api_key_hash(&self, hash: &str) -> Result<Option<Team>> {
        on_sqlite::team_by(&self.read, KeyColumn::ApiKeyHash, hash).await
    }
    async fn team_by_site_key(&self, site_key: &str) -> Result<Option<Team>> {
        on_sqlite::team_by(&self.read, KeyColumn::SiteKey, site_key).await
    }
    async fn team(&self, team_seq: i64) -> Result<Option<Team>> {
        on_sqlite::team(&self.read, team_seq).await
    }
    async fn set_widget(&self, team_seq: i64, widget: &WidgetSettings) -> Result<()> {
        let json = serde_json::to_string(widget).expect("settings serialize");
        self.one(move |c| admin::set_widget(c, team_seq, &json))
            .await
    }
    async fn api_key_matches(&self, team_seq: i64, hash: &str) -> Result<bool> {
        on_sqlite::api_key_matches(&self.read, team_seq, hash).await
    }
    async fn put_agent(&self, team_seq: i64, id: &str, profile: &str) -> Result<bool> {
        let (id, profile) = (id.to_string(), profile.to_string());
        self.one(move |c| admin::put_agent(c, team_seq, &id, &profile))
            .await
    }

    async fn agent(&self, team_seq: i64, id: &str) -> Result<Option<String>> {
        on_sqlite::agent(&self.read, team_seq, id).await
    }
    async fn agents(
        &self,
        team_seq: i64,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<(String, String)>> {
        on_sqlite::agents(&self.read, team_seq, after, limit).await
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
        on_sqlite::endpoint(&self.read, team_seq, id).await
    }
    async fn endpoints(&self, team_seq: i64, page: Page) -> Result<Vec<Endpoint>> {
        on_sqlite::endpoints(&self.read, team_seq, page).await
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
