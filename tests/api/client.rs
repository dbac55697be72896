//! Raw HTTP calls to the server under test: a small builder and a response with assertions.

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::helpers::TestApp;

/// Credentials attached to a call.
#[derive(Clone, Debug)]
pub enum Auth {
    None,
    /// `Authorization: Bearer <token>` (an API key or a visitor token).
    Bearer(String),
    /// `X-Site-Key: <key>`.
    SiteKey(String),
}

/// One request being built; `send` performs it.
pub struct Call<'a> {
    app: &'a TestApp,
    method: Method,
    path: String,
    auth: Auth,
    headers: Vec<(String, String)>,
    body: Option<(Vec<u8>, String)>,
}

impl TestApp {
    /// A call under `/api/v1` with the default team's API key.
    pub fn api(&self, method: Method, path: &str) -> Call<'_> {
        self.call(method, &format!("/api/v1{path}"))
            .auth(Auth::Bearer(self.api_key.clone()))
    }

    /// A call to any path of the server, without credentials.
    pub fn call(&self, method: Method, path: &str) -> Call<'_> {
        Call {
            app: self,
            method,
            path: path.to_owned(),
            auth: Auth::None,
            headers: Vec::new(),
            body: None,
        }
    }
}

impl Call<'_> {
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    pub fn bearer(self, token: &str) -> Self {
        self.auth(Auth::Bearer(token.to_owned()))
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn json(self, body: &Value) -> Self {
        let bytes = serde_json::to_vec(body).expect("serialize body");
        self.raw(bytes, "application/json")
    }

    pub fn raw(mut self, body: impl Into<Vec<u8>>, content_type: &str) -> Self {
        self.body = Some((body.into(), content_type.to_owned()));
        self
    }

    /// `METHOD /path`, for messages.
    pub fn what(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// Performs the call; panics if no answer came.
    pub async fn send(self) -> ApiResponse {
        let what = self.what();
        self.try_send()
            .await
            .unwrap_or_else(|e| panic!("{what}: request failed: {e}"))
    }

    /// Performs the call; `Err` when the server did not answer (e.g. it was killed).
    pub async fn try_send(self) -> Result<ApiResponse, reqwest::Error> {
        let what = self.what();
        let resp = self.request().send().await?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.bytes().await?;
        Ok(ApiResponse {
            what,
            status,
            headers,
            body: body.to_vec(),
        })
    }

    /// Performs the call and returns the answer with its body unread (a stream).
    pub async fn open(self) -> reqwest::Response {
        let what = self.what();
        self.request()
            .send()
            .await
            .unwrap_or_else(|e| panic!("{what}: request failed: {e}"))
    }

    fn request(self) -> reqwest::RequestBuilder {
        let url = format!("{}{}", self.app.address(), self.path);
        let mut req = self.app.client.request(self.method, &url);
        req = match &self.auth {
            Auth::None => req,
            Auth::Bearer(token) => req.header("authorization", format!("Bearer {token}")),
            Auth::SiteKey(key) => req.header("x-site-key", key),
        };
        for (name, value) in &self.headers {
            req = req.header(name, value);
        }
        if let Some((bytes, content_type)) = self.body {
            req = req.header("content-type", content_type).body(bytes);
        }
        req
    }
}

/// An answer of the server, kept whole so assertions can print it.
#[derive(Clone, Debug)]
pub struct ApiResponse {
    /// `METHOD /path`, for messages.
    pub what: String,
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl ApiResponse {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The body as JSON (`Null` when empty).
    pub fn json(&self) -> Value {
        if self.body.is_empty() {
            return Value::Null;
        }
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{}: the answer is not JSON ({e}): {}",
                self.what,
                self.text()
            )
        })
    }

    /// Asserts the status and returns the JSON body.
    pub fn expect_json(&self, status: u16) -> Value {
        self.expect_status(status);
        self.json()
    }

    pub fn expect_status(&self, status: u16) -> &Self {
        assert_eq!(
            self.status,
            status,
            "{}: expected status {status}, got {} with body {}",
            self.what,
            self.status,
            self.text()
        );
        self
    }

    /// Asserts an RFC 9457 problem with this status and a useful `detail`; returns it.
    pub fn expect_problem(&self, status: u16) -> Value {
        self.expect_status(status);
        assert!(
            self.content_type().starts_with("application/problem+json"),
            "{}: a {status} must be application/problem+json, got content-type {:?}: {}",
            self.what,
            self.content_type(),
            self.text()
        );
        let problem = self.json();
        let detail = problem["detail"].as_str().unwrap_or("");
        assert!(
            !detail.trim().is_empty(),
            "{}: problem lacks a non-empty string detail: {problem}",
            self.what
        );
        assert_eq!(
            problem["status"],
            Value::from(status),
            "{}: problem.status must equal the HTTP status: {problem}",
            self.what
        );
        for key in ["type", "title"] {
            assert!(
                problem[key].is_string(),
                "{}: problem lacks string {key}: {problem}",
                self.what
            );
        }
        problem
    }
}
