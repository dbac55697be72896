//! Allowed origins: when a team lists the websites its widget may run on, a visitor call from a
//! page of another website is refused with 403 (`origin-not-allowed`). Calls without `Origin`
//! (servers, scripts: they could send any `Origin` anyway) and calls from pages Palaver itself
//! serves (the `Origin` names the `Host` the request reached) always pass.

use super::AppState;
use super::error::ApiError;
use crate::domain::widget::{is_own_origin, origin_allowed};
use crate::store::Team;
use axum::http::StatusCode;
use axum::http::header::{HOST, ORIGIN};
use axum::http::request::Parts;
use std::sync::Arc;

/// Most characters of a refused origin repeated in the answer.
const SHOWN: usize = 200;

/// The request's `Origin`, unless absent or the server's own: the origin a team's list decides on.
fn foreign_origin(parts: &Parts) -> Option<&str> {
    let origin = parts.headers.get(ORIGIN)?;
    let origin = origin.to_str().unwrap_or("(unreadable)");
    let host = parts
        .headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()));
    match host {
        Some(host) if is_own_origin(origin, host) => None,
        _ => Some(origin),
    }
}

/// Refuses the request if it comes from a page whose origin the team did not allow.
pub fn check(parts: &Parts, team: &Team) -> Result<(), ApiError> {
    match foreign_origin(parts) {
        Some(origin) if !origin_allowed(&team.widget, origin) => Err(refused(origin)),
        _ => Ok(()),
    }
}

/// [`check`] for a caller known by its team's `seq` (a visitor token): the team is read only
/// when the request has a foreign origin, from the auth cache when it can.
pub async fn check_team(parts: &Parts, state: &AppState, team_seq: i64) -> Result<(), ApiError> {
    if foreign_origin(parts).is_none() {
        return Ok(());
    }
    let team: Arc<Team> = state.auth.team(&*state.store, team_seq).await?;
    check(parts, &team)
}

fn refused(origin: &str) -> ApiError {
    let shown: String = origin.chars().take(SHOWN).collect();
    ApiError::new(
        StatusCode::FORBIDDEN,
        "origin-not-allowed",
        format!(
            "the page's origin {shown} is not in this site's allowed origins; \
             add it with PATCH /api/v1/team/widget"
        ),
    )
}
