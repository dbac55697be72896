//! [`SlackLinks`] on PostgreSQL.

use super::*;
use crate::store::slack::{SlackChannel, SlackConnection, SlackLinks, SlackSend, on_postgres};

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

    async fn slack_endpoint(&self, team_seq: i64) -> Result<Option<Endpoint>> {
        on_postgres::slack_endpoint(&self.pool, team_seq).await
    }

    async fn open_slack_endpoint(&self, e: Endpoint) -> Result<Endpoint> {
        let team_seq = e.team_seq;
        let mut tx = self.pool.begin().await?;
        open_endpoint(&mut tx, e).await?;
        tx.commit().await?;
        self.announce(WORK, String::new());
        self.work.notify_one();
        on_postgres::slack_endpoint(&self.pool, team_seq)
            .await?
            .ok_or(StoreError::NotFound)
    }

    async fn close_slack_endpoint(&self, team_seq: i64) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE endpoints SET enabled = false WHERE team_seq = $1 AND kind = 'slack'",
        )
        .bind(team_seq)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn slack_send(&self, delivery_seq: i64) -> Result<Option<SlackSend>> {
        on_postgres::slack_send(&self.pool, delivery_seq).await
    }

    async fn put_slack_channel(
        &self,
        team_seq: i64,
        name: &str,
        channel: SlackChannel,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO slack_channels (team_seq, name, channel_id, archived, updated_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (team_seq, name) DO UPDATE SET channel_id = excluded.channel_id,
               archived = excluded.archived, updated_at = excluded.updated_at",
        )
        .bind(team_seq)
        .bind(name)
        .bind(channel.id)
        .bind(channel.archived)
        .bind(Millis::now().0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn forget_slack_channel(&self, team_seq: i64, name: &str) -> Result<()> {
        sqlx::query("DELETE FROM slack_channels WHERE team_seq = $1 AND name = $2")
            .bind(team_seq)
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn set_slack_progress(&self, delivery_seq: i64, steps_done: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO slack_progress (delivery_seq, steps_done, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (delivery_seq) DO UPDATE SET steps_done = excluded.steps_done,
               updated_at = excluded.updated_at",
        )
        .bind(delivery_seq)
        .bind(steps_done)
        .bind(Millis::now().0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// See [`SlackLinks::open_slack_endpoint`].
async fn open_endpoint(tx: &mut sqlx::PgConnection, e: Endpoint) -> Result<()> {
    let existing: Option<(i64, String)> = sqlx::query_as(
        "SELECT seq, url FROM endpoints WHERE team_seq = $1 AND kind = 'slack' FOR UPDATE",
    )
    .bind(e.team_seq)
    .fetch_optional(&mut *tx)
    .await?;
    match existing {
        Some((seq, url)) if url == e.url => {
            sqlx::query("UPDATE endpoints SET enabled = true, events = $1 WHERE seq = $2")
                .bind(e.events)
                .bind(seq)
                .execute(&mut *tx)
                .await?;
            return Ok(());
        }
        Some((seq, _)) => {
            for sql in [
                "DELETE FROM slack_progress WHERE delivery_seq IN (SELECT seq FROM deliveries WHERE endpoint_seq = $1)",
                "DELETE FROM attempts WHERE delivery_seq IN (SELECT seq FROM deliveries WHERE endpoint_seq = $1)",
                "DELETE FROM deliveries WHERE endpoint_seq = $1",
                "DELETE FROM recoveries WHERE endpoint_seq = $1",
                "DELETE FROM endpoints WHERE seq = $1",
            ] {
                sqlx::query(sql).bind(seq).execute(&mut *tx).await?;
            }
            sqlx::query("DELETE FROM slack_channels WHERE team_seq = $1")
                .bind(e.team_seq)
                .execute(&mut *tx)
                .await?;
        }
        None => {}
    }
    sqlx::query(
        "INSERT INTO endpoints (id, team_seq, kind, url, events, description, enabled, secret, batch_size, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(e.id).bind(e.team_seq).bind(e.kind.as_str()).bind(e.url).bind(e.events).bind(e.description)
    .bind(e.enabled).bind(e.secret).bind(e.batch_size).bind(e.created_at.0)
    .execute(&mut *tx)
    .await?;
    Ok(())
}
