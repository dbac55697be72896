//! [`Sessions`] on SQLite: reads from the pool, writes through the writer.

use super::*;
use crate::store::sessions::{AgentLogin, SessionRecord, Sessions, on_sqlite};
use rusqlite::params;

#[async_trait]
impl Sessions for SqliteStore {
    async fn create_session(&self, s: SessionRecord) -> Result<()> {
        self.one(move |c| {
            c.prepare_cached(
                "INSERT INTO sessions (token_hash, team_seq, agent_id, csrf_token, created_at, last_seen_at)
                 VALUES (?, ?, ?, ?, ?, ?)",
            )?
            .execute(params![s.token_hash, s.team_seq, s.agent_id, s.csrf_token, s.created_at.0, s.last_seen_at.0])?;
            Ok(())
        })
        .await
    }

    async fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>> {
        on_sqlite::session(&self.read, token_hash).await
    }

    async fn touch_session(&self, token_hash: &str, now: Millis) -> Result<()> {
        let hash = token_hash.to_string();
        self.lazy(move |c| {
            c.prepare_cached("UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?")?
                .execute(params![now.0, hash])?;
            Ok(())
        })
        .await
    }

    async fn delete_session(&self, token_hash: &str) -> Result<bool> {
        let hash = token_hash.to_string();
        self.one(move |c| {
            Ok(
                c.prepare_cached("DELETE FROM sessions WHERE token_hash = ?")?
                    .execute(params![hash])?
                    == 1,
            )
        })
        .await
    }

    async fn end_sessions(&self, before: Millis, agent: Option<(i64, &str)>) -> Result<u64> {
        let agent = agent.map(|(team, id)| (team, id.to_string()));
        self.one(move |c| {
            let mut n = c
                .prepare_cached("DELETE FROM sessions WHERE last_seen_at < ?")?
                .execute(params![before.0])?;
            if let Some((team, id)) = agent {
                n += c
                    .prepare_cached("DELETE FROM sessions WHERE team_seq = ? AND agent_id = ?")?
                    .execute(params![team, id])?;
            }
            Ok(n as u64)
        })
        .await
    }

    async fn set_agent_password(
        &self,
        team_seq: i64,
        agent_id: &str,
        hash: Option<&str>,
    ) -> Result<bool> {
        let (id, hash) = (agent_id.to_string(), hash.map(str::to_string));
        self.one(move |c| {
            Ok(c.prepare_cached(
                "UPDATE agents SET password_hash = ? WHERE team_seq = ? AND id = ?",
            )?
            .execute(params![hash, team_seq, id])?
                == 1)
        })
        .await
    }

    async fn agent_has_password(&self, team_seq: i64, agent_id: &str) -> Result<bool> {
        on_sqlite::agent_has_password(&self.read, team_seq, agent_id).await
    }

    async fn agent_logins(&self) -> Result<Vec<AgentLogin>> {
        on_sqlite::agent_logins(&self.read).await
    }
}
