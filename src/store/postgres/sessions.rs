//! [`Sessions`] on PostgreSQL.

use super::*;
use crate::store::sessions::{AgentLogin, SessionRecord, Sessions, on_postgres};

#[async_trait]
impl Sessions for PgStore {
    async fn create_session(&self, s: SessionRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, team_seq, agent_id, csrf_token, created_at, last_seen_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(s.token_hash)
        .bind(s.team_seq)
        .bind(s.agent_id)
        .bind(s.csrf_token)
        .bind(s.created_at.0)
        .bind(s.last_seen_at.0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>> {
        on_postgres::session(&self.pool, token_hash).await
    }

    async fn touch_session(&self, token_hash: &str, now: Millis) -> Result<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
            .bind(now.0)
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_session(&self, token_hash: &str) -> Result<bool> {
        let r = sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn end_sessions(&self, before: Millis, agent: Option<(i64, &str)>) -> Result<u64> {
        let (team, id) = agent.unzip();
        let r = sqlx::query(
            "DELETE FROM sessions WHERE last_seen_at < $1 OR (team_seq = $2 AND agent_id = $3)",
        )
        .bind(before.0)
        .bind(team)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected())
    }

    async fn set_agent_password(
        &self,
        team_seq: i64,
        agent_id: &str,
        hash: Option<&str>,
    ) -> Result<bool> {
        let r = sqlx::query("UPDATE agents SET password_hash = $1 WHERE team_seq = $2 AND id = $3")
            .bind(hash)
            .bind(team_seq)
            .bind(agent_id)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn agent_has_password(&self, team_seq: i64, agent_id: &str) -> Result<bool> {
        on_postgres::agent_has_password(&self.pool, team_seq, agent_id).await
    }

    async fn agent_logins(&self) -> Result<Vec<AgentLogin>> {
        on_postgres::agent_logins(&self.pool).await
    }
}
