//! The dispatcher (claims and spawns sends) and the recorder (batches outcomes into the store).

use super::RetrySchedule;
use super::batch::Held;
use super::client::Http;
use super::courier::Couriers;
use super::pace::{Pace, Request, Sorted};
use super::proxy::WebhookProxy;
use super::request::{self, Context};
use crate::domain::Millis;
use crate::store::{Claimed, EndpointKind, HealthRules, Outcome, Store};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, Semaphore, mpsc, watch};
use tokio::task::JoinHandle;

/// How deliveries are sent.
#[derive(Clone, Debug)]
pub struct DeliveryConfig {
    pub schedule: RetrySchedule,
    /// Total time for one attempt, answer included.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub allow_private: bool,
    /// Most attempts in flight at once.
    pub concurrency: usize,
    /// Certificates trusted for HTTPS beside the system's and Mozilla's roots.
    pub ca_certs: Vec<rustls::pki_types::CertificateDer<'static>>,
    /// Where webhooks go out through, if not straight to their endpoints.
    pub proxy: Option<WebhookProxy>,
    /// When failing endpoints are disabled and how often they are probed then.
    pub health: HealthRules,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            schedule: RetrySchedule::default(),
            timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(5),
            allow_private: false,
            concurrency: 256,
            ca_certs: Vec::new(),
            proxy: None,
            health: HealthRules::default(),
        }
    }
}

/// Most deliveries claimed in one go.
const CLAIM_BATCH: usize = 128;
/// How long past the attempt's timeout a claim stays leased: time to record the outcome.
const LEASE_MARGIN: Duration = Duration::from_secs(10);
/// The safety-net poll when nothing signals.
const IDLE_POLL: Duration = Duration::from_secs(1);

/// The running workers.
pub struct Deliverer {
    dispatcher: JoinHandle<()>,
}

impl Deliverer {
    /// Starts the workers; they stop claiming when `shutdown` turns true. Deliveries of
    /// endpoints that are not webhooks go to `couriers`.
    pub fn start(
        store: Arc<dyn Store>,
        config: DeliveryConfig,
        couriers: Couriers,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        let http = Arc::new(Http::new(&config));
        store.enable_healing(config.health);
        tokio::spawn(super::health::probe(
            store.clone(),
            config.health,
            shutdown.clone(),
        ));
        let dispatcher = tokio::spawn(dispatch(store, config, http, couriers, shutdown));
        Deliverer { dispatcher }
    }

    /// Waits until in-flight attempts are recorded (after `shutdown` turned true).
    pub async fn stopped(self) {
        let _ = self.dispatcher.await;
    }
}

