//! The delivery workers: claim due deliveries, sign, guard destinations, send with timeouts,
//! record every attempt, retry on schedule. Per-lane order comes from the outbox: only a lane's
//! head is ever claimable. Deliveries of endpoints that are not webhooks (Slack's) are routed to
//! their kind's [`Courier`] and ride the same machinery. What a receiver answers is sorted by
//! Standard Webhooks' HTTP semantics (`send`): `410` disables the endpoint, `429`/`502`/`503`/
//! `504` and their `Retry-After` pause it, timeouts back off harder; each endpoint's limits and
//! pauses are kept by `pace`.

mod batch;
mod client;
pub mod courier;
pub mod guard;
mod health;
mod metered;
mod pace;
mod proxy;
mod recovery;
mod request;
pub mod retry_after;
pub mod schedule;
mod send;
pub mod sign;
mod worker;

pub use courier::{Attempted, Courier, Couriers, Verdict};
pub use proxy::WebhookProxy;
pub use recovery::Recoverer;
pub use schedule::RetrySchedule;
pub use worker::{Deliverer, DeliveryConfig};
