//! Read-only Workday client: SOAP web services (the default, for breadth) and REST (OAuth2, for light reads).
//!
//! - [`request`]: typed queries and the SOAP envelope (WS-Security UsernameToken, `Workday_Common_Header`,
//!   `bsvc:version`).
//! - [`decode`]: streaming quick-xml decoding of pages and faults into the typed [`model`]; one record that
//!   cannot be decoded is skipped and reported, not the whole page.
//! - [`client`]: the HTTP client: timeouts, retries with jittered backoff, paging walks that stream records.
//! - [`rest`] and [`oauth`]: REST reads (supplier invoice requests) with the OAuth2 refresh-token grant
//!   (rotation is the shared [`crate::upstream::RotatingSession`]'s).
//! - [`probe`]: one cheap call per upstream, for `ml-connector check --tenant`.
//!
//! A pure adapter: configuration and credentials in, typed results out. It reads nothing from the database or
//! the vault and knows nothing of the command line (`docs/architecture.md`); the application layer
//! (`crate::app`) builds a tenant's client. Wire facts and sources: `docs/workday.md`.

pub mod client;
pub mod config;
pub mod decode;
pub mod error;
pub mod model;
pub mod oauth;
pub mod ops;
pub mod probe;
pub mod request;
pub mod rest;

pub use client::{Credentials, OAuthCredentials, PageOf, WorkdayClient};
pub use config::{Transport, WorkdayConfig};
pub use error::{SoapFault, ValidationError, WorkdayError};
pub use model::{Sourced, WorkdaySource};
pub use ops::Operation;
