//! The outbox's writes: claims under a lease, fenced outcomes, lane promotion (redelivery and
//! recovery: `requeue`). Every function runs in the writer's transaction.

use super::super::bodies::{self, Incomplete, Partial, Recent};
use super::super::healing::{self, HealthRules};
use super::super::lanes;
use super::super::{
    Claim, Claimed, EndpointKind, Limits, MessageRecord, NextStep, Outcome, PARKED, Result,
    signing_secrets,
};
use super::disabling;
use crate::domain::Millis;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;

/// Claims up to `limit` due deliveries of enabled endpoints (and probes of disabled ones: see
/// [`crate::store::Disabled`]), oldest due first.
pub fn claim(
    conn: &Connection,
    now: Millis,
    lease_until: Millis,
    limit: u32,
    recent: &Recent,
) -> Result<Claim> {
    let seqs: Vec<i64> = conn
        .prepare_cached(
            "UPDATE deliveries SET attempts = attempts + 1, tries = tries + 1, next_attempt_at = ?1, leased = 1
             WHERE seq IN (SELECT d.seq FROM deliveries d INDEXED BY deliveries_due
                           JOIN endpoints e ON e.seq = d.endpoint_seq
                           WHERE d.state = 'ready' AND d.next_attempt_at <= ?2
                             AND (e.enabled = 1 OR e.probe_seq = d.seq)
                           ORDER BY d.next_attempt_at LIMIT ?3)
             RETURNING seq",
        )?
        .query_map(params![lease_until.0, now.0, limit], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut claimed = seqs
        .into_iter()
        .map(|seq| details(conn, seq, now, lease_until))
        .collect::<Result<Vec<_>>>()?;
    // A claimed row with a batch id leads its batch: its parked members come with it.
    let leaders: Vec<(String, i64)> = claimed
        .iter()
        .filter_map(|(c, _)| Some((c.batch_id.clone()?, c.seq)))
        .collect();
    for (batch_id, leader) in leaders {
        let members: Vec<i64> = conn
            .prepare_cached(
                "SELECT seq FROM deliveries INDEXED BY deliveries_batch
                 WHERE batch_id = ? AND seq <> ? AND state = 'ready' ORDER BY seq",
            )?
            .query_map(params![batch_id, leader], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut count = conn.prepare_cached(
            "UPDATE deliveries SET attempts = attempts + 1, tries = tries + 1 WHERE seq = ?",
        )?;
        for seq in members {
            count.execute([seq])?;
            claimed.push(details(conn, seq, now, lease_until)?);
        }
    }
    // Rows due now that were not claimed are held (their endpoint disabled): not worth a wake-up.
    let next_due = conn
        .prepare_cached(
            "SELECT MIN(next_attempt_at) FROM deliveries WHERE state = 'ready' AND next_attempt_at > ?",
        )?
        .query_row([now.0], |r| r.get::<_, Option<i64>>(0))?
        .map(Millis);
    Ok(Claim {
        deliveries: completed(conn, claimed, recent)?,
        next_due,
    })
}

/// What a worker needs to send a delivery; `{}` is the condition on `d`.
const DETAILS: &str = "SELECT d.seq, d.id, d.endpoint_seq, d.lane, d.attempts, d.tries, e.url, e.secret,
        e.previous_secret, e.previous_secret_until, ev.body, e.batch_size, d.batch_id,
        d.event_seq, ev.conversation_seq, ev.transcript_len, ev.id, e.kind, e.max_in_flight,
        e.max_per_second
    FROM deliveries d JOIN endpoints e ON e.seq = d.endpoint_seq JOIN events ev ON ev.seq = d.event_seq
    WHERE ";

fn claimed(r: &rusqlite::Row, now: Millis, lease_until: Millis) -> rusqlite::Result<Partial> {
    let secrets = signing_secrets(r.get(7)?, r.get(8)?, r.get(9)?, now);
    let claimed = Claimed {
        seq: r.get(0)?,
        id: r.get(1)?,
        endpoint_seq: r.get(2)?,
        kind: EndpointKind::parse(&r.get::<_, String>(17)?).unwrap_or_default(),
        lane: r.get(3)?,
        attempt: r.get(4)?,
        tries: r.get(5)?,
        lease_until,
        url: r.get(6)?,
        secrets,
        body: r.get(10)?,
        batch_size: r.get(11)?,
        limits: Limits::of_columns(r.get(18)?, r.get(19)?),
        batch_id: r.get(12)?,
        unsendable: None,
    };
    Ok((
        claimed,
        Incomplete::of(r.get(13)?, &r.get::<_, String>(16)?, r.get(14)?, r.get(15)?),
    ))
}

/// What a worker needs to send the claimed delivery `seq`.
fn details(conn: &Connection, seq: i64, now: Millis, lease_until: Millis) -> Result<Partial> {
    let sql = format!("{DETAILS}d.seq = ?");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([seq], |r| claimed(r, now, lease_until))?)
}

/// The claimed deliveries with their bodies complete: the transcripts of the chat events among
/// them rebuilt from their conversations' messages (see [`crate::store::bodies`]).
fn completed(
    conn: &Connection,
    mut partial: Vec<Partial>,
    recent: &Recent,
) -> Result<Vec<Claimed>> {
    let wanted = bodies::fill_from(recent, &mut partial);
    let messages = match wanted.is_empty() {
        true => HashMap::new(),
        false => first_messages(conn, &wanted)?,
    };
    Ok(bodies::finish(partial, &messages))
}

/// The first `n` messages of each conversation of `wanted` (conversation, n), in order.
fn first_messages(
    conn: &Connection,
    wanted: &[(i64, i64)],
) -> Result<HashMap<i64, Vec<MessageRecord>>> {
    let mut select = conn.prepare_cached(
        "SELECT seq, id, agent_id, user_name, user_picture, text, created_at, origin FROM messages
         WHERE conversation_seq = ? ORDER BY seq LIMIT ?",
    )?;
    let mut out = HashMap::with_capacity(wanted.len());
    for &(conversation, n) in wanted {
        let messages = select
            .query_map(params![conversation, n], |r| {
                Ok(MessageRecord {
                    seq: r.get(0)?,
                    id: r.get(1)?,
                    agent_id: r.get(2)?,
                    user_name: r.get(3)?,
                    user_picture: r.get(4)?,
                    text: r.get(5)?,
                    created_at: Millis(r.get(6)?),
                    origin: r.get(7)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        out.insert(conversation, messages);
    }
    Ok(out)
}

/// Claims the ready deliveries among rows `first..=last` just written by this transaction, for
/// this process's workers (those of disabled endpoints are held) (no claim query needed for them). A plain `SELECT` then `UPDATE`:
/// `UPDATE … RETURNING` would build a temporary table each time.
pub fn hand_off(
    conn: &Connection,
    first: i64,
    last: i64,
    now: Millis,
    lease_until: Millis,
    recent: &Recent,
) -> Result<Vec<Claimed>> {
    let sql = format!("{DETAILS}d.seq BETWEEN ?1 AND ?2 AND d.state = 'ready' AND e.enabled = 1");
    let mut ready: Vec<Partial> = conn
        .prepare_cached(&sql)?
        .query_map(params![first, last], |r| claimed(r, now, lease_until))?
        .collect::<rusqlite::Result<_>>()?;
    let mut lease = conn.prepare_cached(
        "UPDATE deliveries SET attempts = ?, tries = ?, next_attempt_at = ?, leased = 1 WHERE seq = ?",
    )?;
    for (c, _) in &mut ready {
        c.attempt += 1;
        c.tries += 1;
        lease.execute(params![c.attempt, c.tries, lease_until.0, c.seq])?;
    }
    completed(conn, ready, recent)
}

/// What [`finish`] left for the workers.
#[derive(Default)]
pub struct Finished {
    /// Deliveries it made ready and handed off.
    pub handed_off: Vec<Claimed>,
    /// Whether the outbox has work a claim must find (retries scheduled, lanes moved on).
    pub claim_needed: bool,
}

/// Records each attempt; applies its consequence only if the lease is still this attempt's.
pub fn finish(
    conn: &Connection,
    mut outcomes: Vec<Outcome>,
    now: Millis,
    handoff: Option<Millis>,
    recent: &Recent,
    health: Option<&HealthRules>,
) -> Result<Finished> {
    let mut out = Finished::default();
    // Endpoint health (see `crate::store::healing`): held failures first, healing after.
    let states = disabling::hold(conn, &mut outcomes, now)?;
    let attempts = health.map(|_| healing::attempts_by_endpoint(&outcomes));
    let mut record = conn.prepare_cached(
        "INSERT OR REPLACE INTO attempts (delivery_seq, n, at, status_code, duration_ms, error, response_body)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )?;
    let mut settle = conn.prepare_cached(
        "UPDATE deliveries SET state = ?, next_attempt_at = ?, leased = 0, tries = tries - ?
         WHERE seq = ? AND attempts = ? AND state = 'ready'",
    )?;
    let mut defer = conn.prepare_cached(
        "UPDATE deliveries SET next_attempt_at = ?, leased = 0, attempts = attempts - 1, tries = tries - 1
         WHERE seq = ? AND attempts = ? AND state = 'ready'",
    )?;
    for o in outcomes {
        if let NextStep::Deferred(at) = o.next {
            // Handed back unsent: as if never claimed.
            defer.execute(params![at.0, o.claimed.seq, o.claimed.attempt])?;
            out.claim_needed = true;
            continue;
        }
        let a = &o.attempt;
        record.execute(params![
            o.claimed.seq,
            a.n,
            a.at.0,
            a.status_code,
            a.duration_ms,
            a.error,
            a.response_body
        ])?;
        let (state, next, uncounted) = match o.next {
            NextStep::Delivered => ("delivered", now, 0),
            NextStep::Failed => ("failed", now, 0),
            NextStep::RetryAt(at) => ("ready", at, 0),
            NextStep::WaitUntil(at) => ("ready", at, 1),
            NextStep::Deferred(_) => unreachable!("handled above"),
        };
        let changed = settle.execute(params![
            state,
            next.0,
            uncounted,
            o.claimed.seq,
            o.claimed.attempt
        ])?;
        if changed == 1 && state == "delivered" && o.claimed.kind == EndpointKind::Slack {
            // A Slack delivery's progress is for its retries only (see migration 0009).
            conn.prepare_cached("DELETE FROM slack_progress WHERE delivery_seq = ?")?
                .execute([o.claimed.seq])?;
        }
        if changed == 1 && state == "ready" {
            out.claim_needed = true;
        }
        if changed == 1 && state != "ready" {
            match (
                promote(conn, o.claimed.endpoint_seq, &o.claimed.lane, now)?,
                handoff,
            ) {
                (Some(seq), Some(lease_until)) => {
                    out.handed_off
                        .extend(hand_off(conn, seq, seq, now, lease_until, recent)?)
                }
                (Some(_), None) => out.claim_needed = true,
                (None, _) => {}
            }
        }
    }
    if let (Some(rules), Some(attempts)) = (health, attempts) {
        out.claim_needed |= disabling::heal(conn, &states, attempts, now, rules)?;
    }
    Ok(out)
}

/// See [`crate::store::Outbox::form_batch`].
pub fn form_batch(conn: &Connection, batch_id: &str, members: &[(i64, i64)]) -> Result<Vec<i64>> {
    let mut lead = conn.prepare_cached(
        "UPDATE deliveries SET batch_id = ? WHERE seq = ? AND attempts = ? AND state = 'ready'",
    )?;
    let mut park = conn.prepare_cached(
        "UPDATE deliveries SET batch_id = ?, next_attempt_at = ?, leased = 0
         WHERE seq = ? AND attempts = ? AND state = 'ready'",
    )?;
    let mut joined = Vec::with_capacity(members.len());
    for &(seq, attempt) in members {
        let n = if joined.is_empty() {
            lead.execute(params![batch_id, seq, attempt])?
        } else {
            park.execute(params![batch_id, PARKED.0, seq, attempt])?
        };
        if n == 1 {
            joined.push(seq);
        }
    }
    Ok(joined)
}

/// Makes the oldest waiting delivery of a lane ready, if the lane has no ready one; answers it.
pub fn promote(
    conn: &Connection,
    endpoint_seq: i64,
    lane: &str,
    now: Millis,
) -> Result<Option<i64>> {
    let head: Option<(i64, String)> = conn
        .prepare_cached(lanes::on_sqlite::HEAD)?
        .query_row(params![endpoint_seq, lane], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((seq, _)) = head.filter(|(_, state)| state == "waiting") else {
        return Ok(None);
    };
    conn.prepare_cached(
        "UPDATE deliveries SET state = 'ready', next_attempt_at = ? WHERE seq = ?",
    )?
    .execute(params![now.0, seq])?;
    Ok(Some(seq))
}

/// Hands back every lease: due again now. Only for a store no other process delivers from.
pub fn release_leases(conn: &Connection, now: Millis) -> Result<u64> {
    let n = conn
        .prepare_cached("UPDATE deliveries SET leased = 0, next_attempt_at = ? WHERE leased = 1 AND state = 'ready'")?
        .execute([now.0])?;
    Ok(n as u64)
}
