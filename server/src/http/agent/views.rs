//! The agent API's objects (docs/api.md "Objects"): money as decimal strings next to its currency, dates as
//! `YYYY-MM-DD`, every object read from Workday with `as_of` and `stale`.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use crate::lookup::InvoiceDetails;
use crate::payables::{PaymentStatus, settlements};
use crate::store::{IndexedInvoice, IndexedSupplier, SupplierTotals};
use crate::workday::model::Supplier;

/// `paid`, `partially_paid`, `unpaid`, `overdue`.
pub fn status_code(status: PaymentStatus) -> &'static str {
    match status {
        PaymentStatus::Paid => "paid",
        PaymentStatus::PartiallyPaid => "partially_paid",
        PaymentStatus::Unpaid => "unpaid",
        PaymentStatus::Overdue => "overdue",
    }
}

fn money(d: Decimal) -> String {
    // Two places at least, as money is shown; never a float.
    let mut d = d;
    if d.scale() < 2 {
        d.rescale(2);
    }
    d.to_string()
}

fn instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn date(d: Option<NaiveDate>) -> Option<String> {
    d.map(|d| d.to_string())
}

/// A supplier named on an invoice.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SupplierRef {
    /// `Supplier_ID`.
    pub supplier_id: Option<String>,
    /// Name.
    pub name: Option<String>,
}

/// An invoice's purchase order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PurchaseOrderView {
    /// PO number.
    pub number: Option<String>,
    /// Document status, lower case.
    pub status: String,
    /// Total (decimal string).
    pub total: Option<String>,
    /// ISO 4217.
    pub currency: Option<String>,
    /// Order date.
    pub date: Option<String>,
}

/// A payment that settles (part of) the invoice.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaymentView {
    /// Payment reference.
    pub reference: Option<String>,
    /// Payment date.
    pub date: Option<String>,
    /// Amount applied to this invoice (decimal string).
    pub amount: String,
    /// ISO 4217.
    pub currency: Option<String>,
    /// `paid`, `pending`, ... (lower case).
    pub status: String,
    /// Payment type (`ACH`, `Check`, ...).
    pub method: Option<String>,
}

/// A credit or debit memo of the invoice.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AdjustmentView {
    /// Reference ID (or WID).
    pub reference: Option<String>,
    /// Memo number.
    pub number: Option<String>,
    /// Adjustment date.
    pub date: Option<String>,
    /// Signed effect on the amount due: negative for a credit.
    pub amount: String,
    /// Memo.
    pub memo: Option<String>,
}

/// `Invoice` of docs/api.md.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InvoiceView {
    /// `Supplier_Invoice_ID` (or WID).
    pub reference_id: String,
    /// The supplier's own number (what a supplier quotes).
    pub invoice_number: Option<String>,
    /// Workday's `Invoice_Number`.
    pub workday_invoice_number: Option<String>,
    /// The supplier.
    pub supplier: SupplierRef,
    /// ISO 4217.
    pub currency: Option<String>,
    /// Invoice total.
    pub amount: String,
    /// Credit memos, as a positive amount.
    pub credits: String,
    /// Paid so far.
    pub amount_paid: String,
    /// Still due.
    pub amount_due: String,
    /// Invoice date.
    pub invoice_date: Option<String>,
    /// Due date.
    pub due_date: Option<String>,
    /// `paid`, `partially_paid`, `unpaid`, `overdue`.
    pub payment_status: String,
    /// Days past due, when overdue.
    pub days_overdue: Option<i64>,
    /// Workday document status, lower case.
    pub document_status: String,
    /// On hold in Workday.
    pub on_hold: bool,
    /// PO number.
    pub po_number: Option<String>,
    /// The PO, when it could be read.
    pub purchase_order: Option<PurchaseOrderView>,
    /// Payments that settle it, oldest first (empty in search results, which come from the index).
    pub payments: Vec<PaymentView>,
    /// Its credit and debit memos (empty in search results).
    pub adjustments: Vec<AdjustmentView>,
    /// When Workday said so.
    pub as_of: String,
    /// Whether this is a cached value shown because Workday could not be reached.
    pub stale: bool,
    /// Why it is stale.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stale_reason: Option<String>,
}

