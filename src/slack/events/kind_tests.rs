use super::*;
use crate::domain::Millis;
use serde_json::json;

fn connection() -> SlackConnection {
    SlackConnection {
        team_seq: 1,
        bot_token: "xoxb-1".into(),
        signing_secret: "secret".into(),
        notify_channel: "palaver-support".into(),
        archive_on_end: false,
        workspace_id: "T1".into(),
        workspace_name: "W".into(),
        workspace_url: "https://w.slack.com/".into(),
        bot_user_id: "UBOT".into(),
        bot_id: "BBOT".into(),
        created_at: Millis(0),
        updated_at: Millis(0),
    }
}

fn message(extra: Value) -> Value {
    let mut m =
        json!({"type": "message", "channel": "C1", "user": "U1", "text": "Hi", "ts": "1.1"});
    for (k, v) in extra.as_object().unwrap() {
        m[k] = v.clone();
    }
    m
}

fn wrote(text: &str, files: Vec<SharedFile>, note: bool) -> Kind {
    Kind::Wrote {
        channel: "C1".into(),
        user: "U1".into(),
        text: text.into(),
        ts: "1.1".into(),
        files,
        note,
    }
}

#[test]
fn a_humans_message_is_for_the_visitor_and_a_thread_reply_a_note() {
    let c = connection();
    assert_eq!(kind(&message(json!({})), &c), wrote("Hi", vec![], false));
    let parent = message(json!({"thread_ts": "1.1"}));
    assert_eq!(
        kind(&parent, &c),
        wrote("Hi", vec![], false),
        "a thread's parent"
    );
    let reply = message(json!({"thread_ts": "0.9"}));
    assert_eq!(kind(&reply, &c), wrote("Hi", vec![], true));
    let broadcast = message(json!({"thread_ts": "0.9", "subtype": "thread_broadcast"}));
    assert_eq!(kind(&broadcast, &c), wrote("Hi", vec![], true));
    let end = message(json!({"text": ".end"}));
    assert_eq!(kind(&end, &c), wrote(".end", vec![], false));
}

#[test]
fn files_come_with_their_links() {
    let c = connection();
    let files = json!([
        {"id": "F1", "permalink": "https://w.slack.com/files/U1/F1/a.png",
         "permalink_public": "https://slack-files.com/T1-F1-x", "public_url_shared": false},
        {"id": "F2", "permalink": "https://w.slack.com/files/U1/F2/b.pdf",
         "permalink_public": "https://slack-files.com/T1-F2-y", "public_url_shared": true},
        {"id": "F3", "file_access": "check_file_info"},
        {"id": "F4", "mode": "tombstone"},
    ]);
    let shared = message(json!({"subtype": "file_share", "text": "", "files": files}));
    let expected = vec![
        SharedFile {
            id: "F1".into(),
            link: Some("https://w.slack.com/files/U1/F1/a.png".into()),
        },
        SharedFile {
            id: "F2".into(),
            link: Some("https://slack-files.com/T1-F2-y".into()),
        },
        SharedFile {
            id: "F3".into(),
            link: None,
        },
    ];
    assert_eq!(kind(&shared, &c), wrote("", expected, false));
    let links = ["https://a".to_string(), "https://b".to_string()];
    assert_eq!(with_links("See", &links), "See\nhttps://a\nhttps://b");
    assert_eq!(with_links("", &links), "https://a\nhttps://b");
    assert_eq!(with_links("See", &[]), "See");
}

#[test]
fn bots_edits_and_other_subtypes_are_ignored() {
    let c = connection();
    let ignored = |v: Value| matches!(kind(&v, &c), Kind::Ignored(_));
    assert!(ignored(message(json!({"bot_id": "BBOT"}))), "the bot's own");
    assert!(
        ignored(message(json!({"bot_id": "BOTHER"}))),
        "another bot's"
    );
    assert!(ignored(message(json!({"user": "UBOT"}))));
    assert!(ignored(message(json!({"bot_profile": {"id": "B2"}}))));
    for subtype in IGNORED_SUBTYPES {
        assert!(ignored(message(json!({"subtype": subtype}))), "{subtype}");
    }
    assert!(ignored(message(json!({"subtype": "something_new"}))));
    assert!(ignored(message(json!({"hidden": true}))));
    assert!(ignored(message(json!({"text": "  "}))), "empty");
    assert!(ignored(message(json!({"user": null}))));
    assert!(ignored(message(json!({"channel": null}))));
    assert!(ignored(
        json!({"type": "reaction_added", "channel": "C1", "user": "U1"})
    ));
}

#[test]
fn a_human_joining_enters_the_conversation() {
    let c = connection();
    let joined = json!({"type": "member_joined_channel", "channel": "C1", "user": "U1"});
    assert_eq!(
        kind(&joined, &c),
        Kind::Joined {
            channel: "C1".into(),
            user: "U1".into()
        }
    );
    let bot = json!({"type": "member_joined_channel", "channel": "C1", "user": "UBOT"});
    assert!(matches!(kind(&bot, &c), Kind::Ignored(_)));
    assert_eq!(channel_of(&joined), "C1");
    assert_eq!(channel_of(&json!({"type": "x"})), "");
}
