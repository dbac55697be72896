//! [`SlackLinks`] on SQLite: reads from the pool, writes through the writer.

use super::*;
use crate::store::slack::{SlackChannel, SlackConnection, SlackLinks, SlackSend, on_sqlite};
use rusqlite::{OptionalExtension, params};

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

    async fn slack_endpoint(&self, team_seq: i64) -> Result<Option<Endpoint>> {
        on_sqlite::slack_endpoint(&self.read, team_seq).await
    }

    async fn open_slack_endpoint(&self, e: Endpoint) -> Result<Endpoint> {
        let team_seq = e.team_seq;
        self.one(move |c| open_endpoint(c, e)).await?;
        self.work.notify_one();
        on_sqlite::slack_endpoint(&self.read, team_seq)
            .await?
            .ok_or(StoreError::NotFound)
    }

    async fn close_slack_endpoint(&self, team_seq: i64) -> Result<bool> {
        self.one(move |c| {
            Ok(c.prepare_cached(
                "UPDATE endpoints SET enabled = 0 WHERE team_seq = ? AND kind = 'slack'",
            )?
            .execute([team_seq])?
                == 1)
        })
        .await
    }

    async fn slack_send(&self, delivery_seq: i64) -> Result<Option<SlackSend>> {
        on_sqlite::slack_send(&self.read, delivery_seq).await
    }

    async fn put_slack_channel(
        &self,
        team_seq: i64,
        name: &str,
        channel: SlackChannel,
    ) -> Result<()> {
        let name = name.to_string();
        self.one(move |c| {
            c.prepare_cached(
                "INSERT INTO slack_channels (team_seq, name, channel_id, archived, updated_at)
                 VALUES (?, ?, ?, ?, ?)
                 ON CONFLICT (team_seq, name) DO UPDATE SET channel_id = excluded.channel_id,
                   archived = excluded.archived, updated_at = excluded.updated_at",
            )?
            .execute(params![
                team_seq,
                name,
                channel.id,
                channel.archived,
                Millis::now().0
            ])?;
            Ok(())
        })
        .await
    }

    async fn forget_slack_channel(&self, team_seq: i64, name: &str) -> Result<()> {
        let name = name.to_string();
        self.one(move |c| {
            c.prepare_cached("DELETE FROM slack_channels WHERE team_seq = ? AND name = ?")?
                .execute(params![team_seq, name])?;
            Ok(())
        })
        .await
    }

    async fn set_slack_progress(&self, delivery_seq: i64, steps_done: i64) -> Result<()> {
        self.one(move |c| {
            c.prepare_cached(
                "INSERT INTO slack_progress (delivery_seq, steps_done, updated_at) VALUES (?, ?, ?)
                 ON CONFLICT (delivery_seq) DO UPDATE SET steps_done = excluded.steps_done,
                   updated_at = excluded.updated_at",
            )?
            .execute(params![delivery_seq, steps_done, Millis::now().0])?;
            Ok(())
        })
        .await
    }
}

/// See [`SlackLinks::open_slack_endpoint`].
fn open_endpoint(c: &rusqlite::Connection, e: Endpoint) -> Result<()> {
    let existing: Option<(i64, String)> = c
        .prepare_cached("SELECT seq, url FROM endpoints WHERE team_seq = ? AND kind = 'slack'")?
        .query_row([e.team_seq], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match existing {
        Some((seq, url)) if url == e.url => {
            c.prepare_cached("UPDATE endpoints SET enabled = 1, events = ? WHERE seq = ?")?
                .execute(params![e.events, seq])?;
            return Ok(());
        }
        Some((seq, _)) => {
            c.prepare_cached(
                "DELETE FROM slack_progress
                 WHERE delivery_seq IN (SELECT seq FROM deliveries WHERE endpoint_seq = ?)",
            )?
            .execute([seq])?;
            admin::delete_endpoint(c, e.team_seq, seq)?;
            c.prepare_cached("DELETE FROM slack_channels WHERE team_seq = ?")?
                .execute([e.team_seq])?;
        }
        None => {}
    }
    admin::create_endpoint(c, e)?;
    Ok(())
}
