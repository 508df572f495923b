//! Zendesk: the Support API client (API token or OAuth2 with refresh rotation), organizations and their fields,
//! tickets and ticket fields, bulk jobs, client-side rate limiting, and webhook verification.
//!
//! - [`ZendeskClient`] — one per tenant; clones share its [`limiter::RateLimiter`] and OAuth session.
//! - [`organizations`] — lookups by `external_id`, idempotent and collision-resolving creates and updates,
//!   bulk jobs, [`ZendeskClient::upsert_organizations`].
//! - [`fields`] — the custom field types (one table for tickets, organizations and the mapper's catalog).
//! - [`org_fields`] — organization fields provisioned by key.
//! - [`automation`] — ticket fields, the Webhooks API and triggers, for tenant setup.
//! - [`tickets`] — ticket reads, custom-field writes checked against their ticket field.
//! - [`webhook`] — signature and timestamp checks, event parsing (the route is `http::webhooks`).
//! - [`probe`] — one cheap request, for `ml-connector check --tenant`.
//!
//! A pure adapter: configuration and credentials in, typed results out. It reads nothing from the database or
//! the vault and knows nothing of the command line (`docs/architecture.md`); the application layer
//! (`crate::app`) builds a tenant's client, and the callers add their own hints to its errors.

pub mod auth;
pub mod automation;
mod client;
pub mod config;
mod de;
pub mod error;
pub mod fields;
pub mod jobs;
pub mod limiter;
pub mod org_fields;
pub mod organizations;
pub mod pagination;
pub mod probe;
pub mod tickets;
pub mod webhook;

pub use auth::{Credentials, OAuthClient};
pub use client::{ClientOptions, ZendeskClient};
pub use config::ZendeskConfig;
pub use error::ZendeskError;
