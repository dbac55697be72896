//! [`TeamFeed`] on PostgreSQL: events below the horizon of the reading statement's own snapshot,
//! in `(xid, seq)` order (see [`crate::store::feed`]).

use super::*;
use crate::store::feed::{self, FeedBatch, FeedPosition, TeamFeed};
use crate::store::rows::Columns;

/// The oldest transaction still running when the statement's snapshot was taken: every event
/// written by an older one is final.
const HORIZON: &str = "pg_snapshot_xmin(pg_current_snapshot())";

/// An `xid8` as a number (they stay far below 2^63).
const XID: &str = "e.xid::text::bigint";

#[async_trait]
impl TeamFeed for PgStore {
    async fn feed_head(&self, team_seq: i64) -> Result<FeedPosition> {
        let sql = format!(
            "SELECT {XID}, e.seq FROM events e
             WHERE e.team_seq = $1 AND e.conversation_seq IS NOT NULL AND e.xid < {HORIZON}
             ORDER BY e.xid DESC, e.seq DESC LIMIT 1"
        );
        let head: Option<(i64, i64)> = sqlx::query_as(&sql)
            .bind(team_seq)
            .fetch_optional(&self.pool)
            .await?;
        Ok(head.map_or(FeedPosition::START, |(xid, seq)| FeedPosition { xid, seq }))
    }

    async fn feed_position(&self, team_seq: i64, seq: i64) -> Result<Option<FeedPosition>> {
        let sql = format!(
            "SELECT {XID} FROM events e
             WHERE e.seq = $1 AND e.team_seq = $2 AND e.conversation_seq IS NOT NULL
               AND e.xid < {HORIZON}"
        );
        let xid: Option<i64> = sqlx::query_scalar(&sql)
            .bind(seq)
            .bind(team_seq)
            .fetch_optional(&self.pool)
            .await?;
        Ok(xid.map(|xid| FeedPosition { xid, seq }))
    }

    async fn feed_after(
        &self,
        team_seq: i64,
        after: FeedPosition,
        limit: u32,
    ) -> Result<FeedBatch> {
        // Held events sort last (their ids are the highest): the final ones come first.
        let sql = format!(
            "SELECT {}, e.xid >= h.horizon AS held
             FROM events e CROSS JOIN (SELECT {HORIZON} AS horizon) h {}
             WHERE e.team_seq = $1 AND (e.xid, e.seq) > ($2::text::xid8, $3)
               AND e.conversation_seq IS NOT NULL
             ORDER BY e.xid, e.seq LIMIT $4",
            feed::COLUMNS.replace("{xid}", XID),
            feed::JOINS
        );
        let rows = sqlx::query(&sql)
            .bind(team_seq)
            .bind(after.xid.to_string())
            .bind(after.seq)
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?;
        let mut batch = FeedBatch::default();
        for r in &rows {
            if r.flag("held") {
                batch.held = true;
                break;
            }
            batch.events.push(feed::event(r)?);
        }
        Ok(batch)
    }
}
