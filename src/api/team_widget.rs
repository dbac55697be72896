//! The widget's settings: `GET/PATCH /team/widget` for the team (the whole settings, origins
//! included), `GET /visitor/widget` for the widget script (only what it draws).

use super::auth::{AdminAuth, SiteAuth};
use super::extract::Body;
use super::{ApiError, ApiResult, AppState, json};
use crate::domain::widget::{PublicWidget, WidgetPatch, WidgetSettings};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// How long browsers and proxies may keep the public settings: a change shows within it.
const PUBLIC_CACHE: &str = "public, max-age=60";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(read, change))
}

/// The team's settings as stored now (not as cached with its key: another process may have
/// changed them within the cache's minute).
async fn current(s: &AppState, team_seq: i64) -> ApiResult<WidgetSettings> {
    let team = s.store.team(team_seq).await?;
    team.map(|t| t.widget)
        .ok_or_else(|| ApiError::not_found("team"))
}

/// The team's widget settings
#[utoipa::path(get, path = "/team/widget", tag = "team", operation_id = "getWidget",
    security(("apiKey" = []), ("session" = [])),
    responses((status = 200, description = "The settings", body = WidgetSettings)))]
async fn read(State(s): State<AppState>, AdminAuth(t): AdminAuth) -> ApiResult<Response> {
    Ok(json(StatusCode::OK, &current(&s, t.seq).await?))
}

/// Applies the given fields (each checked; the first invalid one is named in a 422) and
/// answers the whole new settings. This process applies them at once; others sharing the
/// store within a minute (their auth cache).
/// Change some widget settings
#[utoipa::path(patch, path = "/team/widget", tag = "team", operation_id = "patchWidget",
    security(("apiKey" = []), ("session" = [])),
    request_body = WidgetPatch,
    responses(
        (status = 200, description = "The settings as they are now", body = WidgetSettings),
        (status = 422, description = "A value is invalid (the field is named)"),
    ))]
async fn change(
    State(s): State<AppState>,
    AdminAuth(t): AdminAuth,
    body: Body<WidgetPatch>,
) -> ApiResult<Response> {
    let next = current(&s, t.seq)
        .await?
        .apply(body.value)
        .map_err(|e| ApiError::unprocessable(e.to_string()))?;
    s.store.set_widget(t.seq, &next).await?;
    s.auth.forget_team(t.seq);
    Ok(json(StatusCode::OK, &next))
}

/// The widget's look, for the widget script
///
/// Title, greeting, colour and position; cacheable for a minute (per site key: `Vary`).
#[utoipa::path(get, path = "/widget", tag = "visitor", operation_id = "getVisitorWidget",
    security(("siteKey" = [])),
    responses((status = 200, description = "The look", body = PublicWidget,
        headers(("Cache-Control" = String, description = "public, max-age=60")))))]
pub async fn public(SiteAuth(team): SiteAuth) -> Response {
    let mut answer = json(StatusCode::OK, &team.widget.public());
    let headers = answer.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(PUBLIC_CACHE),
    );
    headers.insert(header::VARY, HeaderValue::from_static("x-site-key"));
    answer
}
