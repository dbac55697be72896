//! Applying a chat [`Commit`]: the new state, its events and one delivery per subscribed
//! endpoint, in the writer's transaction.

use super::super::bodies::Recent;
use super::super::feed::message_of;
use super::super::{
    Claimed, Commit, Committed, ConflictKind, EndpointKind, Limits, Result, Step, StoreError,
    signing_secrets,
};
use crate::domain::Millis;
use rusqlite::{Connection, ErrorCode, params};

/// Maps a unique-constraint violation to the conflict it means for this step.
pub fn unique_as(kind: ConflictKind) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |e| match e.sqlite_error_code() {
        Some(ErrorCode::ConstraintViolation) => StoreError::Conflict(kind),
        _ => StoreError::Sqlite(e),
    }
}

/// The endpoints an event goes to (`?1` the team, `?2` the event's bit), each with whether its
/// lane (`?3`) is busy: one entry of the lane index (see [`crate::store::lanes`]).
pub(crate) const TARGETS: &str =
    "SELECT e.seq, e.url, e.secret, e.previous_secret, e.previous_secret_until, e.batch_size, e.kind,
            e.max_in_flight, e.max_per_second,
            EXISTS (SELECT 1 FROM deliveries d INDEXED BY deliveries_lane_head
                    WHERE d.endpoint_seq = e.seq AND d.lane = ?3 AND d.state IN ('ready', 'waiting')),
            e.enabled
     FROM endpoints e WHERE e.team_seq = ?1 AND (e.enabled = 1 OR e.probe_at IS NOT NULL)
       AND (e.events & ?2) <> 0";

/// Applies the steps; with a lease end, the new ready deliveries are claimed for this process.
pub fn apply(
    conn: &Connection,
    c: Commit,
    handoff: Option<Millis>,
    recent: &Recent,
) -> Result<Committed> {
    let mut done = Committed::default();
    for step in c.steps {
        apply_step(conn, c.team_seq, step, handoff, recent, &mut done)?;
    }
    Ok(done)
}

