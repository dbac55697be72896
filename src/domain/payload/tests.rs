use super::*;
use proptest::prelude::*;
use serde_json::Value;

const SEED: &str = include_str!("../../../tests/fixtures/seed-example.json");

fn seed() -> Value {
    serde_json::from_str::<Value>(SEED).unwrap()[0].clone()
}

fn seed_identity(seed: &Value) -> Identity {
    serde_json::from_value(seed["identity"].clone()).unwrap()
}

#[test]
fn renders_the_seed_example_exactly() {
    let seed = seed();
    let agent = serde_json::to_string(&seed["agent"]).unwrap();
    let identity = seed_identity(&seed);
    let mut t = Transcript::default();
    for m in seed["messages"].as_array().unwrap() {
        t.push(&serde_json::from_value(m.clone()).unwrap());
    }
    let ctx = EventContext {
        event: EventName::MessageAgent,
        created_at: Millis::parse("2016-01-09T11:09:09.111Z").unwrap(),
        channel_name: "z-33123456789",
        visitor_name: "+33123456789",
        visitor_id: "a3W7EEfSWanTWyGkg",
        identity: &identity,
        agent: Some(&agent),
        transcript: &t,
    };
    let rendered = ctx.render();
    let parsed: Value = serde_json::from_str(&rendered).unwrap();
    assert_eq!(parsed, seed);
    // Same keys in the same order as the seed, compact.
    assert_eq!(rendered, serde_json::to_string(&seed).unwrap());
}

#[test]
fn the_transcript_joins_author_and_text() {
    let seed = seed();
    let (name, picture) = agent_author(&seed["agent"]);
    assert_eq!(
        (name.as_str(), picture.as_str()),
        (
            "Moss",
            seed["agent"]["profile"]["image_48"].as_str().unwrap()
        )
    );
    let mut t = Transcript::default();
    assert_eq!(t.messages_json(), "[]");
    t.push(&MessageView {
        user_name: "+33123456789".into(),
        user_picture: String::new(),
        created_at: Millis(0).iso(),
        text: "\nHi!".into(),
    });
    t.push(&MessageView {
        user_name: name,
        user_picture: picture,
        created_at: Millis(1).iso(),
        text: "Yes \"quoted\"".into(),
    });
    assert_eq!(t.len(), 2);
    let rendered = EventContext {
        event: EventName::MessageAgent,
        created_at: Millis(2),
        channel_name: "z-1",
        visitor_name: "+1",
        visitor_id: "x",
        identity: &Identity::default(),
        agent: None,
        transcript: &t,
    }
    .render();
    let v: Value = serde_json::from_str(&rendered).unwrap();
    assert_eq!(v["message"], "+33123456789: \nHi!\nMoss: Yes \"quoted\"");
    assert_eq!(v["agent"], Value::Null);
    assert_eq!(v["messages"].as_array().unwrap().len(), 2);
}

#[test]
fn agent_author_falls_back_to_name() {
    let a = serde_json::json!({"name": "moss", "real_name": ""});
    assert_eq!(agent_author(&a), ("moss".to_string(), String::new()));
}

proptest! {
    #[test]
    fn any_text_renders_valid_json_that_round_trips(texts in proptest::collection::vec(".{0,40}", 0..8), name in ".{0,20}") {
        let mut t = Transcript::default();
        for (i, text) in texts.iter().enumerate() {
            t.push(&MessageView { user_name: name.clone(), user_picture: String::new(), created_at: Millis(i as i64).iso(), text: text.clone() });
        }
        let identity = Identity { name: name.clone(), ..Identity::default() };
        let ctx = EventContext {
            event: EventName::MessageVisitor, created_at: Millis(0), channel_name: "z-x",
            visitor_name: &name, visitor_id: "x", identity: &identity, agent: None, transcript: &t,
        };
        let rendered = ctx.render();
        // The stored form (head + transcript length) rebuilds the same bytes.
        let body = ctx.body();
        prop_assert_eq!(&body.text, &format!("[{rendered}]"));
        prop_assert_eq!(body.transcript_len, texts.len());
        prop_assert!(body.text[..body.head_len].ends_with("\"message\":\""));
        prop_assert_eq!(assemble(&body.text[..body.head_len], &t), body.text.clone());
        let v: Value = serde_json::from_str(&rendered).unwrap();
        let expected: Vec<String> = texts.iter().map(|x| format!("{name}: {x}")).collect();
        prop_assert_eq!(v["message"].as_str().unwrap(), expected.join("\n"));
        let msgs = v["messages"].as_array().unwrap();
        prop_assert_eq!(msgs.len(), texts.len());
        for (m, text) in msgs.iter().zip(&texts) {
            prop_assert_eq!(m["text"].as_str().unwrap(), text.as_str());
        }
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        prop_assert_eq!(keys.len(), 9);
    }
}
