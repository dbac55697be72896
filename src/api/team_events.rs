//! `GET /events`: the team's live stream for the agent console (Server-Sent Events) — new
//! conversations, messages, joins, ends and emails of every conversation of the team, as the
//! team feed ([`crate::store::feed`]) orders them, so that a change made through any process
//! sharing the store shows within moments and `Last-Event-ID` resumes without gaps or repeats.
//!
//! A fresh connection (no `Last-Event-ID`) starts from now: the console loads its lists with
//! the ordinary calls first, then opens the stream. The first event is always `ready`, whose id
//! is where the stream starts, so that a reconnection before any change misses nothing. Events
//! and their data are in [`shapes`] and the OpenAPI description.
//!
//! Each connection costs one task and one read per wake-up, however many events the read
//! brings (not one per event): a commit of the team wakes it (in-process, or PostgreSQL's
//! `palaver_live` notification from other processes); queued events wait in a bounded channel,
//! so a slow client slows its own reads, nothing else.

mod shapes;

use super::auth::TeamAuth;
use super::query::Query;
use super::{ApiError, ApiResult, AppState};
use crate::store::{FeedPosition, LiveChange, Store};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use serde::Deserialize;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, watch};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Most events one read brings; a full batch is followed by another read at once.
const BATCH: u32 = 256;
/// Events waiting for a slow client before the feed stops reading.
const QUEUE: usize = 64;
/// A safety net: an idle stream reads again even without a notification (one lost in a crash).
const RECHECK: Duration = Duration::from_secs(10);
/// How soon to read again when committed events wait behind an older transaction still
/// running (PostgreSQL): its end may notify nobody (a delivery worker's write, another app).
/// Palaver's own transactions last milliseconds; the wait doubles, up to [`HELD_MAX`], while a
/// longer one (another program's) holds them.
const HELD: Duration = Duration::from_millis(10);
const HELD_MAX: Duration = Duration::from_millis(640);
/// How often an idle stream sends `ping`, so that clients and proxies see it is alive.
const PING: Duration = Duration::from_secs(15);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(events))
}

/// The query: `lastEventId`, for clients that cannot send the `Last-Event-ID` header.
#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct Resume {
    /// The same as `Last-Event-ID`, for clients that cannot set headers.
    #[param(pattern = "^[0-9]{0,18}$")]
    last_event_id: Option<String>,
}

/// The team's live stream (Server-Sent Events)
///
/// New conversations, messages, joins, ends and emails of every conversation of the team, for
/// the agent console: connect after loading the lists with the ordinary calls. Events: `ready`
/// (always first: `{resumed}`, its id where the stream starts), `start` (`{conversationId, at,
/// conversation}`), `message` (`{conversationId, at, message}`: the message with `from` and
/// `agentId`), `open` and `end` (`{conversationId, at, status, agent}`, `end` with `endedAt`),
/// `email` (`{conversationId, at, visitorId, email}`), each with an id; and `ping` (data `{}`, no
/// id) after 15 s without other events. Without `Last-Event-ID` the stream starts from now; with
/// it, right after that event, without gaps or repeats (`0`: from the team's first event).
#[utoipa::path(get, path = "/events", tag = "conversations", operation_id = "teamEvents",
    security(("apiKey" = []), ("session" = [])),
    params(
        ("Last-Event-ID" = Option<String>, Header, description = "The id of the last event received: the stream resumes after it", pattern = "^[0-9]{0,18}$"),
        Resume,
    ),
    responses(
        (status = 200, description = "An event stream", content_type = "text/event-stream", body = String,
            example = "event: ready\nid: 41\ndata: {\"resumed\":false}\n\nevent: start\nid: 42\ndata: {\"conversationId\":\"c_3BtwB339AQx5NSoJzcKm\",\"at\":\"2026-11-25T00:23:50.120Z\",\"conversation\":{\"id\":\"c_3BtwB339AQx5NSoJzcKm\",\"channelName\":\"z-scarlet\",\"visitorId\":\"v_3BtwB2nLq7u0oTq5ZrQe\",\"visitorName\":\"Scarlet\",\"status\":\"waiting\",\"startedAt\":\"2026-11-25T00:23:50.120Z\",\"endedAt\":null}}\n\nevent: ping\ndata: {}\n\n"),
        (status = 400, description = "`Last-Event-ID` is not an id this stream sent"),
    ))]
