//! Console sessions as API callers: the cookie of a signed-in console stands for the team's API
//! key (an admin) or for one agent, and every change it makes must carry the session's CSRF
//! token in `X-CSRF-Token` (a page of another site can make the browser send the cookie, never
//! read the token).

use super::AppState;
use super::error::ApiError;
use crate::domain::session::{
    CSRF_HEADER, SESSION_COOKIE, alive, cookie, due_for_touch, same_secret,
};
use crate::domain::{Millis, hash_secret};
use crate::store::Team;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use std::sync::Arc;

/// Who acts: an admin (the API key, or a session signed in with it) or one agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    Admin,
    /// An agent acts only as itself.
    Agent(String),
}

/// An authenticated caller, kept in the request's extensions so that it is worked out once.
#[derive(Clone)]
pub struct Caller {
    pub team: Arc<Team>,
    pub role: Role,
}

/// The caller the request's session cookie stands for; `None` without a cookie.
pub async fn session_caller(parts: &Parts, state: &AppState) -> Result<Option<Caller>, ApiError> {
    let token = parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|h| cookie(h, SESSION_COOKIE));
    let Some(token) = token else {
        return Ok(None);
    };
    let hash = hash_secret(token);
    let now = Millis::now();
    let session = state
        .store
        .session(&hash)
        .await?
        .filter(|s| alive(s.last_seen_at, now, state.session_idle))
        .ok_or_else(|| {
            ApiError::unauthorized("the console session has ended; sign in again at /admin")
        })?;
    if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        let sent = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !same_secret(sent, &session.csrf_token) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "csrf",
                "a change made with a console session must send the page's CSRF token in X-CSRF-Token",
            ));
        }
    }
    if due_for_touch(session.last_seen_at, now, state.session_idle)
        && let Err(e) = state.store.touch_session(&hash, now).await
    {
        tracing::warn!(error = %e, "could not record a session's use");
    }
    let team = state.auth.team(&*state.store, session.team_seq).await?;
    let role = session.agent_id.map_or(Role::Admin, Role::Agent);
    Ok(Some(Caller { team, role }))
}

/// Refuses an agent's session where only admins may act.
pub fn admin_only(caller: &Caller) -> Result<(), ApiError> {
    match &caller.role {
        Role::Admin => Ok(()),
        Role::Agent(_) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "admin-only",
            "only an admin may do this; sign in to the console with the team's API key",
        )),
    }
}

/// Refuses an agent's session acting as another agent.
pub fn acting_as(caller: &Caller, agent_id: &str) -> Result<(), ApiError> {
    match &caller.role {
        Role::Agent(me) if me != agent_id => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "not-this-agent",
            format!("you are signed in as agent {me:?}; an agent acts only as itself"),
        )),
        _ => Ok(()),
    }
}
