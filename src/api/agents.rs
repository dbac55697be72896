//! `GET /team` and the agents: Slack user objects stored verbatim.

use super::agent_passwords;
use super::auth::{AdminAuth, TeamAuth};
use super::extract::Body;
use super::query::{AgentQuery, Query};
use super::{ApiError, ApiResult, AppState, json};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(team))
        .routes(routes!(list))
        .routes(routes!(get_one, put, delete))
        .routes(routes!(agent_passwords::set, agent_passwords::remove))
}

/// The agent's id in the path.
pub(super) const AGENT_ID: &str = "The agent's id: their Slack user id (1 to 64 characters)";

/// The team the caller belongs to.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "t_3BtwB2nLq7u0oTq5ZrQe", "name": "Reynholm Industries", "siteKey": "pk_Qm9zcyBpcyBoZXJl"}))]
struct Team {
    id: String,
    name: String,
    /// The public key the widget sends as `X-Site-Key`.
    site_key: String,
}

/// A Slack `users.info` user object, stored and answered verbatim; its `id` is the agent's id.
pub(super) struct AgentDoc;

impl utoipa::PartialSchema for AgentDoc {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Type};
        ObjectBuilder::new()
            .description(Some(
                "A Slack `users.info` user object, stored and answered verbatim; its `id` is the agent's id",
            ))
            .property(
                "id",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(1))
                    .max_length(Some(64))
                    .description(Some("The agent's id (Slack's user id)")),
            )
            .required("id")
            .additional_properties(Some(AdditionalProperties::FreeForm(true)))
            .examples([serde_json::json!({
                "id": "U0F2Z1234", "team_id": "T0F212345", "name": "moss", "real_name": "Moss",
                "profile": {"real_name": "Moss", "email": "moss@reynholm.com",
                    "image_48": "https://avatars.slack-edge.com/2016-11-25/109119461858_82b5e3bbb9af2724c0a4_48.jpg"}
            })])
            .into()
    }
}

impl ToSchema for AgentDoc {
    fn name() -> std::borrow::Cow<'static, str> {
        "Agent".into()
    }
}

/// A page of agents, and which of them may sign in to the console.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct AgentList {
    #[schema(value_type = Vec<AgentDoc>)]
    data: Vec<Box<RawValue>>,
    /// The `cursor` of the next page; `null` on the last.
    next_cursor: Option<String>,
    /// The ids of this page's agents who have a console password.
    console_access: Vec<String>,
}

/// The team of the caller
#[utoipa::path(get, path = "/team", tag = "team", operation_id = "getTeam",
    security(("apiKey" = []), ("session" = [])),
    responses((status = 200, description = "The team", body = Team)))]
async fn team(TeamAuth(t): TeamAuth) -> Response {
    json(
        StatusCode::OK,
        &Team {
            id: t.id.clone(),
            name: t.name.clone(),
            site_key: t.site_key.clone(),
        },
    )
}

fn raw(profile: String) -> Box<RawValue> {
    RawValue::from_string(profile).expect("stored profiles are JSON")
}

/// Create or replace an agent
///
/// The body is the agent's Slack `users.info` user object, stored verbatim; its `id` must be the
/// agent id of the path.
#[utoipa::path(put, path = "/agents/{agentId}", tag = "team", operation_id = "putAgent",
    security(("apiKey" = []), ("session" = [])),
    params(("agentId" = String, Path, description = AGENT_ID)),
    request_body = AgentDoc,
    responses(
        (status = 200, description = "Replaced", body = AgentDoc),
        (status = 201, description = "Created", body = AgentDoc, links(
            ("GetAgent" = (operation_id = "getAgent", parameters(("agentId" = "$request.path.agentId")))),
            ("DeleteAgent" = (operation_id = "deleteAgent", parameters(("agentId" = "$request.path.agentId")))),
            ("SetAgentPassword" = (operation_id = "setAgentPassword", parameters(("agentId" = "$request.path.agentId")))),
        )),
        (status = 422, description = "The object's `id` is missing or not the path's agent id, or the id is too long"),
    ))]
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

/// An agent
#[utoipa::path(get, path = "/agents/{agentId}", tag = "team", operation_id = "getAgent",
    security(("apiKey" = []), ("session" = [])),
    params(("agentId" = String, Path, description = AGENT_ID)),
    responses(
        (status = 200, description = "The agent's Slack user object", body = AgentDoc),
        (status = 404, description = "No agent of this team has this id"),
    ))]
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

/// Agents, ordered by id
#[utoipa::path(get, path = "/agents", tag = "team", operation_id = "listAgents",
    security(("apiKey" = []), ("session" = [])),
    params(AgentQuery),
    responses((status = 200, description = "A page of agents", body = AgentList)))]
async fn list(
    State(s): State<AppState>,
    TeamAuth(t): TeamAuth,
    Query(q): Query<AgentQuery>,
) -> ApiResult<Response> {
    let limit = super::query::limit(q.limit)?;
    let cursor = q.cursor.as_deref().filter(|c| !c.is_empty());
    if cursor.is_some_and(|c| c.chars().count() > 64) {
        return Err(ApiError::bad_request(
            "`cursor` is not one this server gave (agent ids have at most 64 characters)",
        ));
    }
    let rows = s.store.agents(t.seq, cursor, limit).await?;
    let next = (rows.len() == limit as usize)
        .then(|| rows.last().map(|(id, _)| id.clone()))
        .flatten();
    let logins = s.store.agent_logins().await?;
    let console_access: Vec<String> = rows
        .iter()
        .map(|(id, _)| id.clone())
        .filter(|id| {
            logins
                .iter()
                .any(|l| l.team_seq == t.seq && l.agent_id == *id)
        })
        .collect();
    let data: Vec<Box<RawValue>> = rows.iter().map(|(_, p)| raw(p.clone())).collect();
    Ok(json(
        StatusCode::OK,
        &AgentList {
            data,
            next_cursor: next,
            console_access,
        },
    ))
}

/// Delete an agent (their console sessions end)
#[utoipa::path(delete, path = "/agents/{agentId}", tag = "team", operation_id = "deleteAgent",
    security(("apiKey" = []), ("session" = [])),
    params(("agentId" = String, Path, description = AGENT_ID)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No agent of this team has this id"),
    ))]
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
