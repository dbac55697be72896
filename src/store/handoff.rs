//! The hand-off queue: deliveries a commit of this process made ready and claimed at once for
//! this process's workers, so that no claim query stands between the commit and the send.

use super::Claimed;
use crate::domain::Millis;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

/// Most deliveries waiting in the queue; past it, commits leave new deliveries for a claim to
/// find when the workers have room.
const CAPACITY: usize = 1024;
/// Most bytes of bodies waiting in the queue (a long conversation's bodies are large); past it,
/// the same.
const CAPACITY_BYTES: usize = 64 << 20;

#[derive(Default)]
pub struct Handoff {
    /// The lease of handed-off deliveries in milliseconds; 0 while hand-off is off.
    lease_ms: AtomicI64,
    queue: Mutex<Queue>,
    signal: Arc<Notify>,
}

#[derive(Default)]
struct Queue {
    claimed: VecDeque<Claimed>,
    /// The bodies' bytes (plus an entry's overhead each).
    bytes: usize,
}

/// What a queued delivery weighs.
fn weight(c: &Claimed) -> usize {
    c.body.capacity() + c.url.len() + crate::memory::ENTRY_OVERHEAD
}

impl Handoff {
    /// Turns hand-off on, with this lease.
    pub fn enable(&self, lease: Duration) {
        self.lease_ms
            .store(lease.as_millis() as i64, Ordering::Relaxed);
    }

    /// The lease end for deliveries handed off now, if hand-off is on and the workers keep up.
    pub fn lease_until(&self) -> Option<Millis> {
        let lease = self.lease_ms.load(Ordering::Relaxed);
        let room = {
            let q = self.queue.lock().expect("hand-off queue poisoned");
            q.claimed.len() < CAPACITY && q.bytes < CAPACITY_BYTES
        };
        (lease > 0 && room).then(|| Millis::now().plus_ms(lease))
    }

    /// Queues claimed deliveries for the workers.
    pub fn push(&self, claimed: Vec<Claimed>) {
        if !claimed.is_empty() {
            let mut q = self.queue.lock().expect("hand-off queue poisoned");
            for c in claimed {
                let w = weight(&c);
                q.bytes += w;
                crate::memory::HANDOFF.added(w);
                q.claimed.push_back(c);
            }
            drop(q);
            self.signal.notify_one();
        }
    }

    /// Up to `max` queued deliveries, oldest first.
    pub fn take(&self, max: usize) -> Vec<Claimed> {
        let mut q = self.queue.lock().expect("hand-off queue poisoned");
        let n = max.min(q.claimed.len());
        let taken: Vec<Claimed> = q.claimed.drain(..n).collect();
        for c in &taken {
            let w = weight(c);
            q.bytes -= w;
            crate::memory::HANDOFF.removed(w, false);
        }
        taken
    }

    pub fn signal(&self) -> Arc<Notify> {
        self.signal.clone()
    }

    /// How long the oldest queued delivery has waited for a worker (queued when its lease
    /// began), if any waits.
    pub fn oldest_wait(&self, now: Millis) -> Option<Duration> {
        let lease = self.lease_ms.load(Ordering::Relaxed);
        let queue = self.queue.lock().expect("hand-off queue poisoned");
        let queued_at = queue.claimed.front()?.lease_until.0 - lease;
        Some(Duration::from_millis((now.0 - queued_at).max(0) as u64))
    }
}
