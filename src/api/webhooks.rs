//! Webhook endpoints: create, list, read, change, delete, rotate the secret, send a test.

use super::auth::AdminAuth;
use super::extract::{Body, List, PageQuery};
use super::{ApiError, ApiResult, AppState, json};
use crate::delivery::{guard, sign};
use crate::domain::{EventName, Millis, new_id};
use crate::store::{Disabled, Endpoint, EndpointKind, Limits};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::json as j;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/webhooks", post(create).get(list))
        .route("/webhooks/{id}", get(get_one).patch(update).delete(delete))
        .route("/webhooks/{id}/rotate-secret", post(rotate))
        .route("/webhooks/{id}/test", post(test))
}

/// How long a rotated-out secret keeps signing.
const ROTATION_OVERLAP_MS: i64 = 24 * 3600 * 1000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CreateEndpoint {
    url: String,
    events: Option<Vec<String>>,
    #[serde(default)]
    description: String,
    enabled: Option<bool>,
    batch_size: Option<i64>,
    #[serde(default, deserialize_with = "present")]
    max_in_flight: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "present")]
    max_per_second: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PatchEndpoint {
    url: Option<String>,
    events: Option<Vec<String>>,
    description: Option<String>,
    enabled: Option<bool>,
    batch_size: Option<i64>,
    #[serde(default, deserialize_with = "present")]
    max_in_flight: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "present")]
    max_per_second: Option<serde_json::Value>,
}

/// A field given, `null` included (`Some(Value::Null)`); left out, it is `None`.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(d).map(Some)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EndpointView {
    id: String,
    url: String,
    events: Vec<&'static str>,
    description: String,
    enabled: bool,
    batch_size: i64,
    /// Most attempts in flight at once; `null`: no limit.
    max_in_flight: Option<u32>,
    /// Most attempts started per second; `null`: no limit.
    max_per_second: Option<u32>,
    secret: String,
    /// Until when the secret rotated out keeps signing too (absent when none does).
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_secret_expires_at: Option<String>,
    created_at: String,
    /// Why it is disabled, and since when (null while enabled; the time null when unknown).
    disabled_reason: Option<String>,
    disabled_at: Option<String>,
    /// While Palaver disabled it for failing: when one held delivery is tried next (else null).
    next_probe_at: Option<String>,
}

impl From<&Endpoint> for EndpointView {
    fn from(e: &Endpoint) -> Self {
        EndpointView {
            id: e.id.clone(),
            url: e.url.clone(),
            events: EventName::ALL
                .into_iter()
                .filter(|n| e.events & n.bit() != 0)
                .map(EventName::as_str)
                .collect(),
            description: e.description.clone(),
            enabled: e.enabled,
            batch_size: e.batch_size,
            max_in_flight: e.limits.max_in_flight,
            max_per_second: e.limits.max_per_second,
            secret: e.secret.clone(),
            previous_secret_expires_at: e
                .previous_secret_until
                .filter(|until| e.previous_secret.is_some() && *until > Millis::now())
                .map(Millis::iso),
            created_at: e.created_at.iso(),
            disabled_reason: e.disabled.as_ref().map(|d| d.reason.clone()),
            disabled_at: e.disabled.as_ref().and_then(|d| d.at).map(Millis::iso),
            next_probe_at: e
                .disabled
                .as_ref()
                .and_then(|d| d.probe_at)
                .map(Millis::iso),
        }
    }
}

/// The reason of an endpoint disabled through the API or the Integration page.
pub const DISABLED_BY_HAND: &str = "disabled by hand";

fn event_mask(events: &[String]) -> Result<i64, ApiError> {
    if events.is_empty() {
        return Err(ApiError::unprocessable(
            "`events` must name at least one event (or be left out for all six)",
        ));
    }
    events.iter().try_fold(0, |mask, name| {
        EventName::parse(name).map(|e| mask | e.bit()).ok_or_else(|| {
            ApiError::unprocessable(format!(
                "`events` names an unknown event {name:?}; the events are start, open, end, email, messageVisitor, messageAgent"
            ))
        })
    })
}