impl InvoiceView {
    /// The view of an invoice read from Workday.
    pub fn of(d: &InvoiceDetails, supplier_name: Option<String>, stale: Option<String>) -> Self {
        let i = &d.invoice;
        let p = &d.position;
        let payments = d
            .payments
            .iter()
            .map(|pay| {
                let on_this: Decimal = settlements(i, std::slice::from_ref(pay))
                    .filter_map(|s| s.line.amount_paid)
                    .sum();
                PaymentView {
                    reference: pay
                        .reference_number
                        .clone()
                        .or_else(|| pay.reference_id.clone())
                        .or_else(|| pay.wid.clone()),
                    date: date(pay.payment_date),
                    amount: money(on_this),
                    currency: pay.currency.clone().or_else(|| i.currency.clone()),
                    status: String::from(pay.status.clone()).to_lowercase(),
                    method: pay.payment_type.clone(),
                }
            })
            .collect();
        let adjustments = d
            .adjustments
            .iter()
            .map(|a| {
                let magnitude = a.magnitude();
                AdjustmentView {
                    reference: a.reference_id.clone().or_else(|| a.wid.clone()),
                    number: a.adjustment_number.clone(),
                    date: date(a.adjustment_date),
                    amount: money(if a.increases_liability {
                        magnitude
                    } else {
                        -magnitude
                    }),
                    memo: a.memo.clone(),
                }
            })
            .collect();
        Self {
            reference_id: i
                .reference_id
                .clone()
                .or_else(|| i.wid.clone())
                .unwrap_or_default(),
            invoice_number: i.supplier_invoice_number.clone(),
            workday_invoice_number: i.invoice_number.clone(),
            supplier: SupplierRef {
                supplier_id: i.supplier.id.clone(),
                name: supplier_name.or_else(|| i.supplier.descriptor.clone()),
            },
            currency: p.currency.clone().or_else(|| i.currency.clone()),
            amount: money(p.amount),
            credits: money(p.credits),
            amount_paid: money(p.paid),
            amount_due: money(p.due),
            invoice_date: date(i.invoice_date),
            due_date: date(i.due_date),
            payment_status: status_code(p.status).to_string(),
            days_overdue: p.days_overdue.map(i64::from),
            document_status: String::from(i.document_status.clone()).to_lowercase(),
            on_hold: i.on_hold,
            po_number: i.po_number.clone(),
            purchase_order: d.purchase_order.as_ref().map(|po| PurchaseOrderView {
                number: po.document_number.clone(),
                status: String::from(po.status.clone()).to_lowercase(),
                total: po.total_amount.or_else(|| po.derived_total()).map(money),
                currency: po.currency.clone(),
                date: date(po.document_date),
            }),
            payments,
            adjustments,
            as_of: instant(d.as_of),
            stale: stale.is_some(),
            stale_reason: stale,
        }
    }

    /// The view of an indexed invoice (search results): the position the last sync computed, no payments.
    pub fn of_index(i: &IndexedInvoice, supplier_name: Option<String>) -> Self {
        let dec = |s: &str| {
            s.parse::<Decimal>()
                .map(money)
                .unwrap_or_else(|_| s.to_string())
        };
        Self {
            reference_id: i.invoice_key.clone(),
            invoice_number: i.supplier_invoice_number.clone(),
            workday_invoice_number: i.invoice_number.clone(),
            supplier: SupplierRef {
                supplier_id: Some(i.supplier_id.clone()),
                name: supplier_name,
            },
            currency: i.currency.clone(),
            amount: dec(&i.amount),
            credits: dec(&i.credits),
            amount_paid: dec(&i.paid),
            amount_due: dec(&i.due),
            invoice_date: i.invoice_date.clone(),
            due_date: i.due_date.clone(),
            payment_status: i.payment_status.clone(),
            days_overdue: i.days_overdue,
            document_status: i.document_status.to_lowercase(),
            on_hold: false,
            po_number: i.po_number.clone(),
            purchase_order: None,
            payments: Vec::new(),
            adjustments: Vec::new(),
            as_of: DateTime::from_timestamp_millis(i.updated_at)
                .map(instant)
                .unwrap_or_default(),
            stale: false,
            stale_reason: None,
        }
    }
}

