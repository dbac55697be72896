//! The writes that are not chat or outbox: teams, agents, endpoints, idempotent answers.

use super::super::{Endpoint, NewTeam, Result, StoreError, StoredAnswer, Team};
use crate::domain::Millis;
use rusqlite::{Connection, params};

pub fn create_team(conn: &Connection, t: NewTeam) -> Result<Team> {
    conn.prepare_cached(
        "INSERT INTO teams (id, name, api_key_hash, site_key, is_default, created_at) VALUES (?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![t.id, t.name, t.api_key_hash, t.site_key, t.is_default, t.created_at.0])?;
    Ok(Team {
        seq: conn.last_insert_rowid(),
        id: t.id,
        name: t.name,
        site_key: t.site_key,
        widget: Default::default(),
    })
}

/// Replaces a team's widget settings (JSON).
pub fn set_widget(conn: &Connection, team_seq: i64, widget: &str) -> Result<()> {
    let n = conn
        .prepare_cached("UPDATE teams SET widget = ? WHERE seq = ?")?
        .execute(params![widget, team_seq])?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Inserts or replaces an agent; answers whether it was new.
pub fn put_agent(conn: &Connection, team_seq: i64, id: &str, profile: &str) -> Result<bool> {
    let replaced = conn
        .prepare_cached(
            "UPDATE agents SET profile = ?, updated_at = ? WHERE team_seq = ? AND id = ?",
        )?
        .execute(params![profile, Millis::now().0, team_seq, id])?;
    if replaced == 0 {
        conn.prepare_cached(
            "INSERT INTO agents (team_seq, id, profile, updated_at) VALUES (?, ?, ?, ?)",
        )?
        .execute(params![team_seq, id, profile, Millis::now().0])?;
    }
    Ok(replaced == 0)
}

pub fn delete_agent(conn: &Connection, team_seq: i64, id: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached("DELETE FROM agents WHERE team_seq = ? AND id = ?")?
        .execute(params![team_seq, id])?
        == 1)
}

pub fn create_endpoint(conn: &Connection, mut e: Endpoint) -> Result<Endpoint> {
    conn.prepare_cached(
        "INSERT INTO endpoints (id, team_seq, kind, url, events, description, enabled, secret, batch_size, created_at,
                                disabled_reason, disabled_at, max_in_flight, max_per_second)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        e.id, e.team_seq, e.kind.as_str(), e.url, e.events, e.description, e.enabled, e.secret, e.batch_size, e.created_at.0,
        e.disabled.as_ref().map(|d| &d.reason), e.disabled.as_ref().and_then(|d| d.at).map(|t| t.0),
        e.limits.max_in_flight, e.limits.max_per_second
    ])?;
    e.seq = conn.last_insert_rowid();
    Ok(e)
}

pub fn update_endpoint(conn: &Connection, e: &Endpoint) -> Result<()> {
    conn.prepare_cached(
        "UPDATE endpoints SET url = ?, events = ?, description = ?, secret = ?,
         previous_secret = ?, previous_secret_until = ?, batch_size = ?, max_in_flight = ?,
         max_per_second = ? WHERE seq = ?",
    )?
    .execute(params![
        e.url,
        e.events,
        e.description,
        e.secret,
        e.previous_secret,
        e.previous_secret_until.map(|t| t.0),
        e.batch_size,
        e.limits.max_in_flight,
        e.limits.max_per_second,
        e.seq
    ])?;
    Ok(())
}

/// Deletes an endpoint with its deliveries, their attempts and its recoveries.
pub fn delete_endpoint(conn: &Connection, team_seq: i64, endpoint_seq: i64) -> Result<()> {
    conn.prepare_cached("DELETE FROM endpoints WHERE team_seq = ? AND seq = ?")?
        .execute(params![team_seq, endpoint_seq])?;
    conn.prepare_cached("DELETE FROM attempts WHERE delivery_seq IN (SELECT seq FROM deliveries WHERE endpoint_seq = ?)")?
        .execute([endpoint_seq])?;
    conn.prepare_cached("DELETE FROM deliveries WHERE endpoint_seq = ?")?
        .execute([endpoint_seq])?;
    conn.prepare_cached("DELETE FROM recoveries WHERE endpoint_seq = ?")?
        .execute([endpoint_seq])?;
    Ok(())
}

/// Keeps the first answer to a key.
pub fn save_answer(
    conn: &Connection,
    team_seq: i64,
    key: &str,
    a: &StoredAnswer,
    at: Millis,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO idempotency (team_seq, key, fingerprint, status, body, created_at) VALUES (?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![team_seq, key, a.fingerprint, a.status, a.body, at.0])?;
    Ok(())
}

pub fn prune_answers(conn: &Connection, before: Millis) -> Result<u64> {
    Ok(conn
        .prepare_cached("DELETE FROM idempotency WHERE created_at < ?")?
        .execute([before.0])? as u64)
}
