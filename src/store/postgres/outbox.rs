//! The outbox on PostgreSQL: claims with `FOR UPDATE SKIP LOCKED` under a lease, fenced
//! outcomes, lane promotion under the lane lock (redelivery and recovery: `requeue`).

use super::super::bodies::{self, Incomplete, Partial, Recent};
use super::super::healing::{self, HealthRules};
use super::super::lanes;
use super::super::rows::{self, Columns};
use super::super::{
    Claim, Claimed, EndpointKind, Limits, MessageRecord, NextStep, Outcome, PARKED, Result,
    signing_secrets,
};
use super::{disabling, promotion};
use crate::domain::Millis;
use sqlx::PgConnection;
use std::collections::HashMap;

/// Claims up to `limit` due deliveries of enabled endpoints (and probes of disabled ones: see
/// [`crate::store::Disabled`]); rows another process is claiming are skipped, not waited for.
pub async fn claim(
    conn: &mut PgConnection,
    now: Millis,
    lease_until: Millis,
    limit: u32,
    recent: &Recent,
) -> Result<Claim> {
    let rows = sqlx::query(&format!(
        "WITH due AS (
             SELECT d.seq FROM deliveries d JOIN endpoints e ON e.seq = d.endpoint_seq
             WHERE d.state = 'ready' AND d.next_attempt_at <= $1
               AND (e.enabled OR e.probe_seq = d.seq)
             ORDER BY d.next_attempt_at LIMIT $3
             FOR UPDATE OF d SKIP LOCKED)
         UPDATE deliveries d
            SET attempts = d.attempts + 1, tries = d.tries + 1, next_attempt_at = $2, leased = true
           FROM due, endpoints e, events ev
          WHERE d.seq = due.seq AND e.seq = d.endpoint_seq AND ev.seq = d.event_seq
         RETURNING {CLAIMED_COLUMNS}"
    ))
    .bind(now.0)
    .bind(lease_until.0)
    .bind(limit as i64)
    .fetch_all(&mut *conn)
    .await?;
    let mut deliveries: Vec<Partial> = rows.iter().map(|r| claimed(r, now, lease_until)).collect();
    // A claimed row with a batch id leads its batch: its parked members come with it. Only the
    // holder of the leader's lease gets here, so no other process takes them meanwhile.
    let leaders: Vec<(String, i64)> = deliveries
        .iter()
        .filter_map(|(c, _)| Some((c.batch_id.clone()?, c.seq)))
        .collect();
    for (batch_id, leader) in leaders {
        let rows = sqlx::query(&format!(
            "UPDATE deliveries d SET attempts = d.attempts + 1, tries = d.tries + 1
               FROM endpoints e, events ev
              WHERE d.batch_id = $1 AND d.seq <> $2 AND d.state = 'ready'
                AND e.seq = d.endpoint_seq AND ev.seq = d.event_seq
             RETURNING {CLAIMED_COLUMNS}"
        ))
        .bind(&batch_id)
        .bind(leader)
        .fetch_all(&mut *conn)
        .await?;
        let mut members: Vec<Partial> = rows.iter().map(|r| claimed(r, now, lease_until)).collect();
        members.sort_by_key(|(c, _)| c.seq);
        deliveries.extend(members);
    }
    // Rows due now that were not claimed are held (their endpoint disabled) or being claimed by
    // another process: not worth a wake-up.
    let next_due: Option<i64> = sqlx::query_scalar(
        "SELECT MIN(next_attempt_at) FROM deliveries WHERE state = 'ready' AND next_attempt_at > $1",
    )
    .bind(now.0)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Claim {
        deliveries: completed(conn, deliveries, recent).await?,
        next_due: next_due.map(Millis),
    })
}

/// What a worker needs to send a delivery, from `d`, `e` (its endpoint) and `ev` (its event).
pub(super) const CLAIMED_COLUMNS: &str =
    "d.seq, d.id, d.endpoint_seq, d.lane, d.attempts, d.tries, e.url, e.secret,
    e.previous_secret, e.previous_secret_until, ev.body, e.batch_size, d.batch_id,
    d.event_seq, ev.conversation_seq, ev.transcript_len, ev.id AS event_id, e.kind, e.max_in_flight,
    e.max_per_second";

pub(super) fn claimed(r: &sqlx::postgres::PgRow, now: Millis, lease_until: Millis) -> Partial {
    let secrets = signing_secrets(
        r.text("secret"),
        r.opt_text("previous_secret"),
        r.opt_int("previous_secret_until"),
        now,
    );
    let claimed = Claimed {
        seq: r.int("seq"),
        id: r.text("id"),
        endpoint_seq: r.int("endpoint_seq"),
        kind: EndpointKind::parse(&r.text("kind")).unwrap_or_default(),
        lane: r.text("lane"),
        attempt: r.int("attempts"),
        tries: r.int("tries"),
        lease_until,
        url: r.text("url"),
        secrets,
        body: r.text("body"),
        batch_size: r.int("batch_size"),
        limits: Limits::of_columns(r.opt_int("max_in_flight"), r.opt_int("max_per_second")),
        batch_id: r.opt_text("batch_id"),
        unsendable: None,
    };
    let inc = Incomplete::of(
        r.int("event_seq"),
        &r.text("event_id"),
        r.opt_int("conversation_seq"),
        r.opt_int("transcript_len"),
    );
    (claimed, inc)
}

