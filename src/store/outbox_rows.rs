//! The outbox's rows: claims, the deliveries handed to workers, their outcomes and attempts.

use super::{EndpointKind, Limits};
use crate::domain::Millis;

/// What a claim got, and when the next ready delivery (claimed ones included) is due.
#[derive(Debug, Default)]
pub struct Claim {
    pub deliveries: Vec<Claimed>,
    pub next_due: Option<Millis>,
}

/// A delivery handed to a worker under a lease.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub seq: i64,
    pub id: String,
    pub endpoint_seq: i64,
    /// What the endpoint is: the workers POST a webhook's deliveries and hand the others to the
    /// endpoint kind's courier (see [`crate::delivery::Courier`]).
    pub kind: EndpointKind,
    pub lane: String,
    /// The attempt number this claim is (fences the outcome).
    pub attempt: i64,
    /// Attempts since last queued (indexes the retry schedule), this one included.
    pub tries: i64,
    /// When the lease ends: past it, another worker may send the delivery again.
    pub lease_until: Millis,
    pub url: String,
    pub secrets: Vec<String>,
    pub body: String,
    /// The endpoint's [`Endpoint::batch_size`].
    pub batch_size: i64,
    /// The endpoint's [`Endpoint::limits`].
    pub limits: Limits,
    /// The batch this delivery was first sent in, if any: it is always sent with that batch,
    /// under the batch's id.
    pub batch_id: Option<String>,
    /// Why this delivery cannot be sent, if it cannot (its body could not be rebuilt): the
    /// worker records that as its failed attempt instead of sending anything.
    pub unsendable: Option<String>,
}

/// The secrets that sign a delivery at `now`: the endpoint's, and the one before the last
/// rotation while it is still honoured.
pub fn signing_secrets(
    secret: String,
    previous: Option<String>,
    previous_until: Option<i64>,
    now: Millis,
) -> Vec<String> {
    match (previous, previous_until) {
        (Some(prev), Some(until)) if until > now.0 => vec![secret, prev],
        _ => vec![secret],
    }
}

/// What became of an attempt.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub claimed: Claimed,
    pub attempt: AttemptRecord,
    pub next: NextStep,
}

/// The `next_attempt_at` of a batch's members other than its first (the leader): never due on
/// their own. They are claimed, sent and settled with the leader.
pub const PARKED: Millis = Millis(9_000_000_000_000_000);

#[cfg(test)]
#[test]
fn the_delivery_log_knows_the_parked_time() {
    let literal = format!("next_attempt_at = {}", PARKED.0);
    assert!(super::rows::DELIVERY_COLUMNS.contains(&literal));
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NextStep {
    Delivered,
    RetryAt(Millis),
    /// Due again at this time, this attempt not counted against the retry schedule: the
    /// destination asked to be left alone until then (Slack's `429 Retry-After`).
    WaitUntil(Millis),
    /// Not sent: handed back as if never claimed (no attempt recorded, none counted), due again
    /// at this time. The workers hold back an endpoint that asked them to slow down or is at its
    /// limits this way ([`crate::delivery::pace`]).
    Deferred(Millis),
    Failed,
}

#[derive(Clone, Debug)]
pub struct AttemptRecord {
    pub n: i64,
    pub at: Millis,
    pub status_code: Option<u16>,
    pub duration_ms: i64,
    pub error: Option<String>,
    pub response_body: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "delivered" => Some(Self::Delivered),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }

    /// From the outbox's internal state.
    pub fn from_state(state: &str) -> Self {
        match state {
            "delivered" => Self::Delivered,
            "failed" => Self::Failed,
            _ => Self::Pending,
        }
    }
}

#[derive(Clone, Debug)]
pub struct DeliveryRecord {
    pub seq: i64,
    pub id: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub event: String,
    pub conversation_id: Option<String>,
    /// The conversation's visitor's channel (none for a test event).
    pub channel_name: Option<String>,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub next_attempt_at: Option<Millis>,
    pub created_at: Millis,
    pub last_attempt: Option<AttemptRecord>,
    /// The batch it was sent in (the requests' `webhook-id`), if any.
    pub batch_id: Option<String>,
}
