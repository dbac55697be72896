//! The signed-in console user, from the session cookie: [`Signed`] answers a page only to a live
//! session and sends everyone else to the sign-in page. Also the cookies themselves.

use super::Web;
use crate::domain::session::{SESSION_COOKIE, alive, cookie, due_for_touch, same_secret};
use crate::domain::{Millis, hash_secret};
use crate::store::{SessionRecord, Team};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// A live console session and its team.
pub struct Signed {
    pub session: SessionRecord,
    pub team: Team,
}

impl Signed {
    pub fn is_admin(&self) -> bool {
        self.session.agent_id.is_none()
    }

    /// Whether a form's CSRF field is this session's.
    pub fn csrf_ok(&self, sent: &str) -> bool {
        same_secret(sent, &self.session.csrf_token)
    }
}

/// The value of a cookie of the request.
pub fn request_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|h| cookie(h, name))
}

/// The live session of the request's cookie, if any.
pub async fn current(web: &Web, headers: &HeaderMap) -> Option<Signed> {
    let hash = hash_secret(request_cookie(headers, SESSION_COOKIE)?);
    let now = Millis::now();
    let session = match web.store.session(&hash).await {
        Ok(s) => s?,
        Err(e) => {
            tracing::warn!(error = %e, "could not read a session");
            return None;
        }
    };
    if !alive(session.last_seen_at, now, web.session_idle) {
        return None;
    }
    if due_for_touch(session.last_seen_at, now, web.session_idle) {
        let _ = web.store.touch_session(&hash, now).await;
    }
    let team = web.store.team(session.team_seq).await.ok()??;
    Some(Signed { session, team })
}

impl FromRequestParts<Arc<Web>> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, web: &Arc<Web>) -> Result<Self, Response> {
        match current(web, &parts.headers).await {
            Some(s) => Ok(s),
            None => {
                let next = parts.uri.path_and_query().map_or("/admin", |p| p.as_str());
                let to = format!("/admin/sign-in?next={}", url_escape(next));
                Err(Redirect::to(&to).into_response())
            }
        }
    }
}

fn url_escape(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Whether the browser reached us over HTTPS: said by a trusted proxy (Palaver itself speaks
/// plain HTTP).
pub fn over_https(web: &Web, peer: SocketAddr, headers: &HeaderMap) -> bool {
    let trusted = |ip: IpAddr| web.trusted_proxies.contains(&ip);
    trusted(peer.ip())
        && headers
            .get("x-forwarded-proto")
            .is_some_and(|p| p.as_bytes().eq_ignore_ascii_case(b"https"))
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, for the whole site; `Secure` over HTTPS.
/// `None` as the value clears the cookie.
pub fn set_cookie(name: &str, value: Option<&str>, secure: bool) -> String {
    let mut c = match value {
        Some(v) => format!("{name}={v}; Path=/; HttpOnly; SameSite=Lax"),
        None => format!("{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    };
    if secure {
        c.push_str("; Secure");
    }
    c
}
