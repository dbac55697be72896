//! Lanes: a lane is an endpoint's channel (`deliveries.endpoint_seq` and `deliveries.lane`), whose
//! deliveries go out one at a time, oldest first. Of a lane's pending deliveries at most one is
//! `ready` (its head), the rest are `waiting`; when the head settles, the oldest waiting one is
//! promoted.
//!
//! Both stores keep the pending deliveries in the index `deliveries_lane_head` (migration 0015),
//! keyed by (endpoint_seq, lane, state, seq). The first entry of a lane is its head: its ready
//! delivery if it has one ('ready' sorts before 'waiting'), else its oldest waiting one, the next
//! to promote. The statements here read that entry: one descent of the index however long the lane,
//! and however many pending deliveries other endpoints have in the same channel.
//!
//! On PostgreSQL they ask for the lane's first row in the index's own order (`ORDER BY state, seq
//! LIMIT 1`) rather than whether a row `EXISTS`: planned with the statistics of a long backlog, an
//! `EXISTS` may become a scan of the table expected to meet a pending row early, where ordered like
//! the index no other plan is cheaper. On SQLite they name the index.

/// The index of pending deliveries by lane.
pub const INDEX: &str = "deliveries_lane_head";

pub mod on_sqlite {
    /// A lane's head, `seq` and `state`: `?1` the endpoint, `?2` the lane. None when the lane has
    /// no pending delivery; `waiting` when its head has settled and the next is to be promoted.
    pub const HEAD: &str = "SELECT seq, state FROM deliveries INDEXED BY deliveries_lane_head
         WHERE endpoint_seq = ?1 AND lane = ?2 AND state IN ('ready', 'waiting')
         ORDER BY state, seq LIMIT 1";

    /// Makes a lane's ready head not yet sent (not in flight, not parked in a batch) wait again if
    /// it is newer than `?4`: a recovery queued older deliveries of the lane, which go first.
    /// `?1` the endpoint, `?2` the lane, `?3` [`crate::store::PARKED`].
    pub const HOLD_NEWER_HEAD: &str = "UPDATE deliveries INDEXED BY deliveries_lane_head
         SET state = 'waiting'
         WHERE endpoint_seq = ?1 AND lane = ?2 AND state IN ('ready', 'waiting') AND state = 'ready'
           AND leased = 0 AND next_attempt_at <> ?3 AND seq > ?4";
}

pub mod on_postgres {
    /// A lane's head, `seq` and `state`: `$1` the endpoint, `$2` the lane (see
    /// [`super::on_sqlite::HEAD`]).
    pub const HEAD: &str = "SELECT seq, state FROM deliveries
         WHERE endpoint_seq = $1 AND lane = $2 AND state IN ('ready', 'waiting')
         ORDER BY state, seq LIMIT 1";

    /// Makes the lane's head ready, at `$3`, if it is waiting (the lane has no ready delivery): its
    /// oldest waiting one. The caller holds the lane lock.
    pub const PROMOTE: &str = "UPDATE deliveries SET state = 'ready', next_attempt_at = $3
         WHERE seq = (SELECT seq FROM deliveries
                      WHERE endpoint_seq = $1 AND lane = $2 AND state IN ('ready', 'waiting')
                      ORDER BY state, seq LIMIT 1)
           AND state = 'waiting'";

    /// See [`super::on_sqlite::HOLD_NEWER_HEAD`]; `$3` is [`crate::store::PARKED`].
    pub const HOLD_NEWER_HEAD: &str = "UPDATE deliveries SET state = 'waiting'
         WHERE endpoint_seq = $1 AND lane = $2 AND state = 'ready' AND NOT leased
           AND next_attempt_at <> $3 AND seq > $4";
}
