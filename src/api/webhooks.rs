//! Webhook endpoints: create, list, read, change, delete, rotate the secret, send a test.

pub(crate) mod shapes;

use super::auth::AdminAuth;
use super::extract::{Body, List};
use super::query::{PageQuery, Query};
use super::{ApiError, ApiResult, AppState, json};
use crate::delivery::{guard, sign};
use crate::domain::{EventName, Millis, new_id};
use crate::store::{Disabled, Endpoint, EndpointKind, Limits};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
pub(super) use shapes::Queued;
use shapes::{CreateEndpoint, EndpointView, PatchEndpoint, Rotated};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(get_one, update, delete))
        .routes(routes!(rotate))
        .routes(routes!(test))
}

/// How long a rotated-out secret keeps signing.
const ROTATION_OVERLAP_MS: i64 = 24 * 3600 * 1000;

/// The webhook's id in the path.
pub(super) const ID: &str = "The webhook's id (`ep_…`)";

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

/// Create a webhook endpoint
///
/// It receives the events it names from now on, signed with its `secret` (Standard Webhooks).
#[utoipa::path(post, path = "/webhooks", tag = "webhooks", operation_id = "createWebhook",
    security(("apiKey" = []), ("session" = [])),
    request_body = CreateEndpoint,
    responses(
        (status = 201, description = "Created", body = EndpointView, links(
            ("GetWebhook" = (operation_id = "getWebhook", parameters(("id" = "$response.body#/id")))),
            ("UpdateWebhook" = (operation_id = "updateWebhook", parameters(("id" = "$response.body#/id")))),
            ("DeleteWebhook" = (operation_id = "deleteWebhook", parameters(("id" = "$response.body#/id")))),
            ("RotateWebhookSecret" = (operation_id = "rotateWebhookSecret", parameters(("id" = "$response.body#/id")))),
            ("TestWebhook" = (operation_id = "testWebhook", parameters(("id" = "$response.body#/id")))),
            ("ListDeliveries" = (operation_id = "listDeliveries", parameters(("id" = "$response.body#/id")))),
            ("RecoverDeliveries" = (operation_id = "recoverDeliveries", parameters(("id" = "$response.body#/id")))),
            ("GetWebhookHealth" = (operation_id = "getWebhookHealth", parameters(("id" = "$response.body#/id")))),
        )),
        (status = 422, description = "A value is invalid (the field is named first): the URL (not http(s), private, too long), an unknown event, `batchSize`, `maxInFlight`, `maxPerSecond`"),
    ))]
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

/// Webhook endpoints, newest first
#[utoipa::path(get, path = "/webhooks", tag = "webhooks", operation_id = "listWebhooks",
    security(("apiKey" = []), ("session" = [])),
    params(PageQuery),
    responses((status = 200, description = "A page of webhooks", body = List<EndpointView>)))]
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
        &List {
            data,
            next_cursor: list.next_cursor,
        },
    ))
}

/// A webhook endpoint
#[utoipa::path(get, path = "/webhooks/{id}", tag = "webhooks", operation_id = "getWebhook",
    security(("apiKey" = []), ("session" = [])),
    params(("id" = String, Path, description = ID)),
    responses(
        (status = 200, description = "The webhook", body = EndpointView),
        (status = 404, description = "No webhook of this team has this id"),
    ))]
async fn get_one(
    State(s): State<AppState>,
    AdminAuth(t): AdminAuth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let e = find(&s, t.seq, &id).await?;
    Ok(json(StatusCode::OK, &EndpointView::from(&e)))
}

/// Change a webhook endpoint
#[utoipa::path(patch, path = "/webhooks/{id}", tag = "webhooks", operation_id = "updateWebhook",
    security(("apiKey" = []), ("session" = [])),
    params(("id" = String, Path, description = ID)),
    request_body = PatchEndpoint,
    responses(
        (status = 200, description = "The webhook as it is now", body = EndpointView),
        (status = 404, description = "No webhook of this team has this id"),
        (status = 422, description = "A value is invalid (the field is named first): the URL (not http(s), private, too long), an unknown event, `batchSize`, `maxInFlight`, `maxPerSecond`"),
    ))]
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
        // One disabled already by hand or by its receiver keeps its reason; one Palaver
        // disabled for failing (probed) becomes disabled by hand: a person said stop.
        Some(false) if e.enabled || e.disabled.as_ref().is_some_and(|d| d.probe_at.is_some()) => {
            s.store
                .disable_endpoint(e.seq, DISABLED_BY_HAND, now)
                .await?;
        }
        _ => {}
    }
    let e = find(&s, t.seq, &id).await?;
    Ok(json(StatusCode::OK, &EndpointView::from(&e)))
}

/// Delete a webhook endpoint and its deliveries
#[utoipa::path(delete, path = "/webhooks/{id}", tag = "webhooks", operation_id = "deleteWebhook",
    security(("apiKey" = []), ("session" = [])),
    params(("id" = String, Path, description = ID)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No webhook of this team has this id"),
    ))]
async fn delete(
    State(s): State<AppState>,
    AdminAuth(t): AdminAuth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let e = find(&s, t.seq, &id).await?;
    s.store.delete_endpoint(t.seq, e.seq).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new signing secret; the old one keeps signing for 24 hours more
#[utoipa::path(post, path = "/webhooks/{id}/rotate-secret", tag = "webhooks", operation_id = "rotateWebhookSecret",
    security(("apiKey" = []), ("session" = [])),
    params(("id" = String, Path, description = ID)),
    responses(
        (status = 200, description = "The new secret", body = Rotated),
        (status = 404, description = "No webhook of this team has this id"),
    ))]
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
        &Rotated {
            secret: e.secret,
            previous_secret_expires_at: now.plus_ms(ROTATION_OVERLAP_MS).iso(),
        },
    ))
}

/// The seed's example event, as a test.
const SAMPLE: &str = include_str!("sample-event.json");

/// Queue the seed's example `messageAgent` event to this endpoint
#[utoipa::path(post, path = "/webhooks/{id}/test", tag = "webhooks", operation_id = "testWebhook",
    security(("apiKey" = []), ("session" = [])),
    params(("id" = String, Path, description = ID)),
    responses(
        (status = 202, description = "Queued", body = Queued, links(
            ("GetDelivery" = (operation_id = "getDelivery", parameters(("id" = "$request.path.id"), ("deliveryId" = "$response.body#/deliveryId")))),
            ("Redeliver" = (operation_id = "redeliver", parameters(("id" = "$request.path.id"), ("deliveryId" = "$response.body#/deliveryId")))),
        )),
        (status = 404, description = "No webhook of this team has this id"),
        (status = 409, description = "The webhook is disabled"),
    ))]
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
    Ok(json(StatusCode::ACCEPTED, &Queued { delivery_id }))
}
