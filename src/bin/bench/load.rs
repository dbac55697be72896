//! The load generator: the public API, as a widget and an integrator would call it.

use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub struct Api {
    client: reqwest::Client,
    base: String,
    site_key: String,
}

/// A visitor and their conversation.
#[derive(Clone)]
pub struct Visitor {
    /// Where this visitor's messages go.
    pub messages_url: String,
    /// `Bearer <visitor token>`.
    pub auth: String,
}

/// When each tagged message was acknowledged.
pub type Answers = Vec<(u64, Instant)>;

impl Api {
    pub async fn connect(base: &str) -> Api {
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
            base: base.to_string(),
            site_key,
        }
    }

    async fn post(&self, path: &str, auth: (&str, &str), body: Value) -> Value {
        let r = self
            .client
            .post(format!("{}/api/v1{path}", self.base))
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
        let all = [
            "start",
            "open",
            "end",
            "email",
            "messageVisitor",
            "messageAgent",
        ];
        self.webhook_for(url, &all).await
    }

    /// Opts webhook `id` into batches of up to `size` events.
    pub async fn batch(&self, id: &str, size: usize) {
        let r = self
            .client
            .patch(format!("{}/api/v1/webhooks/{id}", self.base))
            .bearer_auth(super::server::API_KEY)
            .json(&json!({ "batchSize": size }))
            .send()
            .await
            .expect("PATCH /webhooks");
        assert!(r.status().is_success(), "batchSize: {}", r.status());
    }

    pub async fn webhook_for(&self, url: &str, events: &[&str]) -> String {
        let auth = format!("Bearer {}", super::server::API_KEY);
        let body = json!({"url": url, "events": events});
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
                        messages_url: format!(
                            "{}/api/v1/visitor/conversations/{conversation}/messages",
                            api.base
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
    /// read, not parsed.
    pub async fn message(&self, v: &Visitor, tag: u64) -> Instant {
        let r = self
            .client
            .post(&v.messages_url)
            .header("authorization", &v.auth)
            .header("content-type", "application/json")
            .body(format!(r#"{{"text":"t{tag}"}}"#))
            .send()
            .await
            .expect("API call");
        let status = r.status();
        r.bytes().await.expect("the answer");
        assert!(status.is_success(), "message: {status}");
        Instant::now()
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

/// Posts `rate` messages a second for `duration`, each as its own task.
pub async fn steady(
    api: &Arc<Api>,
    visitors: &[Visitor],
    rate: u64,
    duration: Duration,
    first_tag: u64,
) -> Answers {
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let total = (rate as f64 * duration.as_secs_f64()) as usize;
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        ticker.tick().await;
        let (api, v) = (api.clone(), visitors[i % visitors.len()].clone());
        let tag = first_tag + i as u64;
        tasks.push(tokio::spawn(
            async move { (tag, api.message(&v, tag).await) },
        ));
    }
    let mut answers = Vec::with_capacity(total);
    for t in tasks {
        answers.push(t.await.expect("steady task"));
    }
    answers
}
