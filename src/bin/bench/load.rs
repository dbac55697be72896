//! The load generator: the public API, as a widget and an integrator would call it. With several
//! servers (`--processes`), each call goes to the next one in turn.

use palaver::domain::conversation::EventName;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub struct Api {
    client: reqwest::Client,
    /// The servers' base URLs; calls take them in turn.
    bases: Vec<String>,
    turn: AtomicUsize,
    site_key: String,
}

/// A visitor and their conversation.
#[derive(Clone)]
pub struct Visitor {
    /// Where this visitor's messages go, below a server's base URL.
    pub messages_path: String,
    /// `Bearer <visitor token>`.
    pub auth: String,
}

/// Every event a webhook can take.
pub fn all_events() -> Vec<&'static str> {
    EventName::ALL.into_iter().map(EventName::as_str).collect()
}

/// Messages answered `503` (busy) and sent again, since the bench started.
pub static BUSY: AtomicU64 = AtomicU64::new(0);
/// How often a busy message is sent before the bench gives up, and the pause between tries.
const BUSY_TRIES: usize = 100;
const BUSY_PAUSE: Duration = Duration::from_millis(10);

/// When each tagged message was acknowledged.
pub type Answers = Vec<(u64, Instant)>;

impl Api {
    /// An API client of the servers at `bases` (at least one).
    pub async fn connect(bases: &[String]) -> Api {
        let base = &bases[0];
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(1024)
            .build()
            .expect("client");
        let team: Value = client
            .get(format!("{base}/api/v1/team"))
            .bearer_auth(super::server::API_KEY)
            .send()
            .await
            .expect("GET /team")
            .json()
            .await
            .expect("team JSON");
        let site_key = team["siteKey"].as_str().expect("siteKey").to_string();
        Api {
            client,
            bases: bases.to_vec(),
            turn: AtomicUsize::new(0),
            site_key,
        }
    }

    /// The server for the next call.
    fn base(&self) -> &str {
        &self.bases[next_turn(&self.turn, self.bases.len())]
    }

    async fn post(&self, path: &str, auth: (&str, &str), body: Value) -> Value {
        let r = self
            .client
            .post(format!("{}/api/v1{path}", self.base()))
            .header(auth.0, auth.1)
            .json(&body)
            .send()
            .await
            .expect("API call");
        assert!(r.status().is_success(), "{path}: {}", r.status());
        r.json().await.expect("JSON answer")
    }

    /// A webhook for all six events.
    pub async fn webhook(&self, url: &str) -> String {
        self.webhook_for(url, &all_events()).await
    }

    /// Opts webhook `id` into batches of up to `size` events.
    pub async fn batch(&self, id: &str, size: usize) {
        let r = self
            .client
            .patch(format!("{}/api/v1/webhooks/{id}", self.base()))
            .bearer_auth(super::server::API_KEY)
            .json(&json!({ "batchSize": size }))
            .send()
            .await
            .expect("PATCH /webhooks");
        assert!(r.status().is_success(), "batchSize: {}", r.status());
    }

    pub async fn webhook_for(&self, url: &str, events: &[&str]) -> String {
        self.webhook_with(json!({"url": url, "events": events}))
            .await
    }

    /// A webhook made of `body` (url, events, limits…).
    pub async fn webhook_with(&self, body: Value) -> String {
        let auth = format!("Bearer {}", super::server::API_KEY);
        let w = self.post("/webhooks", ("authorization", &auth), body).await;
        w["id"].as_str().expect("webhook id").to_string()
    }

