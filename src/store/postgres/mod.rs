//! PostgreSQL: for several `palaver serve` processes sharing the work. Each write is one
//! transaction from the pool; `LISTEN/NOTIFY` carries wake-ups and live changes between
//! processes.

mod chat;
mod commit;
mod delivery;
mod directory;
mod outbox;

use super::rows::{self, Columns, DELIVERY_COLUMNS};
use super::*;
use crate::domain::Millis;
use sqlx::postgres::{PgListener, PgPoolOptions};
use sqlx::{Acquire, PgPool};
use std::time::Duration;
use tokio::sync::broadcast;

/// The channel that wakes delivery workers in every process.
const WORK: &str = "palaver_work";
/// The channel of conversation changes (`team_seq:conversation_seq`).
const LIVE: &str = "palaver_live";

pub struct PgStore {
    pool: PgPool,
    work: Arc<Notify>,
    live: broadcast::Sender<LiveChange>,
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
        let store = PgStore {
            pool,
            work: Arc::new(Notify::new()),
            live: broadcast::channel(1024).0,
        };
        let listener = PgListener::connect_with(&store.pool).await?;
        tokio::spawn(listen(listener, store.work.clone(), store.live.clone()));
        Ok(store)
    }

    async fn notify(conn: &mut sqlx::PgConnection, channel: &str, payload: &str) -> Result<()> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(channel)
            .bind(payload)
            .execute(conn)
            .await?;
        Ok(())
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