async fn dispatch(
    store: Arc<dyn Store>,
    config: DeliveryConfig,
    http: Arc<Http>,
    couriers: Couriers,
    mut shutdown: watch::Receiver<bool>,
) {
    let (done_tx, done_rx) = mpsc::channel::<Outcome>(4096);
    // Batching endpoints' deliveries waiting for room, and the endpoints whose requests return.
    let mut held = Held::default();
    let (returned_tx, mut returned_rx) = mpsc::unbounded_channel::<i64>();
    // Each endpoint's limits and pauses, and the signal that they let something go.
    let pace = Arc::new(Mutex::new(Pace::default()));
    let paced = Arc::new(Notify::new());
    let recorder = tokio::spawn(record(store.clone(), done_rx));
    let slots = Arc::new(Semaphore::new(config.concurrency));
    let work = store.work_signal();
    let lease = config.timeout + LEASE_MARGIN;
    let config = Arc::new(config);
    store.enable_handoff(lease);
    let handoff = store.handoff_signal().unwrap_or_default();
    // Whether a claim query may find something; when it last looked, it said when to look again.
    let mut claim_needed = true;
    let mut next_due: Option<Millis> = None;
    while !*shutdown.borrow() {
        let free = slots.available_permits().min(CLAIM_BATCH);
        if free == 0 {
            // Every slot busy: wait for one to free up.
            tokio::select! {
                p = slots.clone().acquire_owned() => drop(p),
                _ = shutdown.changed() => {}
            }
            continue;
        }
        let mut batch = store.take_handed_off(free);
        // A hand-off that waited so long its lease ends before an attempt could: leave it to be
        // claimed again once the lease is over, rather than risk two sends at once.
        let cutoff = Millis::now().plus_ms(config.timeout.as_millis() as i64);
        batch.retain(|c| c.lease_until > cutoff);
        if claim_needed && batch.len() < free {
            let now = Millis::now();
            let want = (free - batch.len()) as u32;
            match store
                .claim(now, now.plus_ms(lease.as_millis() as i64), want)
                .await
            {
                Ok(c) => {
                    claim_needed = c.deliveries.len() == want as usize;
                    next_due = c.next_due;
                    batch.extend(c.deliveries);
                }
                Err(e) => tracing::error!(error = %e, "claiming deliveries failed"),
            }
        }
        let full = batch.len() == free;
        // A delivery whose body could not be rebuilt fails at once, the reason in its log.
        if batch.iter().any(|c| c.unsendable.is_some()) {
            let unsendable;
            (unsendable, batch) = batch.into_iter().partition(|c| c.unsendable.is_some());
            for c in unsendable {
                let _ = done_tx.send(request::not_sent(c)).await;
            }
        }
        // Batches sent before go out again as they were; batching endpoints' new deliveries
        // wait for room; the rest go alone.
        let mut retried: HashMap<String, Vec<Claimed>> = HashMap::new();
        let mut alone = Vec::new();
        for c in batch {
            match (&c.batch_id, c.batch_size > 1) {
                (Some(id), _) => retried.entry(id.clone()).or_default().push(c),
                (None, true) => held.hold(c),
                (None, false) => alone.push(c),
            }
        }
        let single = |c| Request {
            batch_id: None,
            members: vec![c],
        };
        let mut requests: Vec<Request> = alone.into_iter().map(single).collect();
        for (id, mut members) in retried {
            members.sort_by_key(|c| c.seq);
            held.sending(members[0].endpoint_seq);
            requests.push(Request {
                batch_id: Some(id),
                members,
            });
        }
        let cutoff = Millis::now().plus_ms(config.timeout.as_millis() as i64);
        requests.extend(held.ready(cutoff).into_iter().map(|members| Request {
            batch_id: None,
            members,
        }));
        // The endpoints' limits and pauses: what goes now, what waits, what is handed back.
        let mut sorted = Sorted::default();
        {
            let mut pace = pace.lock().expect("pace lock");
            let now = Instant::now();
            for r in requests {
                pace.admit(r, now, &mut sorted);
            }
            pace.release(now, cutoff, &mut sorted);
        }
        for (r, at) in sorted.defer {
            if r.members[0].batch_size > 1 {
                held.returned(r.endpoint());
            }
            for outcome in request::deferred(r, at) {
                let _ = done_tx.send(outcome).await;
            }
        }
        for (r, counted) in sorted.go {
            let permit = slots.clone().acquire_owned().await.expect("never closed");
            let (http, config, done) = (http.clone(), config.clone(), done_tx.clone());
            let (store, returned) = (store.clone(), returned_tx.clone());
            let (couriers, pace, paced) = (couriers.clone(), pace.clone(), paced.clone());
            tokio::spawn(async move {
                let batching = r.members[0].batch_size > 1;
                let endpoint = r.endpoint();
                let outcomes = match r.members[0].kind {
                    EndpointKind::Webhook => {
                        let cx = Context {
                            store: &*store,
                            http: &http,
                            config: &config,
                            pace: &pace,
                            wake: &paced,
                        };
                        request::send(&cx, r).await
                    }
                    _ => couriers.send_each(r.members, &config).await,
                };
                if counted && pace.lock().expect("pace lock").returned(endpoint) {
                    paced.notify_one();
                }
                for outcome in outcomes {
                    let _ = done.send(outcome).await;
                }
                if batching {
                    let _ = returned.send(endpoint);
                }
                drop(permit);
            });
        }
        if full {
            continue;
        }
        let wait = match next_due {
            Some(due) => Duration::from_millis(
                (due.0 - Millis::now().0).clamp(0, IDLE_POLL.as_millis() as i64) as u64,
            ),
            None => IDLE_POLL,
        };
        // A limited endpoint's next start, when requests wait for it (no claim needed then).
        let pace_wait = pace.lock().expect("pace lock").next_wake();
        let pace_wait = pace_wait.map(|at| at.saturating_duration_since(Instant::now()));
        tokio::select! {
            Some(endpoint) = returned_rx.recv() => held.returned(endpoint),
            _ = paced.notified() => {}
            _ = tokio::time::sleep(pace_wait.unwrap_or_default()), if pace_wait.is_some() => {}
            _ = work.notified() => claim_needed = true,
            // A commit's deliveries become ready together with its API answers: those go
            // first (one turn of the scheduler), so that the callers' next calls fill the next
            // group commit while these webhooks go out. +5% in the burst (BENCHMARKS.md).
            _ = handoff.notified() => tokio::task::yield_now().await,
            _ = tokio::time::sleep(wait) => claim_needed = true,
            _ = shutdown.changed() => {}
        }
    }
    // Requests waiting for their endpoint's room go back to the outbox unsent, due at once.
    let waiting = pace.lock().expect("pace lock").drain();
    for r in waiting {
        for outcome in request::deferred(r, Millis::now()) {
            let _ = done_tx.send(outcome).await;
        }
    }
    // Let in-flight attempts finish (each is bounded by the timeout), then record them.
    let _ = slots.acquire_many(config.concurrency as u32).await;
    drop(done_tx);
    let _ = recorder.await;
}

/// Writes outcomes in batches: one transaction for as many as have arrived.
async fn record(store: Arc<dyn Store>, mut rx: mpsc::Receiver<Outcome>) {
    let mut batch = Vec::with_capacity(256);
    while rx.recv_many(&mut batch, 256).await > 0 {
        let outcomes: Vec<Outcome> = std::mem::take(&mut batch);
        outcomes.iter().for_each(super::metered::outcome);
        let mut delay = Duration::from_millis(100);
        loop {
            match store.finish(outcomes.clone(), Millis::now()).await {
                Ok(()) => break,
                Err(e) => {
                    // The lease will expire and the delivery be sent again if this never succeeds.
                    tracing::error!(error = %e, "recording attempts failed; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                    if delay >= Duration::from_secs(5) {
                        break;
                    }
                }
            }
        }
    }
}
