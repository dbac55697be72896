//! [`SlackLinks`] on SQLite: reads from the pool, writes through the writer.

use super::*;
use crate::store::slack::{SlackConnection, SlackLinks, on_sqlite};
use rusqlite::params;

#[async_trait]
impl SlackLinks for SqliteStore {
    async fn put_slack_connection(&self, c: SlackConnection) -> Result<SlackConnection> {
        self.one(move |conn| {
            let created_at: i64 = conn
                .prepare_cached(
                    "INSERT INTO slack_connections (team_seq, bot_token, signing_secret, notify_channel,
                       archive_on_end, workspace_id, workspace_name, workspace_url, bot_user_id, bot_id,
                       created_at, updated_at)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                     ON CONFLICT (team_seq) DO UPDATE SET bot_token = excluded.bot_token,
                       signing_secret = excluded.signing_secret, notify_channel = excluded.notify_channel,
                       archive_on_end = excluded.archive_on_end, workspace_id = excluded.workspace_id,
                       workspace_name = excluded.workspace_name, workspace_url = excluded.workspace_url,
                       bot_user_id = excluded.bot_user_id, bot_id = excluded.bot_id,
                       updated_at = excluded.updated_at
                     RETURNING created_at",
                )?
                .query_row(
                    params![
                        c.team_seq,
                        c.bot_token,
                        c.signing_secret,
                        c.notify_channel,
                        c.archive_on_end,
                        c.workspace_id,
                        c.workspace_name,
                        c.workspace_url,
                        c.bot_user_id,
                        c.bot_id,
                        c.created_at.0,
                        c.updated_at.0
                    ],
                    |r| r.get(0),
                )?;
            Ok(SlackConnection {
                created_at: Millis(created_at),
                ..c
            })
        })
        .await
    }

    async fn slack_connection(&self, team_seq: i64) -> Result<Option<SlackConnection>> {
        on_sqlite::slack_connection(&self.read, team_seq).await
    }

    async fn slack_connections(&self) -> Result<Vec<SlackConnection>> {
        on_sqlite::slack_connections(&self.read).await
    }

    async fn delete_slack_connection(&self, team_seq: i64) -> Result<bool> {
        self.one(move |c| {
            Ok(
                c.prepare_cached("DELETE FROM slack_connections WHERE team_seq = ?")?
                    .execute(params![team_seq])?
                    == 1,
            )
        })
        .await
    }

    async fn mark_slack_event_seen(
        &self,
        event_id: &str,
        team_seq: i64,
        at: Millis,
    ) -> Result<bool> {
        let id = event_id.to_string();
        self.one(move |c| {
            Ok(c.prepare_cached(
                "INSERT INTO slack_events_seen (event_id, team_seq, seen_at) VALUES (?, ?, ?)
                 ON CONFLICT (event_id) DO NOTHING",
            )?
            .execute(params![id, team_seq, at.0])?
                == 1)
        })
        .await
    }

    async fn prune_slack_events_seen(&self, before: Millis) -> Result<u64> {
        self.lazy(move |c| {
            Ok(
                c.prepare_cached("DELETE FROM slack_events_seen WHERE seen_at < ?")?
                    .execute(params![before.0])? as u64,
            )
        })
        .await
    }
}
