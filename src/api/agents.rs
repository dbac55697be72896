//! `GET /team` and the agents: Slack user objects stored verbatim.

use super::auth::{AdminAuth, TeamAuth};
use super::extract::{Body, PageQuery};
use super::{ApiError, ApiResult, AppState, json};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::value::RawValue;
use serde_json::{Value, json as j};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/team", get(team))
        .route("/agents", get(list))
        .route("/agents/{agent_id}", get(get_one).put(put).delete(delete))
        .route(
            "/agents/{agent_id}/password",
            axum::routing::put(super::agent_passwords::set).delete(super::agent_passwords::remove),
        )
}

async fn team(TeamAuth(t): TeamAuth) -> Response {
    json(
        StatusCode::OK,
        &j!({"id": t.id, "name": t.name, "siteKey": t.site_key}),
    )
}

fn raw(profile: String) -> Box<RawValue> {
    RawValue::from_string(profile).expect("stored profiles are JSON")
}

async fn put(
    State(s): State<AppState>,
    AdminAuth(t): AdminAuth,
    Path(id): Path<String>,
    body: Body<Value>,
) -> ApiResult<Response> {
    let Value::Object(obj) = &body.value else {
        return Err(ApiError::bad_request(
            "the body must be a Slack user object (a JSON object)",
        ));
    };
    match obj.get("id") {
        Some(Value::String(given)) if *given == id => {}
        Some(Value::String(given)) => {
            return Err(ApiError::unprocessable(format!(
                "the object's `id` ({given:?}) must equal the agent id in the path ({id:?})"
            )));
        }
        _ => {
            return Err(ApiError::unprocessable(
                "the object needs an `id` string equal to the agent id in the path",
            ));
        }
    }
    if id.is_empty() || id.len() > 64 {
        return Err(ApiError::unprocessable(
            "an agent id has 1 to 64 characters",
        ));
    }
    let profile = serde_json::to_string(&body.value).expect("JSON serializes");
    let created = s.store.put_agent(t.seq, &id, &profile).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(json(status, &raw(profile)))
}

async fn get_one(
    State(s): State<AppState>,
    TeamAuth(t): TeamAuth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let profile = s
        .store
        .agent(t.seq, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("agent"))?;
    Ok(json(StatusCode::OK, &raw(profile)))
}

async fn list(
    State(s): State<AppState>,
    TeamAuth(t): TeamAuth,
    Query(q): Query<PageQuery>,
) -> ApiResult<Response> {
    let limit = q.limit()?;
    let rows = s.store.agents(t.seq, q.cursor.as_deref(), limit).await?;
    let next = (rows.len() == limit as usize)
        .then(|| rows.last().map(|(id, _)| id.clone()))
        .flatten();
    let logins = s.store.agent_logins().await?;
    let console: Vec<&str> = rows
        .iter()
        .map(|(id, _)| id.as_str())
        .filter(|id| {
            logins
                .iter()
                .any(|l| l.team_seq == t.seq && l.agent_id == *id)
        })
        .collect();
    let data: Vec<Box<RawValue>> = rows.iter().map(|(_, p)| raw(p.clone())).collect();
    Ok(json(
        StatusCode::OK,
        &j!({"data": data, "nextCursor": next, "consoleAccess": console}),
    ))
}

async fn delete(
    State(s): State<AppState>,
    AdminAuth(t): AdminAuth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    if s.store.delete_agent(t.seq, &id).await? {
        s.store
            .end_sessions(crate::domain::Millis(0), Some((t.seq, &id)))
            .await?;
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("agent"))
    }
}
