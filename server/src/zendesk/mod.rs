//! Zendesk: the Support API client (API token or OAuth2 with refresh rotation), organizations and their fields,
//! tickets and ticket fields, bulk jobs, client-side rate limiting, and webhook verification.
//!
//! - [`ZendeskClient`] — one per tenant; clones share its [`limiter::RateLimiter`] and OAuth session.
//! - [`organizations`] — lookups by `external_id`, idempotent and collision-resolving creates and updates,
//!   bulk jobs, [`ZendeskClient::upsert_organizations`].
//! - [`org_fields`] — organization fields provisioned by key.
//! - [`tickets`] — ticket reads, custom-field writes checked against their ticket field.
//! - [`webhook`] — signature and timestamp checks, event parsing (the route is `http::webhooks`).
//! - [`check`] — the `ml-connector check --tenant` probe.

pub mod auth;
pub mod check;
mod client;
pub mod config;
mod de;
pub mod error;
pub mod jobs;
pub mod limiter;
pub mod org_fields;
pub mod organizations;
pub mod pagination;
pub mod tickets;
pub mod webhook;

pub use auth::{Credentials, MemoryTokenStore, OauthClient, StoreTokenStore, TokenStore};
pub use client::{ClientOptions, ZendeskClient};
pub use config::ZendeskConfig;
pub use error::ZendeskError;
