//! Test data: the seed's example and the people in it.

use serde_json::{Value, json};

/// The seed's whole example body (an array with one `messageAgent` event).
pub fn seed_example() -> Value {
    let text = include_str!("../fixtures/seed-example.json");
    serde_json::from_str(text).expect("seed-example.json is JSON")
}

/// Moss: the seed's `agent` object, a Slack `users.info` user.
pub fn moss() -> Value {
    let text = include_str!("../fixtures/moss.json");
    serde_json::from_str(text).expect("moss.json is JSON")
}

pub const MOSS_ID: &str = "U0F2Z1234";

/// The seed visitor's browser.
pub const SEED_USER_AGENT: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_12_3) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/56.0.2924.87 Safari/537.36";

/// Scarlet as the widget sends her identity (no userAgent, no ip: the server derives them).
pub fn scarlet_identity() -> Value {
    let seed = seed_example();
    let identity = &seed[0]["identity"];
    json!({
        "name": identity["name"],
        "phone": identity["phone"],
        "email": identity["email"],
        "picture": identity["picture"],
        "title": "",
        "location": "http://localhost:8080/",
        "languages": "en",
    })
}

/// A minimal Slack-shaped agent.
pub fn agent(id: &str, real_name: &str) -> Value {
    json!({
        "id": id,
        "team_id": "T0TEST",
        "name": real_name.to_lowercase(),
        "real_name": real_name,
        "deleted": false,
        "profile": {
            "real_name": real_name,
            "image_48": format!("https://example.com/{id}_48.jpg"),
        },
        "is_bot": false,
    })
}

/// A visitor identity with just a name.
pub fn named(name: &str) -> Value {
    json!({ "name": name })
}

/// Random characters from `[a-z0-9]`.
pub fn random_token(len: usize) -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}
