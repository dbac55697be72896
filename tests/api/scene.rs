//! A conversation under observation, for tests that make bad calls and then check that nothing
//! was fired and nothing changed.

use crate::api::{VisitorSession, Webhook};
use crate::checks::{checked_events, names};
use crate::fixtures::{agent, named};
use crate::helpers::{TestApp, WAIT};
use crate::payload::texts;
use crate::receiver::Receiver;
use crate::stores::TestStore;

pub const AGENT: &str = "U0SCENE01";

/// A server, an endpoint for every event, an agent, and one visitor who said "hello".
pub struct Scene {
    pub app: TestApp,
    pub receiver: Receiver,
    pub hook: Webhook,
    pub visitor: VisitorSession,
    /// The conversation's texts so far, as the tests expect them.
    pub texts: Vec<String>,
    /// How many received webhooks have been accounted for.
    seen: usize,
    sentinels: usize,
}

impl Scene {
    pub async fn new(store: TestStore) -> Scene {
        Self::with(TestApp::spawn(store).await).await
    }

    pub async fn with(app: TestApp) -> Scene {
        let receiver = Receiver::start().await;
        let hook = app.create_webhook(&receiver.url(), None).await;
        app.put_agent(&agent(AGENT, "Roy")).await.expect_status(201);
        let visitor = app.visitor_start(named("Scene"), Some("hello")).await;
        let events = checked_events(&receiver.wait_for(2, WAIT).await, &hook.secret);
        assert_eq!(names(&events), ["start", "messageVisitor"]);
        Scene {
            app,
            receiver,
            hook,
            visitor,
            texts: vec!["hello".to_owned()],
            seen: 2,
            sentinels: 0,
        }
    }

    pub fn conv(&self) -> &str {
        &self.visitor.conversation_id
    }

    pub fn token(&self) -> &str {
        &self.visitor.token
    }

    /// The visitor writes a sentinel; the webhooks since the last check must be `expected`
    /// then the sentinel's `messageVisitor`, whose transcript must be the known texts: nothing
    /// else fired and no message was lost or added.
    pub async fn assert_only_fired(&mut self, expected: &[&str]) {
        self.sentinels += 1;
        let sentinel = format!("sentinel {}", self.sentinels);
        let answer = self
            .app
            .visitor_message(self.token(), self.conv(), &sentinel)
            .await;
        if expected.contains(&"start") {
            let conv = answer["conversationId"].as_str().expect("conversationId");
            self.visitor.conversation_id = conv.to_owned();
            self.texts.clear();
        }
        self.texts.push(sentinel.clone());
        let is_sentinel =
            |r: &crate::receiver::Received| texts(&r.event()).last() == Some(&sentinel);
        let what = format!("the webhook of {sentinel:?}");
        let reqs = self
            .receiver
            .wait_until(&what, WAIT, |reqs| reqs.iter().any(|r| is_sentinel(r)))
            .await;
        let events = checked_events(&reqs[self.seen..], &self.hook.secret);
        self.seen = reqs.len();
        let mut want = expected.to_vec();
        want.push("messageVisitor");
        assert_eq!(names(&events), want, "webhooks fired since the bad calls");
        let last = events.last().expect("the sentinel");
        assert_eq!(texts(last), self.texts, "the conversation's messages");
    }

    /// `assert_only_fired` with nothing expected but the sentinel.
    pub async fn assert_nothing_fired(&mut self) {
        self.assert_only_fired(&[]).await;
    }
}
