//! Slack → Palaver: the Events API receiver and the inbox behind it.
//! - [`receive`]: `POST /slack/events`: signatures checked before parsing, `url_verification`,
//!   events queued durably with their seen mark and answered at once;
//! - [`worker`]: acts on queued events in each channel's order, retrying what failed;
//! - [`act`]: what an event does (join, write, `.end`, a private note) through chat;
//! - [`kind`]: what an event asks for, told from the event alone;
//! - [`lookup`]: channels and users asked of Slack and remembered.

mod act;
pub mod kind;
mod lookup;
pub mod receive;
mod worker;

use crate::chat::Chat;
use crate::slack::SlackClient;
use crate::store::{Store, StoreError};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// Why an event was not acted on.
#[derive(Debug)]
pub enum Failure {
    /// It may work later (Slack down or rate limited, the store failing): try again, not before
    /// `after` if given.
    Retry {
        why: String,
        after: Option<Duration>,
    },
    /// It never will (Slack refused for good, e.g. `user_not_found`): give up.
    Drop(String),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Retry {
            why: e.to_string(),
            after: None,
        }
    }
}

/// The receiver's router and the running worker.
pub struct Inbox {
    /// `POST /slack/events`, to merge beside the API.
    pub router: axum::Router,
    worker: tokio::task::JoinHandle<()>,
}

impl Inbox {
    /// Starts the worker (resuming what a previous run left queued) and builds the receiver.
    /// `chat` must be the instance the API uses (it keeps each visitor's state in memory).
    pub fn start(
        store: Arc<dyn Store>,
        chat: Arc<Chat>,
        client: Arc<SlackClient>,
        stop: watch::Receiver<bool>,
    ) -> Self {
        let wake = Arc::new(Notify::new());
        let actor = Arc::new(act::Actor {
            store: store.clone(),
            chat,
            lookups: lookup::Lookups::new(store.clone(), client),
        });
        let worker = tokio::spawn(worker::run(store.clone(), actor, wake.clone(), stop));
        Inbox {
            router: receive::router(store, wake),
            worker,
        }
    }

    /// Resolves once the worker has stopped (after `stop`) and the events in hand are settled.
    pub fn stopped(self) -> impl std::future::Future<Output = ()> {
        let worker = self.worker;
        async move {
            let _ = worker.await;
        }
    }
}
