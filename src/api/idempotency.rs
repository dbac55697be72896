//! `Idempotency-Key` for the team API's calls that are not chat commands (webhooks, agents,
//! redelivery…): the first answer is kept and replayed. Chat commands store their answer in the
//! same transaction as their effects; for these calls it is stored right after.

use super::auth::TeamAuth;
use super::extract::{MAX_BODY, fingerprint, idempotency_key};
use super::{ApiError, AppState};
use crate::domain::Millis;
use crate::store::StoredAnswer;
use axum::body::{Body, to_bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub async fn layer(State(s): State<AppState>, req: Request, next: Next) -> Response {
    match idempotent(s, req, next).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn idempotent(s: AppState, req: Request, next: Next) -> Result<Response, ApiError> {
    let mutating = matches!(
        *req.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    let Some(key) = idempotency_key(req.headers())?.filter(|_| mutating) else {
        return Ok(next.run(req).await);
    };
    let (mut parts, body) = req.into_parts();
    let Ok(TeamAuth(team)) = TeamAuth::from_request_parts(&mut parts, &s).await else {
        return Ok(next.run(Request::from_parts(parts, body)).await); // answers 401
    };
    let bytes = to_bytes(body, MAX_BODY).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            format!("the body is over {} KiB", MAX_BODY / 1024),
        )
    })?;
    let print = fingerprint(parts.method.as_str(), parts.uri.path(), &bytes);
    let key = format!("api:{key}");
    if let Some(stored) = s.store.idempotent_answer(team.seq, &key).await? {
        if stored.fingerprint != print {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                "this Idempotency-Key was used with a different request",
            ));
        }
        return Ok(replay(stored));
    }
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    if response.status().is_server_error() || response.headers().contains_key("idempotent-replayed")
    {
        return Ok(response);
    }
    let (parts, body) = response.into_parts();
    let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
    let answer = StoredAnswer {
        fingerprint: print,
        status: parts.status.as_u16(),
        body: String::from_utf8_lossy(&bytes).into_owned(),
    };
    s.store
        .save_answer(team.seq, key, answer, Millis::now())
        .await?;
    Ok(Response::from_parts(parts, Body::from(bytes)))
}

/// The stored first answer.
pub fn replay(stored: StoredAnswer) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = (status, stored.body.clone()).into_response();
    let headers = response.headers_mut();
    if !stored.body.is_empty() {
        let kind = if status.is_success() {
            "application/json"
        } else {
            "application/problem+json"
        };
        headers.insert(header::CONTENT_TYPE, header::HeaderValue::from_static(kind));
    }
    headers.insert(
        "idempotent-replayed",
        header::HeaderValue::from_static("true"),
    );
    response
}
