//! Accounts payable: where a supplier invoice stands, from the invoice, its adjustments and its payments, as
//! of a date.
//!
//! Workday does not report an invoice's payment position in the data the client reads (payment status is a
//! search criterion, not a field), so it is derived here, from three objects Workday keeps apart:
//!
//! - the [`SupplierInvoice`](crate::workday::model::SupplierInvoice) (its total and due date),
//! - the [`SupplierInvoiceAdjustment`](crate::workday::model::SupplierInvoiceAdjustment)s that name it as their
//!   original invoice (credit memos lower what is due, debit memos raise it),
//! - the [`Payment`](crate::workday::model::Payment)s whose remittance lines settle it.
//!
//! [`matching`] says which adjustment and which remittance line belongs to which invoice (on every identifier
//! real remittance data may carry); [`position`] adds them up into an [`InvoicePosition`]. Both are pure
//! functions of the records, so the mapper, the invoice index and the agent API compute the same answer.

pub mod matching;
pub mod position;

pub use matching::{
    DocumentKind, Settlement, adjusts, settlements, settles_adjustment, settles_invoice,
};
pub use position::{InvoicePosition, PaymentStatus, adjustment_effect};