fn apply_step(
    conn: &Connection,
    team: i64,
    step: Step,
    handoff: Option<Millis>,
    recent: &Recent,
    done: &mut Committed,
) -> Result<()> {
    match step {
        Step::InsertVisitor {
            id,
            name,
            channel_name,
            identity,
            token_hash,
            at,
        } => {
            let identity = serde_json::to_string(&identity).expect("identity serializes");
            conn.prepare_cached(
                "INSERT INTO visitors (id, team_seq, name, channel_name, identity, token_hash, created_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )?
            .execute(params![id, team, name, channel_name, identity, token_hash, at.0])
            .map_err(unique_as(ConflictKind::ChannelName))?;
            let seq = conn.last_insert_rowid();
            conn.prepare_cached("INSERT INTO visitor_versions (seq, version) VALUES (?, 1)")?
                .execute([seq])?;
            done.visitor_seq = Some(seq);
        }
        Step::CheckVisitor { seq, version } => {
            let n = conn
                .prepare_cached(
                    "UPDATE visitor_versions SET version = version + 1 WHERE seq = ? AND version = ?",
                )?
                .execute(params![seq, version])?;
            if n != 1 {
                return Err(StoreError::Conflict(ConflictKind::VisitorVersion));
            }
            done.visitor_seq = Some(seq);
        }
        Step::UpdateIdentity { seq, identity } => {
            let identity = serde_json::to_string(&identity).expect("identity serializes");
            conn.prepare_cached("UPDATE visitors SET identity = ? WHERE seq = ?")?
                .execute(params![identity, seq])?;
        }
        Step::InsertConversation {
            id,
            visitor_seq,
            at,
        } => {
            let visitor = visitor_seq
                .or(done.visitor_seq)
                .ok_or(StoreError::NotFound)?;
            conn.prepare_cached(
                "INSERT INTO conversations (id, team_seq, visitor_seq, status, started_at) VALUES (?, ?, ?, 'waiting', ?)",
            )?
            .execute(params![id, team, visitor, at.0])
            .map_err(unique_as(ConflictKind::ActiveConversation))?;
            done.conversation_seq = Some(conn.last_insert_rowid());
        }
        Step::UpdateConversation {
            seq,
            status,
            agent_id,
            agent,
            ended_at,
        } => {
            let seq = seq.or(done.conversation_seq).ok_or(StoreError::NotFound)?;
            conn.prepare_cached("UPDATE conversations SET status = ?, agent_id = ?, agent = ?, ended_at = ? WHERE seq = ?")?
                .execute(params![status.as_str(), agent_id, agent, ended_at.map(|t| t.0), seq])
                .map_err(unique_as(ConflictKind::ActiveConversation))?;
            done.conversation_seq = Some(seq);
        }
        Step::InsertMessage {
            conversation_seq,
            message: m,
        } => {
            let conversation = conversation_seq
                .or(done.conversation_seq)
                .ok_or(StoreError::NotFound)?;
            conn.prepare_cached(
                "INSERT INTO messages (id, conversation_seq, agent_id, user_name, user_picture, text, created_at, origin)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            )?
            .execute(params![m.id, conversation, m.agent_id, m.user_name, m.user_picture, m.text, m.created_at.0, m.origin])?;
            done.conversation_seq = Some(conversation);
            done.message_seq = Some(conn.last_insert_rowid());
        }
        Step::InsertEvent {
            id,
            conversation_seq,
            name,
            bit,
            lane,
            body,
            transcript,
            at,
        } => {
            let conversation = conversation_seq.or(done.conversation_seq);
            done.conversation_seq = conversation;
            let (stored, transcript_len) = match transcript {
                Some(cut) => (&body[..cut.head_len], Some(cut.messages)),
                None => (body.as_str(), None),
            };
            conn.prepare_cached(
                "INSERT INTO events (id, team_seq, conversation_seq, name, created_at, body, transcript_len, message_seq)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            )?
            .execute(params![&id, team, conversation, name, at.0, stored, transcript_len, message_of(name, done)])?;
            let event = Event {
                seq: conn.last_insert_rowid(),
                id: &id,
                bit,
                lane: &lane,
                body,
                transcript_len,
                at,
            };
            fan_out(conn, team, event, handoff, recent, done)?;
        }
        Step::SaveAnswer { key, answer, at } => {
            conn.prepare_cached(
                "INSERT INTO idempotency (team_seq, key, fingerprint, status, body, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            )?
            .execute(params![team, key, answer.fingerprint, answer.status, answer.body, at.0])
            .map_err(unique_as(ConflictKind::IdempotencyKey))?;
        }
    }
    Ok(())
}

/// An event just inserted, for [`fan_out`].
struct Event<'a> {
    seq: i64,
    id: &'a str,
    bit: i64,
    lane: &'a str,
    body: String,
    /// A chat event's transcript length (its body is stored as a head).
    transcript_len: Option<i64>,
    at: Millis,
}

/// One delivery per enabled endpoint of the team subscribed to the event (and per endpoint
/// disabled for failing, held: see [`crate::store::Disabled`]): `waiting` behind its
/// lane's earlier deliveries, else `ready` — and with hand-off on (a lease end), inserted
/// already claimed by this process, its first attempt counted, and handed to its workers with
/// the body in hand (nothing read back).
fn fan_out(
    conn: &Connection,
    team: i64,
    mut event: Event<'_>,
    handoff: Option<Millis>,
    recent: &Recent,
    done: &mut Committed,
) -> Result<()> {
    let targets: Vec<Target> = conn
        .prepare_cached(TARGETS)?
        .query_map(params![team, event.bit, event.lane], |r| {
            Ok(Target {
                seq: r.get(0)?,
                url: r.get(1)?,
                secret: r.get(2)?,
                previous_secret: r.get(3)?,
                previous_secret_until: r.get(4)?,
                batch_size: r.get(5)?,
                kind: EndpointKind::parse(&r.get::<_, String>(6)?).unwrap_or_default(),
                limits: Limits::of_columns(r.get(7)?, r.get(8)?),
                busy: r.get(9)?,
                enabled: r.get(10)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO deliveries (id, endpoint_seq, event_seq, lane, state, attempts, tries, leased, next_attempt_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )?;
    let suffix = event.id.strip_prefix("evt_").unwrap_or(event.id);
    let mut kept = false;
    let last = targets.len().saturating_sub(1);
    for (i, t) in targets.into_iter().enumerate() {
        let id = format!("msg_{suffix}{:06x}", rand::random::<u32>() & 0xff_ffff);
        let (state, tries, leased, next) = match (t.busy, handoff) {
            (true, _) => ("waiting", 0, false, event.at),
            (false, None) => ("ready", 0, false, event.at),
            (false, Some(_)) if !t.enabled => ("ready", 0, false, event.at),
            (false, Some(lease_until)) => ("ready", 1, true, lease_until),
        };
        insert.execute(params![
            id, t.seq, event.seq, event.lane, state, tries, tries, leased, next.0, event.at.0
        ])?;
        done.deliveries += 1;
        if let (false, false, Some(len)) = (leased, kept, event.transcript_len) {
            // Read back later (behind its lane, or by a claim): keep the body at hand.
            recent.keep(event.seq, event.id, &event.body, len);
            kept = true;
        }
        if leased {
            let secrets = signing_secrets(
                t.secret,
                t.previous_secret,
                t.previous_secret_until,
                event.at,
            );
            done.handed_off.push(Claimed {
                seq: conn.last_insert_rowid(),
                id,
                endpoint_seq: t.seq,
                kind: t.kind,
                lane: event.lane.to_string(),
                attempt: 1,
                tries: 1,
                lease_until: next,
                url: t.url,
                secrets,
                // The last one takes the body itself (usually the only one: no copy).
                body: if i == last {
                    std::mem::take(&mut event.body)
                } else {
                    event.body.clone()
                },
                batch_size: t.batch_size,
                limits: t.limits,
                batch_id: None,
                unsendable: None,
            });
        }
    }
    Ok(())
}

/// An endpoint an event goes to.
struct Target {
    seq: i64,
    url: String,
    secret: String,
    previous_secret: Option<String>,
    previous_secret_until: Option<i64>,
    batch_size: i64,
    kind: EndpointKind,
    limits: Limits,
    /// Whether its lane for the event already has a pending delivery.
    busy: bool,
    /// False while it is disabled for failing: its deliveries are queued but held.
    enabled: bool,
}
