//! Opt-in batching: an endpoint with `batchSize` gets several events in one request, oldest
//! first, each channel still in order; a failed batch is sent again as the same bytes under the
//! same `webhook-id`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::checks::check_request;
use crate::fixtures::named;
use crate::helpers::TestApp;
use crate::ordering::chat_n;
use crate::payload::texts;
use crate::receiver::{Received, Receiver, Reply};
use crate::stores::{TestStore, on_every_store};

on_every_store!(
    batch_size_is_validated_and_shown,
    a_batching_endpoint_gets_events_together_each_channel_in_order,
    a_failed_batch_is_sent_again_as_the_same_bytes_under_the_same_id,
);

async fn batch_size_is_validated_and_shown(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let receiver = Receiver::start().await;
    let hook = app.create_webhook(&receiver.url(), None).await;
    assert_eq!(
        hook.json["batchSize"], 1,
        "no batching by default: {}",
        hook.json
    );
    for bad in [json!(0), json!(101), json!("ten")] {
        let path = format!("/webhooks/{}", hook.id);
        let status = app
            .api(reqwest::Method::PATCH, &path)
            .json(&json!({ "batchSize": bad }))
            .send()
            .await
            .status;
        assert!(status == 422 || status == 400, "batchSize {bad}: {status}");
    }
    let patched = app
        .patch_webhook(&hook.id, &json!({ "batchSize": 25 }))
        .await;
    assert_eq!(patched["batchSize"], 25);
    let created = app
        .create_webhook_call(&json!({ "url": receiver.url(), "batchSize": 100 }))
        .send()
        .await
        .expect_json(201);
    assert_eq!(created["batchSize"], 100);
}

/// The events of every request, with the request they came in.
fn events_by_request(reqs: &[Arc<Received>]) -> Vec<(Arc<Received>, Vec<Value>)> {
    reqs.iter().map(|r| (r.clone(), r.events())).collect()
}

const VISITORS: usize = 10;
const MESSAGES: usize = 10;

async fn a_batching_endpoint_gets_events_together_each_channel_in_order(store: TestStore) {
    let app = Arc::new(TestApp::spawn(store).await);
    let receiver = Receiver::start().await;
    // Slow enough answers that events pile up behind the requests out.
    receiver.set_default(Reply::After(40, 200));
    let hook = app.create_webhook(&receiver.url(), None).await;
    app.patch_webhook(&hook.id, &json!({ "batchSize": 10 }))
        .await;

    let tasks: Vec<_> = (0..VISITORS)
        .map(|n| tokio::spawn(chat_n(app.clone(), n, MESSAGES)))
        .collect();
    let mut acked = HashMap::new();
    for task in tasks {
        let (visitor, texts) = task.await.expect("visitor task");
        acked.insert(visitor, texts);
    }

    let total = VISITORS * (1 + MESSAGES);
    let reqs = receiver
        .wait_until(&format!("{total} events"), Duration::from_secs(60), |all| {
            all.iter().map(|r| r.events().len()).sum::<usize>() >= total
        })
        .await;
    let by_request = events_by_request(&reqs);
    let ids: HashSet<&str> = reqs.iter().map(|r| r.webhook_id()).collect();
    assert_eq!(
        ids.len(),
        reqs.len(),
        "every request has its own webhook-id"
    );
    let sizes: Vec<usize> = by_request.iter().map(|(_, e)| e.len()).collect();
    assert!(
        sizes.iter().all(|&n| (1..=10).contains(&n)),
        "at most batchSize events per request: {sizes:?}"
    );
    assert!(
        sizes.iter().any(|&n| n >= 2),
        "events that waited behind busy requests left together: {sizes:?}"
    );
    assert_eq!(
        sizes.iter().sum::<usize>(),
        total,
        "each event exactly once"
    );

    // Per channel: the events in acknowledgement order, and a channel's next request only after
    // its previous one was answered.
    let mut per_visitor: HashMap<String, Vec<Value>> = HashMap::new();
    let mut last_of: HashMap<String, Arc<Received>> = HashMap::new();
    for (req, events) in &by_request {
        check_request(req, &hook.secret);
        let mut seen_here = HashSet::new();
        for event in events {
            let visitor = event["visitorId"].as_str().unwrap().to_owned();
            assert!(
                seen_here.insert(visitor.clone()),
                "request #{} holds two events of channel {visitor}: {}",
                req.seq,
                req.body_text()
            );
            if let Some(prev) = last_of.insert(visitor.clone(), req.clone()) {
                let answered = prev.answered_at.get().expect("answered");
                assert!(
                    req.at >= *answered,
                    "channel {visitor}: request #{} was sent before #{} was answered",
                    req.seq,
                    prev.seq
                );
            }
            per_visitor.entry(visitor).or_default().push(event.clone());
        }
    }
    assert_eq!(per_visitor.len(), VISITORS);
    for (visitor, events) in &per_visitor {
        let expected = acked.get(visitor).expect("a visitor we started");
        assert_eq!(events[0]["event"], "start", "first event of {visitor}");
        for (i, event) in events[1..].iter().enumerate() {
            assert_eq!(event["event"], "messageVisitor", "{event}");
            assert_eq!(
                texts(event),
                expected[..=i],
                "channel {visitor}: event {}",
                i + 1
            );
        }
    }

    // The delivery log names the batch each batched delivery went in.
    let batched: HashSet<&str> = by_request
        .iter()
        .filter(|(_, e)| e.len() > 1)
        .map(|(r, _)| r.webhook_id())
        .collect();
    let log = app
        .wait_until_deliveries(&hook.id, |log| {
            log.iter().all(|d| d["status"] == "delivered")
        })
        .await;
    assert!(
        log.iter()
            .filter_map(|d| d["batchId"].as_str())
            .all(|b| batched.contains(b)),
        "batch ids in the log are the batched requests' webhook-ids"
    );
}

