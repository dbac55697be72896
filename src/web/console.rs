//! `/admin/conversations`: the agent console. The page is a frame; its script loads the lists
//! and conversations through the JSON API and keeps them current with the team's live stream.

use super::Web;
use super::frame::{Frame, Section};
use super::headers::page;
use super::session::Signed;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use std::sync::Arc;

#[derive(Template)]
#[template(path = "admin/conversations.html")]
struct ConversationsPage {
    frame: Frame,
}

pub async fn conversations(State(web): State<Arc<Web>>, signed: Signed) -> Response {
    let frame = Frame::of(&web, &signed, Section::Conversations).await;
    page(&ConversationsPage { frame })
}
