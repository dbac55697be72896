//! The Slack inbox (queued with the seen mark, lanes in order, leases, retries, fencing) and
//! private notes (one per origin, oldest first).

use super::*;

on_every_store!(
    an_event_is_queued_once_with_its_seen_mark,
    only_the_head_of_each_channel_is_claimed_and_retries_wait,
    a_lost_lease_is_taken_over_and_its_outcome_changes_nothing,
    notes_are_kept_once_per_origin,
);

async fn queue(f: &Fixture, id: &str, lane: &str, at: i64) -> bool {
    let body = format!(r#"{{"type":"message","ts":"{id}"}}"#);
    f.store
        .queue_slack_event(id, f.team, lane, &body, Millis(at))
        .await
        .unwrap()
}

async fn claim(f: &Fixture, now: i64) -> InboxClaim {
    f.store
        .claim_slack_events(Millis(now), Millis(now + 60_000), 10)
        .await
        .unwrap()
}

fn ids(c: &InboxClaim) -> Vec<&str> {
    c.events.iter().map(|e| e.event_id.as_str()).collect()
}

async fn an_event_is_queued_once_with_its_seen_mark(f: Fixture) {
    assert!(queue(&f, "Ev1", "C1", 1000).await);
    assert!(!queue(&f, "Ev1", "C1", 2000).await, "a retry by Slack");
    assert!(
        !f.store
            .mark_slack_event_seen("Ev1", f.team, Millis(2000))
            .await
            .unwrap(),
        "marked seen with it"
    );
    assert_eq!(f.store.pending_slack_events().await.unwrap(), 1);
    let got = claim(&f, 1000).await;
    assert_eq!(got.events.len(), 1);
    let e = &got.events[0];
    assert_eq!((e.team_seq, e.lane.as_str(), e.attempts), (f.team, "C1", 1));
    assert_eq!(e.body, r#"{"type":"message","ts":"Ev1"}"#);
    f.store.finish_slack_event(e.seq, 1).await.unwrap();
    assert_eq!(f.store.pending_slack_events().await.unwrap(), 0);
    assert!(claim(&f, 1000).await.events.is_empty());
    assert!(!queue(&f, "Ev1", "C1", 3000).await, "done, still seen");
}

async fn only_the_head_of_each_channel_is_claimed_and_retries_wait(f: Fixture) {
    for (id, lane) in [("A1", "CA"), ("A2", "CA"), ("B1", "CB"), ("A3", "CA")] {
        assert!(queue(&f, id, lane, 1000).await);
    }
    let first = claim(&f, 1000).await;
    assert_eq!(ids(&first), ["A1", "B1"]);
    assert!(claim(&f, 1000).await.events.is_empty(), "leased");
    let (a1, b1) = (&first.events[0], &first.events[1]);
    f.store
        .finish_slack_event(b1.seq, b1.attempts)
        .await
        .unwrap();
    f.store
        .retry_slack_event(a1.seq, a1.attempts, Millis(5000), "Slack down")
        .await
        .unwrap();
    let waiting = claim(&f, 2000).await;
    assert!(waiting.events.is_empty(), "A2 waits behind A1's retry");
    assert_eq!(waiting.next_due, Some(Millis(5000)));
    let again = claim(&f, 5000).await;
    assert_eq!(ids(&again), ["A1"]);
    assert_eq!(again.events[0].attempts, 2);
    f.store
        .finish_slack_event(again.events[0].seq, 2)
        .await
        .unwrap();
    assert_eq!(ids(&claim(&f, 5000).await), ["A2"]);
}

async fn a_lost_lease_is_taken_over_and_its_outcome_changes_nothing(f: Fixture) {
    assert!(queue(&f, "E1", "C1", 1000).await);
    let first = claim(&f, 1000).await.events.remove(0);
    assert_eq!(
        claim(&f, 30_000).await.next_due,
        Some(Millis(61_000)),
        "due when its lease ends"
    );
    let second = claim(&f, 61_000).await.events.remove(0);
    assert_eq!(second.attempts, 2);
    f.store
        .retry_slack_event(first.seq, first.attempts, Millis(0), "late")
        .await
        .unwrap();
    f.store
        .finish_slack_event(first.seq, first.attempts)
        .await
        .unwrap();
    assert_eq!(f.store.pending_slack_events().await.unwrap(), 1, "fenced");
    assert!(claim(&f, 62_000).await.events.is_empty(), "still leased");
    if !matches!(f.place, Place::Postgres(_)) {
        assert_eq!(f.store.release_slack_leases().await.unwrap(), 1);
        assert_eq!(ids(&claim(&f, 62_000).await), ["E1"], "released at start");
    }
}

async fn notes_are_kept_once_per_origin(f: Fixture) {
    let note = |id: &str, conversation: i64, origin: &str, at: i64| NoteRecord {
        id: id.into(),
        conversation_seq: conversation,
        agent_id: "U0F2Z1234".into(),
        user_name: "Moss".into(),
        text: format!("note {id}"),
        created_at: Millis(at),
        origin: origin.into(),
    };
    let n1 = note("n_1", 7, "slack:1.1", 10);
    assert!(f.store.add_note(n1.clone()).await.unwrap());
    assert!(
        !f.store
            .add_note(note("n_2", 7, "slack:1.1", 20))
            .await
            .unwrap()
    );
    let n3 = note("n_3", 7, "slack:1.2", 30);
    assert!(f.store.add_note(n3.clone()).await.unwrap());
    assert!(
        f.store
            .add_note(note("n_4", 8, "slack:1.1", 40))
            .await
            .unwrap()
    );
    assert_eq!(f.store.notes(7).await.unwrap(), vec![n1, n3]);
    assert!(f.store.notes(9).await.unwrap().is_empty());
}
