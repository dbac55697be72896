//! `PUT/DELETE /agents/{id}/password`: an admin gives an agent a console password (argon2id,
//! never logged nor answered) or takes console access away. Either ends the agent's sessions.

use super::auth::AdminAuth;
use super::extract::Body;
use super::{ApiError, ApiResult, AppState};
use crate::domain::{Millis, password};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    password: String,
}

pub async fn set(
    State(s): State<AppState>,
    AdminAuth(t): AdminAuth,
    Path(id): Path<String>,
    body: Body<PasswordBody>,
) -> ApiResult<StatusCode> {
    let given = body.value.password;
    password::check(&given).map_err(ApiError::unprocessable)?;
    let hash = tokio::task::spawn_blocking(move || password::hash(&given))
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                format!("hashing failed: {e}"),
            )
        })?;
    if !s.store.set_agent_password(t.seq, &id, Some(&hash)).await? {
        return Err(ApiError::not_found("agent"));
    }
    s.store.end_sessions(Millis(0), Some((t.seq, &id))).await?;
    tracing::info!(agent = %id, "console password set");
    Ok(StatusCode::NO_CONTENT)
}

pub async fn remove(
    State(s): State<AppState>,
    AdminAuth(t): AdminAuth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    if !s.store.set_agent_password(t.seq, &id, None).await? {
        return Err(ApiError::not_found("agent"));
    }
    s.store.end_sessions(Millis(0), Some((t.seq, &id))).await?;
    tracing::info!(agent = %id, "console access removed");
    Ok(StatusCode::NO_CONTENT)
}
