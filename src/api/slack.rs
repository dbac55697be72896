//! The team's Slack connection (admins only): `PUT /slack` connects a workspace (its token
//! checked at once with Slack's `auth.test`), `GET` shows it without its secrets, `PATCH`
//! changes its settings, `DELETE` disconnects. Connecting makes (or enables again) the team's
//! Slack endpoint, whose deliveries are the bridge's posts; disconnecting disables it.
//! `GET /slack/manifest?url=` answers the Slack app manifest for a server's public URL, as
//! `palaver slack manifest` prints it (the console's Integration page shows it).

use super::auth::AdminAuth;
use super::extract::Body;
use super::{ApiError, ApiResult, AppState, json};
use crate::slack::connect::{self, Connect, ConnectError};
use crate::slack::manifest;
use crate::slack::outbound;
use crate::store::SlackConnection;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use serde::{Deserialize, Serialize};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/slack",
            put(connect_workspace)
                .get(get_one)
                .patch(update)
                .delete(disconnect),
        )
        .route("/slack/manifest", get(app_manifest))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PutSlack {
    bot_token: String,
    signing_secret: String,
    notify_channel: Option<String>,
    archive_on_end: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PatchSlack {
    notify_channel: Option<String>,
    archive_on_end: Option<bool>,
}

/// The connection as the API shows it: never its token nor its signing secret.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SlackView {
    workspace_id: String,
    workspace_name: String,
    workspace_url: String,
    bot_user_id: String,
    bot_id: String,
    notify_channel: String,
    archive_on_end: bool,
    connected_at: String,
    updated_at: String,
}

impl From<&SlackConnection> for SlackView {
    fn from(c: &SlackConnection) -> Self {
        SlackView {
            workspace_id: c.workspace_id.clone(),
            workspace_name: c.workspace_name.clone(),
            workspace_url: c.workspace_url.clone(),
            bot_user_id: c.bot_user_id.clone(),
            bot_id: c.bot_id.clone(),
            notify_channel: c.notify_channel.clone(),
            archive_on_end: c.archive_on_end,
            connected_at: c.created_at.iso(),
            updated_at: c.updated_at.iso(),
        }
    }
}

fn not_connected() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not-found",
        "Slack is not connected; connect it with PUT /api/v1/slack",
    )
}

fn refusal(e: ConnectError) -> Response {
    let detail = e.to_string();
    match e {
        ConnectError::Invalid(_) | ConnectError::Refused(_) => {
            ApiError::unprocessable(detail).into_response()
        }
        ConnectError::Unreachable { .. } => {
            ApiError::new(StatusCode::BAD_GATEWAY, "slack-unreachable", detail).into_response()
        }
        ConnectError::RateLimited(after) => {
            let mut r = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "slack-rate-limited",
                detail,
            )
            .into_response();
            r.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(after.as_secs().max(1)),
            );
            r
        }
        ConnectError::Store(e) => ApiError::from(e).into_response(),
    }
}

async fn connect_workspace(
    State(s): State<AppState>,
    AdminAuth(t): AdminAuth,
    body: Body<PutSlack>,
) -> Response {
    let b = body.value;
    let request = Connect {
        bot_token: b.bot_token,
        signing_secret: b.signing_secret,
        notify_channel: b.notify_channel,
        archive_on_end: b.archive_on_end,
    };
    let c = match connect::connect(&*s.store, &s.slack, t.seq, request).await {
        Ok(c) => c,
        Err(e) => return refusal(e),
    };
    // From now on every event of the team gets a Slack delivery (Palaver → Slack).
    match outbound::endpoint::open(&*s.store, &c).await {
        Ok(_) => json(StatusCode::OK, &SlackView::from(&c)),
        Err(e) => ApiError::from(e).into_response(),
    }
}

async fn get_one(State(s): State<AppState>, AdminAuth(t): AdminAuth) -> ApiResult<Response> {
    let c = s
        .store
        .slack_connection(t.seq)
        .await?
        .ok_or_else(not_connected)?;
    Ok(json(StatusCode::OK, &SlackView::from(&c)))
}

async fn update(
    State(s): State<AppState>,
    AdminAuth(t): AdminAuth,
    body: Body<PatchSlack>,
) -> Response {
    let b = body.value;
    match connect::update_settings(&*s.store, t.seq, b.notify_channel, b.archive_on_end).await {
        Ok(Some(c)) => json(StatusCode::OK, &SlackView::from(&c)),
        Ok(None) => not_connected().into_response(),
        Err(e) => refusal(e),
    }
}

async fn disconnect(State(s): State<AppState>, AdminAuth(t): AdminAuth) -> ApiResult<StatusCode> {
    // No Slack deliveries from now on; pending ones wait for the next connection.
    outbound::endpoint::close(&*s.store, t.seq).await?;
    if s.store.delete_slack_connection(t.seq).await? {
        tracing::info!(team_seq = t.seq, "Slack disconnected");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_connected())
    }
}

#[derive(Deserialize)]
struct ManifestQuery {
    url: Option<String>,
    name: Option<String>,
}

/// The manifest in both of the forms Slack takes, and the request URL it gives Slack.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ManifestView {
    request_url: String,
    manifest: serde_json::Value,
    yaml: String,
}

/// Slack's limit on an app's name.
const MAX_APP_NAME: usize = 35;

async fn app_manifest(
    AdminAuth(_): AdminAuth,
    Query(q): Query<ManifestQuery>,
) -> ApiResult<Response> {
    let url = q.url.unwrap_or_default();
    if url.trim().is_empty() {
        return Err(ApiError::unprocessable(
            "`url` is missing: give the server's public URL, like https://chat.example.com",
        ));
    }
    let name = q.name.as_deref().map(str::trim).unwrap_or("Palaver");
    let length = name.chars().count();
    if length == 0 || length > MAX_APP_NAME || name.chars().any(char::is_control) {
        return Err(ApiError::unprocessable(format!(
            "`name` must be 1 to {MAX_APP_NAME} characters (Slack's limit for an app's name)"
        )));
    }
    // The CLI's wording names its flag; here the parameter is `url`.
    let request_url = manifest::events_url(&url)
        .map_err(|e| ApiError::unprocessable(e.replacen("--url", "`url`", 1)))?;
    let m = manifest::manifest(&url, name).map_err(ApiError::unprocessable)?;
    let view = ManifestView {
        request_url,
        yaml: manifest::to_yaml(&m),
        manifest: m,
    };
    Ok(json(StatusCode::OK, &view))
}
