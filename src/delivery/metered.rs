//! What an attempt's outcome counts as in `/metrics`.

use crate::metrics::{self, Outcome as Counted};
use crate::store::{NextStep, Outcome};

/// Counts `o` under its endpoint: delivered, retried (a retry or a wait is scheduled), failed.
pub fn outcome(o: &Outcome) {
    let counted = match o.next {
        NextStep::Delivered => Counted::Delivered,
        NextStep::RetryAt(_) | NextStep::WaitUntil(_) => Counted::Retried,
        NextStep::Failed => Counted::Failed,
        // Handed back unsent (a pause, a limit): not an attempt.
        NextStep::Deferred(_) => return,
    };
    metrics::delivery(o.claimed.endpoint_seq, counted);
}
