//! What people open in a browser, served from the binary: the widget script that websites embed
//! (`/widget.js`), the start page (`/`) and the demo page (`/demo`) that shows the widget working.
//! Templates are compiled in (askama); scripts and styles are our own files, embedded.

mod assets;
mod minify;
mod pages;

use axum::Router;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use std::sync::Arc;

/// What the pages need to know.
pub struct Site {
    /// The default team's public site key: the demo page embeds the widget with it.
    pub site_key: String,
}

/// The routes of the web side, to merge beside the API's.
pub fn router(site: Site) -> Router {
    let site = Arc::new(site);
    Router::new()
        .route("/", get(pages::index))
        .route("/demo", get(pages::demo))
        .route("/widget.js", get(widget))
        .route("/assets/site.css", get(site_css))
        .route("/favicon.svg", get(pages::favicon))
        .with_state(site)
}

async fn widget(headers: HeaderMap) -> Response {
    assets::WIDGET.respond(&headers)
}

async fn site_css(headers: HeaderMap) -> Response {
    assets::SITE_CSS.respond(&headers)
}
