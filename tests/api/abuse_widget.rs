//! The widget is never refused for an ordinary page: a long URL and title, and what a page
//! script gives through `identify`, are made to fit the identity rules (`long_page.mjs`).

use crate::browser::stage;
use crate::checks::checked_events;
use crate::helpers::WAIT;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_page_url_and_title_still_start_a_conversation() {
    let Some(s) = stage().await else { return };
    s.run("long_page.mjs").await;
    let reqs = s.receiver.wait_for(2, WAIT).await;
    let events = checked_events(&reqs, &s.secret);
    let start = events
        .iter()
        .find(|e| e["event"] == "start")
        .expect("a start webhook");
    let id = &start["identity"];
    assert_eq!(
        id["location"],
        s.host_url.as_str(),
        "a URL over 2,048 characters loses its query and fragment"
    );
    assert_eq!(id["title"], "T".repeat(500), "the title is cut to 500");
    assert_eq!(id["name"], "N".repeat(200), "the name is cut to 200");
    assert_eq!(id["phone"], "", "what is not a phone is left out");
    assert_eq!(start["visitorName"], "N".repeat(200));
}
