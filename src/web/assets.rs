//! Static files embedded in the binary: the widget script (its JavaScript parts and its CSS put
//! together once) and the pages' stylesheet. Each is compressed once, answered with an `ETag`
//! and `Cache-Control`, gzip when the client accepts it, and `304` when its copy is current.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::sync::LazyLock;

/// One file, ready to answer.
pub struct Asset {
    content_type: &'static str,
    /// Browsers keep it this long before asking again with `If-None-Match`.
    cache_control: &'static str,
    body: Vec<u8>,
    gzip: Vec<u8>,
    etag: String,
}

impl Asset {
    fn new(content_type: &'static str, cache_control: &'static str, body: Vec<u8>) -> Self {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&body).expect("gzip into memory");
        let gzip = gz.finish().expect("gzip into memory");
        let digest = Sha256::digest(&body);
        let etag = format!("\"{}\"", crate::domain::ids::lower_hex(&digest[..12]));
        Asset {
            content_type,
            cache_control,
            body,
            gzip,
            etag,
        }
    }

    /// Answers a `GET` for this file.
    pub fn respond(&self, request: &HeaderMap) -> Response {
        let mut headers = HeaderMap::new();
        let etag = HeaderValue::from_str(&self.etag).expect("hex is a header value");
        headers.insert(header::ETAG, etag);
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(self.cache_control),
        );
        headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        // Pages of any origin may load it, even those isolated with COEP.
        headers.insert(
            "cross-origin-resource-policy",
            HeaderValue::from_static("cross-origin"),
        );
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        if matches_etag(request, &self.etag) {
            return (StatusCode::NOT_MODIFIED, headers).into_response();
        }
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        if accepts_gzip(request) {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            return (headers, self.gzip.clone()).into_response();
        }
        (headers, self.body.clone()).into_response()
    }
}

fn matches_etag(request: &HeaderMap, etag: &str) -> bool {
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*")
}

/// Whether `Accept-Encoding` takes gzip (and does not refuse it with `q=0`).
fn accepts_gzip(request: &HeaderMap) -> bool {
    request
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or("");
            let refused = parts.any(|p| p.replace(' ', "") == "q=0" || p == "q=0.0");
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

/// The widget's parts, in the order they are put together.
const WIDGET_PARTS: &[&str] = &[
    include_str!("widget/memory.js"),
    include_str!("widget/client.js"),
    include_str!("widget/dom.js"),
    include_str!("shared/links.js"),
    include_str!("widget/view.js"),
    include_str!("widget/transcript.js"),
    include_str!("widget/conversation.js"),
    include_str!("widget/calls.js"),
    include_str!("widget/boot.js"),
];

/// `widget.js`: one function scope holding every part and the CSS, so that the page gets one
/// global (`palaver`) and nothing else.
pub static WIDGET: LazyLock<Asset> = LazyLock::new(|| {
    let css = serde_json::to_string(&super::minify::css(include_str!("widget/widget.css")))
        .expect("a string serializes");
    let mut js = String::from("/* Palaver chat widget */\n(function () {\n'use strict';\n");
    js.push_str(&format!("var PALAVER_CSS = {css};\n"));
    for part in WIDGET_PARTS {
        js.push_str(&super::minify::js(part));
    }
    js.push_str("})();\n");
    Asset::new(
        "text/javascript; charset=utf-8",
        "public, max-age=300, stale-while-revalidate=86400",
        js.into_bytes(),
    )
});

/// The stylesheet of Palaver's own pages.
pub static SITE_CSS: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "text/css; charset=utf-8",
        "public, max-age=300",
        super::minify::css(include_str!("templates/site.css")).into_bytes(),
    )
});

/// The console's shared script: the links renderer and app.js in one function scope.
const APP_JS: &str = concat!(
    "(function () {\n'use strict';\n",
    include_str!("shared/links.js"),
    include_str!("admin/app.js"),
    "})();\n"
);

/// The console's scripts and styles, by their name under `/assets/console/`. Served as written
/// (gzip makes them small; they are loaded by signed-in users only).
pub fn console(name: &str) -> Option<&'static Asset> {
    static FILES: LazyLock<Vec<(&str, Asset)>> = LazyLock::new(|| {
        let js = "text/javascript; charset=utf-8";
        let css = "text/css; charset=utf-8";
        let cache = "public, max-age=300";
        let file =
            |name, kind, text: &str| (name, Asset::new(kind, cache, text.as_bytes().to_vec()));
        vec![
            file("app.css", css, include_str!("admin/app.css")),
            file("app.js", js, APP_JS),
            file(
                "conversations.css",
                css,
                include_str!("admin/conversations.css"),
            ),
            file(
                "conversations.js",
                js,
                include_str!("admin/conversations.js"),
            ),
            file("thread.js", js, include_str!("admin/thread.js")),
            file("integration.js", js, include_str!("admin/integration.js")),
            file(
                "integration.css",
                css,
                include_str!("admin/integration.css"),
            ),
            file(
                "integration-kit.js",
                js,
                include_str!("admin/integration-kit.js"),
            ),
            file(
                "integration-log.js",
                js,
                include_str!("admin/integration-log.js"),
            ),
            file(
                "integration-webhook.js",
                js,
                include_str!("admin/integration-webhook.js"),
            ),
            file(
                "integration-delivery.js",
                js,
                include_str!("admin/integration-delivery.js"),
            ),
            file(
                "integration-slack.css",
                css,
                include_str!("admin/integration-slack.css"),
            ),
            file(
                "integration-slack.js",
                js,
                include_str!("admin/integration-slack.js"),
            ),
            file(
                "integration-slack-setup.js",
                js,
                include_str!("admin/integration-slack-setup.js"),
            ),
            file(
                "integration-slack-log.js",
                js,
                include_str!("admin/integration-slack-log.js"),
            ),
            file("agents.js", js, include_str!("admin/agents.js")),
            file("agent_form.js", js, include_str!("admin/agent_form.js")),
            file("agents.css", css, include_str!("admin/agents.css")),
        ]
    });
    FILES.iter().find(|(n, _)| *n == name).map(|(_, a)| a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_widget_stays_small() {
        let size = WIDGET.body.len();
        assert!(size < 40 * 1024, "widget.js is {size} bytes");
        let js = String::from_utf8(WIDGET.body.clone()).unwrap();
        assert!(
            js.contains("var PALAVER_CSS = \".pv-root"),
            "the CSS is inlined"
        );
        assert!(!js.contains("\n//"), "comment lines are dropped");
    }

    #[test]
    fn gzip_is_answered_only_when_accepted() {
        let mut h = HeaderMap::new();
        assert!(!accepts_gzip(&h));
        h.insert(
            header::ACCEPT_ENCODING,
            "gzip, deflate, br".parse().unwrap(),
        );
        assert!(accepts_gzip(&h));
        h.insert(header::ACCEPT_ENCODING, "br, gzip;q=0".parse().unwrap());
        assert!(!accepts_gzip(&h));
    }

    #[test]
    fn a_current_copy_gets_304() {
        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, WIDGET.etag.parse().unwrap());
        assert_eq!(WIDGET.respond(&h).status(), StatusCode::NOT_MODIFIED);
        h.insert(header::IF_NONE_MATCH, "\"other\"".parse().unwrap());
        assert_eq!(WIDGET.respond(&h).status(), StatusCode::OK);
    }
}
