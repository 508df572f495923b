//! The HTTP API of the real application, started the way `serve` starts it, on SQLite and on PostgreSQL:
//! operations endpoints and the shared error shape ([`ops`]), the admin plugin API ([`plugins`]), the webhook
//! receiver ([`webhooks`]), the background maintenance ([`maintenance`]), the sync admin API ([`sync`]), and
//! setup and the mapping ([`setup`]).

#[path = "../support/mod.rs"]
mod support;

mod agent;
mod maintenance;
mod ops;
mod plugins;
mod setup;
mod sync;
mod webhooks;
