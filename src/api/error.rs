//! Every 4xx/5xx as `application/problem+json` (RFC 9457) with a `detail` a person can act on.

use crate::chat::ChatError;
use crate::store::StoreError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    /// Machine-readable code; the `type` is `urn:palaver:problem:<code>`.
    pub code: &'static str,
    pub detail: String,
    /// Seconds for a `Retry-After` header (429, 503).
    pub retry_after: Option<u64>,
}

/// An error (RFC 9457): what went wrong, for programs (`type`, `status`) and for people
/// (`detail`, which says what to change).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(example = json!({
    "type": "urn:palaver:problem:not-found",
    "title": "Not Found",
    "status": 404,
    "detail": "webhook not found (or not yours)"
}))]
pub struct Problem<'a> {
    /// `urn:palaver:problem:<code>`: the kind of error, stable for programs to act on.
    #[serde(rename = "type")]
    #[schema(pattern = "^urn:palaver:problem:[a-z-]+$")]
    kind: String,
    /// The status's reason phrase.
    title: &'a str,
    /// The HTTP status, repeated.
    #[schema(minimum = 400, maximum = 599)]
    status: u16,
    /// What is wrong and what to do about it, for a person.
    detail: &'a str,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            detail: detail.into(),
            retry_after: None,
        }
    }
    /// This error answered with `Retry-After: secs`.
    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad-request", detail)
    }
    pub fn unprocessable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-value", detail)
    }
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("{what} not found (or not yours)"),
        )
    }
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", detail)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(status = self.status.as_u16(), detail = %self.detail, "request failed");
        }
        let problem = Problem {
            kind: format!("urn:palaver:problem:{}", self.code),
            title: self.status.canonical_reason().unwrap_or("Error"),
            status: self.status.as_u16(),
            detail: &self.detail,
        };
        let body = serde_json::to_vec(&problem).expect("a problem serializes");
        let mut response = (self.status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::not_found("the resource"),
            StoreError::Conflict(_) => ApiError::conflict("a concurrent change won; try again"),
            StoreError::Closed => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "shutting-down",
                "the server is shutting down; try again",
            ),
            other => {
                let mut chain = other.to_string();
                let mut source = std::error::Error::source(&other);
                while let Some(s) = source {
                    chain.push_str(": ");
                    chain.push_str(&s.to_string());
                    source = s.source();
                }
                tracing::error!(error = %chain, "store failure");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "the store failed; the error is in the server's log",
                )
            }
        }
    }
}

impl From<ChatError> for ApiError {
    fn from(e: ChatError) -> Self {
        let detail = e.to_string();
        match e {
            ChatError::NotFound(what) => ApiError::not_found(what),
            ChatError::Ended => {
                ApiError::conflict("the conversation has ended; a visitor message starts a new one")
            }
            ChatError::InvalidEmail(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-email", detail)
            }
            ChatError::UnknownAgent(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unknown-agent", detail)
            }
            ChatError::Invalid(_) => ApiError::unprocessable(detail),
            ChatError::IdempotencyMismatch => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                detail,
            ),
            ChatError::BadVisitorToken => ApiError::unauthorized(
                "the visitor token is not valid for this site; start again without it",
            ),
            ChatError::Busy => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", detail),
            ChatError::Store(e) => e.into(),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