async fn a_failed_batch_is_sent_again_as_the_same_bytes_under_the_same_id(store: TestStore) {
    let app = Arc::new(
        TestApp::builder(store)
            .retry_schedule("300ms,300ms,300ms,300ms,300ms")
            .spawn()
            .await,
    );
    let receiver = Receiver::start().await;
    // Slow failures at first: while the first requests are out, the next events pile up into
    // batches, and every batch fails at least once.
    receiver.set_default(Reply::After(300, 500));
    let hook = app
        .create_webhook_call(
            &json!({ "url": receiver.url(), "events": ["start"], "batchSize": 20 }),
        )
        .send()
        .await
        .expect_json(201);
    let hook_id = hook["id"].as_str().unwrap().to_owned();
    let secret = hook["secret"].as_str().unwrap().to_owned();

    const STARTS: usize = 12;
    let starts: Vec<_> = (0..STARTS)
        .map(|n| {
            let app = app.clone();
            tokio::spawn(async move { app.visitor_start(named(&format!("V{n}")), None).await })
        })
        .collect();
    let mut visitors = HashSet::new();
    for s in starts {
        visitors.insert(s.await.expect("start").visitor_id);
    }
    // Retries keep arriving, so this is looked at again after the batch's answer.
    receiver
        .wait_until("a batch answered 500", Duration::from_secs(30), |all| {
            all.iter()
                .any(|r| r.events().len() >= 2 && r.status.get() == Some(&500))
        })
        .await;
    receiver.set_default(Reply::Status(200));
    let delivered = |r: &Arc<Received>| r.status.get() == Some(&200);
    let reqs = receiver
        .wait_until("every start delivered", Duration::from_secs(30), |all| {
            all.iter()
                .filter(|r| delivered(r))
                .map(|r| r.events().len())
                .sum::<usize>()
                >= STARTS
        })
        .await;

    let mut by_id: HashMap<&str, Vec<&Arc<Received>>> = HashMap::new();
    for r in &reqs {
        check_request(r, &secret);
        by_id.entry(r.webhook_id()).or_default().push(r);
    }
    for (id, sent) in &by_id {
        assert!(
            sent.iter().all(|r| r.body == sent[0].body),
            "every request under webhook-id {id} carries the same bytes"
        );
        assert!(
            sent.iter().filter(|r| delivered(r)).count() <= 1,
            "{id} was delivered once"
        );
    }
    let retried_batch = by_id
        .values()
        .find(|sent| sent.len() >= 2 && sent[0].events().len() >= 2)
        .unwrap_or_else(|| panic!("a batch that failed and was sent again: {by_id:#?}"));
    let batch_id = retried_batch[0].webhook_id().to_owned();
    let n = retried_batch[0].events().len();
    let got: HashSet<String> = reqs
        .iter()
        .filter(|r| delivered(r))
        .flat_map(|r| r.events())
        .map(|e| e["visitorId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(got, visitors, "every start delivered");

    let log = app
        .wait_until_deliveries(&hook_id, |log| {
            log.iter().all(|d| d["status"] == "delivered")
        })
        .await;
    let members: Vec<&Value> = log
        .iter()
        .filter(|d| d["batchId"] == batch_id.as_str())
        .collect();
    assert_eq!(
        members.len(),
        n,
        "the log shows the batch's members: {log:?}"
    );
    for d in members {
        assert_eq!(d["attempts"], retried_batch.len(), "{d}");
        assert_eq!(d["lastAttempt"]["statusCode"], 200, "{d}");
    }
}
