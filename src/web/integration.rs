//! The Integration page (admins only): `/admin/integration` lists the team's webhooks and adds
//! them; `/admin/integration/webhooks/{id}` is one webhook (settings, signing secret, health,
//! test event, delivery log, recovery); `…/deliveries/{deliveryId}` is one delivery (payload,
//! every attempt, redelivery). Each is a frame; its script acts through the JSON API.
//! Slack: the list page's Slack card connects a workspace; `/admin/integration/slack` is the
//! Slack bridge's delivery log and `…/slack/deliveries/{deliveryId}` one of its deliveries.

use super::Web;
use super::frame::{Frame, Section};
use super::headers::{page, page_with};
use super::session::Signed;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use std::sync::Arc;

/// The six events, with what each means (the seed's table), for the forms' checkboxes.
pub const EVENTS: [(&str, &str); 6] = [
    ("start", "A visitor starts a conversation"),
    ("open", "An agent joins the conversation"),
    ("end", "The conversation ends"),
    ("email", "The visitor leaves an email address"),
    ("messageVisitor", "The visitor sends a message"),
    ("messageAgent", "An agent sends a message"),
];

#[derive(Template)]
#[template(path = "admin/integration.html")]
struct ListPage {
    frame: Frame,
    events: [(&'static str, &'static str); 6],
}

#[derive(Template)]
#[template(path = "admin/integration_webhook.html")]
struct WebhookPage {
    frame: Frame,
    events: [(&'static str, &'static str); 6],
    id: String,
    url: String,
}

#[derive(Template)]
#[template(path = "admin/integration_delivery.html")]
struct DeliveryPage {
    frame: Frame,
    id: String,
    url: String,
    delivery_id: String,
}

#[derive(Template)]
#[template(path = "admin/integration_slack.html")]
struct SlackLogPage {
    frame: Frame,
}

#[derive(Template)]
#[template(path = "admin/integration_slack_delivery.html")]
struct SlackDeliveryPage {
    frame: Frame,
    delivery_id: String,
}

#[derive(Template)]
#[template(path = "admin/integration_missing.html")]
struct MissingPage {
    frame: Frame,
}

pub async fn show(State(web): State<Arc<Web>>, signed: Signed) -> Response {
    if !signed.is_admin() {
        return away();
    }
    let frame = Frame::of(&web, &signed, Section::Integration).await;
    page(&ListPage {
        frame,
        events: EVENTS,
    })
}

pub async fn webhook(
    State(web): State<Arc<Web>>,
    signed: Signed,
    Path(id): Path<String>,
) -> Response {
    if !signed.is_admin() {
        return away();
    }
    let frame = Frame::of(&web, &signed, Section::Integration).await;
    match url_of(&web, &signed, &id).await {
        Some(url) => page(&WebhookPage {
            frame,
            events: EVENTS,
            id,
            url,
        }),
        None => page_with(StatusCode::NOT_FOUND, &MissingPage { frame }),
    }
}

pub async fn delivery(
    State(web): State<Arc<Web>>,
    signed: Signed,
    Path((id, delivery_id)): Path<(String, String)>,
) -> Response {
    if !signed.is_admin() {
        return away();
    }
    let frame = Frame::of(&web, &signed, Section::Integration).await;
    match url_of(&web, &signed, &id).await {
        Some(url) => page(&DeliveryPage {
            frame,
            id,
            url,
            delivery_id,
        }),
        None => page_with(StatusCode::NOT_FOUND, &MissingPage { frame }),
    }
}

/// The Slack bridge's delivery log. Drawn whether or not Slack is connected: its script says
/// what the API answers (never connected: how to connect).
pub async fn slack(State(web): State<Arc<Web>>, signed: Signed) -> Response {
    if !signed.is_admin() {
        return away();
    }
    let frame = Frame::of(&web, &signed, Section::Integration).await;
    page(&SlackLogPage { frame })
}

pub async fn slack_delivery(
    State(web): State<Arc<Web>>,
    signed: Signed,
    Path(delivery_id): Path<String>,
) -> Response {
    if !signed.is_admin() {
        return away();
    }
    let frame = Frame::of(&web, &signed, Section::Integration).await;
    page(&SlackDeliveryPage { frame, delivery_id })
}

/// Agents have no business here: back to their conversations.
fn away() -> Response {
    Redirect::to("/admin/conversations?denied=admin-only").into_response()
}

/// The URL of the team's webhook `id`, if it has one by that id. When the store cannot say,
/// the page is drawn anyway (its script reports what the API answers).
async fn url_of(web: &Web, signed: &Signed, id: &str) -> Option<String> {
    match web.store.endpoint(signed.team.seq, id).await {
        Ok(e) => e.map(|e| e.url),
        Err(e) => {
            tracing::warn!(error = %e, "could not read a webhook");
            Some(String::new())
        }
    }
}