/// A supplier's contact details.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ContactView {
    /// First e-mail.
    pub email: Option<String>,
    /// First phone.
    pub phone: Option<String>,
    /// The address in effect, one line per part.
    pub address: Option<String>,
}

/// What a supplier owes in one currency.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TotalsView {
    /// ISO 4217.
    pub currency: String,
    /// Sum due on open invoices.
    pub open_amount: String,
    /// Sum due on overdue invoices.
    pub overdue_amount: String,
    /// Open invoices.
    pub open_invoices: i64,
    /// Overdue invoices.
    pub overdue_invoices: i64,
}

/// `Supplier` of docs/api.md.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SupplierView {
    /// `Supplier_ID`.
    pub supplier_id: String,
    /// Name.
    pub name: String,
    /// `active`, `inactive`, ... (lower case).
    pub status: String,
    /// Category.
    pub category: Option<String>,
    /// Payment terms.
    pub payment_terms: Option<String>,
    /// Default currency.
    pub currency: Option<String>,
    /// Contact.
    pub contact: ContactView,
    /// Per currency of its open invoices (from the index).
    pub totals: Vec<TotalsView>,
    /// The Zendesk organization the sync links it to.
    pub zendesk_organization_id: Option<i64>,
    /// When Workday said so.
    pub as_of: String,
    /// Whether this is a cached value shown because Workday could not be reached.
    pub stale: bool,
    /// Why it is stale.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stale_reason: Option<String>,
}

impl SupplierView {
    /// The view of a supplier read from Workday, with the index's totals and organization link.
    pub fn of(
        s: &Supplier,
        as_of: DateTime<Utc>,
        totals: &[SupplierTotals],
        indexed: Option<&IndexedSupplier>,
        stale: Option<String>,
    ) -> Self {
        let today = as_of.date_naive();
        let address = s.contacts.current_address(today).map(|a| {
            a.formatted.clone().unwrap_or_else(|| {
                let mut parts = a.lines.clone();
                let city = [a.postal_code.clone(), a.city.clone(), a.region.clone()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                if !city.is_empty() {
                    parts.push(city);
                }
                parts.extend(a.country.clone());
                parts.join("\n")
            })
        });
        let dec = |s: &str| {
            s.parse::<Decimal>()
                .map(money)
                .unwrap_or_else(|_| s.to_string())
        };
        Self {
            supplier_id: s.supplier_id.clone(),
            name: s.name.clone(),
            status: String::from(s.status.clone()).to_lowercase(),
            category: s
                .category
                .as_ref()
                .and_then(|c| c.best().map(str::to_string)),
            payment_terms: s.payment_terms.clone(),
            currency: s.currency.clone(),
            contact: ContactView {
                email: s.contacts.emails.first().cloned(),
                phone: s.contacts.phones.first().cloned(),
                address,
            },
            totals: totals
                .iter()
                .map(|t| TotalsView {
                    currency: t.currency.clone(),
                    open_amount: dec(&t.open_amount),
                    overdue_amount: dec(&t.overdue_amount),
                    open_invoices: t.open_count,
                    overdue_invoices: t.overdue_count,
                })
                .collect(),
            zendesk_organization_id: indexed.and_then(|i| i.organization_id),
            as_of: instant(as_of),
            stale: stale.is_some(),
            stale_reason: stale,
        }
    }
}
