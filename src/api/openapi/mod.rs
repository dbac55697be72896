//! The OpenAPI 3.1 document of `/api/v1`, generated from the code and served at
//! `GET /api/v1/openapi.json`.
//!
//! Each handler carries its `#[utoipa::path]` (method, path, parameters, body, answers, links,
//! examples) and is mounted with `utoipa_axum::routes!`, which takes the route from that same
//! attribute: a call and its description cannot part. What shared code answers for every call of
//! a kind — auth, the `Idempotency-Key` rules, bodies, rate limits, the CSRF rule of console
//! sessions — is added once, by [`complete`], from where that code is. The document is also the
//! route table of `/api/v1` (see [`super::method_guard`]): a call left out of it is not served.

mod complete;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::sync::OnceLock;
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};

/// The parts of the document that belong to no call.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Palaver API",
        version = "1",
        description = "Self-hosted live chat with Talkus-compatible webhooks.\n\n\
            Every 4xx/5xx answer is `application/problem+json` (RFC 9457) whose `detail` says what \
            to change. Ids are strings; times are ISO-8601 UTC with milliseconds. Every \
            POST/PUT/PATCH/DELETE takes an `Idempotency-Key`: the same key with the same request \
            within 24 hours answers the first answer again (`Idempotent-Replayed: true`) and \
            changes nothing.\n\n\
            The team API takes the team's API key (`Authorization: Bearer <key>`) or a signed-in \
            console's session cookie (changes then carry the page's `X-CSRF-Token`). The visitor \
            API (under `/visitor`, called by the widget from browsers: CORS open to any origin, \
            preflights cached 2 h, `Idempotent-Replayed` and `Retry-After` exposed) takes the \
            team's public site key (`X-Site-Key`) to start, then the visitor's token; it is rate \
            limited per client address and per site (429 with `Retry-After`), and a team may list \
            the websites whose pages may call it (`PATCH /team/widget` `allowedOrigins`, 403 \
            `origin-not-allowed` otherwise). A method a path does not have answers 405 with \
            `Allow`."
    ),
    servers((url = "/api/v1")),
    components(schemas(super::error::Problem)),
    modifiers(&SecuritySchemes),
    tags(
        (name = "team", description = "The team, its widget's settings and its agents"),
        (name = "webhooks", description = "Webhook endpoints, their deliveries and health"),
        (name = "conversations", description = "Conversations as agents see them, and the team's live stream"),
        (name = "visitor", description = "The widget's calls: start, read, write, give an email, follow live"),
        (name = "slack", description = "The team's Slack connection and the bridge's deliveries"),
        (name = "meta", description = "This document and the webhook body's JSON Schema"),
    )
)]
pub struct ApiDoc;

/// The ways a caller proves who it is.
struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let c = doc.components.get_or_insert_with(Default::default);
        let bearer = |description: &str| {
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(description))
                    .build(),
            )
        };
        let api_key = |key: ApiKey| SecurityScheme::ApiKey(key);
        c.add_security_scheme("apiKey", bearer("The team's API key: an admin of the team"));
        c.add_security_scheme(
            "session",
            api_key(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::domain::session::SESSION_COOKIE,
                "A signed-in console's session (an admin's, or an agent's: an agent acts only as itself and cannot use admin-only calls)",
            ))),
        );
        c.add_security_scheme(
            "csrf",
            api_key(ApiKey::Header(ApiKeyValue::with_description(
                "X-CSRF-Token",
                "The console page's CSRF token, which every change made with a session must carry",
            ))),
        );
        c.add_security_scheme(
            "siteKey",
            api_key(ApiKey::Header(ApiKeyValue::with_description(
                "X-Site-Key",
                "The team's public site key (GET /team `siteKey`), which the widget sends",
            ))),
        );
        c.add_security_scheme(
            "visitorToken",
            bearer("The `visitorToken` that POST /visitor/conversations answered"),
        );
        c.add_security_scheme(
            "visitorTokenQuery",
            api_key(ApiKey::Query(ApiKeyValue::with_description(
                "visitorToken",
                "The visitor's token as a query parameter, for an EventSource (which cannot set headers)",
            ))),
        );
    }
}

/// The finished document, as served (set once, when the app is built).
static DOCUMENT: OnceLock<String> = OnceLock::new();

/// Finishes the document that the routes gathered and keeps it to serve; answers it as JSON.
pub fn finish(doc: utoipa::openapi::OpenApi) -> Value {
    let mut value = serde_json::to_value(&doc).expect("the document serializes");
    complete::complete(&mut value);
    let _ = DOCUMENT.set(serde_json::to_string_pretty(&value).expect("JSON serializes"));
    value
}

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "meta",
    operation_id = "getOpenApi",
    responses((status = 200, description = "The OpenAPI 3.1 document of this API", content_type = "application/json", body = serde_json::Value)),
)]
pub async fn document() -> Response {
    let doc = DOCUMENT.get().map(String::as_str).unwrap_or("{}");
    (
        [(header::CONTENT_TYPE, "application/json")],
        doc.to_string(),
    )
        .into_response()
}
