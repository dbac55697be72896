//! The OpenAPI document served at /api/v1/openapi.json is the route table of the API: every call
//! it describes is served, nothing else under /api/v1 is, and what shared code answers (auth,
//! idempotency, bodies, rate limits) is described on every call it applies to.

use reqwest::Method;
use serde_json::Value;
use std::collections::HashSet;

use crate::helpers::TestApp;
use crate::receiver::Receiver;
use crate::stores::{TestStore, on_every_store};

on_every_store!(
    the_document_describes_every_call_with_its_errors,
    every_described_call_is_served_and_nothing_else,
);

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

async fn document(app: &TestApp) -> Value {
    let answer = app.call(Method::GET, "/api/v1/openapi.json").send().await;
    assert!(answer.content_type().starts_with("application/json"));
    answer.expect_json(200)
}

/// Every (method, path, operation) of the document.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("a path item") {
            assert!(METHODS.contains(&method.as_str()), "{method} {path}");
            ops.push((method.clone(), path.clone(), op.clone()));
        }
    }
    ops
}

/// The node a local `$ref` names.
fn resolve<'a>(doc: &'a Value, reference: &str) -> &'a Value {
    let target = reference.strip_prefix("#/").expect("a local $ref");
    target.split('/').fold(doc, |node, key| &node[key])
}

fn refs(node: &Value, out: &mut Vec<String>) {
    match node {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

async fn the_document_describes_every_call_with_its_errors(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let doc = document(&app).await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["servers"][0]["url"], "/api/v1");
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    for scheme in ["apiKey", "session", "csrf", "siteKey", "visitorToken"] {
        assert!(schemes.contains_key(scheme), "no security scheme {scheme}");
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    for r in &all {
        assert!(!resolve(&doc, r).is_null(), "dangling $ref {r}");
    }

    let ops = operations(&doc);
    let ids: HashSet<&str> = ops
        .iter()
        .map(|(m, p, op)| {
            op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{m} {p} has no operationId"))
        })
        .collect();
    assert_eq!(ids.len(), ops.len(), "operation ids are unique");
    for (method, path, op) in &ops {
        let what = format!("{method} {path}");
        let responses = op["responses"].as_object().expect("responses");
        assert!(
            responses.keys().any(|s| s.starts_with('2')),
            "{what}: no success"
        );
        for (status, response) in responses {
            if status.starts_with('4') || status.starts_with('5') {
                let schema = &response["content"]["application/problem+json"]["schema"];
                assert_eq!(
                    schema["$ref"], "#/components/schemas/Problem",
                    "{what} {status}"
                );
            }
            for link in response["links"]
                .as_object()
                .into_iter()
                .flat_map(|l| l.values())
            {
                let target = link["operationId"]
                    .as_str()
                    .expect("a link names its operation");
                let (_, _, target_op) = ops
                    .iter()
                    .find(|(_, _, o)| o["operationId"] == target)
                    .unwrap_or_else(|| panic!("{what}: a link to unknown {target}"));
                let names: Vec<&Value> = target_op["parameters"]
                    .as_array()
                    .map(|ps| ps.iter().map(|p| &p["name"]).collect())
                    .unwrap_or_default();
                for name in link["parameters"]
                    .as_object()
                    .into_iter()
                    .flat_map(|p| p.keys())
                {
                    assert!(
                        names.iter().any(|n| *n == name),
                        "{what}: a link gives {target} a parameter {name} it does not take"
                    );
                }
            }
        }
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        let key = params.iter().find(|p| p["name"] == "Idempotency-Key");
        let secured = op["security"].as_array().is_some_and(|s| {
            s.iter()
                .any(|r| r.as_object().is_some_and(|r| !r.is_empty()))
        });
        if method != "get" {
            let key = key.unwrap_or_else(|| panic!("{what}: no Idempotency-Key"));
            assert_eq!(key["schema"]["maxLength"], 255, "{what}");
            for status in ["400", "413", "422"] {
                assert!(responses.contains_key(status), "{what}: no {status}");
            }
        } else {
            assert!(key.is_none(), "{what}: a read takes no Idempotency-Key");
        }
        if secured {
            assert!(responses.contains_key("401"), "{what}: no 401");
        }
        if path.starts_with("/visitor/") {
            let limited = &responses["429"];
            assert!(
                limited["headers"]["Retry-After"].is_object(),
                "{what}: 429 without Retry-After"
            );
        } else if secured && method != "get" {
            let session = op["security"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r.get("session").is_some());
            assert!(
                session.is_some_and(|r| r.get("csrf").is_some()),
                "{what}: a session's change must carry the CSRF token"
            );
        }
    }
    // The calls a started conversation and a created webhook feed.
    let started = &doc["paths"]["/visitor/conversations"]["post"]["responses"]["201"]["links"];
    assert_eq!(
        started["GetVisitorConversation"]["parameters"]["id"],
        "$response.body#/conversationId"
    );
    let created = &doc["paths"]["/webhooks"]["post"]["responses"]["201"]["links"];
    for op in [
        "getWebhook",
        "updateWebhook",
        "deleteWebhook",
        "testWebhook",
        "listDeliveries",
    ] {
        assert!(
            created
                .as_object()
                .unwrap()
                .values()
                .any(|l| l["operationId"] == op && l["parameters"]["id"] == "$response.body#/id"),
            "a created webhook's id feeds {op}"
        );
    }
}

/// Each described call is served (its answer is the handler's: never the router's 404 nor a
/// 405), and a path the document does not describe is a 404 problem.
async fn every_described_call_is_served_and_nothing_else(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let receiver = Receiver::start().await;
    app.create_webhook(&receiver.url(), None).await;
    let doc = document(&app).await;
    let ops = operations(&doc);
    assert!(ops.len() >= 43, "{} calls described", ops.len());
    for (method, path, _) in &ops {
        let concrete = path
            .split('/')
            .map(|s| if s.starts_with('{') { "nope" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let call = app.api(method.clone(), &concrete);
        let (status, body) = if path.ends_with("events") && method == Method::GET {
            let stream = call.open().await; // a stream: its status says it is served
            (stream.status().as_u16(), Value::Null)
        } else {
            let answer = call.send().await;
            let body = if answer.body.is_empty() {
                Value::Null
            } else {
                answer.json()
            };
            (answer.status, body)
        };
        let what = format!("{method} {concrete}");
        assert_ne!(status, 405, "{what} is described but not served: {body}");
        assert_ne!(
            body["type"], "urn:palaver:problem:no-route",
            "{what} is described but not served"
        );
        assert!(status < 500, "{what}: {status} {body}");
    }
    for path in ["/nothing", "/webhooks/x/y/z", "/team/", "/visitor"] {
        let answer = app.api(Method::GET, path).send().await;
        let problem = answer.expect_problem(404);
        assert_eq!(problem["type"], "urn:palaver:problem:no-route", "{path}");
    }
}