async fn events(
    State(s): State<AppState>,
    TeamAuth(team): TeamAuth,
    Query(q): Query<Resume>,
    headers: HeaderMap,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let asked = headers
        .get("last-event-id")
        .map(|h| h.to_str().unwrap_or("?").to_string())
        .or(q.last_event_id)
        .filter(|id| !id.is_empty());
    // Before the first read: a commit after it notifies this receiver.
    let changes = s.store.subscribe();
    let (start, resumed) = match asked {
        None => (s.store.feed_head(team.seq).await?, false),
        Some(id) => (resume_at(&*s.store, team.seq, &id).await?, true),
    };
    let (tx, rx) = mpsc::channel(QUEUE);
    let ready = Event::default()
        .event("ready")
        .id(start.seq.to_string())
        .data(serde_json::json!({ "resumed": resumed }).to_string());
    tx.try_send(ready).expect("an empty queue has room");
    let feed = Feed {
        store: s.store.clone(),
        team_seq: team.seq,
        at: start,
        changes,
        tx,
    };
    tokio::spawn(feed.run(s.shutdown.clone()));
    let stream =
        futures::stream::unfold(
            rx,
            |mut rx| async move { rx.recv().await.map(|e| (Ok(e), rx)) },
        );
    let ping = Event::default().event("ping").data("{}");
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(PING).event(ping)))
}

/// The position of an id the stream sent: `0` (before the team's first event) or an event's.
async fn resume_at(store: &dyn Store, team_seq: i64, id: &str) -> ApiResult<FeedPosition> {
    let unknown = || {
        ApiError::bad_request(format!(
            "Last-Event-ID {id:?} is not an id this stream sent; reconnect without it to start from now"
        ))
    };
    match id.parse::<i64>().map_err(|_| unknown())? {
        0 => Ok(FeedPosition::START),
        seq => store
            .feed_position(team_seq, seq)
            .await?
            .ok_or_else(unknown),
    }
}

/// One connection's reader of the team feed.
struct Feed {
    store: Arc<dyn Store>,
    team_seq: i64,
    /// The last event sent.
    at: FeedPosition,
    changes: broadcast::Receiver<LiveChange>,
    tx: mpsc::Sender<Event>,
}

impl Feed {
    /// Sends what is new, then waits for a change of the team; ends when the client goes, the
    /// server stops, or the store fails (the client then resumes from its last id).
    async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        let mut held = HELD;
        loop {
            // Notifications already here are for commits this read sees.
            if !self.drain() {
                return;
            }
            let batch = match self.store.feed_after(self.team_seq, self.at, BATCH).await {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %e, team = self.team_seq, "the team stream's read failed");
                    return;
                }
            };
            let full = batch.events.len() == BATCH as usize;
            for e in &batch.events {
                self.at = e.position;
                if let Some(event) = shapes::event(e)
                    && self.tx.send(event).await.is_err()
                {
                    return;
                }
            }
            if full {
                continue;
            }
            let wait = if batch.held {
                let wait = held;
                held = (held * 2).min(HELD_MAX);
                wait
            } else {
                held = HELD;
                RECHECK
            };
            if !self.wait(wait, &mut shutdown).await {
                return;
            }
        }
    }

    /// Empties the queue of notifications; false when the store is gone.
    fn drain(&mut self) -> bool {
        loop {
            match self.changes.try_recv() {
                Ok(_) | Err(broadcast::error::TryRecvError::Lagged(_)) => {}
                Err(broadcast::error::TryRecvError::Empty) => return true,
                Err(broadcast::error::TryRecvError::Closed) => return false,
            }
        }
    }

    /// Waits for a change of this team, or `bound`; false when the stream must end.
    async fn wait(&mut self, bound: Duration, shutdown: &mut watch::Receiver<bool>) -> bool {
        let deadline = tokio::time::sleep(bound);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                change = self.changes.recv() => match change {
                    Ok(ch) if ch.team_seq == self.team_seq => return true,
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => return true,
                    Err(broadcast::error::RecvError::Closed) => return false,
                },
                _ = &mut deadline => return true,
                _ = shutdown.changed() => return false,
                _ = self.tx.closed() => return false,
            }
        }
    }
}
