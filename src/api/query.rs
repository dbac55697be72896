//! Query strings, parsed with the API's error shape: an unknown parameter or a bad value is a
//! 400 problem naming it, never axum's plain-text rejection. The lists' `?limit=&cursor=` and
//! their `status` filters, described for the OpenAPI document by their `IntoParams`.

use super::error::ApiError;
use crate::store::Page;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use utoipa::{IntoParams, ToSchema};

/// A query string of `T` (`deny_unknown_fields` makes unknown parameters a 400 too).
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(q)| Query(q))
            .map_err(|e| ApiError::bad_request(format!("the query string: {}", e.body_text())))
    }
}

/// `?limit=&cursor=` of a list paged by position.
#[derive(Deserialize, Default, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// How many items to answer, 1 to 100 (50 when absent).
    #[param(minimum = 1, maximum = 100, example = 20)]
    pub limit: Option<u32>,
    /// The previous page's `nextCursor`, for the page after it; absent (or empty) for the first.
    #[param(pattern = "^[0-9]{0,18}$")]
    pub cursor: Option<String>,
}

impl PageQuery {
    pub fn page(&self) -> Result<Page, ApiError> {
        page(self.limit, self.cursor.as_deref())
    }
}

/// `?limit=&cursor=&status=` of a delivery log.
#[derive(Deserialize, Default, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// How many deliveries to answer, 1 to 100 (50 when absent).
    #[param(minimum = 1, maximum = 100, example = 20)]
    pub limit: Option<u32>,
    /// The previous page's `nextCursor`, for the page after it; absent (or empty) for the first.
    #[param(pattern = "^[0-9]{0,18}$")]
    pub cursor: Option<String>,
    /// Only the deliveries in this state.
    #[param(inline)]
    pub status: Option<DeliveryFilter>,
}

/// The states of a delivery a log may be filtered by.
#[derive(Deserialize, Clone, Copy, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryFilter {
    Pending,
    Delivered,
    Failed,
}

impl DeliveryFilter {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryFilter::Pending => "pending",
            DeliveryFilter::Delivered => "delivered",
            DeliveryFilter::Failed => "failed",
        }
    }
}

/// `?limit=&cursor=&status=` of the conversations.
#[derive(Deserialize, Default, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConversationQuery {
    /// How many conversations to answer, 1 to 100 (50 when absent).
    #[param(minimum = 1, maximum = 100, example = 20)]
    pub limit: Option<u32>,
    /// The previous page's `nextCursor`, for the page after it; absent (or empty) for the first.
    #[param(pattern = "^[0-9]{0,18}$")]
    pub cursor: Option<String>,
    /// Only the conversations in this state.
    #[param(inline)]
    pub status: Option<ConversationFilter>,
}

/// The states of a conversation the list may be filtered by.
#[derive(Deserialize, Clone, Copy, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ConversationFilter {
    Waiting,
    Open,
    Ended,
}

impl ConversationFilter {
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationFilter::Waiting => "waiting",
            ConversationFilter::Open => "open",
            ConversationFilter::Ended => "ended",
        }
    }
}

/// `?limit=&cursor=` of the agents, paged by id.
#[derive(Deserialize, Default, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AgentQuery {
    /// How many agents to answer, 1 to 100 (50 when absent).
    #[param(minimum = 1, maximum = 100, example = 20)]
    pub limit: Option<u32>,
    /// The previous page's `nextCursor` (the last agent's id), for the page after it; absent
    /// (or empty) for the first.
    #[param(max_length = 64)]
    pub cursor: Option<String>,
}

/// `limit`, 1..=100, 50 by default.
pub fn limit(limit: Option<u32>) -> Result<u32, ApiError> {
    let limit = limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::bad_request("`limit` must be between 1 and 100"));
    }
    Ok(limit)
}

/// The page a numeric cursor names; an empty cursor is the first page.
pub fn page(limit_given: Option<u32>, cursor: Option<&str>) -> Result<Page, ApiError> {
    let limit = limit(limit_given)?;
    let before = match cursor.filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(
            c.parse::<i64>()
                .ok()
                .filter(|n| *n >= 0 && c.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| ApiError::bad_request("`cursor` is not one this server gave"))?,
        ),
    };
    Ok(Page { before, limit })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_cursors() {
        assert_eq!(limit(None).unwrap(), 50);
        assert!(limit(Some(0)).is_err());
        assert!(limit(Some(101)).is_err());
        assert_eq!(page(Some(3), Some("")).unwrap().before, None);
        assert_eq!(page(None, Some("42")).unwrap().before, Some(42));
        for bad in ["x", "-1", "+4", "99999999999999999999"] {
            assert!(page(None, Some(bad)).is_err(), "{bad}");
        }
    }
}
