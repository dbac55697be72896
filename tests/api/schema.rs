//! The JSON Schema of the webhook body (`schemas/webhook.json`, served at
//! `/api/v1/schemas/webhook.json`): the receivers check every body the server sends against it
//! (`receiver.rs`), and `check_request` does too, so each test of the suite checks it.

use std::sync::LazyLock;

use jsonschema::Validator;
use serde_json::Value;

/// The schema as the repository has it.
pub const DOCUMENT: &str = include_str!("../../schemas/webhook.json");

static VALIDATOR: LazyLock<Validator> = LazyLock::new(|| {
    let schema: Value = serde_json::from_str(DOCUMENT).expect("schemas/webhook.json is JSON");
    jsonschema::draft202012::new(&schema)
        .unwrap_or_else(|e| panic!("schemas/webhook.json is not a valid 2020-12 schema: {e}"))
});

/// Why `body` is not a webhook body of the schema: one line per violation, none if it is.
pub fn violations(body: &[u8]) -> Vec<String> {
    let instance: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return vec![format!("not JSON: {e}")],
    };
    VALIDATOR
        .iter_errors(&instance)
        .map(|e| format!("at {:?}: {e}", e.instance_path().as_str()))
        .collect()
}

/// Fails unless `body` matches the schema.
pub fn assert_valid(body: &[u8]) {
    let errors = violations(body);
    assert!(
        errors.is_empty(),
        "webhook body does not match schemas/webhook.json:\n  {}\nbody: {}",
        errors.join("\n  "),
        String::from_utf8_lossy(body)
    );
}
