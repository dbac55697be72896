//! Works through `recover` requests in small batches, so that a restart resumes them and no
//! single transaction holds the writer for long.

use crate::domain::Millis;
use crate::store::Store;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Deliveries re-queued per transaction.
const BATCH: u32 = 500;
/// How often to look for new requests when idle.
const IDLE: Duration = Duration::from_millis(500);

pub struct Recoverer {
    task: JoinHandle<()>,
}

impl Recoverer {
    pub fn start(store: Arc<dyn Store>, mut shutdown: watch::Receiver<bool>) -> Self {
        let task = tokio::spawn(async move {
            while !*shutdown.borrow() {
                match store.recovery_step(Millis::now(), BATCH).await {
                    Ok(true) => continue,
                    Ok(false) => {}
                    Err(e) => tracing::error!(error = %e, "recovery step failed"),
                }
                tokio::select! {
                    _ = tokio::time::sleep(IDLE) => {}
                    _ = shutdown.changed() => {}
                }
            }
        });
        Recoverer { task }
    }

    pub async fn stopped(self) {
        let _ = self.task.await;
    }
}
