//! The Slack bridge (issue 12): agents answer visitors from Slack, one channel per visitor, as in
//! Talkus:
//! - [`manifest`]: the app manifest `palaver slack manifest --url` prints;
//! - [`client`]: the Web API client (base URL configurable), its answers sorted by [`outcome`];
//! - [`connect`]: connecting a team's workspace (`PUT /api/v1/slack`), checked with `auth.test`;
//! - [`signature`]: Slack's request signatures, for the Events API receiver;
//! - [`outbound`]: Palaver → Slack, the deliveries of an endpoint of kind
//!   [`crate::store::EndpointKind::Slack`] riding the same outbox as webhooks;
//! - [`events`]: Slack → Palaver, the Events API receiver (`POST /slack/events`) and the durable
//!   inbox its events are acted on from.

pub mod client;
pub mod connect;
pub mod events;
pub mod manifest;
pub mod outbound;
pub mod outcome;
pub mod signature;

pub use client::{BotToken, SlackClient, SlackConfig};
pub use outcome::{SlackOutcome, SlackReply};
