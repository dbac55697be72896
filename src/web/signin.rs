//! Signing in and out of the console: an admin with the team's API key, an agent with the email
//! of its profile and the console password an admin gave it. A success makes a server-side
//! session (the cookie holds its token); failures from one address slow down ([`super::throttle`]).
//! The sign-in form is protected from cross-site posts by a cookie it must repeat (no session yet).

use super::Web;
use super::accounts::{by_api_key, by_password, start_session};
use super::headers::page_with;
use super::session::{Signed, current, over_https, request_cookie, set_cookie};
use crate::domain::new_secret;
use crate::domain::session::{SESSION_COOKIE, same_secret};
use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

/// The cookie the sign-in form repeats in a hidden field.
const FORM_COOKIE: &str = "palaver_signin";

#[derive(Template)]
#[template(path = "admin/sign_in.html")]
struct SignInPage<'a> {
    admin: bool,
    error: &'a str,
    notice: &'a str,
    email: &'a str,
    csrf: &'a str,
    next: &'a str,
    /// The same page for the other kind of account, keeping `next`.
    switch_href: String,
}

#[derive(Deserialize, Default)]
pub struct SignInQuery {
    #[serde(default, rename = "as")]
    role: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    signed_out: Option<String>,
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    api_key: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
}

/// `/admin`: the console when signed in, else the sign-in page.
pub async fn admin_home(State(web): State<Arc<Web>>, headers: HeaderMap) -> Redirect {
    match current(&web, &headers).await {
        Some(_) => Redirect::to("/admin/conversations"),
        None => Redirect::to("/admin/sign-in"),
    }
}

pub async fn form(Query(q): Query<SignInQuery>) -> Response {
    let notice = if q.signed_out.is_some() {
        "You are signed out."
    } else {
        ""
    };
    show(StatusCode::OK, q.role == "admin", "", notice, "", &q.next)
}

/// The form with a fresh form cookie.
fn show(
    status: StatusCode,
    admin: bool,
    error: &str,
    notice: &str,
    email: &str,
    next: &str,
) -> Response {
    let csrf = new_secret("");
    let mut r = page_with(
        status,
        &SignInPage {
            admin,
            error,
            notice,
            email,
            csrf: &csrf,
            next,
            switch_href: switch_href(!admin, next),
        },
    );
    let cookie = set_cookie(FORM_COOKIE, Some(&csrf), false);
    r.headers_mut().append(
        header::SET_COOKIE,
        cookie.parse().expect("a cookie is a header value"),
    );
    r
}

pub async fn submit(
    State(web): State<Arc<Web>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<SignInForm>,
) -> Response {
    let admin = f.email.is_empty() && !f.api_key.is_empty();
    let ip = super::client_ip(&web, peer, &headers);
    let expected = request_cookie(&headers, FORM_COOKIE).unwrap_or("");
    if expected.is_empty() || !same_secret(&f.csrf, expected) {
        let error = "This sign-in form had expired. Please try again.";
        return show(StatusCode::FORBIDDEN, admin, error, "", &f.email, &f.next);
    }
    if let Some(wait) = web.throttle.wait(ip, Instant::now()) {
        // Rounded up: a client that waits Retry-After seconds is let in.
        let secs = u64::try_from(wait.as_millis().div_ceil(1000))
            .unwrap_or(u64::MAX)
            .max(1);
        let error = format!(
            "Too many failed sign-ins from your address. Try again in {secs} second{}.",
            if secs == 1 { "" } else { "s" }
        );
        let mut r = show(
            StatusCode::TOO_MANY_REQUESTS,
            admin,
            &error,
            "",
            &f.email,
            &f.next,
        );
        r.headers_mut().insert(header::RETRY_AFTER, secs.into());
        return r;
    }
    let who = if admin {
        by_api_key(&web, &f.api_key).await
    } else {
        by_password(&web, &f.email, &f.password).await
    };
    let Some((team, agent_id)) = who else {
        web.throttle.failed(ip, Instant::now());
        tracing::info!(%ip, admin, "a console sign-in failed");
        let error = if admin {
            "That API key is not valid."
        } else {
            "That email and password do not match a console account."
        };
        return show(
            StatusCode::UNAUTHORIZED,
            admin,
            error,
            "",
            &f.email,
            &f.next,
        );
    };
    web.throttle.succeeded(ip);
    match start_session(&web, &team, agent_id.clone()).await {
        Ok(token) => {
            tracing::info!(%ip, team = %team.id, agent = agent_id.as_deref().unwrap_or("(admin)"), "signed in to the console");
            let to = if f.next.starts_with("/admin/") && !f.next.starts_with("/admin/sign-") {
                f.next.as_str()
            } else {
                "/admin/conversations"
            };
            let mut r = Redirect::to(to).into_response();
            let secure = over_https(&web, peer, &headers);
            let h = r.headers_mut();
            h.append(
                header::SET_COOKIE,
                set_cookie(SESSION_COOKIE, Some(&token), secure)
                    .parse()
                    .expect("header value"),
            );
            h.append(
                header::SET_COOKIE,
                set_cookie(FORM_COOKIE, None, secure)
                    .parse()
                    .expect("header value"),
            );
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "could not store a session");
            show(
                StatusCode::SERVICE_UNAVAILABLE,
                admin,
                "Palaver could not sign you in just now; try again.",
                "",
                &f.email,
                &f.next,
            )
        }
    }
}

#[derive(Deserialize)]
pub struct SignOutForm {
    #[serde(default)]
    csrf: String,
}

/// Ends the session server-side (the cookie stops working everywhere) and clears the cookie.
pub async fn sign_out(
    State(web): State<Arc<Web>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    signed: Signed,
    Form(f): Form<SignOutForm>,
) -> Response {
    if !signed.csrf_ok(&f.csrf) {
        return (
            StatusCode::FORBIDDEN,
            "the sign-out form is not this session's; reload the page",
        )
            .into_response();
    }
    if let Err(e) = web.store.delete_session(&signed.session.token_hash).await {
        tracing::error!(error = %e, "could not end a session");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "could not sign out; try again",
        )
            .into_response();
    }
    let mut r = Redirect::to("/admin/sign-in?signed_out=1").into_response();
    let secure = over_https(&web, peer, &headers);
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, None, secure)
            .parse()
            .expect("header value"),
    );
    r
}

/// The sign-in page for an admin (`as=admin`) or an agent, going on to `next` afterwards.
fn switch_href(admin: bool, next: &str) -> String {
    let mut href = String::from(if admin {
        "/admin/sign-in?as=admin"
    } else {
        "/admin/sign-in?"
    });
    if !next.is_empty() {
        let next = percent_encoding::utf8_percent_encode(next, percent_encoding::NON_ALPHANUMERIC);
        href.push_str(if admin { "&next=" } else { "next=" });
        href.push_str(&next.to_string());
    }
    href
}