/// Most events one request may carry.
pub const MAX_BATCH_SIZE: i64 = 100;

fn check_batch_size(n: i64) -> Result<i64, ApiError> {
    if (1..=MAX_BATCH_SIZE).contains(&n) {
        Ok(n)
    } else {
        Err(ApiError::unprocessable(format!(
            "`batchSize` must be between 1 (each event alone, the default) and {MAX_BATCH_SIZE}"
        )))
    }
}

/// Most attempts in flight at once, and started per second, a webhook may be limited to.
pub const MAX_LIMIT: u32 = 1000;

/// A limit `field` as given: `null` for none, else a whole number from 1 to [`MAX_LIMIT`].
fn check_limit(field: &str, what: &str, v: &serde_json::Value) -> Result<Option<u32>, ApiError> {
    if v.is_null() {
        return Ok(None);
    }
    v.as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| (1..=MAX_LIMIT).contains(n))
        .map(Some)
        .ok_or_else(|| {
            ApiError::unprocessable(format!(
                "`{field}` must be a whole number from 1 to {MAX_LIMIT} ({what}), or null for no limit; got {v}"
            ))
        })
}

/// `limits` changed by the fields given.
fn apply_limits(
    mut limits: Limits,
    max_in_flight: Option<&serde_json::Value>,
    max_per_second: Option<&serde_json::Value>,
) -> Result<Limits, ApiError> {
    if let Some(v) = max_in_flight {
        limits.max_in_flight = check_limit("maxInFlight", "most attempts in flight at once", v)?;
    }
    if let Some(v) = max_per_second {
        limits.max_per_second = check_limit("maxPerSecond", "most attempts started per second", v)?;
    }
    Ok(limits)
}

fn check_url(s: &AppState, url: &str) -> Result<(), ApiError> {
    if url.len() > 2048 {
        return Err(ApiError::unprocessable(
            "`url` is longer than 2048 characters",
        ));
    }
    // Every reason names the field first, so that forms can show it beside the input.
    guard::check_url(url, s.allow_private)
        .map(|_| ())
        .map_err(|why| {
            if why.starts_with('`') {
                ApiError::unprocessable(why)
            } else {
                ApiError::unprocessable(format!("`url`: {why}"))
            }
        })
}

pub(super) async fn find(s: &AppState, team_seq: i64, id: &str) -> ApiResult<Endpoint> {
    s.store
        .endpoint(team_seq, id)
        .await?
        .ok_or_else(|| ApiError::not_found("webhook"))
}

async fn create(
    State(s): State<AppState>,
    AdminAuth(t): AdminAuth,
    body: Body<CreateEndpoint>,
) -> ApiResult<Response> {
    let b = body.value;
    check_url(&s, &b.url)?;
    let limits = apply_limits(
        Limits::default(),
        b.max_in_flight.as_ref(),
        b.max_per_second.as_ref(),
    )?;
    let events = match &b.events {
        Some(list) => event_mask(list)?,
        None => EventName::ALL.iter().fold(0, |m, e| m | e.bit()),
    };
    let enabled = b.enabled.unwrap_or(true);
    let now = Millis::now();
    let endpoint = Endpoint {
        seq: 0,
        id: new_id("ep_"),
        team_seq: t.seq,
        kind: EndpointKind::Webhook,
        url: b.url,
        events,
        description: b.description,
        enabled,
        secret: sign::new_secret(),
        previous_secret: None,
        previous_secret_until: None,
        batch_size: check_batch_size(b.batch_size.unwrap_or(1))?,
        limits,
        created_at: now,
        disabled: (!enabled).then(|| Disabled {
            reason: DISABLED_BY_HAND.into(),
            at: Some(now),
            probe_at: None,
        }),
    };
    let created = s.store.create_endpoint(endpoint).await?;
    Ok(json(StatusCode::CREATED, &EndpointView::from(&created)))
}

