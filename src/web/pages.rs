//! The start page and the demo page, with the security headers every page of ours carries.

use super::Site;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// Pages load only our own scripts, styles and calls; pictures may come from anywhere (agents'
/// avatars); no one may frame them.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; \
                   connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

#[derive(Template)]
#[template(path = "index.html")]
struct Index<'a> {
    origin: &'a str,
    site_key: &'a str,
    version: &'static str,
}

#[derive(Template)]
#[template(path = "demo.html")]
struct Demo<'a> {
    origin: &'a str,
    site_key: &'a str,
}

pub async fn index(State(site): State<Arc<Site>>, headers: HeaderMap) -> Response {
    let origin = origin(&headers);
    page(Index {
        origin: &origin,
        site_key: &site.site_key,
        version: env!("CARGO_PKG_VERSION"),
    })
}

pub async fn demo(State(site): State<Arc<Site>>, headers: HeaderMap) -> Response {
    let origin = origin(&headers);
    page(Demo {
        origin: &origin,
        site_key: &site.site_key,
    })
}

pub async fn favicon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("templates/favicon.svg"),
    )
        .into_response()
}

/// The address people reach this server at, as their browser said it (for the snippets shown).
fn origin(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_graphic()))
        .unwrap_or("127.0.0.1:8080");
    let https = headers
        .get("x-forwarded-proto")
        .is_some_and(|p| p.as_bytes().eq_ignore_ascii_case(b"https"));
    format!("{}://{host}", if https { "https" } else { "http" })
}

fn page(t: impl Template) -> Response {
    let html = match t.render() {
        Ok(html) => html,
        Err(e) => {
            tracing::error!(error = %e, "a page template failed");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be drawn",
            )
                .into_response();
        }
    };
    let mut r = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}
