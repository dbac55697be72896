//! Black-box integration tests of the `palaver` binary, compiled as one test binary.
//!
//! Layout: the harness (`helpers`: start/stop/restart the real server; `stores`: SQLite or a
//! throw-away PostgreSQL database, and the macros running each test on both; `cluster`: several
//! servers on one PostgreSQL; `client` and `api`: typed calls; `sse`: a Server-Sent Events
//! reader; `receiver`: a scripted webhook receiver; `fake_slack`: a scripted Slack Web API and
//! signed Events API requests; `signature`, `payload`, `checks`, `schema`: what every webhook
//! must satisfy; `listen`: a `palaver listen` process; `fixtures`: the seed's data), then one
//! module per area.

mod api;
mod chaos_receiver;
mod checks;
mod client;
mod cluster;
mod fake_slack;
mod fixtures;
mod helpers;
mod listen;
mod payload;
mod receiver;
mod schema;
mod signature;
mod sse;
mod stores;
mod teams;

mod abuse_body;
mod abuse_input;
mod abuse_limits;
mod abuse_widget;
mod agents_page;
mod auth;
mod backup;
mod backup_refusals;
mod batching;
mod bench;
mod browser;
mod cache_bounds;
mod chaos;
mod console_auth;
mod conversation;
mod crash;
mod cross_process;
mod delivery;
mod destinations;
mod endpoint_healing;
mod endpoint_healing_recovers;
mod endpoint_health;
mod errors;
mod http_semantics;
mod idempotency;
mod integration_page;
mod integration_slack;
mod integration_slack_calls;
mod isolation;
mod lifecycle;
mod listen_flow;
mod listen_refusals;
mod live;
mod logs_secrets;
mod methods;
mod metrics;
mod metrics_backlog;
mod metrics_logs;
mod metrics_slack;
mod multiprocess;
mod openapi;
mod ordering;
mod pacing;
mod proxy;
mod receivers;
mod retention;
mod scene;
mod schema_examples;
mod secrets_at_rest;
mod seed;
mod slack;
mod slack_client;
mod slack_events;
mod slack_events_flow;
mod slack_events_outage;
mod slack_fake;
mod slack_manifest;
mod slack_outbound;
mod slack_outbound_kit;
mod slack_outbound_outage;
mod slack_webhooks;
mod team_events;
mod tls;
mod visitor_isolation;
mod web;
mod webhooks_admin;
mod widget_settings;
