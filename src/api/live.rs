//! `GET /visitor/conversations/{id}/events`: a Server-Sent Events stream of the conversation's
//! new messages and status changes, resumable with `Last-Event-ID` (the last message's id).
//! A `status` event (`{status, agent}`) comes first, then again whenever the status or the
//! agent in charge changes.
//! Changes arrive through the store, so a change made through any process sharing it shows up.

use super::auth::VisitorAuth;
use super::{ApiError, ApiResult, AppState};
use crate::chat::{AgentCard, TranscriptMessage};
use crate::domain::ConversationStatus;
use crate::store::{ConversationRecord, LiveChange, Store};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use serde_json::json;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc, watch};

/// How often an idle stream looks again even without a notification.
const RECHECK: std::time::Duration = std::time::Duration::from_secs(10);

/// Live stream (Server-Sent Events) of the conversation: `status` and `message` events
///
/// A `status` event (`{status, agent}`, as GET /visitor/conversations/{id} has them) comes first,
/// then again whenever the status or the agent in charge changes; each new message comes as a
/// `message` event (a transcript message) whose `id` is the message's. Reconnecting with
/// `Last-Event-ID` resumes after that message. An EventSource cannot set headers: it may send the
/// token as `?visitorToken=`.
#[utoipa::path(get, path = "/conversations/{id}/events", tag = "visitor", operation_id = "visitorEvents",
    security(("visitorToken" = []), ("visitorTokenQuery" = [])),
    params(
        ("id" = String, Path, description = super::visitor::ID),
        ("Last-Event-ID" = Option<String>, Header, description = "The id of the last `message` event received: the stream resumes after it", pattern = "^[0-9]{0,18}$"),
        ("visitorToken" = Option<String>, Query, description = "The visitor's token, for an EventSource (which cannot send `Authorization`)"),
    ),
    responses(
        (status = 200, description = "An event stream", content_type = "text/event-stream", body = String,
            example = "event: status\ndata: {\"status\":\"open\",\"agent\":{\"name\":\"Moss\",\"picture\":\"https://example.com/moss_48.jpg\"}}\n\nevent: message\nid: 7\ndata: {\"id\":\"m_3BtwB3EqkA7jGtEHL3Hi\",\"conversationId\":\"c_3BtwB339AQx5NSoJzcKm\",\"userName\":\"Moss\",\"userPicture\":\"https://example.com/moss_48.jpg\",\"createdAt\":\"2026-01-09T11:09:09.104Z\",\"text\":\"Yes! Go to <http://developer.talkus.io/>\",\"from\":\"agent\"}\n\n"),
        (status = 400, description = "`Last-Event-ID` is not an id this stream sent"),
        (status = 404, description = "The visitor has no conversation with this id"),
    ))]
pub async fn events(
    State(s): State<AppState>,
    VisitorAuth(v): VisitorAuth,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let c = match s.store.conversation(v.team_seq, &id).await? {
        Some(c) if c.visitor_seq == v.seq => c,
        _ => return Err(ApiError::not_found("conversation")),
    };
    let last = match headers
        .get("last-event-id")
        .map(|h| h.to_str().unwrap_or(""))
    {
        None | Some("") => 0,
        Some(v) => v
            .parse::<i64>()
            .map_err(|_| ApiError::bad_request("Last-Event-ID is not an id this stream sent"))?,
    };
    let changes = s.store.subscribe(); // before the first read: nothing slips between
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(feed(
        s.store.clone(),
        c,
        last,
        changes,
        tx,
        s.shutdown.clone(),
    ));
    let stream =
        futures::stream::unfold(
            rx,
            |mut rx| async move { rx.recv().await.map(|e| (Ok(e), rx)) },
        );
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// Sends what is new, then waits for the next change of this conversation.
async fn feed(
    store: Arc<dyn Store>,
    c: ConversationRecord,
    mut last: i64,
    mut changes: broadcast::Receiver<LiveChange>,
    tx: mpsc::Sender<Event>,
    mut shutdown: watch::Receiver<bool>,
) {
    // What the last status event showed: the status and the agent's stored profile.
    let mut shown: Option<(ConversationStatus, Option<String>)> = None;
    loop {
        let Ok(Some(now)) = store.conversation(c.team_seq, &c.id).await else {
            return;
        };
        if shown
            .as_ref()
            .is_none_or(|(status, agent)| *status != now.status || *agent != now.agent)
        {
            let data = json!({"status": now.status.as_str(), "agent": AgentCard::of(&now)});
            let e = Event::default().event("status").data(data.to_string());
            if tx.send(e).await.is_err() {
                return;
            }
            shown = Some((now.status, now.agent));
        }
        let Ok(messages) = store.messages_after(c.seq, last).await else {
            return;
        };
        for m in messages {
            last = m.seq;
            let data = serde_json::to_string(&TranscriptMessage::new(&c.id, &m))
                .expect("messages serialize");
            let e = Event::default()
                .event("message")
                .id(m.seq.to_string())
                .data(data);
            if tx.send(e).await.is_err() {
                return;
            }
        }
        loop {
            tokio::select! {
                change = changes.recv() => match change {
                    Ok(ch) if ch.conversation_seq == c.seq => break,
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => break,
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                // A safety net: a change whose notification was lost shows within seconds.
                _ = tokio::time::sleep(RECHECK) => break,
                _ = shutdown.changed() => return,
                _ = tx.closed() => return,
            }
        }
    }
}