/// The claimed deliveries with their bodies complete: the transcripts of the chat events among
/// them rebuilt from their conversations' messages (see [`crate::store::bodies`]), read in one
/// statement.
pub(super) async fn completed(
    conn: &mut PgConnection,
    mut partial: Vec<Partial>,
    recent: &Recent,
) -> Result<Vec<Claimed>> {
    let wanted = bodies::fill_from(recent, &mut partial);
    let mut messages: HashMap<i64, Vec<MessageRecord>> = HashMap::new();
    if !wanted.is_empty() {
        let (conversations, counts): (Vec<i64>, Vec<i64>) = wanted.into_iter().unzip();
        let rows = sqlx::query(
            "SELECT m.* FROM unnest($1::bigint[], $2::bigint[]) AS w(conversation_seq, n)
             CROSS JOIN LATERAL (SELECT * FROM messages WHERE conversation_seq = w.conversation_seq
                                 ORDER BY seq LIMIT w.n) m
             ORDER BY m.conversation_seq, m.seq",
        )
        .bind(&conversations)
        .bind(&counts)
        .fetch_all(&mut *conn)
        .await?;
        for r in &rows {
            messages
                .entry(r.int("conversation_seq"))
                .or_default()
                .push(rows::message(r));
        }
    }
    Ok(bodies::finish(partial, &messages))
}

/// See [`crate::store::Outbox::form_batch`].
pub async fn form_batch(
    conn: &mut PgConnection,
    batch_id: &str,
    members: &[(i64, i64)],
) -> Result<Vec<i64>> {
    let Some(&(leader, _)) = members.first() else {
        return Ok(Vec::new());
    };
    let seqs: Vec<i64> = members.iter().map(|m| m.0).collect();
    let attempts: Vec<i64> = members.iter().map(|m| m.1).collect();
    let mut joined: Vec<i64> = sqlx::query_scalar(
        "UPDATE deliveries d SET batch_id = $1,
                next_attempt_at = CASE WHEN d.seq = $2 THEN d.next_attempt_at ELSE $3 END,
                leased = CASE WHEN d.seq = $2 THEN d.leased ELSE false END
           FROM unnest($4::bigint[], $5::bigint[]) AS m(seq, attempt)
          WHERE d.seq = m.seq AND d.attempts = m.attempt AND d.state = 'ready'
         RETURNING d.seq",
    )
    .bind(batch_id)
    .bind(leader)
    .bind(PARKED.0)
    .bind(&seqs)
    .bind(&attempts)
    .fetch_all(&mut *conn)
    .await?;
    if !joined.contains(&leader) && !joined.is_empty() {
        // The leader's lease was lost: no batch. The others are let go, claimable at once.
        sqlx::query(
            "UPDATE deliveries SET batch_id = NULL, next_attempt_at = 0, leased = false
             WHERE seq = ANY($1) AND batch_id = $2",
        )
        .bind(&joined)
        .bind(batch_id)
        .execute(&mut *conn)
        .await?;
        return Ok(Vec::new());
    }
    joined.sort_unstable();
    Ok(joined)
}

/// The lanes whose deliveries `outcomes` settle (delivered or failed): [`finish`]'s transaction
/// must begin holding their locks.
pub fn settled_lanes(outcomes: &[Outcome]) -> impl Iterator<Item = &str> {
    outcomes
        .iter()
        .filter(|o| {
            !matches!(
                o.next,
                NextStep::RetryAt(_) | NextStep::WaitUntil(_) | NextStep::Deferred(_)
            )
        })
        .map(|o| o.claimed.lane.as_str())
}

