//! The team's Slack connection (admins only): `PUT /slack` connects a workspace (its token
//! checked at once with Slack's `auth.test`), `GET` shows it without its secrets, `PATCH`
//! changes its settings, `DELETE` disconnects. Connecting makes (or enables again) the team's
//! Slack endpoint, whose deliveries are the bridge's posts; disconnecting disables it.
//! `GET /slack/manifest?url=` answers the Slack app manifest for a server's public URL, as
//! `palaver slack manifest` prints it (the console's Integration page shows it).

use super::auth::AdminAuth;
use super::extract::Body;
use super::query::Query;
use super::{ApiError, ApiResult, AppState, json};
use crate::slack::connect::{self, Connect, ConnectError};
use crate::slack::manifest;
use crate::slack::outbound;
use crate::store::SlackConnection;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(connect_workspace, get_one, update, disconnect))
        .routes(routes!(app_manifest))
}

/// A Slack workspace to connect: the Slack app's bot token and signing secret.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = SlackConnect, example = json!({"botToken": "xoxb-1234-5678-abcdefghijkl", "signingSecret": "8f742231b10e8888abcd99yyyzzz85a5", "notifyChannel": "support", "archiveOnEnd": true}))]
pub(crate) struct PutSlack {
    /// The bot's token (`xoxb-…`), checked at once with Slack's `auth.test`.
    pub(crate) bot_token: String,
    /// The app's signing secret, which Slack's requests to `/slack/events` are checked with.
    pub(crate) signing_secret: String,
    /// The channel new conversations are announced in (a name; made if missing).
    pub(crate) notify_channel: Option<String>,
    /// Whether a conversation's channel is archived when it ends.
    pub(crate) archive_on_end: Option<bool>,
}

/// A change of the connection's settings; no secrets needed.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = SlackPatch, example = json!({"archiveOnEnd": false}))]
pub(crate) struct PatchSlack {
    pub(crate) notify_channel: Option<String>,
    pub(crate) archive_on_end: Option<bool>,
}

/// The connection as the API shows it: never its token nor its signing secret.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = SlackConnection)]
struct SlackView {
    workspace_id: String,
    workspace_name: String,
    workspace_url: String,
    bot_user_id: String,
    bot_id: String,
    notify_channel: String,
    archive_on_end: bool,
    #[schema(format = DateTime)]
    connected_at: String,
    #[schema(format = DateTime)]
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

/// Connect the team's Slack workspace (admins only)
///
/// The token is checked with Slack at once. From then on every event of the team is posted in
/// Slack too (the Slack endpoint's deliveries, GET /slack/deliveries); connecting again replaces
/// the connection.
#[utoipa::path(put, path = "/slack", tag = "slack", operation_id = "connectSlack",
    security(("apiKey" = []), ("session" = [])),
    request_body = PutSlack,
    responses(
        (status = 200, description = "Connected", body = SlackView),
        (status = 422, description = "A value is invalid, or Slack refused the token"),
        (status = 502, description = "Slack could not be reached (`slack-unreachable`)"),
        (status = 503, description = "Slack rate limited the check (`slack-rate-limited`); try again after `Retry-After`",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
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

/// The team's Slack connection (admins only)
#[utoipa::path(get, path = "/slack", tag = "slack", operation_id = "getSlack",
    security(("apiKey" = []), ("session" = [])),
    responses(
        (status = 200, description = "The connection", body = SlackView),
        (status = 404, description = "Slack is not connected"),
    ))]
async fn get_one(State(s): State<AppState>, AdminAuth(t): AdminAuth) -> ApiResult<Response> {
    let c = s
        .store
        .slack_connection(t.seq)
        .await?
        .ok_or_else(not_connected)?;
    Ok(json(StatusCode::OK, &SlackView::from(&c)))
}

/// Change the Slack connection's settings (admins only)
#[utoipa::path(patch, path = "/slack", tag = "slack", operation_id = "updateSlack",
    security(("apiKey" = []), ("session" = [])),
    request_body = PatchSlack,
    responses(
        (status = 200, description = "The connection as it is now", body = SlackView),
        (status = 404, description = "Slack is not connected"),
        (status = 422, description = "A value is invalid"),
    ))]
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

/// Disconnect Slack (admins only)
///
/// No Slack deliveries are made from then on; pending ones wait for the next connection.
#[utoipa::path(delete, path = "/slack", tag = "slack", operation_id = "disconnectSlack",
    security(("apiKey" = []), ("session" = [])),
    responses(
        (status = 204, description = "Disconnected"),
        (status = 404, description = "Slack is not connected"),
    ))]
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

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ManifestQuery {
    /// The server's public URL, like `https://chat.example.com` (required).
    #[param(required = true, example = "https://chat.example.com")]
    url: Option<String>,
    /// The app's name, 1 to 35 characters ("Palaver" when absent).
    name: Option<String>,
}

/// The manifest in both of the forms Slack takes, and the request URL it gives Slack.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = SlackManifest)]
struct ManifestView {
    /// Where Slack sends its events (`…/slack/events`).
    request_url: String,
    /// The manifest as JSON.
    manifest: serde_json::Value,
    /// The same manifest as YAML.
    yaml: String,
}

/// Slack's limit on an app's name.
const MAX_APP_NAME: usize = 35;

/// The Slack app manifest for this server (admins only)
#[utoipa::path(get, path = "/slack/manifest", tag = "slack", operation_id = "getSlackManifest",
    security(("apiKey" = []), ("session" = [])),
    params(ManifestQuery),
    responses(
        (status = 200, description = "The manifest", body = ManifestView),
        (status = 422, description = "`url` is missing or not a public http(s) URL, or `name` is too long"),
    ))]
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
