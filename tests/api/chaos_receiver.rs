//! A misbehaving webhook receiver for the chaos test, on 127.0.0.1:0. On `/chaos` each request
//! meets a fate drawn from a seeded generator (reproducible: the test prints the seed): a 500,
//! the connection reset without an answer, an answer that never comes within the delivery
//! timeout, a slow 200, a 200 with a huge body, or a plain 200. On `/gone` the first request is
//! answered `410 Gone` and the rest 200. It keeps what the test checks of each request (the
//! `webhook-id`, the channel and the position in it of each event, the fate), not the bodies.

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use tokio::sync::watch;

/// What the receiver did with one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fate {
    /// 200 at once.
    Ok,
    /// 500 at once.
    Fail,
    /// The connection reset, nothing answered.
    Reset,
    /// An answer held past the delivery timeout (then 200 to a caller long gone).
    Hang,
    /// 200 after a delay well within the delivery timeout.
    Slow,
    /// 200 with a body of [`HUGE_BODY`] bytes.
    Huge,
    /// 410 Gone (the first request on `/gone`).
    Gone,
}

impl Fate {
    /// The status the sender saw, if it saw one.
    pub fn status(self) -> Option<u16> {
        match self {
            Fate::Ok | Fate::Slow | Fate::Huge => Some(200),
            Fate::Fail => Some(500),
            Fate::Gone => Some(410),
            Fate::Reset | Fate::Hang => None,
        }
    }
}

/// The size of a huge answer.
pub const HUGE_BODY: usize = 8 << 20;
/// The longest slow answer.
const SLOW_MS: u64 = 200;

/// One request as it arrived.
#[derive(Clone, Debug)]
pub struct Arrival {
    pub path: String,
    pub webhook_id: String,
    /// (visitorId, position in the channel) of each event of the body ([`positions`]).
    pub events: Vec<(String, usize)>,
    pub fate: Fate,
    pub at: Instant,
    /// When the answer was ready, in Unix milliseconds (unset for a reset).
    pub answered_ms: Arc<OnceLock<i64>>,
}

struct Shared {
    rng: Mutex<StdRng>,
    log: Mutex<Vec<Arrival>>,
    /// The `webhook-id`s answered 2xx; its size is sent on `accepted_count`.
    accepted: Mutex<HashSet<String>>,
    accepted_count: watch::Sender<usize>,
    hang: Duration,
    huge: Bytes,
    gone_answered: Mutex<bool>,
}

