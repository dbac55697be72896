//! The delivery workers: claim due deliveries, sign, guard destinations, send with timeouts,
//! record every attempt, retry on schedule. Per-lane order comes from the outbox: only a lane's
//! head is ever claimable. Deliveries of endpoints that are not webhooks (Slack's) are routed to
//! their kind's [`Courier`] and ride the same machinery.

mod batch;
mod client;
pub mod courier;
pub mod guard;
mod metered;
mod proxy;
mod recovery;
pub mod schedule;
mod send;
pub mod sign;
mod worker;

pub use courier::{Attempted, Courier, Couriers, Verdict};
pub use proxy::WebhookProxy;
pub use recovery::Recoverer;
pub use schedule::RetrySchedule;
pub use worker::{Deliverer, DeliveryConfig};
