//! Disabling and enabling endpoints on SQLite (see [`crate::store::Disabled`]), by hand and by
//! their health ([`crate::store::healing`]): its changes, their Slack announcements and the
//! probes. Every function runs in the writer's transaction.

use super::super::healing::{self, Attempts, Change, EndpointState, HealthRules};
use super::super::lanes;
use super::super::{Outcome, PARKED, Result};
use super::requeue;
use crate::domain::{Millis, new_id};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::BTreeMap;
use std::time::Duration;

/// See [`crate::store::Outbox::disable_endpoint`].
pub fn disable(conn: &Connection, endpoint_seq: i64, reason: &str, at: Millis) -> Result<bool> {
    let n = conn
        .prepare_cached(
            "UPDATE endpoints SET enabled = 0, disabled_reason = ?, disabled_at = ?,
                    probe_at = NULL, probe_seq = NULL
             WHERE seq = ? AND (enabled = 1 OR probe_at IS NOT NULL)",
        )?
        .execute(params![reason, at.0, endpoint_seq])?;
    Ok(n == 1)
}

/// See [`crate::store::Outbox::enable_endpoint`].
pub fn enable(conn: &Connection, endpoint_seq: i64, at: Millis) -> Result<bool> {
    let n = conn
        .prepare_cached(
            "UPDATE endpoints SET enabled = 1, disabled_reason = NULL, disabled_at = NULL,
                    probe_at = NULL, probe_seq = NULL, failing_since = NULL
             WHERE seq = ? AND enabled = 0",
        )?
        .execute([endpoint_seq])?;
    if n == 1 {
        release(conn, endpoint_seq, at)?;
    }
    Ok(n == 1)
}

/// Makes the held deliveries of an endpoint enabled again due at once: each lane's head, in
/// order (the rest of each lane follows behind it, as ever).
pub fn release(conn: &Connection, endpoint_seq: i64, now: Millis) -> Result<()> {
    conn.prepare_cached(
        "UPDATE deliveries INDEXED BY deliveries_lane_head SET next_attempt_at = ?1
         WHERE endpoint_seq = ?2 AND state IN ('ready', 'waiting') AND state = 'ready'
           AND leased = 0 AND next_attempt_at > ?1 AND next_attempt_at <> ?3",
    )?
    .execute(params![now.0, endpoint_seq, PARKED.0])?;
    Ok(())
}

/// Before outcomes are recorded: the failures of disabled endpoints' deliveries are held,
/// uncounted ([`healing::hold_failures`]). Answers the outcomes' endpoints as they were.
pub fn hold(
    conn: &Connection,
    outcomes: &mut [Outcome],
    now: Millis,
) -> Result<Vec<EndpointState>> {
    let states = states(conn, &healing::endpoints_of(outcomes))?;
    for (endpoint, delivery) in healing::hold_failures(outcomes, &states, now) {
        // A failed probe is not claimable again: the next probe picks its delivery anew.
        conn.prepare_cached(
            "UPDATE endpoints SET probe_seq = NULL WHERE seq = ? AND probe_seq = ?",
        )?
        .execute(params![endpoint, delivery])?;
    }
    Ok(states)
}

/// After outcomes are recorded: what they change about their endpoints' health, applied.
/// Answers whether deliveries became due (an endpoint enabled again).
pub fn heal(
    conn: &Connection,
    states: &[EndpointState],
    attempts: BTreeMap<i64, Attempts>,
    now: Millis,
    rules: &HealthRules,
) -> Result<bool> {
    let mut due = false;
    for (seq, a) in attempts {
        let Some(e) = states.iter().find(|e| e.seq == seq) else {
            continue;
        };
        if let Some(change) = healing::decide(e, &a, now, rules) {
            due |= apply(conn, e, change, now, rules)?;
        }
    }
    Ok(due)
}

/// The endpoints `seqs` as the recording of outcomes reads them.
pub fn states(conn: &Connection, seqs: &[i64]) -> Result<Vec<EndpointState>> {
    let mut select = conn.prepare_cached(
        "SELECT seq, team_seq, id, url, description, enabled, failing_since, probe_at
         FROM endpoints WHERE seq = ?",
    )?;
    let mut out = Vec::with_capacity(seqs.len());
    for &seq in seqs {
        let state = select
            .query_row([seq], |r| {
                Ok(EndpointState {
                    seq: r.get(0)?,
                    team_seq: r.get(1)?,
                    id: r.get(2)?,
                    url: r.get(3)?,
                    description: r.get(4)?,
                    enabled: r.get(5)?,
                    failing_since: r.get::<_, Option<i64>>(6)?.map(Millis),
                    probe_at: r.get::<_, Option<i64>>(7)?.map(Millis),
                })
            })
            .optional()?;
        out.extend(state);
    }
    Ok(out)
}

