//! Disabling and enabling endpoints on PostgreSQL (see [`crate::store::Disabled`]), by hand and
//! by their health ([`crate::store::healing`]): its changes, their Slack announcements and the
//! probes.

use super::super::healing::{self, Attempts, Change, EndpointState, HealthRules};
use super::super::lanes;
use super::super::rows::Columns;
use super::super::{Outcome, PARKED, Result};
use super::requeue;
use crate::domain::{Millis, new_id};
use sqlx::PgConnection;
use std::collections::BTreeMap;
use std::time::Duration;

/// See [`crate::store::Outbox::disable_endpoint`].
pub async fn disable(
    conn: &mut PgConnection,
    endpoint_seq: i64,
    reason: &str,
    at: Millis,
) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE endpoints SET enabled = false, disabled_reason = $1, disabled_at = $2,
                probe_at = NULL, probe_seq = NULL
         WHERE seq = $3 AND (enabled OR probe_at IS NOT NULL)",
    )
    .bind(reason)
    .bind(at.0)
    .bind(endpoint_seq)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// See [`crate::store::Outbox::enable_endpoint`].
pub async fn enable(conn: &mut PgConnection, endpoint_seq: i64, at: Millis) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE endpoints SET enabled = true, disabled_reason = NULL, disabled_at = NULL,
                probe_at = NULL, probe_seq = NULL, failing_since = NULL
         WHERE seq = $1 AND NOT enabled",
    )
    .bind(endpoint_seq)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if n == 1 {
        release(conn, endpoint_seq, at).await?;
    }
    Ok(n == 1)
}

/// Makes the held deliveries of an endpoint enabled again due at once: each lane's head, in
/// order (the rest of each lane follows behind it, as ever).
pub async fn release(conn: &mut PgConnection, endpoint_seq: i64, now: Millis) -> Result<()> {
    sqlx::query(
        "UPDATE deliveries SET next_attempt_at = $1
         WHERE endpoint_seq = $2 AND state = 'ready' AND NOT leased
           AND next_attempt_at > $1 AND next_attempt_at <> $3",
    )
    .bind(now.0)
    .bind(endpoint_seq)
    .bind(PARKED.0)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Before outcomes are recorded: the failures of disabled endpoints' deliveries are held,
/// uncounted ([`healing::hold_failures`]). Answers the outcomes' endpoints as they were.
pub async fn hold(
    conn: &mut PgConnection,
    outcomes: &mut [Outcome],
    now: Millis,
) -> Result<Vec<EndpointState>> {
    let rows = sqlx::query(
        "SELECT seq, team_seq, id, url, description, enabled, failing_since, probe_at
         FROM endpoints WHERE seq = ANY($1)",
    )
    .bind(healing::endpoints_of(outcomes))
    .fetch_all(&mut *conn)
    .await?;
    let states: Vec<EndpointState> = rows
        .iter()
        .map(|r| EndpointState {
            seq: r.int("seq"),
            team_seq: r.int("team_seq"),
            id: r.text("id"),
            url: r.text("url"),
            description: r.text("description"),
            enabled: r.flag("enabled"),
            failing_since: r.opt_int("failing_since").map(Millis),
            probe_at: r.opt_int("probe_at").map(Millis),
        })
        .collect();
    for (endpoint, delivery) in healing::hold_failures(outcomes, &states, now) {
        // A failed probe is not claimable again: the next probe picks its delivery anew.
        sqlx::query("UPDATE endpoints SET probe_seq = NULL WHERE seq = $1 AND probe_seq = $2")
            .bind(endpoint)
            .bind(delivery)
            .execute(&mut *conn)
            .await?;
    }
    Ok(states)
}

/// After outcomes are recorded: what they change about their endpoints' health, applied.
/// Answers whether deliveries became due (an endpoint enabled again). Every change is
/// conditional on the row as it is now, so that two processes recording at once change it once.
pub async fn heal(
    conn: &mut PgConnection,
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
        let Some(change) = healing::decide(e, &a, now, rules) else {
            continue;
        };
        match change {
            Change::FailingSince(since) => {
                sqlx::query("UPDATE endpoints SET failing_since = $1 WHERE seq = $2")
                    .bind(since.map(|t| t.0))
                    .bind(e.seq)
                    .execute(&mut *conn)
                    .await?;
            }
            Change::Disable {
                failing_since,
                reason,
            } => {
                let n = sqlx::query(
                    "UPDATE endpoints SET enabled = false, disabled_reason = $1, disabled_at = $2,
                            probe_at = $3, probe_seq = NULL, failing_since = $4
                     WHERE seq = $5 AND enabled",
                )
                .bind(&reason)
                .bind(now.0)
                .bind(now.plus_ms(rules.probe_interval.as_millis() as i64).0)
                .bind(failing_since.0)
                .bind(e.seq)
                .execute(&mut *conn)
                .await?
                .rows_affected();
                if n == 1 {
                    tracing::warn!(endpoint = %e.id, reason = %reason, "endpoint disabled: its deliveries are held and probed");
                    recover_failed(conn, e, failing_since, now, "disabled").await?;
                    notice(conn, e, "endpointDisabled", Some(&reason), now, rules).await?;
                }
            }
            Change::Enable { failing_since } => {
                let n = sqlx::query(
                    "UPDATE endpoints SET enabled = true, disabled_reason = NULL, disabled_at = NULL,
                            probe_at = NULL, probe_seq = NULL, failing_since = $1
                     WHERE seq = $2 AND probe_at IS NOT NULL",
                )
                .bind(failing_since.map(|t| t.0))
                .bind(e.seq)
                .execute(&mut *conn)
                .await?
                .rows_affected();
                if n == 1 {
                    tracing::info!(endpoint = %e.id, "endpoint enabled again: a probe was delivered; its held deliveries go out");
                    if let Some(since) = e.failing_since {
                        recover_failed(conn, e, since, now, "enabled again").await?;
                    }
                    release(conn, e.seq, now).await?;
                    notice(conn, e, "endpointEnabled", None, now, rules).await?;
                    due = true;
                }
            }
        }
    }
    Ok(due)
}

