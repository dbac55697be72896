//! `GET /api/v1/schemas/webhook.json`: the JSON Schema (draft 2020-12) of the webhook body,
//! `schemas/webhook.json` in the repository. Public and cacheable: it changes only with a new
//! version of Palaver, which its `ETag` follows.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The schema, as it is in the repository.
pub const WEBHOOK: &str = include_str!("../../schemas/webhook.json");

/// A strong validator of the document's bytes.
static ETAG: LazyLock<String> = LazyLock::new(|| {
    let digest = Sha256::digest(WEBHOOK.as_bytes());
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
});

pub fn router<S: Clone + Send + Sync + 'static>() -> OpenApiRouter<S> {
    OpenApiRouter::new().routes(routes!(webhook))
}

/// The JSON Schema (draft 2020-12) of the webhook body
///
/// An array of 1 to 100 events, exactly PAYLOAD.md's keys. Public and cacheable; its `ETag`
/// changes only with a new version of Palaver.
#[utoipa::path(get, path = "/schemas/webhook.json", tag = "meta", operation_id = "getWebhookSchema",
    params(("If-None-Match" = Option<String>, Header, description = "An `ETag` this call gave: 304 when it still holds")),
    responses(
        (status = 200, description = "The schema", content_type = "application/schema+json", body = serde_json::Value,
            headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 304, description = "Not modified", headers(("ETag" = String))),
    ))]
async fn webhook(headers: HeaderMap) -> Response {
    let etag = ETAG.as_str();
    let common = [
        (header::ETAG, etag),
        (header::CACHE_CONTROL, "public, max-age=3600"),
        (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
    ];
    let matches = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim() == etag || tag.trim() == "*");
    if matches {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    let content_type = [(header::CONTENT_TYPE, "application/schema+json")];
    (common, content_type, WEBHOOK).into_response()
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    #[test]
    fn the_document_is_a_2020_12_schema_of_an_array_of_the_six_events() {
        let doc: Value = serde_json::from_str(super::WEBHOOK).expect("JSON");
        assert_eq!(
            doc["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        assert_eq!(doc["type"], "array");
        let events = &doc["$defs"]["event"]["properties"]["event"]["enum"];
        assert_eq!(events.as_array().map(Vec::len), Some(6));
    }
}
