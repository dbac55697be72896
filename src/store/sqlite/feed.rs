//! [`TeamFeed`] on SQLite: one writer commits events in `seq` order, so every visible event is
//! final and a position is its `seq` (see [`crate::store::feed`]).

use super::*;
use crate::store::feed::{self, FeedBatch, FeedPosition, TeamFeed};

#[async_trait]
impl TeamFeed for SqliteStore {
    async fn feed_head(&self, team_seq: i64) -> Result<FeedPosition> {
        let seq: Option<i64> = sqlx::query_scalar(
            "SELECT seq FROM events WHERE team_seq = $1 AND conversation_seq IS NOT NULL
             ORDER BY seq DESC LIMIT 1",
        )
        .bind(team_seq)
        .fetch_optional(&self.read)
        .await?;
        Ok(FeedPosition {
            xid: 0,
            seq: seq.unwrap_or(0),
        })
    }

    /// An event purged since it was sent (`--message-retention`) is still a position: its `seq`
    /// is never given to another event (see [`super::purge`]).
    async fn feed_position(&self, team_seq: i64, seq: i64) -> Result<Option<FeedPosition>> {
        let (found, newest): (Option<bool>, Option<i64>) = sqlx::query_as(
            "SELECT (SELECT team_seq = $2 AND conversation_seq IS NOT NULL FROM events WHERE seq = $1),
                    (SELECT MAX(seq) FROM events)",
        )
        .bind(seq)
        .bind(team_seq)
        .fetch_one(&self.read)
        .await?;
        let known = match found {
            Some(teams_chat_event) => teams_chat_event,
            None => seq > 0 && seq <= newest.unwrap_or(0),
        };
        Ok(known.then_some(FeedPosition { xid: 0, seq }))
    }

    async fn feed_after(
        &self,
        team_seq: i64,
        after: FeedPosition,
        limit: u32,
    ) -> Result<FeedBatch> {
        let sql = format!(
            "SELECT {} FROM events e {}
             WHERE e.team_seq = $1 AND e.seq > $2 AND e.conversation_seq IS NOT NULL
             ORDER BY e.seq LIMIT $3",
            feed::COLUMNS.replace("{xid}", "0"),
            feed::JOINS
        );
        let rows = sqlx::query(&sql)
            .bind(team_seq)
            .bind(after.seq)
            .bind(limit as i64)
            .fetch_all(&self.read)
            .await?;
        let events = rows.iter().map(feed::event).collect::<Result<_>>()?;
        Ok(FeedBatch {
            events,
            held: false,
        })
    }
}