/// Records each attempt; applies its consequence only if the lease is still this attempt's.
/// Answers whether a lane moved on (other processes may have work). The transaction holds the
/// locks of [`settled_lanes`].
pub async fn finish(
    conn: &mut PgConnection,
    outcomes: Vec<Outcome>,
    now: Millis,
    health: Option<&HealthRules>,
    lease_until: Option<Millis>,
    recent: &Recent,
) -> Result<(bool, Vec<Claimed>)> {
    // One statement records every attempt and applies every consequence (fenced by attempt
    // number); then each settled lane moves on. Endpoint health (see `crate::store::healing`):
    // held failures first, healing last.
    let mut outcomes = outcomes;
    let states = disabling::hold(conn, &mut outcomes, now).await?;
    outcomes.sort_by_key(|o| (o.claimed.seq, o.attempt.n));
    outcomes.dedup_by_key(|o| (o.claimed.seq, o.attempt.n));
    let n = outcomes.len();
    let (mut seq, mut num, mut at, mut status) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut duration, mut error, mut answer) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut state, mut next, mut attempt, mut uncounted) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    // 1 for a deferred delivery: handed back unsent, as if never claimed (no attempt recorded).
    let mut unsent = Vec::with_capacity(n);
    for o in &outcomes {
        let a = &o.attempt;
        let (s, t, u, d) = match o.next {
            NextStep::Delivered => ("delivered", now, 0, 0),
            NextStep::Failed => ("failed", now, 0, 0),
            NextStep::RetryAt(t) => ("ready", t, 0, 0),
            NextStep::WaitUntil(t) => ("ready", t, 1, 0),
            NextStep::Deferred(t) => ("ready", t, 1, 1),
        };
        uncounted.push(u as i64);
        unsent.push(d as i64);
        seq.push(o.claimed.seq);
        num.push(a.n);
        at.push(a.at.0);
        status.push(a.status_code.map(i64::from));
        duration.push(a.duration_ms);
        error.push(a.error.clone());
        answer.push(a.response_body.clone());
        state.push(s);
        next.push(t.0);
        attempt.push(o.claimed.attempt);
    }
    let changed: Vec<(i64, String)> = sqlx::query_as(
        "WITH o AS (
             SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[],
                                  $6::text[], $7::text[], $8::text[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[])
                 AS o(seq, n, at, status_code, duration_ms, error, response_body, state, next_at, attempt, uncounted, unsent)),
         recorded AS (
             INSERT INTO attempts (delivery_seq, n, at, status_code, duration_ms, error, response_body)
             SELECT seq, n, at, status_code, duration_ms, error, response_body FROM o WHERE unsent = 0
             ON CONFLICT (delivery_seq, n) DO UPDATE SET at = EXCLUDED.at, status_code = EXCLUDED.status_code,
                duration_ms = EXCLUDED.duration_ms, error = EXCLUDED.error, response_body = EXCLUDED.response_body)
         UPDATE deliveries d SET state = o.state, next_attempt_at = o.next_at, leased = false,
                tries = d.tries - o.uncounted, attempts = d.attempts - o.unsent
           FROM o WHERE d.seq = o.seq AND d.attempts = o.attempt AND d.state = 'ready'
         RETURNING d.seq, d.state",
    )
    .bind(&seq).bind(&num).bind(&at).bind(&status).bind(&duration).bind(&error).bind(&answer)
    .bind(&state).bind(&next).bind(&attempt).bind(&uncounted).bind(&unsent)
    .fetch_all(&mut *conn)
    .await?;
    // A delivered Slack delivery's progress was for its retries only (see migration 0009).
    let slack: std::collections::HashSet<i64> = outcomes
        .iter()
        .filter(|o| o.claimed.kind == EndpointKind::Slack)
        .map(|o| o.claimed.seq)
        .collect();
    let slack_done: Vec<i64> = changed
        .iter()
        .filter(|(seq, state)| state == "delivered" && slack.contains(seq))
        .map(|(seq, _)| *seq)
        .collect();
    if !slack_done.is_empty() {
        sqlx::query("DELETE FROM slack_progress WHERE delivery_seq = ANY($1)")
            .bind(&slack_done)
            .execute(&mut *conn)
            .await?;
    }
    let settled: std::collections::HashSet<i64> = changed
        .into_iter()
        .filter(|(_, state)| state != "ready")
        .map(|(seq, _)| seq)
        .collect();
    let lanes: Vec<(i64, &str)> = outcomes
        .iter()
        .filter(|o| settled.contains(&o.claimed.seq))
        .map(|o| (o.claimed.endpoint_seq, o.claimed.lane.as_str()))
        .collect();
    let promoted = promotion::promote(conn, &lanes, now, lease_until, recent).await?;
    let mut moved = promoted.claimable;
    if let Some(rules) = health {
        let attempts = healing::attempts_by_endpoint(&outcomes);
        moved |= disabling::heal(conn, &states, attempts, now, rules).await?;
    }
    Ok((moved, promoted.handed_off))
}

/// Makes the oldest waiting delivery of a lane ready, if the lane has no ready one. The caller
/// holds the lane lock.
pub async fn promote(
    conn: &mut PgConnection,
    endpoint_seq: i64,
    lane: &str,
    now: Millis,
) -> Result<bool> {
    let n = sqlx::query(lanes::on_postgres::PROMOTE)
        .bind(endpoint_seq)
        .bind(lane)
        .bind(now.0)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(n > 0)
}
