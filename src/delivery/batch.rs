//! Opt-in batching: an endpoint with `batchSize` > 1 gets up to that many events in one request,
//! oldest first. Batches form by themselves under load, as group commits do: each batching
//! endpoint has at most [`IN_FLIGHT`] requests out at once, and what becomes ready meanwhile
//! waits here and leaves together in the next one. An endpoint that answers quickly gets small
//! batches and no added delay; a slow or busy one, full ones.
//!
//! A batch is made durable ([`crate::store::Outbox::form_batch`]) before it is first sent: its
//! id is the request's `webhook-id`, and every retry sends the same events under it.

use crate::domain::Millis;
use crate::store::Claimed;
use std::collections::{HashMap, VecDeque};

/// Most requests out at once to one batching endpoint.
pub const IN_FLIGHT: usize = 4;

/// Ready deliveries of batching endpoints waiting for a request of their endpoint to return.
#[derive(Default)]
pub struct Held {
    waiting: HashMap<i64, VecDeque<Claimed>>,
    in_flight: HashMap<i64, usize>,
}

impl Held {
    /// Takes a delivery of a batching endpoint, to send when its endpoint has room.
    pub fn hold(&mut self, c: Claimed) {
        let cap = IN_FLIGHT * 2 * c.batch_size.max(1) as usize;
        let queue = self.waiting.entry(c.endpoint_seq).or_default();
        // Past the cap the delivery is let go: its lease runs out and a claim finds it again.
        // That bounds memory when an endpoint is far slower than its traffic.
        if queue.len() < cap {
            queue.push_back(c);
        }
    }

    /// A request of `endpoint` came back.
    pub fn returned(&mut self, endpoint: i64) {
        if let Some(n) = self.in_flight.get_mut(&endpoint) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.in_flight.remove(&endpoint);
            }
        }
    }

    /// A retried batch goes out now; it counts against its endpoint's room.
    pub fn sending(&mut self, endpoint: i64) {
        *self.in_flight.entry(endpoint).or_default() += 1;
    }

    /// The batches to send now: for every endpoint with room, up to its batch size of its oldest
    /// waiting deliveries whose lease leaves time for an attempt (`cutoff`).
    pub fn ready(&mut self, cutoff: Millis) -> Vec<Vec<Claimed>> {
        let mut out = Vec::new();
        for (endpoint, queue) in self.waiting.iter_mut() {
            queue.retain(|c| c.lease_until > cutoff);
            let busy = self.in_flight.entry(*endpoint).or_default();
            while *busy < IN_FLIGHT && !queue.is_empty() {
                let size = queue[0].batch_size.max(1) as usize;
                let take = size.min(queue.len());
                let mut batch: Vec<Claimed> = queue.drain(..take).collect();
                batch.sort_by_key(|c| c.seq);
                out.push(batch);
                *busy += 1;
            }
        }
        self.waiting.retain(|_, q| !q.is_empty());
        self.in_flight.retain(|_, n| *n > 0);
        out
    }
}

/// The request body of a batch: the members' events in one array, in the members' order. Each
/// member's stored body is a one-event array.
pub fn join_bodies(members: &[Claimed]) -> String {
    let mut out = String::with_capacity(members.iter().map(|c| c.body.len()).sum::<usize>() + 2);
    out.push('[');
    for (i, c) in members.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let inner = c
            .body
            .strip_prefix('[')
            .and_then(|b| b.strip_suffix(']'))
            .unwrap_or(&c.body);
        out.push_str(inner);
    }
    out.push(']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claimed(seq: i64, endpoint: i64, body: &str) -> Claimed {
        Claimed {
            seq,
            id: format!("msg_{seq}"),
            endpoint_seq: endpoint,
            kind: crate::store::EndpointKind::Webhook,
            lane: format!("lane{seq}"),
            attempt: 1,
            tries: 1,
            lease_until: Millis(10_000),
            url: "http://example.com/".into(),
            secrets: vec![],
            body: body.into(),
            batch_size: 2,
            limits: Default::default(),
            batch_id: None,
            unsendable: None,
        }
    }

    #[test]
    fn bodies_join_into_one_array_in_order() {
        let members = [
            claimed(1, 1, r#"[{"event":"start"}]"#),
            claimed(2, 1, r#"[{"event":"messageVisitor","text":"[x]"}]"#),
        ];
        let joined = join_bodies(&members);
        assert_eq!(
            joined,
            r#"[{"event":"start"},{"event":"messageVisitor","text":"[x]"}]"#
        );
        let parsed: serde_json::Value = serde_json::from_str(&joined).unwrap();
        assert_eq!(parsed.as_array().unwrap().len(), 2);
    }

    #[test]
    fn batches_respect_size_room_and_leases() {
        let mut held = Held::default();
        for seq in (1..=20).rev() {
            held.hold(claimed(seq, 7, "[{}]"));
        }
        // Queue capped at IN_FLIGHT × 2 × batch size (16); the rest let go.
        let batches = held.ready(Millis(0));
        assert_eq!(batches.len(), IN_FLIGHT);
        assert!(batches.iter().all(|b| b.len() == 2));
        // Oldest first inside a batch.
        assert!(batches.iter().all(|b| b[0].seq < b[1].seq));
        // No room until a request returns.
        assert!(held.ready(Millis(0)).is_empty());
        held.returned(7);
        assert_eq!(held.ready(Millis(0)).len(), 1);
        // Deliveries whose lease ends before an attempt could are dropped.
        held.returned(7);
        assert!(held.ready(Millis(20_000)).is_empty());
    }
}
