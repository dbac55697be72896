//! Events and their fan-out on PostgreSQL, for a whole group of commits in one statement: every
//! event of the group inserted, and one delivery per enabled endpoint subscribed to it — each
//! `ready` at the head of its lane or `waiting` behind it, and with hand-off on, the heads of
//! enabled endpoints inserted already leased by this process and handed to its workers with the
//! body in hand (no claim, no read-back).

use super::super::bodies::Recent;
use super::super::rows::Columns;
use super::super::{Claimed, EndpointKind, Limits, Result, TranscriptCut, signing_secrets};
use crate::domain::Millis;
use sqlx::PgConnection;
use std::collections::HashMap;

/// One event to insert, from a commit's `InsertEvent` step.
pub struct NewEvent<'c> {
    /// Which commit of the group it belongs to.
    pub slot: usize,
    pub id: &'c str,
    pub team_seq: i64,
    pub conversation_seq: Option<i64>,
    pub name: &'static str,
    pub bit: i64,
    pub lane: &'c str,
    /// The whole body (what a webhook carries).
    pub body: &'c str,
    pub transcript: Option<TranscriptCut>,
    pub message_seq: Option<i64>,
    pub at: Millis,
}

/// What the statement made for one commit.
#[derive(Default)]
pub struct Made {
    pub deliveries: u64,
    pub handed_off: Vec<Claimed>,
}

/// What the statement made: per commit of the group (indexed by slot), and whether any delivery
/// is ready for a claim (not handed off), which the other processes' workers must hear of.
pub struct FannedOut {
    pub made: Vec<Made>,
    pub claimable: bool,
}