/// Applies what a batch of outcomes changes about endpoint `e` (see [`healing::decide`]);
/// answers whether deliveries became due (it was enabled again).
pub fn apply(
    conn: &Connection,
    e: &EndpointState,
    change: Change,
    now: Millis,
    rules: &HealthRules,
) -> Result<bool> {
    match change {
        Change::FailingSince(since) => {
            conn.prepare_cached("UPDATE endpoints SET failing_since = ? WHERE seq = ?")?
                .execute(params![since.map(|t| t.0), e.seq])?;
            Ok(false)
        }
        Change::Disable {
            failing_since,
            reason,
        } => {
            let n = conn
                .prepare_cached(
                    "UPDATE endpoints SET enabled = 0, disabled_reason = ?, disabled_at = ?,
                            probe_at = ?, probe_seq = NULL, failing_since = ?
                     WHERE seq = ? AND enabled = 1",
                )?
                .execute(params![
                    reason,
                    now.0,
                    now.plus_ms(rules.probe_interval.as_millis() as i64).0,
                    failing_since.0,
                    e.seq
                ])?;
            if n == 1 {
                tracing::warn!(endpoint = %e.id, reason = %reason, "endpoint disabled: its deliveries are held and probed");
                recover_failed(conn, e, failing_since, now, "disabled")?;
                notice(conn, e, "endpointDisabled", Some(&reason), now, rules)?;
            }
            Ok(false)
        }
        Change::Enable { failing_since } => {
            let n = conn
                .prepare_cached(
                    "UPDATE endpoints SET enabled = 1, disabled_reason = NULL, disabled_at = NULL,
                            probe_at = NULL, probe_seq = NULL, failing_since = ?
                     WHERE seq = ? AND probe_at IS NOT NULL",
                )?
                .execute(params![failing_since.map(|t| t.0), e.seq])?;
            if n == 1 {
                tracing::info!(endpoint = %e.id, "endpoint enabled again: a probe was delivered; its held deliveries go out");
                if let Some(since) = e.failing_since {
                    recover_failed(conn, e, since, now, "enabled again")?;
                }
                release(conn, e.seq, now)?;
                notice(conn, e, "endpointEnabled", None, now, rules)?;
            }
            Ok(n == 1)
        }
    }
}

/// Nothing is discarded because an endpoint was down: when Palaver disables it for failing,
/// its deliveries that failed for good since its failures began (`since`, its `failing_since`:
/// those with an attempt since then, and any created after the oldest of them) are queued again
/// by a recovery ([`requeue::create_recovery`], worked in batches by the recoverer), held with
/// the rest, so that a probe takes a channel's oldest and healing sends them first. They keep
/// their place: a lane holding one gets its unsent head back in the queue behind it (the
/// recovery promotes each lane's oldest). Done again when a probe enables it, for any left
/// (an endpoint disabled before this was done).
fn recover_failed(
    conn: &Connection,
    e: &EndpointState,
    since: Millis,
    now: Millis,
    what: &str,
) -> Result<()> {
    // A delivery created before the clock started may have failed during the outage too: the
    // recovery starts at the oldest one whose attempts ran into it.
    let from: Option<i64> = conn
        .prepare_cached(
            "SELECT MIN(d.created_at) FROM deliveries d
             WHERE d.endpoint_seq = ?1 AND d.state = 'failed'
               AND EXISTS (SELECT 1 FROM attempts a WHERE a.delivery_seq = d.seq AND a.at >= ?2)",
        )?
        .query_row(params![e.seq, since.0], |r| r.get(0))?;
    let Some(since) = from.map(|from| Millis(from.min(since.0))) else {
        return Ok(());
    };
    conn.prepare_cached(
        "UPDATE deliveries SET state = 'waiting'
         WHERE endpoint_seq = ?1 AND state = 'ready' AND leased = 0 AND next_attempt_at <> ?3
           AND lane IN (SELECT lane FROM deliveries
                        WHERE endpoint_seq = ?1 AND state = 'failed' AND created_at >= ?2)",
    )?
    .execute(params![e.seq, since.0, PARKED.0])?;
    let queued = requeue::create_recovery(conn, e.seq, since, now)?;
    tracing::info!(endpoint = %e.id, queued, failing_since = %since.iso(), "endpoint {what}: its deliveries that failed while it was down are queued again");
    Ok(())
}

