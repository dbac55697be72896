//! Console sign-in: sessions kept server-side and agents' console passwords. The [`Sessions`]
//! part of the store, with the reads both backends run the same way.

use super::Result;
use crate::domain::Millis;
use async_trait::async_trait;

/// A signed-in console user: an admin (signed in with the API key) or an agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    /// The key: the hash of the cookie's token (the token itself is never stored).
    pub token_hash: String,
    pub team_seq: i64,
    /// `None` for an admin; the agent's id for an agent, who acts only as itself.
    pub agent_id: Option<String>,
    /// Sent back in `X-CSRF-Token` (or a form field) with every change the session makes.
    pub csrf_token: String,
    pub created_at: Millis,
    /// Moved forward as the session is used (at most once a minute): idle sessions end.
    pub last_seen_at: Millis,
}

/// An agent who may sign in to the console: its stored profile and password hash.
#[derive(Clone, Debug)]
pub struct AgentLogin {
    pub team_seq: i64,
    pub agent_id: String,
    /// The Slack user object; its `profile.email` is the sign-in name.
    pub profile: String,
    /// An argon2id PHC string.
    pub password_hash: String,
}

/// Sessions and console passwords.
#[async_trait]
pub trait Sessions: Send + Sync {
    async fn create_session(&self, s: SessionRecord) -> Result<()>;

    async fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>>;

    /// Records use of the session now. A crash may lose it (the session then looks idle a
    /// little earlier), so it need not wait for a flush.
    async fn touch_session(&self, token_hash: &str, now: Millis) -> Result<()>;

    /// Ends a session (sign-out); answers whether it existed.
    async fn delete_session(&self, token_hash: &str) -> Result<bool>;

    /// Ends the sessions idle since before `before`, and those of `agent_id` (password
    /// changed or removed) when given; answers how many.
    async fn end_sessions(&self, before: Millis, agent: Option<(i64, &str)>) -> Result<u64>;

    /// Sets (or with `None` removes) an agent's console password; answers whether the agent exists.
    async fn set_agent_password(
        &self,
        team_seq: i64,
        agent_id: &str,
        hash: Option<&str>,
    ) -> Result<bool>;

    /// Whether an agent has a console password.
    async fn agent_has_password(&self, team_seq: i64, agent_id: &str) -> Result<bool>;

    /// Every agent with a console password, of every team (few: the people of a support team).
    async fn agent_logins(&self) -> Result<Vec<AgentLogin>>;
}

macro_rules! session_reads_on {
    ($pool:ty) => {
        use super::*;
        use sqlx::Row;

        pub async fn session(pool: &$pool, token_hash: &str) -> Result<Option<SessionRecord>> {
            let r = sqlx::query("SELECT * FROM sessions WHERE token_hash = $1")
                .bind(token_hash)
                .fetch_optional(pool)
                .await?;
            Ok(r.map(|r| SessionRecord {
                token_hash: r.get("token_hash"),
                team_seq: r.get("team_seq"),
                agent_id: r.get("agent_id"),
                csrf_token: r.get("csrf_token"),
                created_at: Millis(r.get("created_at")),
                last_seen_at: Millis(r.get("last_seen_at")),
            }))
        }

        pub async fn agent_has_password(pool: &$pool, team_seq: i64, id: &str) -> Result<bool> {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM agents WHERE team_seq = $1 AND id = $2 AND password_hash IS NOT NULL",
            )
            .bind(team_seq)
            .bind(id)
            .fetch_one(pool)
            .await?;
            Ok(n == 1)
        }

        pub async fn agent_logins(pool: &$pool) -> Result<Vec<AgentLogin>> {
            let rows = sqlx::query(
                "SELECT team_seq, id, profile, password_hash FROM agents WHERE password_hash IS NOT NULL",
            )
            .fetch_all(pool)
            .await?;
            Ok(rows
                .iter()
                .map(|r| AgentLogin {
                    team_seq: r.get("team_seq"),
                    agent_id: r.get("id"),
                    profile: r.get("profile"),
                    password_hash: r.get("password_hash"),
                })
                .collect())
        }
    };
}

pub mod on_sqlite {
    session_reads_on!(sqlx::SqlitePool);
}

pub mod on_postgres {
    session_reads_on!(sqlx::PgPool);
}
