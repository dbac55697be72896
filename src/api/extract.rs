//! Request parsing with our error shape: JSON bodies (with their fingerprint for idempotency),
//! the `Idempotency-Key` header, the lists' answers.

use super::error::ApiError;
use crate::chat::Idempotency;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

/// Largest accepted body.
pub const MAX_BODY: usize = 256 * 1024;

/// Most bytes of a too-large body read (and thrown away) before the 413 answer.
const DRAIN_MAX: u64 = 4 << 20;

/// The answer to a body over [`MAX_BODY`].
fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too-large",
        format!("the body is over {} KiB", MAX_BODY / 1024),
    )
}

/// Answers 413 to a request whose body is over [`MAX_BODY`], having first read its body (up to
/// 4 MiB): answering at once and closing would leave the client's unsent bytes unread, and the
/// kernel would then reset the connection, so that the client, still sending, would see a reset
/// instead of the answer. Beyond 4 MiB the answer closes the connection. A `Content-Length` over
/// the limit is refused before anything is read; a body without one (chunked) is read here, at
/// most [`MAX_BODY`] bytes of it kept, and handed on whole when it fits.
pub async fn refuse_large(req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(n) if n > MAX_BODY as u64 && n <= DRAIN_MAX => {
            let mut data = req.into_body().into_data_stream();
            while let Some(Ok(_)) = data.next().await {}
            too_large().into_response()
        }
        Some(n) if n > MAX_BODY as u64 => closing(too_large().into_response()),
        None if req.headers().contains_key(header::TRANSFER_ENCODING) => {
            let (parts, body) = req.into_parts();
            match read_capped(body).await {
                Ok(bytes) => next.run(Request::from_parts(parts, bytes.into())).await,
                Err(Unread::Drained) => too_large().into_response(),
                Err(Unread::Left) => closing(too_large().into_response()),
                Err(Unread::Broken) => {
                    ApiError::bad_request("could not read the body").into_response()
                }
            }
        }
        _ => next.run(req).await,
    }
}

/// Why a body without a length was not handed on.
enum Unread {
    /// Over [`MAX_BODY`], read to its end.
    Drained,
    /// Over [`MAX_BODY`], and more than [`DRAIN_MAX`] sent: the rest is left unread.
    Left,
    /// The client broke off or sent malformed chunks.
    Broken,
}

/// The body if it has at most [`MAX_BODY`] bytes; otherwise reads on (keeping nothing) to its
/// end or to [`DRAIN_MAX`] bytes, whichever comes first.
async fn read_capped(body: axum::body::Body) -> Result<Bytes, Unread> {
    let mut data = body.into_data_stream();
    let mut kept = Vec::new();
    let mut seen: u64 = 0;
    while let Some(chunk) = data.next().await {
        let chunk = chunk.map_err(|_| Unread::Broken)?;
        seen += chunk.len() as u64;
        if seen > DRAIN_MAX {
            return Err(Unread::Left);
        }
        if seen <= MAX_BODY as u64 {
            kept.extend_from_slice(&chunk);
        }
    }
    if seen > MAX_BODY as u64 {
        return Err(Unread::Drained);
    }
    Ok(kept.into())
}

/// The answer, telling the client that the connection ends with it.
fn closing(mut answer: Response) -> Response {
    answer
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    answer
}

/// A JSON body, parsed; an empty body reads as `{}`. Keeps what idempotency needs.
pub struct Body<T> {
    pub value: T,
    /// SHA-256 of method, path and body: what makes two requests "the same".
    pub fingerprint: String,
    /// The client's `Idempotency-Key`, if any.
    pub key: Option<String>,
}

impl<T> Body<T> {
    /// The idempotency record for this request, scoped to its caller.
    pub fn idempotency(&self, scope: &str) -> Option<Idempotency> {
        self.key.as_ref().map(|k| Idempotency {
            key: format!("{scope}:{k}"),
            fingerprint: self.fingerprint.clone(),
        })
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let key = idempotency_key(req.headers())?;
        let (method, path) = (req.method().clone(), req.uri().path().to_string());
        let bytes = Bytes::from_request(req, state).await.map_err(|r| {
            if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large()
            } else {
                ApiError::bad_request(format!("could not read the body: {}", r.body_text()))
            }
        })?;
        let fingerprint = match key {
            Some(_) => fingerprint(method.as_str(), &path, &bytes),
            None => String::new(), // only idempotent requests need it
        };
        let value = parse_json(&bytes)?;
        Ok(Body {
            value,
            fingerprint,
            key,
        })
    }
}

/// A body as [`Body`] reads it: blank reads as `{}`; what is not JSON of the expected shape is a
/// 400 saying why.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    serde_json::from_slice(text).map_err(|e| {
        let what = if e.is_syntax() || e.is_eof() {
            "malformed JSON"
        } else {
            "unexpected JSON"
        };
        ApiError::bad_request(format!("{what}: {e}"))
    })
}

/// What makes two requests "the same" for idempotency: method, path and body.
pub fn fingerprint(method: &str, path: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(method);
    hasher.update(b" ");
    hasher.update(path);
    hasher.update(b"\n");
    hasher.update(body);
    crate::domain::ids::lower_hex(&hasher.finalize())
}

pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    // As the OpenAPI document says (IDEMPOTENCY_KEY_PATTERN): visible ASCII and spaces, not
    // starting nor ending with a space.
    let k = v.as_bytes();
    if k.is_empty() || k.len() > 255 {
        return Err(ApiError::bad_request(
            "Idempotency-Key must have 1 to 255 characters",
        ));
    }
    let printable = k.iter().all(|b| (b' '..=b'~').contains(b));
    if !printable || k[0] == b' ' || k[k.len() - 1] == b' ' {
        return Err(ApiError::bad_request(
            "Idempotency-Key must be visible ASCII characters (spaces only inside)",
        ));
    }
    Ok(Some(String::from_utf8_lossy(k).into_owned()))
}

/// A list's answer: `{data, nextCursor}`.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct List<T> {
    /// This page's items.
    pub data: Vec<T>,
    /// The `cursor` of the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

impl<T> List<T> {
    /// A page of `data`; `seq_of` gives each item's position for the next cursor.
    pub fn new(data: Vec<T>, limit: u32, seq_of: impl Fn(&T) -> i64) -> Self {
        let next_cursor = (data.len() == limit as usize)
            .then(|| data.last().map(|d| seq_of(d).to_string()))
            .flatten();
        List { data, next_cursor }
    }
}
