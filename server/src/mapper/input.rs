//! The records a mapping reads: the mapper's own view of Workday data (supplier, invoice with payments and
//! purchase order) and of the Zendesk ticket. Conversions from the Workday client's model live with that model.
//!
//! The JSON form (snake_case) is what `ml-connector plugin test --invoice FILE` / `--supplier FILE` and the
//! admin dry-run endpoint accept: `{"supplier": {...}}` or `{"invoice": {...}, "ticket": {...}}`.
//! Samples: `mapper-wasm/examples/samples/`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::write::Subject;

/// An amount in one currency. The amount is a decimal string, never a float.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Money {
    /// Decimal amount, e.g. `"1234.50"`.
    pub amount: String,
    /// ISO 4217 code, e.g. `"EUR"`.
    pub currency: String,
}

/// A Workday supplier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Supplier {
    /// Supplier_ID; the organization's external_id.
    pub id: String,
    /// Workday reference id (WID).
    #[serde(default)]
    pub reference_id: String,
    /// Name.
    pub name: String,
    /// Workday status (`Active`, `Inactive`, `On Hold`, ...).
    pub status: String,
    /// Category.
    #[serde(default)]
    pub category: Option<String>,
    /// Tax id.
    #[serde(default)]
    pub tax_id: Option<String>,
    /// Payment terms (`Net 30`).
    #[serde(default)]
    pub payment_terms: Option<String>,
    /// Default currency.
    #[serde(default)]
    pub currency: Option<String>,
    /// E-mail.
    #[serde(default)]
    pub email: Option<String>,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
    /// Address as one line.
    #[serde(default)]
    pub address: Option<String>,
    /// Other fields by name.
    #[serde(default)]
    pub extra: BTreeMap<String, String>,
}

/// A purchase order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PurchaseOrder {
    /// PO number.
    pub number: String,
    /// Workday reference id.
    #[serde(default)]
    pub reference_id: String,
    /// Status (`Issued`, `Closed`, ...).
    pub status: String,
    /// Order date, `YYYY-MM-DD`.
    #[serde(default)]
    pub order_date: Option<String>,
    /// Total.
    pub total: Money,
    /// Buyer.
    #[serde(default)]
    pub buyer: Option<String>,
}

/// A payment against an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Payment {
    /// Workday reference id.
    #[serde(default)]
    pub reference_id: String,
    /// Status (`Complete`, `Pending`, `Canceled`).
    pub status: String,
    /// Payment date, `YYYY-MM-DD`.
    #[serde(default)]
    pub payment_date: Option<String>,
    /// Amount paid.
    pub amount: Money,
    /// Payment type (`Check`, `ACH`, `Wire`).
    #[serde(default)]
    pub method: Option<String>,
    /// Check number or bank reference.
    #[serde(default)]
    pub reference: Option<String>,
}

/// A supplier invoice with its payments and purchase order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Invoice {
    /// Invoice number as quoted by the supplier.
    pub number: String,
    /// Workday reference id.
    #[serde(default)]
    pub reference_id: String,
    /// Supplier_ID.
    pub supplier_id: String,
    /// Supplier name.
    #[serde(default)]
    pub supplier_name: String,
    /// Approval status (`Approved`, `Draft`, `Canceled`).
    pub status: String,
    /// Payment status (`Paid`, `Unpaid`, `Partially Paid`).
    pub payment_status: String,
    /// Invoice date.
    #[serde(default)]
    pub invoice_date: Option<String>,
    /// Due date.
    #[serde(default)]
    pub due_date: Option<String>,
    /// Total.
    pub total: Money,
    /// Amount still due (decimal string, invoice currency).
    pub amount_due: String,
    /// Memo.
    #[serde(default)]
    pub memo: Option<String>,
    /// Matched purchase order.
    #[serde(default)]
    pub purchase_order: Option<PurchaseOrder>,
    /// Payments, oldest first.
    #[serde(default)]
    pub payments: Vec<Payment>,
    /// Other fields by name.
    #[serde(default)]
    pub extra: BTreeMap<String, String>,
}

