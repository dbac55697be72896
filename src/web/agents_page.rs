//! `/admin/agents`: the Agents page (admins only).

use super::Web;
use super::frame::{Frame, Section};
use super::headers::page;
use super::session::Signed;
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use std::sync::Arc;

#[derive(Template)]
#[template(path = "admin/agents.html")]
struct AgentsPage {
    frame: Frame,
}

pub async fn show(State(web): State<Arc<Web>>, signed: Signed) -> Response {
    if !signed.is_admin() {
        return Redirect::to("/admin/conversations?denied=admin-only").into_response();
    }
    let frame = Frame::of(&web, &signed, Section::Agents).await;
    page(&AgentsPage { frame })
}