    /// `n` visitors start a conversation each (`n` `start` events), `concurrency` at a time.
    pub async fn visitors(self: &Arc<Self>, n: usize, concurrency: usize) -> Vec<Visitor> {
        let next = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..concurrency.min(n) {
            let (api, next) = (self.clone(), next.clone());
            tasks.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                while next.fetch_add(1, Ordering::Relaxed) < n {
                    let site = api.site_key.clone();
                    let v = api
                        .post("/visitor/conversations", ("x-site-key", &site), json!({}))
                        .await;
                    let conversation = v["conversationId"].as_str().unwrap();
                    mine.push(Visitor {
                        messages_path: format!(
                            "/api/v1/visitor/conversations/{conversation}/messages"
                        ),
                        auth: format!("Bearer {}", v["visitorToken"].as_str().unwrap()),
                    });
                }
                mine
            }));
        }
        let mut all = Vec::with_capacity(n);
        for t in tasks {
            all.extend(t.await.expect("visitor task"));
        }
        all
    }

    /// Posts the visitor message `t<tag>`; answers when it was acknowledged. As plain as the
    /// baseline's client: the body written directly, the answer's status checked and its bytes
    /// read, not parsed. A `503` (busy: with several processes, concurrent changes to one visitor
    /// made in other processes ran out of retries) is sent again shortly, as a client would, and
    /// counted in [`BUSY`].
    pub async fn message(&self, v: &Visitor, tag: u64) -> Instant {
        for _ in 0..BUSY_TRIES {
            let r = self
                .client
                .post(format!("{}{}", self.base(), v.messages_path))
                .header("authorization", &v.auth)
                .header("content-type", "application/json")
                .body(format!(r#"{{"text":"t{tag}"}}"#))
                .send()
                .await
                .expect("API call");
            let status = r.status();
            r.bytes().await.expect("the answer");
            if status == reqwest::StatusCode::SERVICE_UNAVAILABLE {
                BUSY.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(BUSY_PAUSE).await;
                continue;
            }
            assert!(status.is_success(), "message: {status}");
            return Instant::now();
        }
        panic!("message: still busy (503) after {BUSY_TRIES} tries")
    }
}

/// Posts `total` messages round-robin over `visitors`, at most `concurrency` in flight, tags
/// from `first_tag`. Answers the acknowledgements and the time it took.
pub async fn burst(
    api: &Arc<Api>,
    visitors: &[Visitor],
    total: usize,
    concurrency: usize,
    first_tag: u64,
) -> (Answers, Duration) {
    let visitors = Arc::new(visitors.to_vec());
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (api, visitors, next) = (api.clone(), visitors.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return answers;
                }
                let tag = first_tag + i as u64;
                answers.push((tag, api.message(&visitors[i % visitors.len()], tag).await));
            }
        }));
    }
    let mut answers = Vec::with_capacity(total);
    for t in tasks {
        answers.extend(t.await.expect("burst task"));
    }
    (answers, started.elapsed())
}

/// Posts `rate` messages a second for `duration`, each as its own task. Answers the
/// acknowledgements and the window the load was offered in: from the first message sent to one
/// period after the last (when the next would have gone).
pub async fn steady(
    api: &Arc<Api>,
    visitors: &[Visitor],
    rate: u64,
    duration: Duration,
    first_tag: u64,
) -> (Answers, std::ops::Range<Instant>) {
    let period = Duration::from_secs_f64(1.0 / rate as f64);
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let total = (rate as f64 * duration.as_secs_f64()) as usize;
    let mut tasks = Vec::with_capacity(total);
    let mut started = None;
    for i in 0..total {
        ticker.tick().await;
        started.get_or_insert_with(Instant::now);
        let (api, v) = (api.clone(), visitors[i % visitors.len()].clone());
        let tag = first_tag + i as u64;
        tasks.push(tokio::spawn(
            async move { (tag, api.message(&v, tag).await) },
        ));
    }
    let stopped = Instant::now() + period;
    let mut answers = Vec::with_capacity(total);
    for t in tasks {
        answers.push(t.await.expect("steady task"));
    }
    (answers, started.unwrap_or(stopped)..stopped)
}

/// The turn `turn` gives out next, over `n` places: 0, 1, … n - 1, 0, …
fn next_turn(turn: &AtomicUsize, n: usize) -> usize {
    turn.fetch_add(1, Ordering::Relaxed) % n
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn calls_go_to_the_servers_in_turn() {
        let turn = AtomicUsize::new(0);
        let three: Vec<usize> = (0..7).map(|_| super::next_turn(&turn, 3)).collect();
        assert_eq!(three, [0, 1, 2, 0, 1, 2, 0]);
        let one = AtomicUsize::new(0);
        assert!((0..4).all(|_| super::next_turn(&one, 1) == 0));
    }
}