async fn list(
    State(s): State<AppState>,
    AdminAuth(t): AdminAuth,
    Query(q): Query<PageQuery>,
) -> ApiResult<Response> {
    let page = q.page()?;
    let rows = s.store.endpoints(t.seq, page).await?;
    let list = List::new(rows, page.limit, |e| e.seq);
    let data: Vec<EndpointView> = list.data.iter().map(EndpointView::from).collect();
    Ok(json(
        StatusCode::OK,
        &j!({"data": data, "nextCursor": list.next_cursor}),
    ))
}

async fn get_one(
    State(s): State<AppState>,
    AdminAuth(t): AdminAuth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let e = find(&s, t.seq, &id).await?;
    Ok(json(StatusCode::OK, &EndpointView::from(&e)))
}

async fn update(
    State(s): State<AppState>,
    AdminAuth(t): AdminAuth,
    Path(id): Path<String>,
    body: Body<PatchEndpoint>,
) -> ApiResult<Response> {
    let mut e = find(&s, t.seq, &id).await?;
    let b = body.value;
    if let Some(url) = b.url {
        check_url(&s, &url)?;
        e.url = url;
    }
    if let Some(events) = b.events {
        e.events = event_mask(&events)?;
    }
    if let Some(d) = b.description {
        e.description = d;
    }
    if let Some(n) = b.batch_size {
        e.batch_size = check_batch_size(n)?;
    }
    e.limits = apply_limits(
        e.limits,
        b.max_in_flight.as_ref(),
        b.max_per_second.as_ref(),
    )?;
    s.store.update_endpoint(e.clone()).await?;
    let now = Millis::now();
    match b.enabled {
        Some(true) => {
            // Its held deliveries go again, in order.
            s.store.enable_endpoint(e.seq, now).await?;
        }
        // An endpoint disabled already keeps its reason (and its probes, if Palaver disabled it).
        Some(false) if e.enabled => {
            s.store
                .disable_endpoint(e.seq, DISABLED_BY_HAND, now)
                .await?;
        }
        _ => {}
    }
    let e = find(&s, t.seq, &id).await?;
    Ok(json(StatusCode::OK, &EndpointView::from(&e)))
}

async fn delete(
    State(s): State<AppState>,
    AdminAuth(t): AdminAuth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let e = find(&s, t.seq, &id).await?;
    s.store.delete_endpoint(t.seq, e.seq).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn rotate(
    State(s): State<AppState>,
    AdminAuth(t): AdminAuth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let mut e = find(&s, t.seq, &id).await?;
    let now = Millis::now();
    e.previous_secret = Some(std::mem::replace(&mut e.secret, sign::new_secret()));
    e.previous_secret_until = Some(now.plus_ms(ROTATION_OVERLAP_MS));
    s.store.update_endpoint(e.clone()).await?;
    Ok(json(
        StatusCode::OK,
        &j!({"secret": e.secret, "previousSecretExpiresAt": now.plus_ms(ROTATION_OVERLAP_MS).iso()}),
    ))
}

/// The seed's example event, as a test.
const SAMPLE: &str = include_str!("sample-event.json");

async fn test(
    State(s): State<AppState>,
    AdminAuth(t): AdminAuth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let e = find(&s, t.seq, &id).await?;
    if !e.enabled {
        return Err(ApiError::conflict(
            "the webhook is disabled; enable it (PATCH enabled=true) to send a test",
        ));
    }
    let mut sample: serde_json::Value = serde_json::from_str(SAMPLE).expect("the sample is JSON");
    let now = Millis::now();
    sample[0]["createdAt"] = now.iso().into();
    let body = serde_json::to_string(&sample).expect("JSON serializes");
    let delivery_id = s.store.enqueue_test(&e, body, now).await?;
    Ok(json(StatusCode::ACCEPTED, &j!({"deliveryId": delivery_id})))
}
