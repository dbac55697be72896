//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 description of the HTTP API.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

/// The document, written by hand for now (the roadmap plans generating it from the handlers).
const DOCUMENT: &str = include_str!("openapi.json");

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route(
        "/openapi.json",
        get(|| async { ([(header::CONTENT_TYPE, "application/json")], DOCUMENT).into_response() }),
    )
}

#[cfg(test)]
mod tests {
    use super::DOCUMENT;
    use serde_json::Value;

    /// Every call of API.md (and of the widget's settings, issue 10, and the Slack bridge's,
    /// issue 12), as (method, path).
    const CALLS: &[(&str, &str)] = &[
        ("get", "/team"),
        ("get", "/team/widget"),
        ("patch", "/team/widget"),
        ("put", "/agents/{agentId}"),
        ("get", "/agents"),
        ("get", "/agents/{agentId}"),
        ("delete", "/agents/{agentId}"),
        ("post", "/webhooks"),
        ("get", "/webhooks"),
        ("get", "/webhooks/{id}"),
        ("patch", "/webhooks/{id}"),
        ("delete", "/webhooks/{id}"),
        ("post", "/webhooks/{id}/rotate-secret"),
        ("post", "/webhooks/{id}/test"),
        ("get", "/webhooks/{id}/deliveries"),
        ("get", "/webhooks/{id}/deliveries/{deliveryId}"),
        ("post", "/webhooks/{id}/deliveries/{deliveryId}/redeliver"),
        ("post", "/webhooks/{id}/recover"),
        ("get", "/webhooks/{id}/health"),
        ("get", "/conversations"),
        ("get", "/conversations/{id}"),
        ("post", "/conversations/{id}/join"),
        ("post", "/conversations/{id}/messages"),
        ("post", "/conversations/{id}/end"),
        ("get", "/visitor/widget"),
        ("post", "/visitor/conversations"),
        ("get", "/visitor/conversations/{id}"),
        ("post", "/visitor/conversations/{id}/messages"),
        ("put", "/visitor/conversations/{id}/email"),
        ("get", "/visitor/conversations/{id}/events"),
        ("get", "/events"),
        ("get", "/schemas/webhook.json"),
        ("put", "/slack"),
        ("get", "/slack"),
        ("patch", "/slack"),
        ("delete", "/slack"),
        ("get", "/slack/manifest"),
        ("get", "/slack/deliveries"),
        ("get", "/slack/deliveries/{deliveryId}"),
        ("post", "/slack/deliveries/{deliveryId}/redeliver"),
    ];

    #[test]
    fn describes_every_call_of_the_contract() {
        let doc: Value = serde_json::from_str(DOCUMENT).expect("the document is JSON");
        assert_eq!(doc["openapi"], "3.1.0");
        for (method, path) in CALLS {
            let op = &doc["paths"][path][method];
            assert!(op.is_object(), "{method} {path} is not described");
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{method} {path} has no responses"
            );
        }
        let described: usize = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|p| {
                p.as_object()
                    .unwrap()
                    .keys()
                    .filter(|k| *k != "parameters")
                    .count()
            })
            .sum();
        assert_eq!(
            described,
            CALLS.len(),
            "the document describes calls the contract does not list"
        );
    }

    #[test]
    fn every_reference_resolves() {
        let doc: Value = serde_json::from_str(DOCUMENT).unwrap();
        let text = DOCUMENT;
        for part in text.split("\"$ref\": \"#/").skip(1) {
            let target = &part[..part.find('"').unwrap()];
            let mut node = &doc;
            for key in target.split('/') {
                node = &node[key];
            }
            assert!(!node.is_null(), "dangling $ref #/{target}");
        }
    }
}
