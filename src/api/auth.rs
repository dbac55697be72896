//! Who is calling: a team by its API key, a site by its public key, a visitor by their token.

use super::AppState;
use super::error::ApiError;
use crate::domain::hash_secret;
use crate::store::{Team, VisitorRecord};
use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// A team, authenticated by `Authorization: Bearer <api key>`.
pub struct TeamAuth(pub Team);

impl FromRequestParts<AppState> for TeamAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let key = bearer(&parts.headers).ok_or_else(|| {
            ApiError::unauthorized("send the team's API key as `Authorization: Bearer <key>`")
        })?;
        state
            .store
            .team_by_api_key_hash(&hash_secret(key))
            .await?
            .map(TeamAuth)
            .ok_or_else(|| ApiError::unauthorized("the API key is not valid"))
    }
}

/// A site (the team behind a widget), by `X-Site-Key`.
pub struct SiteAuth(pub Team);

impl FromRequestParts<AppState> for SiteAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let key = parts
            .headers
            .get("x-site-key")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                ApiError::unauthorized("send the team's site key in the `X-Site-Key` header")
            })?;
        state
            .store
            .team_by_site_key(key)
            .await?
            .map(SiteAuth)
            .ok_or_else(|| ApiError::unauthorized("the site key is not valid"))
    }
}

/// A visitor, by `Authorization: Bearer <visitorToken>` (and the site key, when sent, must match).
pub struct VisitorAuth(pub VisitorRecord);

impl FromRequestParts<AppState> for VisitorAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let from_query = parts.uri.query().and_then(|q| {
            q.split('&')
                .find_map(|kv| kv.strip_prefix("visitorToken="))
                .map(str::to_string)
        });
        let token = bearer(&parts.headers).map(str::to_string).or(from_query).ok_or_else(|| {
            ApiError::unauthorized("send the visitorToken from POST /visitor/conversations as `Authorization: Bearer <token>`")
        })?;
        let visitor = state
            .store
            .visitor_by_token_hash(&hash_secret(&token))
            .await?
            .ok_or_else(|| ApiError::unauthorized("the visitor token is not valid"))?;
        if parts.headers.contains_key("x-site-key") {
            let SiteAuth(team) = SiteAuth::from_request_parts(parts, state).await?;
            if team.seq != visitor.team_seq {
                return Err(ApiError::unauthorized(
                    "the visitor token belongs to another site",
                ));
            }
        }
        Ok(VisitorAuth(visitor))
    }
}