/// The Zendesk ticket an invoice is mapped for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct TicketContext {
    /// Ticket id.
    pub ticket_id: u64,
    /// Subject.
    #[serde(default)]
    pub subject: Option<String>,
    /// Organization id.
    #[serde(default)]
    pub organization_id: Option<u64>,
    /// Requester e-mail.
    #[serde(default)]
    pub requester_email: Option<String>,
    /// Current tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Brand id.
    #[serde(default)]
    pub brand_id: Option<u64>,
}

/// One input to map, in the sample/dry-run JSON form.
// Short-lived (one per call), never stored in bulk: boxing the larger variant would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Sample {
    /// `{"supplier": {...}}`
    Supplier {
        /// The supplier.
        supplier: Supplier,
    },
    /// `{"invoice": {...}, "ticket": {...}}` (ticket optional).
    Invoice {
        /// The invoice.
        invoice: Invoice,
        /// The ticket (defaults to an empty ticket 0).
        #[serde(default)]
        ticket: TicketContext,
    },
}

/// Why sample JSON was not accepted.
#[derive(Debug, thiserror::Error)]
#[error("invalid {what} sample at `{path}`: {message}")]
pub struct SampleError {
    what: &'static str,
    path: String,
    message: String,
}

impl Sample {
    /// Which subject it is.
    pub fn subject(&self) -> Subject {
        match self {
            Self::Supplier { .. } => Subject::Supplier,
            Self::Invoice { .. } => Subject::Invoice,
        }
    }

    /// Parses either form, with a path-precise error message.
    pub fn from_json(bytes: &[u8]) -> Result<Self, SampleError> {
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| SampleError {
            what: "JSON",
            path: ".".into(),
            message: e.to_string(),
        })?;
        if value.get("supplier").is_some() {
            Self::supplier_from_value(value)
        } else if value.get("invoice").is_some() {
            Self::invoice_from_value(value)
        } else {
            Err(SampleError {
                what: "JSON",
                path: ".".into(),
                message: "expected an object with a `supplier` key, or an `invoice` key (and optionally `ticket`)".into(),
            })
        }
    }

    /// Parses `{"supplier": {...}}`.
    pub fn supplier_from_json(bytes: &[u8]) -> Result<Self, SampleError> {
        let value = serde_json::from_slice(bytes).map_err(|e| SampleError {
            what: "supplier",
            path: ".".into(),
            message: e.to_string(),
        })?;
        Self::supplier_from_value(value)
    }

    /// Parses `{"invoice": {...}, "ticket": {...}}`.
    pub fn invoice_from_json(bytes: &[u8]) -> Result<Self, SampleError> {
        let value = serde_json::from_slice(bytes).map_err(|e| SampleError {
            what: "invoice",
            path: ".".into(),
            message: e.to_string(),
        })?;
        Self::invoice_from_value(value)
    }

    fn supplier_from_value(value: serde_json::Value) -> Result<Self, SampleError> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct S {
            supplier: Supplier,
        }
        let s: S = serde_path_to_error::deserialize(value).map_err(|e| SampleError {
            what: "supplier",
            path: e.path().to_string(),
            message: e.inner().to_string(),
        })?;
        Ok(Self::Supplier {
            supplier: s.supplier,
        })
    }

    fn invoice_from_value(value: serde_json::Value) -> Result<Self, SampleError> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct I {
            invoice: Invoice,
            #[serde(default)]
            ticket: TicketContext,
        }
        let i: I = serde_path_to_error::deserialize(value).map_err(|e| SampleError {
            what: "invoice",
            path: e.path().to_string(),
            message: e.inner().to_string(),
        })?;
        Ok(Self::Invoice {
            invoice: i.invoice,
            ticket: i.ticket,
        })
    }
}
