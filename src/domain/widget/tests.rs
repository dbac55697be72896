use super::*;
use serde_json::json;

fn patch(v: serde_json::Value) -> WidgetPatch {
    serde_json::from_value(v).expect("a valid patch")
}

fn refused(v: serde_json::Value) -> WidgetError {
    WidgetSettings::default()
        .apply(patch(v.clone()))
        .expect_err(&v.to_string())
}

#[test]
fn defaults_serialize_in_camel_case() {
    let v = serde_json::to_value(WidgetSettings::default()).unwrap();
    assert_eq!(
        v,
        json!({
            "title": "Chat with us",
            "greeting": "Hi! How can we help you today?",
            "color": "#4f46e5",
            "position": "right",
            "allowedOrigins": []
        })
    );
}

#[test]
fn stored_json_tolerates_missing_and_unknown_keys() {
    let empty: WidgetSettings = serde_json::from_str("{}").unwrap();
    assert_eq!(empty, WidgetSettings::default());
    let some: WidgetSettings =
        serde_json::from_str(r##"{"color": "#000", "position": "left", "later": 1}"##).unwrap();
    assert_eq!(some.color, "#000");
    assert_eq!(some.position, Position::Left);
    assert_eq!(some.title, "Chat with us");
}

#[test]
fn a_patch_changes_only_what_it_names() {
    let before = WidgetSettings::default();
    let after = before
        .apply(patch(json!({"color": "#ABC", "position": "left"})))
        .unwrap();
    assert_eq!(after.color, "#abc", "stored lowercase");
    assert_eq!(after.position, Position::Left);
    assert_eq!(after.title, before.title);
    assert_eq!(after.greeting, before.greeting);
    let same = before.apply(WidgetPatch::default()).unwrap();
    assert_eq!(same, before);
}

#[test]
fn unknown_fields_are_not_a_patch() {
    let e = serde_json::from_value::<WidgetPatch>(json!({"colour": "#fff"})).unwrap_err();
    assert!(e.to_string().contains("colour"), "{e}");
}

#[test]
fn titles_are_trimmed_and_bounded() {
    let s = WidgetSettings::default();
    let ok = s.apply(patch(json!({"title": "  Support  "}))).unwrap();
    assert_eq!(ok.title, "Support");
    let sixty = "é".repeat(60);
    assert_eq!(
        s.apply(patch(json!({"title": sixty}))).unwrap().title,
        sixty
    );
    for bad in [json!(""), json!("   "), json!("x".repeat(61))] {
        assert_eq!(refused(json!({"title": bad})).field, "title");
    }
}

#[test]
fn greetings_may_be_empty_but_not_long() {
    let s = WidgetSettings::default();
    assert_eq!(
        s.apply(patch(json!({"greeting": ""}))).unwrap().greeting,
        ""
    );
    let long = "a".repeat(500);
    assert_eq!(
        s.apply(patch(json!({"greeting": long}))).unwrap().greeting,
        long
    );
    let e = refused(json!({"greeting": "a".repeat(501)}));
    assert_eq!(e.field, "greeting");
    assert!(e.to_string().starts_with("`greeting` "), "{e}");
}

#[test]
fn colours_are_hex_triplets_or_sextets() {
    let s = WidgetSettings::default();
    for (given, want) in [
        ("#fff", "#fff"),
        ("#0F0F0F", "#0f0f0f"),
        (" #123abc ", "#123abc"),
    ] {
        let got = s.apply(patch(json!({ "color": given }))).unwrap();
        assert_eq!(got.color, want);
    }
    for bad in [
        "fff",
        "#ff",
        "#ffff",
        "#fffffff",
        "#ggg",
        "red",
        "",
        "#12345g",
        "rgb(1,2,3)",
    ] {
        let e = refused(json!({ "color": bad }));
        assert_eq!(e.field, "color", "{bad}");
        assert!(e.message.contains("#rrggbb"), "{e}");
    }
}

#[test]
fn positions_are_right_or_left() {
    for bad in ["top", "Right", ""] {
        assert_eq!(refused(json!({ "position": bad })).field, "position");
    }
}

#[test]
fn origins_are_normalized_and_deduplicated() {
    let got = WidgetSettings::default()
        .apply(patch(json!({"allowedOrigins": [
            "https://WWW.example.com/", "https://www.example.com:443", "http://localhost:3000"
        ]})))
        .unwrap();
    assert_eq!(
        got.allowed_origins,
        vec!["https://www.example.com", "http://localhost:3000"]
    );
    let cleared = got.apply(patch(json!({"allowedOrigins": []}))).unwrap();
    assert!(cleared.allowed_origins.is_empty());
}

#[test]
fn each_bad_origin_is_named_with_its_position() {
    let e = refused(json!({"allowedOrigins": ["https://ok.example", "https://x.example/path"]}));
    assert_eq!(e.field, "allowedOrigins");
    assert!(e.message.contains("entry 1"), "{e}");
    assert!(e.message.contains("path"), "{e}");
    let many: Vec<String> = (0..101).map(|i| format!("https://s{i}.example")).collect();
    let e = refused(json!({ "allowedOrigins": many }));
    assert!(e.message.contains("at most 100"), "{e}");
    let hundred: Vec<String> = (0..100).map(|i| format!("https://s{i}.example")).collect();
    let ok = WidgetSettings::default().apply(patch(json!({ "allowedOrigins": hundred })));
    assert_eq!(ok.unwrap().allowed_origins.len(), 100);
}

#[test]
fn the_first_invalid_field_is_reported_and_nothing_applies() {
    let e = refused(json!({"title": "Fine", "color": "blue"}));
    assert_eq!(e.field, "color");
}

#[test]
fn any_origin_is_allowed_until_a_list_is_set() {
    let mut s = WidgetSettings::default();
    assert!(origin_allowed(&s, "https://anything.example"));
    assert!(origin_allowed(&s, "null"));
    s.allowed_origins = vec![
        "https://shop.example".into(),
        "http://localhost:3000".into(),
    ];
    assert!(origin_allowed(&s, "https://shop.example"));
    assert!(origin_allowed(&s, "https://SHOP.example:443"));
    assert!(origin_allowed(&s, "http://localhost:3000"));
    assert!(!origin_allowed(&s, "http://shop.example"), "another scheme");
    assert!(
        !origin_allowed(&s, "https://shop.example:8443"),
        "another port"
    );
    assert!(!origin_allowed(&s, "https://evil.example"));
    assert!(!origin_allowed(&s, "null"));
    assert!(!origin_allowed(&s, ""));
}

#[test]
fn the_public_part_leaves_the_origins_out() {
    let s = WidgetSettings {
        allowed_origins: vec!["https://shop.example".into()],
        ..WidgetSettings::default()
    };
    let v = serde_json::to_value(s.public()).unwrap();
    assert_eq!(
        v,
        json!({"title": "Chat with us", "greeting": "Hi! How can we help you today?",
               "color": "#4f46e5", "position": "right"})
    );
}
