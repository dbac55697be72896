//! [`SlackLinks`] on PostgreSQL.

use super::*;
use crate::store::slack::{SlackConnection, SlackLinks, on_postgres};

#[async_trait]
impl SlackLinks for PgStore {
    async fn put_slack_connection(&self, c: SlackConnection) -> Result<SlackConnection> {
        let created_at: i64 = sqlx::query_scalar(
            "INSERT INTO slack_connections (team_seq, bot_token, signing_secret, notify_channel,
               archive_on_end, workspace_id, workspace_name, workspace_url, bot_user_id, bot_id,
               created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (team_seq) DO UPDATE SET bot_token = excluded.bot_token,
               signing_secret = excluded.signing_secret, notify_channel = excluded.notify_channel,
               archive_on_end = excluded.archive_on_end, workspace_id = excluded.workspace_id,
               workspace_name = excluded.workspace_name, workspace_url = excluded.workspace_url,
               bot_user_id = excluded.bot_user_id, bot_id = excluded.bot_id,
               updated_at = excluded.updated_at
             RETURNING created_at",
        )
        .bind(c.team_seq)
        .bind(&c.bot_token)
        .bind(&c.signing_secret)
        .bind(&c.notify_channel)
        .bind(c.archive_on_end)
        .bind(&c.workspace_id)
        .bind(&c.workspace_name)
        .bind(&c.workspace_url)
        .bind(&c.bot_user_id)
        .bind(&c.bot_id)
        .bind(c.created_at.0)
        .bind(c.updated_at.0)
        .fetch_one(&self.pool)
        .await?;
        Ok(SlackConnection {
            created_at: Millis(created_at),
            ..c
        })
    }

    async fn slack_connection(&self, team_seq: i64) -> Result<Option<SlackConnection>> {
        on_postgres::slack_connection(&self.pool, team_seq).await
    }

    async fn slack_connections(&self) -> Result<Vec<SlackConnection>> {
        on_postgres::slack_connections(&self.pool).await
    }

    async fn delete_slack_connection(&self, team_seq: i64) -> Result<bool> {
        let r = sqlx::query("DELETE FROM slack_connections WHERE team_seq = $1")
            .bind(team_seq)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn mark_slack_event_seen(
        &self,
        event_id: &str,
        team_seq: i64,
        at: Millis,
    ) -> Result<bool> {
        let r = sqlx::query(
            "INSERT INTO slack_events_seen (event_id, team_seq, seen_at) VALUES ($1, $2, $3)
             ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(event_id)
        .bind(team_seq)
        .bind(at.0)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn prune_slack_events_seen(&self, before: Millis) -> Result<u64> {
        let r = sqlx::query("DELETE FROM slack_events_seen WHERE seen_at < $1")
            .bind(before.0)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected())
    }
}
