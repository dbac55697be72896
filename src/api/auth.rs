//! Who is calling: a team by its API key, a site by its public key, a visitor by their token.

use super::AppState;
use super::error::ApiError;
use super::origin;
use super::session_auth::{Caller, Role, admin_only, session_caller};
use crate::chat::cache::{TtlCache, visitor_bytes};
use crate::domain::hash_secret;
use crate::memory;
use crate::store::{Store, Team, VisitorRecord};
use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use std::sync::Arc;

/// Who keys and tokens belong to: read on every request, changed never (keys cannot be
/// rotated yet) — so remembered for a minute instead of read each time. A team's widget
/// settings come with it: a change made through this process forgets the team at once
/// ([`AuthCache::forget_team`]); other processes sharing the store see it within the minute.
pub struct AuthCache {
    teams: TtlCache<String, Arc<Team>>,
    sites: TtlCache<String, Arc<Team>>,
    /// Teams by `seq`: a visitor's team, for its allowed origins.
    by_seq: TtlCache<i64, Arc<Team>>,
    /// Only the visitor's identity fields may be stale here; handlers use its ids.
    visitors: TtlCache<String, Arc<VisitorRecord>>,
}

/// The bytes the team caches may hold together (each a third): thousands of teams.
const TEAMS_BUDGET: usize = 4 << 20;
/// The bytes the visitor token cache may hold: some 30,000 visitors with short identities.
const VISITORS_BUDGET: usize = 16 << 20;

impl Default for AuthCache {
    fn default() -> Self {
        let ttl = std::time::Duration::from_secs(60);
        let teams = TEAMS_BUDGET / 3;
        AuthCache {
            teams: TtlCache::new(ttl, teams, |k, t| k.len() + team_bytes(t), &memory::AUTH),
            sites: TtlCache::new(ttl, teams, |k, t| k.len() + team_bytes(t), &memory::AUTH),
            by_seq: TtlCache::new(ttl, teams, |_, t| team_bytes(t), &memory::AUTH),
            visitors: TtlCache::new(
                ttl,
                VISITORS_BUDGET,
                |k, v| k.len() + visitor_bytes(v),
                &memory::AUTH,
            ),
        }
    }
}

/// A team's estimated size: its strings.
fn team_bytes(t: &Team) -> usize {
    let w = &t.widget;
    let origins: usize = w.allowed_origins.iter().map(|o| o.len() + 24).sum();
    t.id.len() + t.name.len() + t.site_key.len() + w.title.len() + w.greeting.len() + origins + 128
}

impl AuthCache {
    /// The team, from the cache or the store.
    pub async fn team(&self, store: &dyn Store, seq: i64) -> Result<Arc<Team>, ApiError> {
        if let Some(team) = self.by_seq.get(&seq) {
            return Ok(team);
        }
        let team =
            store.team(seq).await?.map(Arc::new).ok_or_else(|| {
                ApiError::unauthorized("the team of this visitor no longer exists")
            })?;
        self.by_seq.insert(seq, team.clone());
        Ok(team)
    }

    /// Forgets everything cached about the team, after a change of its settings.
    pub fn forget_team(&self, seq: i64) {
        self.teams.remove_if(|_, t| t.seq == seq);
        self.sites.remove_if(|_, t| t.seq == seq);
        self.by_seq.remove_if(|s, _| *s == seq);
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// A team, authenticated by `Authorization: Bearer <api key>` or by a console session (see
/// [`super::session_auth`]); [`Caller`] in the request's extensions says who acts.
pub struct TeamAuth(pub Arc<Team>);

impl FromRequestParts<AppState> for TeamAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(TeamAuth(
            Caller::from_request_parts(parts, state).await?.team,
        ))
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let caller = match bearer(&parts.headers) {
            Some(key) => Caller {
                team: team_by_key(key, state).await?,
                role: Role::Admin,
            },
            None => session_caller(parts, state).await?.ok_or_else(|| {
                ApiError::unauthorized("send the team's API key as `Authorization: Bearer <key>`")
            })?,
        };
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}

async fn team_by_key(key: &str, state: &AppState) -> Result<Arc<Team>, ApiError> {
    let hash = hash_secret(key);
    if let Some(team) = state.auth.teams.get(&hash) {
        return Ok(team);
    }
    let team = state
        .store
        .team_by_api_key_hash(&hash)
        .await?
        .map(Arc::new)
        .ok_or_else(|| ApiError::unauthorized("the API key is not valid"))?;
    state.auth.teams.insert(hash, team.clone());
    Ok(team)
}

/// A team's admin: the API key or an admin's console session, not an agent's.
pub struct AdminAuth(pub Arc<Team>);

impl FromRequestParts<AppState> for AdminAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        admin_only(&caller)?;
        Ok(AdminAuth(caller.team))
    }
}

/// A site (the team behind a widget), by `X-Site-Key`, called from a page of an allowed origin
/// (see [`super::origin`]); the request counts against the site's rate limit.
pub struct SiteAuth(pub Arc<Team>);

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
        let team = match state.auth.sites.get(&key.to_string()) {
            Some(team) => team,
            None => {
                let team = state
                    .store
                    .team_by_site_key(key)
                    .await?
                    .map(Arc::new)
                    .ok_or_else(|| ApiError::unauthorized("the site key is not valid"))?;
                state.auth.sites.insert(key.to_string(), team.clone());
                team
            }
        };
        origin::check(parts, &team)?;
        state.visitor_limits.site(team.seq)?;
        Ok(SiteAuth(team))
    }
}

/// A visitor, by `Authorization: Bearer <visitorToken>` (and the site key, when sent, must
/// match), called from a page of an origin their team allows (see [`super::origin`]); the request
/// counts against their site's rate limit (once, with or without the site key).
pub struct VisitorAuth(pub Arc<VisitorRecord>);

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
        let hash = hash_secret(&token);
        let visitor = match state.auth.visitors.get(&hash) {
            Some(v) => v,
            None => {
                let v = state
                    .store
                    .visitor_by_token_hash(&hash)
                    .await?
                    .map(Arc::new)
                    .ok_or_else(|| ApiError::unauthorized("the visitor token is not valid"))?;
                state.auth.visitors.insert(hash, v.clone());
                v
            }
        };
        if parts.headers.contains_key("x-site-key") {
            let SiteAuth(team) = SiteAuth::from_request_parts(parts, state).await?;
            if team.seq != visitor.team_seq {
                return Err(ApiError::unauthorized(
                    "the visitor token belongs to another site",
                ));
            }
        } else {
            origin::check_team(parts, state, visitor.team_seq).await?;
            state.visitor_limits.site(visitor.team_seq)?;
        }
        Ok(VisitorAuth(visitor))
    }
}