/// The receiver; it stops accepting when dropped.
pub struct ChaosReceiver {
    port: u16,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl ChaosReceiver {
    /// Fates drawn from `seed`; a hang lasts `hang` (longer than the delivery timeout).
    pub async fn start(seed: u64, hang: Duration) -> ChaosReceiver {
        let shared = Arc::new(Shared {
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
            log: Mutex::new(Vec::new()),
            accepted: Mutex::new(HashSet::new()),
            accepted_count: watch::channel(0).0,
            hang,
            huge: Bytes::from(vec![b'x'; HUGE_BODY]),
            gone_answered: Mutex::new(false),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the chaos receiver");
        let port = listener.local_addr().expect("address").port();
        let task = tokio::spawn(accept(listener, shared.clone()));
        ChaosReceiver { port, shared, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn arrivals(&self) -> Vec<Arrival> {
        self.shared.log.lock().unwrap().clone()
    }

    /// Awaits `n` deliveries accepted on `/chaos` (distinct `webhook-id`s answered 2xx); fails after
    /// `timeout` saying `what`.
    pub async fn wait_accepted(&self, what: &str, n: usize, timeout: Duration) -> Vec<Arrival> {
        let mut rx = self.shared.accepted_count.subscribe();
        let wait = rx.wait_for(|got| *got >= n);
        match tokio::time::timeout(timeout, wait).await {
            Ok(r) => {
                r.expect("receiver alive");
                self.arrivals()
            }
            Err(_) => panic!(
                "timed out after {timeout:?} waiting for {what}; {} of {n} accepted, {} requests",
                *self.shared.accepted_count.borrow(),
                self.arrivals().len()
            ),
        }
    }
}

impl Drop for ChaosReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves each connection; a connection whose request was fated to reset is dropped with
/// `SO_LINGER` 0, which sends a TCP RST.
async fn accept(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_zero_linger();
        let shared = shared.clone();
        tokio::spawn(async move {
            let (reset_tx, reset_rx) = tokio::sync::oneshot::channel::<()>();
            let reset_tx = Arc::new(Mutex::new(Some(reset_tx)));
            let service = hyper::service::service_fn(move |req| {
                let (shared, reset_tx) = (shared.clone(), reset_tx.clone());
                async move { Ok::<_, Infallible>(answer(&shared, req, &reset_tx).await) }
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            let conn = hyper::server::conn::http1::Builder::new().serve_connection(io, service);
            tokio::select! {
                _ = conn => {}
                // Dropping the connection (and its stream) resets it.
                _ = reset_rx => {}
            }
        });
    }
}

type ResetTx = Arc<Mutex<Option<tokio::sync::oneshot::Sender<()>>>>;

async fn answer(shared: &Shared, req: Request<Incoming>, reset: &ResetTx) -> Response<Full<Bytes>> {
    let at = Instant::now();
    let path = req.uri().path().to_owned();
    let webhook_id = req
        .headers()
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = req.into_body().collect().await.map(|b| b.to_bytes());
    let events = body.map(|b| positions(&b)).unwrap_or_default();
    let fate = if path == "/gone" {
        let mut answered = shared.gone_answered.lock().unwrap();
        if *answered {
            Fate::Ok
        } else {
            *answered = true;
            Fate::Gone
        }
    } else {
        draw(&mut shared.rng.lock().unwrap())
    };
    let accepted = (path == "/chaos" && fate.status() == Some(200)).then(|| webhook_id.clone());
    let answered_ms = Arc::new(OnceLock::new());
    shared.log.lock().unwrap().push(Arrival {
        path,
        webhook_id,
        events,
        fate,
        at,
        answered_ms: answered_ms.clone(),
    });
    // Counted once logged: a waiter woken by the count finds the arrival in the log.
    if let Some(id) = accepted {
        let mut all = shared.accepted.lock().unwrap();
        all.insert(id);
        shared.accepted_count.send_replace(all.len());
    }
    let status = |code: u16, body: Bytes| {
        let _ = answered_ms.set(unix_ms());
        let mut r = Response::new(Full::new(body));
        *r.status_mut() = hyper::StatusCode::from_u16(code).expect("a status");
        r
    };
    match fate {
        Fate::Ok => status(200, Bytes::from_static(b"ok")),
        Fate::Fail => status(500, Bytes::from_static(b"chaos says 500")),
        Fate::Gone => status(410, Bytes::from_static(b"gone")),
        Fate::Huge => status(200, shared.huge.clone()),
        Fate::Slow => {
            let ms = rand::random_range(10..=SLOW_MS);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            status(200, Bytes::from_static(b"ok, slowly"))
        }
        Fate::Hang => {
            tokio::time::sleep(shared.hang).await;
            status(200, Bytes::from_static(b"too late"))
        }
        Fate::Reset => {
            if let Some(tx) = reset.lock().unwrap().take() {
                let _ = tx.send(());
            }
            std::future::pending().await
        }
    }
}

fn unix_ms() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    now.expect("after 1970").as_millis() as i64
}

/// A fate: mostly 200s, with every kind of trouble common enough to meet often.
fn draw(rng: &mut StdRng) -> Fate {
    match rng.random_range(0..100) {
        0..10 => Fate::Fail,
        10..15 => Fate::Reset,
        15..17 => Fate::Hang,
        17..27 => Fate::Slow,
        27..30 => Fate::Huge,
        _ => Fate::Ok,
    }
}

/// (visitorId, position) of each event of a webhook body: 0 for `start`, n + 1 for a message
/// event whose last message is `… m<n>`.
fn positions(body: &[u8]) -> Vec<(String, usize)> {
    let Ok(Value::Array(events)) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    events
        .iter()
        .filter_map(|e| {
            let visitor = e["visitorId"].as_str()?.to_owned();
            if e["event"] == "start" {
                return Some((visitor, 0));
            }
            let last = e["messages"].as_array()?.last()?["text"].as_str()?;
            let n: usize = last.rsplit_once(" m")?.1.parse().ok()?;
            Some((visitor, n + 1))
        })
        .collect()
}

/// Each delivery's arrivals (by `webhook-id`), in arrival order.
pub fn by_delivery(arrivals: &[Arrival]) -> HashMap<String, Vec<Arrival>> {
    let mut out: HashMap<String, Vec<Arrival>> = HashMap::new();
    for a in arrivals {
        out.entry(a.webhook_id.clone()).or_default().push(a.clone());
    }
    out
}
