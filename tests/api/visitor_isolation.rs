//! A visitor can never read or write another visitor's conversation: with their own valid
//! token, every visitor call on someone else's conversation is a 404 (as if it did not exist),
//! and nothing of it changes.

use reqwest::Method;

use crate::fixtures::named;
use crate::helpers::TestApp;
use crate::payload::texts;
use crate::stores::{TestStore, on_every_store};

on_every_store!(another_visitors_conversation_is_404_to_read_and_write);

async fn another_visitors_conversation_is_404_to_read_and_write(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let scarlet = app.visitor_start(named("Scarlet"), Some("mine")).await;
    let eve = app.visitor_start(named("Eve"), Some("hers")).await;
    let theirs = &scarlet.conversation_id;
    let path = format!("/api/v1/visitor/conversations/{theirs}");
    let read = app.call(Method::GET, &path).bearer(&eve.token);
    read.send().await.expect_problem(404);
    let write = app.visitor_message_call(&eve.token, theirs, "not yours");
    write.send().await.expect_problem(404);
    let email = app.set_email_call(&eve.token, theirs, "eve@example.com");
    email.send().await.expect_problem(404);

    let seen = app.visitor_conversation(&scarlet.token, theirs).await;
    assert_eq!(texts(&seen), ["mine"], "{seen}");
    let detail = app.conversation(theirs).await;
    assert_eq!(texts(&detail), ["mine"], "{detail}");
    assert_eq!(detail["identity"]["email"], "", "{detail}");
}
