//! # ml-mapper-sdk: field-mapping plugins for ml-connector, in Rust
//!
//! ml-connector copies Workday supplier and invoice data into Zendesk. A tenant whose rules do not fit the
//! declarative mapping uploads a *plugin*: a WebAssembly component that implements the world `mapper` of
//! `ml-connector:mapper@1.0.0` (`mapper-wasm/wit/mapper.wit`). This crate is the Rust side of that contract:
//!
//! - the WIT types as Rust types ([`Supplier`], [`Invoice`], [`TicketContext`], [`FieldWrite`], ...),
//! - the [`Guest`] trait your plugin implements and the [`export_mapper!`] macro that exports it,
//! - helpers for the parts that are easy to get wrong: decimal money without floats ([`Amount`],
//!   [`format_money`]), dates ([`Date`]) and building writes ([`ticket_field`], [`org_field`], [`add_tag`]).
//!
//! ```ignore
//! use ml_mapper_sdk::*;
//!
//! struct Plugin;
//!
//! impl Guest for Plugin {
//!     fn map_supplier(s: Supplier) -> Result<Vec<FieldWrite>, String> {
//!         Ok(vec![org_field("payment_terms", text(s.payment_terms.unwrap_or_default()))])
//!     }
//!     fn map_invoice(i: Invoice, _t: TicketContext) -> Result<Vec<FieldWrite>, String> {
//!         let total = Amount::parse(&i.total.amount).map_err(|e| e.to_string())?;
//!         Ok(vec![ticket_field(360001, decimal(&total.round_dp(2)))])
//!     }
//! }
//!
//! export_mapper!(Plugin);
//! ```
//!
//! Build with `cargo build --release --target wasm32-wasip2`; the `.wasm` in `target/wasm32-wasip2/release/` is
//! the component to upload. A plugin runs with no capabilities (no files, environment, network or clock), a
//! per-call deadline and a memory cap; a panic becomes a trap, which ml-connector reports and handles with the
//! tenant's failure policy. Return `Err(reason)` to refuse an input cleanly.

mod date;
mod money;
mod writes;

/// The generated bindings of the `mapper` world (wit-bindgen). Everything useful is re-exported at the crate
/// root; this module is public so that [`export_mapper!`] can find it.
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "mapper",
        pub_export_macro: true,
        export_macro_name: "export_mapper",
        default_bindings_module: "ml_mapper_sdk::bindings",
    });
}

pub use bindings::export_mapper;
pub use bindings::{
    ExtraField, FieldTarget, FieldValue, FieldWrite, Guest, Invoice, Money, Payment, PurchaseOrder,
    Supplier, TicketContext,
};
pub use date::{Date, DateError};
pub use money::{Amount, AmountError, MoneyStyle, format_money};
pub use writes::{
    add_tag, checkbox, clear, date_value, decimal, dropdown, org_field, remove_tag, tag_name, text,
    ticket_field,
};

/// The WIT package this SDK implements.
pub const WIT_PACKAGE: &str = "ml-connector:mapper@1.0.0";

/// Looks up an extra field by name (case-insensitive).
pub fn extra<'a>(fields: &'a [ExtraField], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|f| f.name.eq_ignore_ascii_case(name))
        .map(|f| f.value.as_str())
}
