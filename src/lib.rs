//! Palaver: a self-hosted live-chat server whose every conversation step reaches the customer's
//! systems as a Talkus-compatible webhook.
//!
//! # Layout
//! | module | owns |
//! |---|---|
//! | [`domain`] | pure rules: ids, visitor names and channel slugs, the conversation state machine, the payload |
//! | [`store`] | all SQL: the [`store::Store`] trait (directory, conversations, outbox), SQLite and PostgreSQL behind it, each with its migrations; claims, leases and the hand-off queue; event bodies stored as heads and rebuilt (`bodies`) |
//! | [`chat`] | the commands (start, message, join, end, email): validate, apply the rules, persist in one transaction; per-visitor state with the pre-rendered transcript |
//! | [`delivery`] | the workers: claim, sign, guard destinations, send, record, retry |
//! | [`api`] | axum routers, auth, problem+json errors, idempotency, the live stream (SSE), OpenAPI |
//! | [`slack`] | the Slack bridge: app manifest, Web API client (configurable base URL), connecting a workspace, request signatures, Palaver → Slack through the outbox, Slack → Palaver through the Events API and a durable inbox |
//! | [`web`] | what browsers open: the widget script websites embed (`/widget.js`), the start and demo pages; embedded, templates compiled in |
//! | [`metrics`] | `/metrics` in Prometheus' text format: the process's counters and histograms (atomics), the store's backlog read at scrape time |
//! | [`retention`] | the background sweep purging finished deliveries and, if asked, ended conversations |
//! | [`memory`] | the in-memory caches' byte accounting (each cache bounded in bytes, reported at `/metrics`) |
//! | [`listen`] | `palaver listen`: a local receiver that verifies, prints and forwards deliveries |
//! | [`backup`] | `palaver backup` and `palaver restore`: a consistent copy of the embedded store while it runs (SQLite's online backup), and putting one back |
//! | [`config`] | flags and environment, validated at start |
//! | [`server`] | start-up and graceful shutdown of all of the above |
//! | `fuzzing` | the fuzz targets' properties, one function per parser of outside input (`fuzz/`, replayed by `tests/fuzz_corpus.rs`) |

pub mod api;
pub mod backup;
pub mod chat;
pub mod config;
pub mod delivery;
pub mod domain;
#[doc(hidden)]
pub mod fuzzing;
pub mod listen;
pub mod memory;
pub mod metrics;
pub mod retention;
pub mod server;
pub mod slack;
pub mod store;
pub mod web;
