//! Applying a chat [`Commit`]: the new state, its events and one delivery per subscribed
//! endpoint, in the writer's transaction.

use super::super::{Commit, Committed, ConflictKind, Result, Step, StoreError};
use super::outbox;
use crate::domain::Millis;
use rusqlite::{Connection, ErrorCode, params};

/// Maps a unique-constraint violation to the conflict it means for this step.
pub fn unique_as(kind: ConflictKind) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |e| match e.sqlite_error_code() {
        Some(ErrorCode::ConstraintViolation) => StoreError::Conflict(kind),
        _ => StoreError::Sqlite(e),
    }
}

/// Applies the steps; with a lease end, the new ready deliveries are claimed for this process.
pub fn apply(conn: &Connection, c: Commit, handoff: Option<Millis>) -> Result<Committed> {
    let mut done = Committed::default();
    for step in c.steps {
        apply_step(conn, c.team_seq, step, handoff, &mut done)?;
    }
    Ok(done)
}

fn apply_step(
    conn: &Connection,
    team: i64,
    step: Step,
    handoff: Option<Millis>,
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
                "INSERT INTO visitors (id, team_seq, name, channel_name, identity, token_hash, version, created_at)
                 VALUES (?, ?, ?, ?, ?, ?, 1, ?)",
            )?
            .execute(params![id, team, name, channel_name, identity, token_hash, at.0])
            .map_err(unique_as(ConflictKind::ChannelName))?;
            done.visitor_seq = Some(conn.last_insert_rowid());
        }
        Step::CheckVisitor { seq, version } => {
            let n = conn
                .prepare_cached(
                    "UPDATE visitors SET version = version + 1 WHERE seq = ? AND version = ?",
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
                "INSERT INTO messages (id, conversation_seq, agent_id, user_name, user_picture, text, created_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )?
            .execute(params![m.id, conversation, m.agent_id, m.user_name, m.user_picture, m.text, m.created_at.0])?;
            done.conversation_seq = Some(conversation);
        }
        Step::InsertEvent {
            id,
            conversation_seq,
            name,
            bit,
            lane,
            body,
            at,
        } => {
            let conversation = conversation_seq.or(done.conversation_seq);
            done.conversation_seq = conversation;
            conn.prepare_cached(
                "INSERT INTO events (id, team_seq, conversation_seq, name, created_at, body) VALUES (?, ?, ?, ?, ?, ?)",
            )?
            .execute(params![&id, team, conversation, name, at.0, body])?;
            let event_seq = conn.last_insert_rowid();
            let n = fan_out(conn, team, (event_seq, &id), bit, &lane, at.0)?;
            done.deliveries += n;
            if let (Some(lease_until), true) = (handoff, n > 0) {
                let last = conn.last_insert_rowid();
                done.handed_off.extend(outbox::hand_off(
                    conn,
                    last - n as i64 + 1,
                    last,
                    at,
                    lease_until,
                )?);
            }
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

/// One delivery per enabled endpoint of the team subscribed to the event: `ready` when its lane
/// is free, else `waiting` behind the lane's earlier deliveries.
fn fan_out(
    conn: &Connection,
    team: i64,
    event: (i64, &str),
    bit: i64,
    lane: &str,
    now: i64,
) -> Result<u64> {
    let n = conn
        .prepare_cached(
            "INSERT INTO deliveries (id, endpoint_seq, event_seq, lane, state, next_attempt_at, created_at)
             SELECT 'msg_' || ?6 || lower(hex(randomblob(3))), e.seq, ?1, ?2,
                    CASE WHEN EXISTS (SELECT 1 FROM deliveries d
                                      WHERE d.endpoint_seq = e.seq AND d.lane = ?2
                                        AND d.state IN ('ready', 'waiting'))
                         THEN 'waiting' ELSE 'ready' END,
                    ?3, ?3
             FROM endpoints e WHERE e.team_seq = ?4 AND e.enabled = 1 AND (e.events & ?5) <> 0",
        )?
        .execute(params![event.0, lane, now, team, bit, event.1.strip_prefix("evt_").unwrap_or(event.1)])?;
    Ok(n as u64)
}
