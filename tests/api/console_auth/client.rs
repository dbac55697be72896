//! A browser as the console sees it, without the browser: a client that follows no redirect and
//! keeps the cookies the server sets (its own small jar), for the sign-in form, the pages and
//! the API calls a page's script makes with the session's CSRF token.

use std::collections::BTreeMap;

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::client::ApiResponse;
use crate::helpers::TestApp;

pub const SESSION: &str = "palaver_session";
pub const FORM_COOKIE: &str = "palaver_signin";

/// One browser: its cookies, and optionally an `X-Forwarded-*` header set it always sends.
pub struct Console<'a> {
    app: &'a TestApp,
    http: reqwest::Client,
    cookies: BTreeMap<String, String>,
    extra: Vec<(String, String)>,
}

impl<'a> Console<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .expect("build http client");
        Console {
            app,
            http,
            cookies: BTreeMap::new(),
            extra: Vec::new(),
        }
    }

    /// A browser holding `token` as its session cookie (e.g. one copied before a sign-out).
    pub fn with_session(app: &'a TestApp, token: &str) -> Self {
        let mut c = Console::new(app);
        c.cookies.insert(SESSION.to_owned(), token.to_owned());
        c
    }

    /// A header sent with every request (as if through a proxy).
    pub fn always(mut self, name: &str, value: &str) -> Self {
        self.extra.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The session cookie's value, if the server set one.
    pub fn session(&self) -> Option<String> {
        self.cookies.get(SESSION).cloned()
    }

    pub async fn get(&mut self, path: &str) -> ApiResponse {
        self.send(Method::GET, path, Vec::new(), None).await
    }

    pub async fn post_form(&mut self, path: &str, form: &[(&str, &str)]) -> ApiResponse {
        let body = form_encode(form);
        let headers = vec![(
            "content-type".to_owned(),
            "application/x-www-form-urlencoded".to_owned(),
        )];
        self.send(Method::POST, path, headers, Some(body.into_bytes()))
            .await
    }

    /// A call under `/api/v1` as a page's script makes it: the cookies, JSON, and `csrf` in
    /// `X-CSRF-Token` when given.
    pub async fn api(
        &mut self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        csrf: Option<&str>,
    ) -> ApiResponse {
        let mut headers = vec![("accept".to_owned(), "application/json".to_owned())];
        if let Some(token) = csrf {
            headers.push(("x-csrf-token".to_owned(), token.to_owned()));
        }
        let bytes = body.map(|b| {
            headers.push(("content-type".to_owned(), "application/json".to_owned()));
            serde_json::to_vec(b).expect("serialize body")
        });
        self.send(method, &format!("/api/v1{path}"), headers, bytes)
            .await
    }

    /// Opens the sign-in form (`?as=admin` for the API key) and answers its hidden CSRF field.
    pub async fn open_sign_in(&mut self, admin: bool) -> String {
        let path = if admin {
            "/admin/sign-in?as=admin"
        } else {
            "/admin/sign-in"
        };
        let page = self.get(path).await;
        assert_eq!(page.status, 200, "{}", page.text());
        assert!(
            self.cookies.contains_key(FORM_COOKIE),
            "the sign-in form sets its {FORM_COOKIE} cookie: {:?}",
            page.headers
        );
        attr_after(&page.text(), r#"name="csrf" value=""#)
    }

    /// Signs in with the API key through the form; answers the form's answer.
    pub async fn sign_in_admin(&mut self, key: &str) -> ApiResponse {
        let csrf = self.open_sign_in(true).await;
        let form = [("csrf", csrf.as_str()), ("api_key", key), ("next", "")];
        self.post_form("/admin/sign-in", &form).await
    }

    /// Signs in as an agent with its profile email and console password.
    pub async fn sign_in_agent(&mut self, email: &str, password: &str) -> ApiResponse {
        let csrf = self.open_sign_in(false).await;
        let form = [
            ("csrf", csrf.as_str()),
            ("email", email),
            ("password", password),
        ];
        self.post_form("/admin/sign-in", &form).await
    }

    /// The session's CSRF token, as a console page gives it to its script.
    pub async fn csrf(&mut self) -> String {
        let page = self.get("/admin/conversations").await;
        assert_eq!(page.status, 200, "a console page: {}", page.text());
        attr_after(&page.text(), r#"<meta name="csrf-token" content=""#)
    }

    async fn send(
        &mut self,
        method: Method,
        path: &str,
        headers: Vec<(String, String)>,
        body: Option<Vec<u8>>,
    ) -> ApiResponse {
        let what = format!("{method} {path}");
        let url = format!("{}{path}", self.app.address());
        let mut req = self.http.request(method, &url);
        for (k, v) in headers.iter().chain(&self.extra) {
            req = req.header(k, v);
        }
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            req = req.header("cookie", jar.join("; "));
        }
        if let Some(b) = body {
            req = req.body(b);
        }
        let resp = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{what}: request failed: {e}"));
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        self.keep(&headers);
        let body = resp.bytes().await.expect("read body").to_vec();
        ApiResponse {
            what,
            status,
            headers,
            body,
        }
    }

    fn keep(&mut self, headers: &HeaderMap) {
        for v in headers.get_all("set-cookie") {
            let v = v.to_str().expect("a Set-Cookie is text");
            let (name, value) = v
                .split(';')
                .next()
                .and_then(|p| p.split_once('='))
                .expect("a Set-Cookie has name=value");
            let cleared = value.is_empty() || v.to_ascii_lowercase().contains("max-age=0");
            if cleared {
                self.cookies.remove(name.trim());
            } else {
                self.cookies
                    .insert(name.trim().to_owned(), value.to_owned());
            }
        }
    }
}

/// The `Set-Cookie` header of the answer for `name`, if any.
pub fn set_cookie(r: &ApiResponse, name: &str) -> Option<String> {
    r.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

/// The `Location` of a redirect, asserting that it is one (303, 302 or 307).
pub fn redirect_to(r: &ApiResponse) -> String {
    assert!(
        [302, 303, 307].contains(&r.status),
        "{}: expected a redirect, got {} {}",
        r.what,
        r.status,
        r.text()
    );
    r.headers
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("{}: a redirect without Location", r.what))
        .to_owned()
}

/// The text between `prefix` and the next `"` in `html` (an attribute's value).
pub fn attr_after(html: &str, prefix: &str) -> String {
    let start = html
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix:?} in the page:\n{html}"))
        + prefix.len();
    let len = html[start..].find('"').expect("a closing quote");
    html[start..start + len].to_owned()
}

fn form_encode(form: &[(&str, &str)]) -> String {
    form.iter()
        .map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
