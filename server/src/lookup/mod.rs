//! Reading what an agent or a ticket needs from Workday, fresh: an invoice with its position (credit and debit
//! memos, payments) and its purchase order, and the same in the mapper's model. Enrichment reads through here;
//! the agent API puts its cache in front of it.
//!
//! - [`invoice`]: [`fetch_invoice`] (one invoice by reference ID or WID, with what settles it) and
//!   [`InvoiceDetails::to_mapper`].

//! - [`cache`]: the agent API's cache in front of those reads (single flight, stale on failure, invalidated by
//!   the sync); [`config`]: `[agent]`.
//! - [`references`]: the invoice and PO numbers a text quotes; [`resolve`]: which indexed invoice they name.
//! - [`preview`]: [`preview_mapping`], what a tenant's mapping would write for one real invoice or supplier.

pub mod agent;
pub mod cache;
pub mod config;
pub mod invoice;
pub mod preview;
pub mod references;
pub mod resolve;

pub use cache::LookupCache;
pub use config::AgentConfig;
pub use invoice::{InvoiceDetails, fetch_invoice};
pub use preview::{MappingPreview, PreviewError, PreviewSubject, preview_mapping};
