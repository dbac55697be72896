//! Typed methods of [`TestApp`], one per API operation. The `*_call` variants return the raw
//! request so error tests can alter it; the plain ones assert the documented success status.

use std::future::Future;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::client::{ApiResponse, Auth, Call};
use crate::helpers::TestApp;
use crate::sse::SseStream;

/// The answer of `POST /visitor/conversations`.
#[derive(Clone, Debug)]
pub struct VisitorSession {
    pub conversation_id: String,
    pub visitor_id: String,
    pub visitor_name: String,
    pub channel_name: String,
    pub token: String,
    pub status: String,
}

impl VisitorSession {
    pub fn from_json(v: &Value) -> Self {
        let s = |k: &str| {
            v[k].as_str()
                .unwrap_or_else(|| panic!("visitor start answer lacks string {k}: {v}"))
                .to_owned()
        };
        VisitorSession {
            conversation_id: s("conversationId"),
            visitor_id: s("visitorId"),
            visitor_name: s("visitorName"),
            channel_name: s("channelName"),
            token: s("visitorToken"),
            status: s("status"),
        }
    }
}

/// A webhook endpoint as created.
#[derive(Clone, Debug)]
pub struct Webhook {
    pub id: String,
    pub secret: String,
    pub json: Value,
}

/// A `POST /visitor/conversations` request.
#[derive(Clone, Debug, Default)]
pub struct VisitorStart {
    pub identity: Option<Value>,
    pub message: Option<String>,
    pub visitor_token: Option<String>,
    pub user_agent: Option<String>,
}

