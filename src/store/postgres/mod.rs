//! PostgreSQL: for several `palaver serve` processes sharing the work. A process's chat commits
//! share transactions (group commit: [`group`]); other writes are one transaction each from the
//! pool. A commit's lane heads are leased to its own process's workers at once (hand-off), and
//! any process takes them over when a lease ends. `LISTEN/NOTIFY` carries wake-ups and live
//! changes between processes.

mod batch;
mod chat;
mod commit;
mod delivery;
mod directory;
mod disabling;
mod fanout;
mod feed;
mod group;
mod notes;
mod outbox;
mod promotion;
mod purge;
mod requeue;
mod sessions;
mod slack;
mod slack_inbox;

use super::rows::{self, DELIVERY_COLUMNS};
use super::*;
use crate::domain::Millis;
use crate::store::bodies::Recent;
use sqlx::PgPool;
use sqlx::postgres::{PgListener, PgPoolOptions};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// The channel that wakes delivery workers in every process.
const WORK: &str = "palaver_work";
/// The channel of conversation changes (`team_seq:conversation_seq`).
const LIVE: &str = "palaver_live";

pub struct PgStore {
    pool: PgPool,
    work: Arc<Notify>,
    live: broadcast::Sender<LiveChange>,
    /// Notifications for the other processes, sent in batches after their commits.
    announcements: mpsc::UnboundedSender<(&'static str, String)>,
    /// Bodies of recent events, for the claims that read them back (see [`super::bodies`]).
    recent: Arc<Recent>,
    /// How recorded outcomes judge endpoints' health, once delivery workers run here.
    healing: std::sync::OnceLock<HealthRules>,
    /// Retention's batches, one at a time (see [`purge`]).
    pace: purge::Pace,
    /// Deliveries this process's commits made and leased for its own workers.
    handoff: Arc<Handoff>,
    /// The chat commits' group commit.
    pub(crate) group: group::Group,
}

impl PgStore {
    /// Connects, migrates (safe when several processes start at once: the migrator takes an
    /// advisory lock) and starts listening.
    pub async fn open(url: &str, max_connections: u32) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        let (announcements, queue) = mpsc::unbounded_channel();
        tokio::spawn(announce(pool.clone(), queue));
        let (work, recent, handoff) = (
            Arc::new(Notify::new()),
            Arc::<Recent>::default(),
            Arc::default(),
        );
        let group = group::Group::start(
            Arc::new(group::Shared {
                pool: pool.clone(),
                recent: recent.clone(),
                handoff: Arc::clone(&handoff),
                work: work.clone(),
                announcements: announcements.clone(),
            }),
            max_connections,
        );
        let store = PgStore {
            pool,
            work,
            live: broadcast::channel(1024).0,
            announcements,
            recent,
            healing: std::sync::OnceLock::new(),
            pace: purge::Pace::default(),
            handoff,
            group,
        };
        let listener = PgListener::connect_with(&store.pool).await?;
        tokio::spawn(listen(listener, store.work.clone(), store.live.clone()));
        Ok(store)
    }

    /// Tells every process (this one included) after a commit. Not part of the transaction:
    /// PostgreSQL serializes the commits of transactions that notify. A notification lost in a
    /// crash only delays the others until their next poll.
    fn announce(&self, channel: &'static str, payload: String) {
        let _ = self.announcements.send((channel, payload));
    }
}

/// Sends queued notifications, as many as have piled up in one statement, duplicates dropped.
async fn announce(pool: PgPool, mut queue: mpsc::UnboundedReceiver<(&'static str, String)>) {
    let mut batch = Vec::new();
    while queue.recv_many(&mut batch, 512).await > 0 {
        batch.sort_unstable();
        batch.dedup();
        let (channels, payloads): (Vec<&str>, Vec<String>) = batch.drain(..).unzip();
        let sent =
            sqlx::query("SELECT pg_notify(c, p) FROM unnest($1::text[], $2::text[]) AS t(c, p)")
                .bind(&channels)
                .bind(&payloads)
                .execute(&pool)
                .await;
        if let Err(e) = sent {
            tracing::warn!(error = %e, "notifying the other processes failed");
        }
    }
}

/// Relays notifications from every process to this one's workers and live streams.
async fn listen(mut listener: PgListener, work: Arc<Notify>, live: broadcast::Sender<LiveChange>) {
    loop {
        if let Err(e) = listener.listen_all([WORK, LIVE]).await {
            tracing::warn!(error = %e, "LISTEN failed; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        loop {
            match listener.try_recv().await {
                Ok(Some(n)) if n.channel() == WORK => work.notify_one(),
                Ok(Some(n)) => {
                    if let Some((t, c)) = n.payload().split_once(':')
                        && let (Ok(team_seq), Ok(conversation_seq)) = (t.parse(), c.parse())
                    {
                        let _ = live.send(LiveChange {
                            team_seq,
                            conversation_seq,
                        });
                    }
                }
                Ok(None) => {
                    // The connection dropped and came back: notifications may be lost, look again.
                    tracing::warn!("the LISTEN connection was lost and re-established");
                    work.notify_one();
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "receiving notifications failed; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    break;
                }
            }
        }
    }
}

#[async_trait]
impl Store for PgStore {
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}
