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

impl PgStore {
    /// The position of event `seq` if it was purged since it was sent (`--message-retention`),
    /// or `None` if it is another event (not final yet, another team's, a test event) or no
    /// event ever had that `seq`. Its transaction is not known any more; the
    /// position is just before the oldest transaction of the team's events after it (or the
    /// head if there are none), so that none of them is skipped. An event written in the same
    /// moments as the purged one, before it in `seq` but not in transaction order, may come
    /// again: the purged one is long final, as are its neighbours.
    async fn purged_position(&self, team_seq: i64, seq: i64) -> Result<Option<FeedPosition>> {
        let sql = format!(
            "SELECT (SELECT MAX(seq) FROM events WHERE NOT EXISTS (SELECT 1 FROM events WHERE seq = $2)),
                    (SELECT MIN({XID}) FROM events e
                     WHERE e.team_seq = $1 AND e.conversation_seq IS NOT NULL AND e.seq > $2)"
        );
        let (newest, after): (Option<i64>, Option<i64>) = sqlx::query_as(&sql)
            .bind(team_seq)
            .bind(seq)
            .fetch_one(&self.pool)
            .await?;
        if seq <= 0 || seq > newest.unwrap_or(0) {
            return Ok(None);
        }
        Ok(Some(match after {
            Some(xid) => FeedPosition { xid: xid - 1, seq },
            None => self.feed_head(team_seq).await?,
        }))
    }
}

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
        match xid {
            Some(xid) => Ok(Some(FeedPosition { xid, seq })),
            None => self.purged_position(team_seq, seq).await,
        }
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
