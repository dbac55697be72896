//! Teams are isolated: another team's ids are 404s and its lists are empty.

use reqwest::Method;
use serde_json::json;

use crate::client::Call;
use crate::fixtures::agent;
use crate::scene::{AGENT, Scene};
use crate::stores::{TestStore, on_every_store};
use crate::teams::Team;

on_every_store!(
    another_team_cannot_see_or_touch_anything,
    a_visitor_of_another_team_is_not_found,
);

/// Every call of team B on team A's resources.
fn foreign_calls<'a>(s: &'a Scene, b: &Team, delivery: &str) -> Vec<Call<'a>> {
    let (app, conv, hook) = (&s.app, s.conv(), &s.hook.id);
    let agent = json!({ "agentId": AGENT });
    let calls = vec![
        app.api(Method::GET, &format!("/conversations/{conv}")),
        app.api(Method::POST, &format!("/conversations/{conv}/join"))
            .json(&agent),
        app.api(Method::POST, &format!("/conversations/{conv}/end"))
            .json(&agent),
        app.agent_message_call(conv, AGENT, "from B"),
        app.api(Method::GET, &format!("/webhooks/{hook}")),
        app.api(Method::PATCH, &format!("/webhooks/{hook}"))
            .json(&json!({ "enabled": false })),
        app.api(Method::POST, &format!("/webhooks/{hook}/rotate-secret")),
        app.api(Method::POST, &format!("/webhooks/{hook}/test")),
        app.api(Method::GET, &format!("/webhooks/{hook}/deliveries")),
        app.api(
            Method::GET,
            &format!("/webhooks/{hook}/deliveries/{delivery}"),
        ),
        app.api(
            Method::POST,
            &format!("/webhooks/{hook}/deliveries/{delivery}/redeliver"),
        ),
        app.api(Method::POST, &format!("/webhooks/{hook}/recover"))
            .json(&json!({ "since": "2020-01-01T00:00:00.000Z" })),
        app.api(Method::DELETE, &format!("/webhooks/{hook}")),
        app.api(Method::GET, &format!("/agents/{AGENT}")),
        app.api(Method::DELETE, &format!("/agents/{AGENT}")),
    ];
    calls.into_iter().map(|c| c.bearer(&b.api_key)).collect()
}

async fn another_team_cannot_see_or_touch_anything(store: TestStore) {
    let mut s = Scene::new(store).await;
    let b = s.app.second_team().await;
    assert_ne!(b.api_key, s.app.api_key);
    let team_b = s
        .app
        .api(Method::GET, "/team")
        .bearer(&b.api_key)
        .send()
        .await;
    let team_b = team_b.expect_json(200);
    assert_eq!(team_b["id"], b.id.as_str());
    assert_eq!(team_b["siteKey"], b.site_key.as_str());
    assert_ne!(b.site_key, s.app.site_key().await);
    let delivery = s.app.deliveries(&s.hook.id).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    for call in foreign_calls(&s, &b, &delivery) {
        call.send().await.expect_problem(404);
    }
    for list in ["/conversations", "/webhooks", "/agents"] {
        let page = s.app.api(Method::GET, list).bearer(&b.api_key).send().await;
        let data = crate::api::list_data(&page.expect_json(200));
        assert!(data.is_empty(), "team B sees team A's {list}: {data:?}");
    }
    let put = s
        .app
        .api(Method::PUT, &format!("/agents/{AGENT}"))
        .bearer(&b.api_key);
    put.json(&agent(AGENT, "Impostor"))
        .send()
        .await
        .expect_status(201);

    assert_eq!(s.app.list("/agents").await.len(), 1, "A's agents untouched");
    let a_agent = s
        .app
        .api(Method::GET, &format!("/agents/{AGENT}"))
        .send()
        .await;
    assert_eq!(
        a_agent.expect_json(200)["real_name"],
        "Roy",
        "B's PUT made B's own agent"
    );
    assert_eq!(s.app.list("/webhooks").await[0]["enabled"], true);
    assert_eq!(s.app.conversation(s.conv()).await["status"], "waiting");
    assert_eq!(
        s.app.deliveries(&s.hook.id).await.len(),
        2,
        "no test/redelivery queued"
    );
    s.assert_nothing_fired().await;
}

async fn a_visitor_of_another_team_is_not_found(store: TestStore) {
    let mut s = Scene::new(store).await;
    let b = s.app.second_team().await;
    let b_visitor = s
        .app
        .visitor_start_call(&crate::api::VisitorStart::default())
        .await
        .auth(crate::client::Auth::SiteKey(b.site_key.clone()))
        .send()
        .await;
    let b_visitor = crate::api::VisitorSession::from_json(&b_visitor.expect_json(201));
    let in_a = s
        .app
        .visitor_message_call(&b_visitor.token, s.conv(), "hi from B");
    in_a.send().await.expect_problem(404);
    let path = format!("/conversations/{}", b_visitor.conversation_id);
    s.app
        .api(Method::GET, &path)
        .send()
        .await
        .expect_problem(404);
    assert_eq!(
        s.app.list("/conversations").await.len(),
        1,
        "A does not list B's"
    );
    s.assert_nothing_fired().await;
}
