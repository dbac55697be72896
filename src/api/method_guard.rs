//! The route table of `/api/v1` is its OpenAPI document: before anything else of a request is
//! looked at (rate limits, idempotency, auth, its body), a path the document does not describe
//! is a 404 and a method the path does not have is a 405 with `Allow`, both problem+json. A GET
//! path also answers HEAD; CORS preflights (OPTIONS with `Access-Control-Request-Method`) of the
//! visitor API go on to its CORS layer.

use super::error::ApiError;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::sync::Arc;

/// Where the described paths are served.
const PREFIX: &str = "/api/v1";

/// One described path: its segments (`None` for a `{parameter}`) and its methods.
struct Entry {
    segments: Vec<Option<String>>,
    methods: Vec<Method>,
    /// Under `/visitor`: CORS preflights pass.
    cors: bool,
}

/// The described paths and their methods.
#[derive(Clone)]
pub struct Routes(Arc<Vec<Entry>>);

impl Routes {
    /// The table of an OpenAPI document (its `paths`).
    pub fn of(doc: &Value) -> Self {
        let mut entries = Vec::new();
        if let Some(paths) = doc["paths"].as_object() {
            for (path, item) in paths {
                let segments = path
                    .split('/')
                    .skip(1)
                    .map(|s| (!s.starts_with('{')).then(|| s.to_string()))
                    .collect();
                let methods = item
                    .as_object()
                    .map(|ops| {
                        ops.keys()
                            .filter_map(|m| Method::from_bytes(m.to_uppercase().as_bytes()).ok())
                            .collect()
                    })
                    .unwrap_or_default();
                let cors = path.starts_with("/visitor/");
                entries.push(Entry {
                    segments,
                    methods,
                    cors,
                });
            }
        }
        Routes(Arc::new(entries))
    }

    /// The entry describing `path` (below [`PREFIX`]), literal segments winning over parameters.
    fn find(&self, path: &str) -> Option<&Entry> {
        let parts: Vec<&str> = path.split('/').skip(1).collect();
        self.0
            .iter()
            .filter(|e| {
                e.segments.len() == parts.len()
                    && e.segments.iter().zip(&parts).all(|(s, p)| match s {
                        Some(lit) => lit == p,
                        None => !p.is_empty(),
                    })
            })
            .max_by_key(|e| e.segments.iter().filter(|s| s.is_some()).count())
    }
}

/// The `Allow` header's value: the methods, HEAD beside GET.
fn allow(methods: &[Method]) -> String {
    let mut names: Vec<&str> = methods.iter().map(Method::as_str).collect();
    if methods.contains(&Method::GET) {
        names.push("HEAD");
    }
    names.join(", ")
}

pub async fn guard(State(routes): State<Routes>, req: Request, next: Next) -> Response {
    let Some(rest) = req.uri().path().strip_prefix(PREFIX) else {
        return next.run(req).await;
    };
    let Some(entry) = routes.find(rest) else {
        return ApiError::new(
            StatusCode::NOT_FOUND,
            "no-route",
            format!(
                "no such route: {PREFIX}{rest}; the API's calls are those of {PREFIX}/openapi.json"
            ),
        )
        .into_response();
    };
    let method = req.method();
    let allowed = entry.methods.contains(method)
        || (*method == Method::HEAD && entry.methods.contains(&Method::GET))
        || (*method == Method::OPTIONS
            && entry.cors
            && req
                .headers()
                .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD));
    if allowed {
        return next.run(req).await;
    }
    let allow = allow(&entry.methods);
    let mut answer = ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        format!("{PREFIX}{rest} does not take {method}; it takes {allow}"),
    )
    .into_response();
    answer.headers_mut().insert(
        header::ALLOW,
        HeaderValue::from_str(&allow).expect("method names are header-safe"),
    );
    answer
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn routes() -> Routes {
        Routes::of(&json!({"paths": {
            "/webhooks": {"get": {}, "post": {}},
            "/webhooks/{id}": {"get": {}, "patch": {}, "delete": {}},
            "/webhooks/{id}/test": {"post": {}},
            "/slack/manifest": {"get": {}},
            "/slack/{x}": {"put": {}},
        }}))
    }

    #[test]
    fn paths_match_their_template_and_literals_win() {
        let r = routes();
        let methods = |p: &str| r.find(p).map(|e| e.methods.clone());
        assert_eq!(methods("/webhooks"), Some(vec![Method::GET, Method::POST]));
        assert_eq!(
            methods("/webhooks/ep_1"),
            Some(vec![Method::GET, Method::PATCH, Method::DELETE])
        );
        assert_eq!(methods("/webhooks/ep_1/test"), Some(vec![Method::POST]));
        assert_eq!(methods("/slack/manifest"), Some(vec![Method::GET]));
        assert_eq!(methods("/slack/other"), Some(vec![Method::PUT]));
        assert!(r.find("/webhooks/").is_none(), "an empty id is no id");
        assert!(r.find("/webhooks/ep_1/test/more").is_none());
        assert!(r.find("/nothing").is_none());
    }

    #[test]
    fn allow_lists_head_beside_get() {
        assert_eq!(allow(&[Method::GET, Method::POST]), "GET, POST, HEAD");
        assert_eq!(allow(&[Method::POST]), "POST");
    }
}
