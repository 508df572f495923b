//! Read-only Workday client: SOAP web services (the default, for breadth) and REST (OAuth2, for light reads).
//!
//! - [`request`]: typed queries and the SOAP envelope (WS-Security UsernameToken, `Workday_Common_Header`,
//!   `bsvc:version`).
//! - [`decode`]: streaming quick-xml decoding of pages and faults into the typed [`model`]; one record that
//!   cannot be decoded is skipped and reported, not the whole page.
//! - [`client`]: the HTTP client: timeouts, retries with jittered backoff, paging walks that stream records.
//! - [`rest`] and [`oauth`]: REST reads (supplier invoice requests) with the OAuth2 refresh-token grant;
//!   [`tokens`]: where a rotated refresh token is persisted.
//! - [`check`]: the `ml-connector check --tenant` probe.
//!
//! Wire facts: `shared/reference/workday-wire.md`; operator guide: `docs/workday.md`.

pub mod check;
pub mod client;
pub mod config;
pub mod decode;
pub mod error;
pub mod model;
pub mod oauth;
pub mod ops;
pub mod request;
pub mod rest;
pub mod tokens;

pub use client::{Credentials, OAuthCredentials, PageOf, WorkdayClient};
pub use config::{Transport, WorkdayConfig};
pub use error::{SoapFault, ValidationError, WorkdayError};
pub use model::{Sourced, WorkdaySource};
pub use ops::Operation;
pub use tokens::{MemoryRefreshTokens, RefreshTokenStore, StoreRefreshTokens};
