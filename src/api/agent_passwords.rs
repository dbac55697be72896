//! `PUT/DELETE /agents/{id}/password`: an admin gives an agent a console password (argon2id,
//! never logged nor answered) or takes console access away. Either ends the agent's sessions.

use super::auth::AdminAuth;
use super::extract::Body;
use super::{ApiError, ApiResult, AppState};
use crate::domain::{Millis, password};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;

/// The agent's new console password.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"password": "correct horse battery staple"}))]
pub(crate) struct PasswordBody {
    /// 10 to 200 characters.
    #[schema(min_length = 10, max_length = 200)]
    pub(crate) password: String,
}

/// Give an agent a console password (their sessions end)
#[utoipa::path(put, path = "/agents/{agentId}/password", tag = "team", operation_id = "setAgentPassword",
    security(("apiKey" = []), ("session" = [])),
    params(("agentId" = String, Path, description = super::agents::AGENT_ID)),
    request_body = PasswordBody,
    responses(
        (status = 204, description = "Set"),
        (status = 404, description = "No agent of this team has this id"),
        (status = 422, description = "The password is too short or too long"),
    ))]
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

/// Take an agent's console access away (their sessions end)
#[utoipa::path(delete, path = "/agents/{agentId}/password", tag = "team", operation_id = "removeAgentPassword",
    security(("apiKey" = []), ("session" = [])),
    params(("agentId" = String, Path, description = super::agents::AGENT_ID)),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No agent of this team has this id"),
    ))]
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
