//! What people open in a browser, served from the binary: the widget script that websites embed
//! (`/widget.js`), the start page (`/`) and the demo page (`/demo`), and the console under
//! `/admin` (sign-in and sessions, with CSRF tokens). Templates are compiled in (askama);
//! scripts and styles are our own files, embedded. The console's pages act through the JSON
//! API, which accepts their session cookie (see `api::session_auth`).

mod accounts;
mod agents_page;
mod assets;
mod console;
mod frame;
mod headers;
mod integration;
mod minify;
mod pages;
mod session;
mod signin;
mod throttle;

use crate::store::Store;
use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// What the pages need.
pub struct Web {
    /// The default team's public site key: the demo page embeds the widget with it.
    pub site_key: String,
    pub store: Arc<dyn Store>,
    /// How long an unused console session lives.
    pub session_idle: Duration,
    /// Proxies believed about the client's address and about HTTPS.
    pub trusted_proxies: Arc<Vec<IpAddr>>,
    /// Failed sign-ins by address.
    throttle: throttle::Throttle,
}

impl Web {
    pub fn new(
        site_key: String,
        store: Arc<dyn Store>,
        session_idle: Duration,
        trusted_proxies: Arc<Vec<IpAddr>>,
    ) -> Self {
        Web {
            site_key,
            store,
            session_idle,
            trusted_proxies,
            throttle: throttle::Throttle::default(),
        }
    }
}

/// The routes of the web side, to merge beside the API's.
pub fn router(web: Web) -> Router {
    let web = Arc::new(web);
    Router::new()
        .route("/", get(pages::index))
        .route("/demo", get(pages::demo))
        .route("/widget.js", get(widget))
        .route("/assets/site.css", get(site_css))
        .route("/favicon.svg", get(pages::favicon))
        .route("/assets/console/{name}", get(console_asset))
        .route("/admin", get(signin::admin_home))
        .route("/admin/sign-in", get(signin::form).post(signin::submit))
        .route("/admin/sign-out", post(signin::sign_out))
        .route("/admin/conversations", get(console::conversations))
        .route("/admin/integration", get(integration::show))
        .route(
            "/admin/integration/webhooks/{id}",
            get(integration::webhook),
        )
        .route(
            "/admin/integration/webhooks/{id}/deliveries/{delivery_id}",
            get(integration::delivery),
        )
        .route("/admin/integration/slack", get(integration::slack))
        .route(
            "/admin/integration/slack/deliveries/{delivery_id}",
            get(integration::slack_delivery),
        )
        .route("/admin/agents", get(agents_page::show))
        .with_state(web)
}

async fn widget(headers: HeaderMap) -> Response {
    assets::WIDGET.respond(&headers)
}

async fn site_css(headers: HeaderMap) -> Response {
    assets::SITE_CSS.respond(&headers)
}

async fn console_asset(Path(name): Path<String>, headers: HeaderMap) -> Response {
    match assets::console(&name) {
        Some(a) => a.respond(&headers),
        None => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}

/// The client's address, behind trusted proxies.
fn client_ip(web: &Web, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok());
    crate::domain::net::client_ip(peer.ip(), forwarded, &web.trusted_proxies)
}
