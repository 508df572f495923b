//! ml-connector puts Workday Financial Management context on Zendesk tickets and organizations.
//!
//! Data flows one way, Workday → Zendesk. The library holds the domain; the `ml-connector` binary is its CLI.
//! `docs/architecture.md` describes the modules, the flows and who may call whom; `docs/` the rest, for operators.

pub mod app;
pub mod config;
pub mod http;
mod layering;
pub mod lookup;
pub mod mapper;
pub mod payables;
pub mod startup;
pub mod store;
pub mod sync;
pub mod telemetry;
pub mod tenant;
pub mod upstream;
pub mod vault;
pub mod workday;
pub mod xsd;
pub mod zendesk;
