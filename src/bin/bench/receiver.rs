//! The webhook receiver: counts arrivals, notes when each tagged message first arrived, and can
//! answer slowly. Beside its hook it has a slow one (`slow_url`, answered after [`SLOW_DELAY`],
//! counted apart) for an endpoint that lags behind a healthy one on the same receiver.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How long the slow hook takes to answer.
pub const SLOW_DELAY: Duration = Duration::from_secs(1);

pub struct Receiver {
    pub url: String,
    pub slow_url: String,
    state: Arc<Shared>,
    count: watch::Receiver<u64>,
}

struct Shared {
    delay: Duration,
    batched: bool,
    /// Events received (a batched request carries several).
    count: AtomicU64,
    requests: AtomicU64,
    bytes: AtomicU64,
    tick: watch::Sender<u64>,
    /// First arrival of each tag (`t<number>`, the last message's text).
    arrivals: Mutex<HashMap<u64, Instant>>,
    last: Mutex<Option<Instant>>,
    /// Requests the slow hook answered.
    slow_count: AtomicU64,
}

impl Receiver {
    /// A receiver counting one event per request.
    pub async fn start(delay: Duration) -> Receiver {
        Self::start_counting(delay, false).await
    }

    /// With `batched`, counts the events in each body (a scan of every body: only where batches
    /// are expected, so that the other figures do not pay for it).
    pub async fn start_counting(delay: Duration, batched: bool) -> Receiver {
        let (tick, count) = watch::channel(0);
        let state = Arc::new(Shared {
            delay,
            batched,
            count: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            tick,
            arrivals: Mutex::new(HashMap::new()),
            last: Mutex::new(None),
            slow_count: AtomicU64::new(0),
        });
        let app = axum::Router::new()
            .route("/hook", post(hook))
            .route("/slow", post(slow_hook))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver {
            url: format!("http://{address}/hook"),
            slow_url: format!("http://{address}/slow"),
            state,
            count,
        }
    }

    /// Requests the slow hook answered so far.
    pub fn slow_count(&self) -> u64 {
        self.state.slow_count.load(Ordering::Relaxed)
    }

    /// Requests received.
    pub fn requests(&self) -> u64 {
        self.state.requests.load(Ordering::Relaxed)
    }

    pub fn bytes(&self) -> u64 {
        self.state.bytes.load(Ordering::Relaxed)
    }

    /// Waits until `n` events arrived (or `limit` passed); answers when the last one came.
    pub async fn wait_for(&mut self, n: u64, limit: Duration) -> Option<Instant> {
        let reached = tokio::time::timeout(limit, self.count.wait_for(|c| *c >= n)).await;
        match reached {
            Ok(Ok(_)) => *self.state.last.lock().unwrap(),
            _ => None,
        }
    }

    /// When tag `t` first arrived.
    pub fn arrival(&self, tag: u64) -> Option<Instant> {
        self.state.arrivals.lock().unwrap().get(&tag).copied()
    }
}

/// The tag of the last message in a body: `"text":"t123"` → 123.
fn last_tag(body: &[u8]) -> Option<u64> {
    let needle = b"\"text\":\"t";
    let at = body.windows(needle.len()).rposition(|w| w == needle)? + needle.len();
    let digits = body[at..].iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&body[at..at + digits])
        .ok()?
        .parse()
        .ok()
}

/// How many events a body carries: one per `{"event":"` (at least one).
fn events_in(body: &[u8]) -> u64 {
    let needle = br#"{"event":""#;
    let n = body.windows(needle.len()).filter(|w| w == needle).count();
    n.max(1) as u64
}

async fn hook(State(s): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    if !s.delay.is_zero() {
        tokio::time::sleep(s.delay).await;
    }
    let now = Instant::now();
    if let Some(tag) = last_tag(&body) {
        s.arrivals.lock().unwrap().entry(tag).or_insert(now);
    }
    s.bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
    *s.last.lock().unwrap() = Some(now);
    let events = if s.batched { events_in(&body) } else { 1 };
    s.requests.fetch_add(1, Ordering::Relaxed);
    let n = s.count.fetch_add(events, Ordering::Relaxed) + events;
    s.tick.send_replace(n);
    StatusCode::NO_CONTENT
}

async fn slow_hook(State(s): State<Arc<Shared>>) -> StatusCode {
    tokio::time::sleep(SLOW_DELAY).await;
    s.slow_count.fetch_add(1, Ordering::Relaxed);
    StatusCode::NO_CONTENT
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_the_last_tag() {
        assert_eq!(
            super::last_tag(br#"[{"messages":[{"text":"t1"},{"text":"t42"}]}]"#),
            Some(42)
        );
        assert_eq!(super::last_tag(br#"[{"messages":[]}]"#), None);
        assert_eq!(
            super::events_in(br#"[{"event":"start"},{"event":"end"}]"#),
            2
        );
        assert_eq!(super::events_in(br#"[{"text":"x"}]"#), 1);
    }
}