impl TestApp {
    pub fn create_webhook_call(&self, body: &Value) -> Call<'_> {
        self.api(Method::POST, "/webhooks").json(body)
    }

    /// `POST /webhooks`; `events: None` subscribes to all six.
    pub async fn create_webhook(&self, url: &str, events: Option<&[&str]>) -> Webhook {
        let mut body = json!({ "url": url });
        if let Some(events) = events {
            body["events"] = json!(events);
        }
        let created = self
            .create_webhook_call(&body)
            .send()
            .await
            .expect_json(201);
        let secret = created["secret"].as_str().unwrap_or_default().to_owned();
        assert!(secret.starts_with("whsec_"), "bad secret: {created}");
        Webhook {
            id: created["id"].as_str().expect("webhook id").to_owned(),
            secret,
            json: created,
        }
    }

    pub async fn patch_webhook(&self, id: &str, patch: &Value) -> Value {
        let path = format!("/webhooks/{id}");
        let call = self.api(Method::PATCH, &path).json(patch);
        call.send().await.expect_json(200)
    }

    pub async fn rotate_secret(&self, id: &str) -> String {
        let path = format!("/webhooks/{id}/rotate-secret");
        let answer = self.api(Method::POST, &path).send().await.expect_json(200);
        answer["secret"].as_str().expect("new secret").to_owned()
    }

    /// `PUT /agents/{id}` with the object's own `id`.
    pub async fn put_agent(&self, agent: &Value) -> ApiResponse {
        let id = agent["id"].as_str().expect("agent has an id");
        let path = format!("/agents/{id}");
        self.api(Method::PUT, &path).json(agent).send().await
    }

    pub async fn visitor_start_call(&self, req: &VisitorStart) -> Call<'_> {
        let mut body = json!({});
        if let Some(identity) = &req.identity {
            body["identity"] = identity.clone();
        }
        if let Some(message) = &req.message {
            body["message"] = json!(message);
        }
        if let Some(token) = &req.visitor_token {
            body["visitorToken"] = json!(token);
        }
        let mut call = self
            .call(Method::POST, "/api/v1/visitor/conversations")
            .auth(Auth::SiteKey(self.site_key().await))
            .json(&body);
        if let Some(ua) = &req.user_agent {
            call = call.header("user-agent", ua);
        }
        call
    }

    /// A new visitor starts a conversation (201).
    pub async fn visitor_start(&self, identity: Value, message: Option<&str>) -> VisitorSession {
        let req = VisitorStart {
            identity: Some(identity),
            message: message.map(str::to_owned),
            ..VisitorStart::default()
        };
        let answer = self.visitor_start_call(&req).await.send().await;
        VisitorSession::from_json(&answer.expect_json(201))
    }

    pub fn visitor_message_call(&self, token: &str, conv: &str, text: &str) -> Call<'_> {
        let path = format!("/api/v1/visitor/conversations/{conv}/messages");
        self.call(Method::POST, &path)
            .bearer(token)
            .json(&json!({ "text": text }))
    }

    /// The visitor writes (201); returns the message.
    pub async fn visitor_message(&self, token: &str, conv: &str, text: &str) -> Value {
        let call = self.visitor_message_call(token, conv, text);
        call.send().await.expect_json(201)
    }

    pub async fn visitor_conversation(&self, token: &str, conv: &str) -> Value {
        let path = format!("/api/v1/visitor/conversations/{conv}");
        let call = self.call(Method::GET, &path).bearer(token);
        call.send().await.expect_json(200)
    }

    /// `GET /visitor/conversations/{conv}/events`, the visitor's live stream.
    pub fn visitor_events_call(&self, token: &str, conv: &str) -> Call<'_> {
        let path = format!("/api/v1/visitor/conversations/{conv}/events");
        self.call(Method::GET, &path).bearer(token)
    }

    /// Opens the visitor's live stream, resuming after `last_event_id` if given.
    pub async fn visitor_events(&self, token: &str, conv: &str, last: Option<&str>) -> SseStream {
        let mut call = self.visitor_events_call(token, conv);
        if let Some(id) = last {
            call = call.header("last-event-id", id);
        }
        call.sse().await
    }

    pub fn set_email_call(&self, token: &str, conv: &str, email: &str) -> Call<'_> {
        let path = format!("/api/v1/visitor/conversations/{conv}/email");
        self.call(Method::PUT, &path)
            .bearer(token)
            .json(&json!({ "email": email }))
    }

    /// The visitor gives an email (200 `{email, changed}`).
    pub async fn set_email(&self, token: &str, conv: &str, email: &str) -> Value {
        let call = self.set_email_call(token, conv, email);
        call.send().await.expect_json(200)
    }

    pub fn agent_message_call(&self, conv: &str, agent: &str, text: &str) -> Call<'_> {
        let path = format!("/conversations/{conv}/messages");
        let body = json!({ "agentId": agent, "text": text });
        self.api(Method::POST, &path).json(&body)
    }

    /// An agent writes (201); returns the message.
    pub async fn agent_message(&self, conv: &str, agent: &str, text: &str) -> Value {
        let call = self.agent_message_call(conv, agent, text);
        call.send().await.expect_json(201)
    }

    pub fn join_call(&self, conv: &str, agent: &str) -> Call<'_> {
        let path = format!("/conversations/{conv}/join");
        self.api(Method::POST, &path)
            .json(&json!({ "agentId": agent }))
    }

    pub async fn join(&self, conv: &str, agent: &str) -> Value {
        self.join_call(conv, agent).send().await.expect_json(200)
    }

    pub fn end_call(&self, conv: &str, agent: &str) -> Call<'_> {
        let path = format!("/conversations/{conv}/end");
        self.api(Method::POST, &path)
            .json(&json!({ "agentId": agent }))
    }

    pub async fn end(&self, conv: &str, agent: &str) -> Value {
        self.end_call(conv, agent).send().await.expect_json(200)
    }

    pub async fn conversation(&self, id: &str) -> Value {
        let path = format!("/conversations/{id}");
        self.api(Method::GET, &path).send().await.expect_json(200)
    }

    /// The `data` of a list answer, asserting the list shape.
    pub async fn list(&self, path: &str) -> Vec<Value> {
        let page = self.api(Method::GET, path).send().await.expect_json(200);
        list_data(&page)
    }

    pub async fn deliveries(&self, webhook: &str) -> Vec<Value> {
        self.list(&format!("/webhooks/{webhook}/deliveries")).await
    }

    pub async fn delivery(&self, webhook: &str, delivery: &str) -> Value {
        let path = format!("/webhooks/{webhook}/deliveries/{delivery}");
        self.api(Method::GET, &path).send().await.expect_json(200)
    }

    /// Polls the delivery until its status is `status` (the server records it after the
    /// receiver answered: there is nothing to await but the API).
    pub async fn wait_delivery_status(&self, webhook: &str, id: &str, status: &str) -> Value {
        let what = format!("delivery {id} to become {status}");
        self.wait_delivery(webhook, id, &what, |d| d["status"] == status)
            .await
    }

    /// Polls the delivery until `done` holds for it.
    /// Polls the endpoint's delivery log until `done` holds for it.
    pub async fn wait_until_deliveries(
        &self,
        webhook: &str,
        done: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        let what = format!("the delivery log of {webhook}");
        eventually(&what, Duration::from_secs(20), || async {
            let log = self.deliveries(webhook).await;
            if done(&log) { Ok(log) } else { Err(log) }
        })
        .await
    }

    pub async fn wait_delivery(
        &self,
        webhook: &str,
        id: &str,
        what: &str,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        eventually(what, Duration::from_secs(20), || async {
            let d = self.delivery(webhook, id).await;
            if done(&d) { Ok(d) } else { Err(d) }
        })
        .await
    }
}

/// Asserts `{data: [...], nextCursor}` and returns `data`.
pub fn list_data(page: &Value) -> Vec<Value> {
    assert!(
        page["nextCursor"].is_null() || page["nextCursor"].is_string(),
        "list without nextCursor: {page}"
    );
    page["data"]
        .as_array()
        .unwrap_or_else(|| panic!("list answer without a data array: {page}"))
        .clone()
}

/// Retries `probe` every 50 ms until it yields `Ok`, failing after `timeout` with the last
/// `Err` value. Only for state the server records on its own time (delivery outcomes).
pub async fn eventually<T, E, F, Fut>(what: &str, timeout: Duration, mut probe: F) -> T
where
    E: std::fmt::Debug,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        match probe().await {
            Ok(value) => return value,
            Err(last) if Instant::now() >= deadline => {
                panic!("timed out after {timeout:?} waiting for {what}; last seen: {last:?}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}
