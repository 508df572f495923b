//! Field mapping: from Workday records to Zendesk field writes.
//!
//! Two ways produce the same [`FieldWrite`] list:
//! - [`declarative`]: per-tenant rules (JSON/TOML) with type conversion, validated against the Zendesk field
//!   types of the tenant's [`catalog`]; the default, and the fallback;
//! - [`host`]: the tenant's WebAssembly plugin (a component of `mapper-wasm/wit/mapper.wit`), sandboxed.
//!
//! [`service`] ties them to the store: the plugin lifecycle (upload → validate → dry-run → activate, rollback)
//! and [`service::MapperService::map`], which applies the tenant's failure policy and says why a plugin's
//! writes were not used.

pub mod catalog;
pub mod config;
pub mod declarative;
pub mod host;
pub mod input;
pub mod policy;
pub mod service;
mod sources;
pub mod write;

pub use config::PluginsConfig;
pub use host::{CallFailure, PluginHost};
pub use input::{Invoice, Sample, Supplier, TicketContext};
pub use policy::FailurePolicy;
pub use service::{MapperService, MappingResult};
pub use sources::InvoiceSources;
pub use write::{FieldTarget, FieldValue, FieldWrite, Subject};
