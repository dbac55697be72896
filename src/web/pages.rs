//! The start page and the demo page, with the security headers every page of ours carries.

use super::Web;
use super::headers::page;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

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

pub async fn index(State(site): State<Arc<Web>>, headers: HeaderMap) -> Response {
    let origin = origin(&headers);
    page(&Index {
        origin: &origin,
        site_key: &site.site_key,
        version: env!("CARGO_PKG_VERSION"),
    })
}

pub async fn demo(State(site): State<Arc<Web>>, headers: HeaderMap) -> Response {
    let origin = origin(&headers);
    page(&Demo {
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