/// Nothing is discarded because an endpoint was down: when Palaver disables it for failing,
/// its deliveries that failed for good since its failures began (`since`, its `failing_since`:
/// those with an attempt since then, and any created after the oldest of them) are queued again
/// by a recovery ([`requeue::create_recovery`], worked in batches by the recoverer), held with
/// the rest, so that a probe takes a channel's oldest and healing sends them first. They keep
/// their place: a lane holding one gets its unsent head back in the queue behind it (the
/// recovery promotes each lane's oldest). Done again when a probe enables it, for any left
/// (an endpoint disabled before this was done).
async fn recover_failed(
    conn: &mut PgConnection,
    e: &EndpointState,
    since: Millis,
    now: Millis,
    what: &str,
) -> Result<()> {
    // A delivery created before the clock started may have failed during the outage too: the
    // recovery starts at the oldest one whose attempts ran into it.
    let from: Option<i64> = sqlx::query_scalar(
        "SELECT MIN(d.created_at) FROM deliveries d
         WHERE d.endpoint_seq = $1 AND d.state = 'failed'
           AND EXISTS (SELECT 1 FROM attempts a WHERE a.delivery_seq = d.seq AND a.at >= $2)",
    )
    .bind(e.seq)
    .bind(since.0)
    .fetch_one(&mut *conn)
    .await?;
    let Some(since) = from.map(|from| Millis(from.min(since.0))) else {
        return Ok(());
    };
    sqlx::query(
        "UPDATE deliveries SET state = 'waiting'
         WHERE endpoint_seq = $1 AND state = 'ready' AND NOT leased AND next_attempt_at <> $3
           AND lane IN (SELECT lane FROM deliveries
                        WHERE endpoint_seq = $1 AND state = 'failed' AND created_at >= $2)",
    )
    .bind(e.seq)
    .bind(since.0)
    .bind(PARKED.0)
    .execute(&mut *conn)
    .await?;
    let queued = requeue::create_recovery(conn, e.seq, since, now).await?;
    tracing::info!(endpoint = %e.id, queued, failing_since = %since.iso(), "endpoint {what}: its deliveries that failed while it was down are queued again");
    Ok(())
}

