//! ml-connector puts Workday Financial Management context on Zendesk tickets and organizations.
//!
//! Data flows one way, Workday → Zendesk. The library holds the domain; the `ml-connector` binary is its CLI.
//! See `shared/DESIGN.md` for the architecture and `docs/` for operators.

pub mod config;
pub mod http;
pub mod mapper;
pub mod payables;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod tenant;
pub mod vault;
pub mod workday;
pub mod zendesk;
