//! The web side served beside the API: the widget script (cached, compressed, small), the start
//! page and the demo page (with the default team's site key), and their security headers.

use std::io::Read;

use reqwest::Method;

use crate::helpers::TestApp;
use crate::stores::TestStore;

fn header<'a>(r: &'a crate::client::ApiResponse, name: &str) -> &'a str {
    r.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("{}: no {name} header: {:?}", r.what, r.headers))
}

#[tokio::test]
async fn the_widget_script_is_cached_compressed_and_small() {
    let app = TestApp::spawn(TestStore::Sqlite).await;
    let plain = app.call(Method::GET, "/widget.js").send().await;
    assert_eq!(plain.status, 200, "{}", plain.text());
    assert!(header(&plain, "content-type").starts_with("text/javascript"));
    assert!(
        plain.body.len() < 40 * 1024,
        "widget.js is {} bytes",
        plain.body.len()
    );
    assert!(plain.headers.get("content-encoding").is_none());
    let js = plain.text();
    assert!(
        js.contains("window.palaver=palaver"),
        "defines the one global"
    );
    assert!(header(&plain, "cache-control").contains("max-age="));

    let gz = app
        .call(Method::GET, "/widget.js")
        .header("accept-encoding", "gzip, br")
        .send()
        .await;
    assert_eq!(header(&gz, "content-encoding"), "gzip");
    assert!(gz.body.len() < plain.body.len() / 2, "gzip shrinks it");
    let mut unzipped = String::new();
    flate2::read::GzDecoder::new(&gz.body[..])
        .read_to_string(&mut unzipped)
        .expect("a gzip body");
    assert_eq!(unzipped, js, "the same script, compressed");

    let etag = header(&plain, "etag").to_owned();
    assert_eq!(header(&gz, "etag"), etag, "one file, one tag");
    let again = app
        .call(Method::GET, "/widget.js")
        .header("if-none-match", &etag)
        .send()
        .await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
}

#[tokio::test]
async fn the_demo_page_embeds_the_widget_with_the_default_site_key() {
    let app = TestApp::spawn(TestStore::Sqlite).await;
    let site_key = app.site_key().await;
    let demo = app.call(Method::GET, "/demo").send().await;
    assert_eq!(demo.status, 200, "{}", demo.text());
    assert!(header(&demo, "content-type").starts_with("text/html"));
    let html = demo.text();
    let tag = format!(r#"<script src="/widget.js" data-site-key="{site_key}" async></script>"#);
    assert!(html.contains(&tag), "the demo embeds {tag}:\n{html}");

    let start = app.call(Method::GET, "/").send().await;
    assert_eq!(start.status, 200);
    let html = start.text();
    assert!(
        html.contains(r#"href="/demo""#),
        "the start page links to the demo"
    );
    let address = app.address();
    assert!(
        html.contains(&format!("{address}/widget.js")) && html.contains(&site_key),
        "the start page shows the snippet for this server:\n{html}"
    );
}

#[tokio::test]
async fn pages_carry_security_headers() {
    let app = TestApp::spawn(TestStore::Sqlite).await;
    for path in ["/", "/demo"] {
        let page = app.call(Method::GET, path).send().await;
        let csp = header(&page, "content-security-policy");
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(header(&page, "x-content-type-options"), "nosniff");
        assert!(page.headers.contains_key("referrer-policy"));
    }
    let css = app.call(Method::GET, "/assets/site.css").send().await;
    assert_eq!(css.status, 200);
    assert!(header(&css, "content-type").starts_with("text/css"));
}

#[tokio::test]
async fn unknown_pages_still_answer_problem_json() {
    let app = TestApp::spawn(TestStore::Sqlite).await;
    let r = app.call(Method::GET, "/no-such-page").send().await;
    assert_eq!(r.status, 404);
    assert!(header(&r, "content-type").starts_with("application/problem+json"));
}