/// Queues the announcement of a change of `e` for the team's Slack endpoint, if Slack is
/// connected: an event of its own (no conversation) in a lane per endpoint, locked.
async fn notice(
    conn: &mut PgConnection,
    e: &EndpointState,
    name: &str,
    reason: Option<&str>,
    now: Millis,
    rules: &HealthRules,
) -> Result<()> {
    let slack: Option<i64> = sqlx::query_scalar(
        "SELECT seq FROM endpoints WHERE team_seq = $1 AND kind = 'slack' AND enabled",
    )
    .bind(e.team_seq)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(slack) = slack else {
        return Ok(());
    };
    let lane = format!("health:{}", e.id);
    super::commit::lock_lane(conn, &lane).await?;
    let busy = sqlx::query(lanes::on_postgres::HEAD)
        .bind(slack)
        .bind(&lane)
        .fetch_optional(&mut *conn)
        .await?
        .is_some();
    let body = healing::notice_body(name, e, reason, now, rules);
    sqlx::query(
        "WITH ev AS (INSERT INTO events (id, team_seq, conversation_seq, name, created_at, body)
                     VALUES ($1, $2, NULL, $3, $4, $5) RETURNING seq)
         INSERT INTO deliveries (id, endpoint_seq, event_seq, lane, state, next_attempt_at, created_at)
         SELECT $6, $7, ev.seq, $8, $9, $4, $4 FROM ev",
    )
    .bind(new_id("evt_"))
    .bind(e.team_seq)
    .bind(name)
    .bind(now.0)
    .bind(body)
    .bind(new_id("msg_"))
    .bind(slack)
    .bind(&lane)
    .bind(if busy { "waiting" } else { "ready" })
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// See [`crate::store::Outbox::start_probes`]. Each endpoint's turn is taken by a conditional
/// update, so that of several processes only one starts a given probe.
pub async fn start_probes(conn: &mut PgConnection, now: Millis, interval: Duration) -> Result<u64> {
    let due: Vec<(i64, Option<i64>)> = sqlx::query_as(
        "SELECT seq, probe_seq FROM endpoints WHERE probe_at IS NOT NULL AND probe_at <= $1",
    )
    .bind(now.0)
    .fetch_all(&mut *conn)
    .await?;
    let next = now.plus_ms(interval.as_millis() as i64);
    let mut started = 0;
    for (endpoint, probe) in due {
        let in_flight: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM deliveries WHERE seq = $1 AND state = 'ready'
                            AND leased AND next_attempt_at > $2)",
        )
        .bind(probe)
        .bind(now.0)
        .fetch_one(&mut *conn)
        .await?;
        // Its failed deliveries being queued again, in their place, come first: no probe of a
        // newer one before the recovery is done.
        let recovering: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM recoveries WHERE endpoint_seq = $1)")
                .bind(endpoint)
                .fetch_one(&mut *conn)
                .await?;
        if in_flight || recovering {
            continue;
        }
        let head: Option<i64> = sqlx::query_scalar(
            "SELECT seq FROM deliveries
             WHERE endpoint_seq = $1 AND state = 'ready' AND next_attempt_at <> $2
               AND (NOT leased OR next_attempt_at <= $3)
             ORDER BY seq LIMIT 1",
        )
        .bind(endpoint)
        .bind(PARKED.0)
        .bind(now.0)
        .fetch_optional(&mut *conn)
        .await?;
        let taken = sqlx::query(
            "UPDATE endpoints SET probe_at = $1, probe_seq = $2
             WHERE seq = $3 AND probe_at IS NOT NULL AND probe_at <= $4",
        )
        .bind(next.0)
        .bind(head)
        .bind(endpoint)
        .bind(now.0)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if let (1, Some(head)) = (taken, head) {
            sqlx::query(
                "UPDATE deliveries SET next_attempt_at = $1 WHERE seq = $2 AND next_attempt_at > $1",
            )
            .bind(now.0)
            .bind(head)
            .execute(&mut *conn)
            .await?;
            started += 1;
        }
    }
    Ok(started)
}