/// Queues the announcement of a change of `e` for the team's Slack endpoint, if Slack is
/// connected: an event of its own (no conversation) in a lane per endpoint.
fn notice(
    conn: &Connection,
    e: &EndpointState,
    name: &str,
    reason: Option<&str>,
    now: Millis,
    rules: &HealthRules,
) -> Result<()> {
    let slack: Option<i64> = conn
        .prepare_cached(
            "SELECT seq FROM endpoints WHERE team_seq = ? AND kind = 'slack' AND enabled = 1",
        )?
        .query_row([e.team_seq], |r| r.get(0))
        .optional()?;
    let Some(slack) = slack else {
        return Ok(());
    };
    let body = healing::notice_body(name, e, reason, now, rules);
    conn.prepare_cached(
        "INSERT INTO events (id, team_seq, conversation_seq, name, created_at, body) VALUES (?, ?, NULL, ?, ?, ?)",
    )?
    .execute(params![new_id("evt_"), e.team_seq, name, now.0, body])?;
    let event_seq = conn.last_insert_rowid();
    let lane = format!("health:{}", e.id);
    let busy = conn
        .prepare_cached(lanes::on_sqlite::HEAD)?
        .query_row(params![slack, lane], |_| Ok(()))
        .optional()?
        .is_some();
    conn.prepare_cached(
        "INSERT INTO deliveries (id, endpoint_seq, event_seq, lane, state, next_attempt_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
    )?
    .execute(params![
        new_id("msg_"),
        slack,
        event_seq,
        lane,
        if busy { "waiting" } else { "ready" },
        now.0
    ])?;
    Ok(())
}

/// Endpoints disabled for failing whose probe is due and not in flight: the oldest held lane
/// head of each becomes the one delivery a claim may take although its endpoint is disabled,
/// due now; the next probe is due an interval later. Answers how many probes were made due.
pub fn start_probes(conn: &Connection, now: Millis, interval: Duration) -> Result<u64> {
    let due: Vec<(i64, Option<i64>)> = conn
        .prepare_cached(
            "SELECT seq, probe_seq FROM endpoints INDEXED BY endpoints_probe
             WHERE probe_at IS NOT NULL AND probe_at <= ?",
        )?
        .query_map([now.0], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut started = 0;
    for (endpoint, probe) in due {
        let in_flight: bool = conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM deliveries WHERE seq = ? AND state = 'ready'
                                AND leased = 1 AND next_attempt_at > ?)",
            )?
            .query_row(params![probe, now.0], |r| r.get(0))?;
        // Its failed deliveries being queued again, in their place, come first: no probe of a
        // newer one before the recovery is done.
        let recovering: bool = conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM recoveries WHERE endpoint_seq = ?)")?
            .query_row([endpoint], |r| r.get(0))?;
        if in_flight || recovering {
            continue;
        }
        let head: Option<i64> = conn
            .prepare_cached(
                "SELECT seq FROM deliveries INDEXED BY deliveries_lane_head
                 WHERE endpoint_seq = ?1 AND state IN ('ready', 'waiting') AND state = 'ready'
                   AND next_attempt_at <> ?2 AND (leased = 0 OR next_attempt_at <= ?3)
                 ORDER BY seq LIMIT 1",
            )?
            .query_row(params![endpoint, PARKED.0, now.0], |r| r.get(0))
            .optional()?;
        conn.prepare_cached("UPDATE endpoints SET probe_at = ?, probe_seq = ? WHERE seq = ?")?
            .execute(params![
                now.plus_ms(interval.as_millis() as i64).0,
                head,
                endpoint
            ])?;
        if let Some(head) = head {
            conn.prepare_cached(
                "UPDATE deliveries SET next_attempt_at = ? WHERE seq = ? AND next_attempt_at > ?",
            )?
            .execute(params![now.0, head, now.0])?;
            started += 1;
        }
    }
    Ok(started)
}