/// The events and their deliveries, in one statement. `lease_until`: hand-off's lease end, if on.
///
/// The lanes of every event are locked since the transaction began, so the statement's snapshot
/// is current for them. A lane is free when its head (see [`crate::store::lanes`]) is absent. Deliveries of one lane within the statement cannot see each other: the
/// first of each (endpoint, lane) in the group's order may be the head, the rest wait.
pub async fn insert_events(
    conn: &mut PgConnection,
    events: Vec<NewEvent<'_>>,
    slots: usize,
    lease_until: Option<Millis>,
    recent: &Recent,
) -> Result<FannedOut> {
    let n = events.len();
    let mut ids = Vec::with_capacity(n);
    let mut suffixes = Vec::with_capacity(n);
    let mut teams = Vec::with_capacity(n);
    let mut conversations = Vec::with_capacity(n);
    let mut names = Vec::with_capacity(n);
    let mut ats = Vec::with_capacity(n);
    let mut stored = Vec::with_capacity(n);
    let mut lanes = Vec::with_capacity(n);
    let mut bits = Vec::with_capacity(n);
    let mut lens = Vec::with_capacity(n);
    let mut messages = Vec::with_capacity(n);
    for e in &events {
        let head = match e.transcript {
            Some(cut) => &e.body[..cut.head_len],
            None => e.body,
        };
        ids.push(e.id);
        suffixes.push(e.id.strip_prefix("evt_").unwrap_or(e.id));
        teams.push(e.team_seq);
        conversations.push(e.conversation_seq);
        names.push(e.name);
        ats.push(e.at.0);
        stored.push(head);
        lanes.push(e.lane);
        bits.push(e.bit);
        lens.push(e.transcript.map(|c| c.messages));
        messages.push(e.message_seq);
    }
    let rows = sqlx::query(
        "WITH input AS (
             SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[],
                                  $6::bigint[], $7::text[], $8::text[], $9::bigint[], $10::bigint[],
                                  $11::bigint[])
                 WITH ORDINALITY AS i(id, suffix, team_seq, conversation_seq, name, at, body, lane, bit,
                                      transcript_len, message_seq, ord)),
         ev AS (
             INSERT INTO events (id, team_seq, conversation_seq, name, created_at, body, transcript_len, message_seq)
             SELECT id, team_seq, conversation_seq, name, at, body, transcript_len, message_seq
               FROM input ORDER BY ord
             RETURNING seq, id),
         fan AS (
             SELECT i.ord, i.suffix, i.lane, i.at, ev.seq AS event_seq, e.seq AS endpoint_seq,
                    (SELECT d.state FROM deliveries d
                      WHERE d.endpoint_seq = e.seq AND d.lane = i.lane AND d.state IN ('ready', 'waiting')
                      ORDER BY d.state, d.seq LIMIT 1) IS NULL
                    AND row_number() OVER (PARTITION BY e.seq, i.lane ORDER BY i.ord) = 1 AS head,
                    e.enabled
               FROM input i JOIN ev ON ev.id = i.id
               JOIN endpoints e ON e.team_seq = i.team_seq AND (e.enabled OR e.probe_at IS NOT NULL)
                               AND (e.events & i.bit) <> 0),
         placed AS (
             SELECT fan.*, (head AND enabled AND $12::bigint IS NOT NULL) AS hand FROM fan),
         made AS (
             INSERT INTO deliveries (id, endpoint_seq, event_seq, lane, state, attempts, tries, leased,
                                     next_attempt_at, created_at)
             SELECT 'msg_' || suffix || substr(md5(random()::text), 1, 6), endpoint_seq, event_seq, lane,
                    CASE WHEN head THEN 'ready' ELSE 'waiting' END, hand::int, hand::int, hand,
                    CASE WHEN hand THEN $12 ELSE at END, at
               FROM placed ORDER BY ord, endpoint_seq
             RETURNING seq, id, endpoint_seq, event_seq, state, leased)
         SELECT made.seq, made.id, made.endpoint_seq, made.event_seq, ev.id AS event_id, made.state,
                made.leased, e.url, e.secret, e.previous_secret, e.previous_secret_until, e.batch_size, e.kind,
                e.max_in_flight, e.max_per_second
           FROM made JOIN ev ON ev.seq = made.event_seq
           LEFT JOIN endpoints e ON made.leased AND e.seq = made.endpoint_seq",
    )
    .bind(&ids)
    .bind(&suffixes)
    .bind(&teams)
    .bind(&conversations)
    .bind(&names)
    .bind(&ats)
    .bind(&stored)
    .bind(&lanes)
    .bind(&bits)
    .bind(&lens)
    .bind(&messages)
    .bind(lease_until.map(|t| t.0))
    .fetch_all(&mut *conn)
    .await?;
    drop((ids, suffixes, stored, lanes));

    let index: HashMap<&str, usize> = events.iter().enumerate().map(|(i, e)| (e.id, i)).collect();
    let mut made: Vec<Made> = (0..slots).map(|_| Made::default()).collect();
    let mut claimable = false;
    // Per event: its seq, once a row names it, and whether a delivery of it was not handed off.
    let mut seq_of = vec![None; events.len()];
    let mut unleased = vec![false; events.len()];
    for r in &rows {
        let i = index[r.text("event_id").as_str()];
        let e = &events[i];
        seq_of[i] = Some(r.int("event_seq"));
        made[e.slot].deliveries += 1;
        if !r.flag("leased") {
            unleased[i] = true;
            claimable |= r.text("state") == "ready";
            continue;
        }
        made[e.slot].handed_off.push(Claimed {
            seq: r.int("seq"),
            id: r.text("id"),
            endpoint_seq: r.int("endpoint_seq"),
            kind: EndpointKind::parse(&r.text("kind")).unwrap_or_default(),
            lane: e.lane.to_string(),
            attempt: 1,
            tries: 1,
            lease_until: lease_until.expect("leased only with hand-off on"),
            url: r.text("url"),
            secrets: signing_secrets(
                r.text("secret"),
                r.opt_text("previous_secret"),
                r.opt_int("previous_secret_until"),
                e.at,
            ),
            body: e.body.to_string(),
            batch_size: r.int("batch_size"),
            limits: Limits::of_columns(r.opt_int("max_in_flight"), r.opt_int("max_per_second")),
            batch_id: None,
            unsendable: None,
        });
    }
    // Read back later (behind its lane, or by a claim): keep a chat event's body at hand.
    for (i, e) in events.iter().enumerate() {
        if let (true, Some(seq), Some(cut)) = (unleased[i], seq_of[i], e.transcript) {
            recent.keep(seq, e.id, e.body, cut.messages);
        }
    }
    Ok(FannedOut { made, claimable })
}
