//! One invoice, fresh from Workday, with everything its position depends on.
//!
//! Four reads at most: the invoice by reference ID or WID (`Get_Supplier_Invoices`); its supplier's adjustments
//! (`Get_Supplier_Invoice_Adjustments`: a credit memo names the invoice it reduces); the payments to the supplier
//! dated on or after the invoice date (`Get_Payments`: a remittance line names the invoice it settles); and the
//! purchase order named on the invoice (`Get_Purchase_Orders` by `Document_Number`). The position is
//! [`InvoicePosition::of`], the same rule the index uses.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use futures::TryStreamExt as _;
use rust_decimal::Decimal;

use crate::mapper::Invoice as MappedInvoice;
use crate::mapper::input::{Money, Payment as MappedPayment, PurchaseOrder as MappedPo};
use crate::payables::{InvoicePosition, PaymentStatus, adjusts, settlements};
use crate::workday::model::{
    Payment, PurchaseOrder, SupplierInvoice, SupplierInvoiceAdjustment, WorkdaySource,
};
use crate::workday::request::{PaymentCriteria, PaymentQuery};
use crate::workday::{WorkdayClient, WorkdayError};

/// An invoice with what settles it, as Workday says on `as_of`.
#[derive(Debug, Clone)]
pub struct InvoiceDetails {
    /// The invoice.
    pub invoice: SupplierInvoice,
    /// The credit and debit memos that name it.
    pub adjustments: Vec<SupplierInvoiceAdjustment>,
    /// The payments with a remittance line that settles it, oldest first.
    pub payments: Vec<Payment>,
    /// The purchase order it names, when Workday has one by that number.
    pub purchase_order: Option<PurchaseOrder>,
    /// Amount, credits, paid, due and payment status on `as_of`'s date.
    pub position: InvoicePosition,
    /// When Workday answered (the invoice read's as-of time).
    pub as_of: DateTime<Utc>,
    /// Where the invoice was read (service, operation, version), for the audit trail.
    pub source: Arc<WorkdaySource>,
}

/// Reads invoice `key` (a `Supplier_Invoice_Reference_ID` or a WID) and what settles it; `None` when Workday
/// has no such invoice.
pub async fn fetch_invoice(
    workday: &WorkdayClient,
    key: &str,
) -> Result<Option<InvoiceDetails>, WorkdayError> {
    let Some(read) = workday.invoice(key).await? else {
        return Ok(None);
    };
    let invoice = read.record;
    let source = read.source;
    let as_of = source.as_of;
    let today = as_of.date_naive();
    let (mut adjustments, mut payments) = (Vec::new(), Vec::new());
    if let Some(supplier) = invoice.supplier.id.clone() {
        adjustments = workday
            .adjustments_of_supplier(&supplier)
            .map_ok(|a| a.record)
            .try_filter(|a| std::future::ready(adjusts(a, &invoice)))
            .try_collect()
            .await?;
        payments = workday
            .payments(PaymentQuery::Criteria(PaymentCriteria {
                payee_supplier_ids: vec![supplier],
                payment_date_from: invoice.invoice_date,
                ..Default::default()
            }))
            .map_ok(|p| p.record)
            .try_collect()
            .await?;
    }
    let position = InvoicePosition::of(&invoice, &adjustments, &payments, today);
    // Keep only the payments about this invoice (the position above saw them all: a payment that used a
    // credit memo decides whether the memo still counts).
    payments.retain(|p| {
        settlements(&invoice, std::slice::from_ref(p))
            .next()
            .is_some()
    });
    payments.sort_by_key(|p| p.payment_date);
    let purchase_order = match invoice.po_number.as_deref().map(str::trim) {
        Some(po) if !po.is_empty() => workday.purchase_order(po).await?.map(|r| r.record),
        _ => None,
    };
    Ok(Some(InvoiceDetails {
        invoice,
        adjustments,
        payments,
        purchase_order,
        position,
        as_of,
        source,
    }))
}

/// A decimal as the mapper and the API show it: no float, no trailing zeros beyond the value's own scale.
fn decimal(d: Decimal) -> String {
    d.normalize().to_string()
}

fn date(d: Option<NaiveDate>) -> Option<String> {
    d.map(|d| d.to_string())
}

/// The payment status as the mapper's sources name it (`Paid`, `Partially Paid`, `Unpaid`, `Overdue`).
pub fn status_title(status: PaymentStatus) -> &'static str {
    match status {
        PaymentStatus::Paid => "Paid",
        PaymentStatus::PartiallyPaid => "Partially Paid",
        PaymentStatus::Unpaid => "Unpaid",
        PaymentStatus::Overdue => "Overdue",
    }
}

impl InvoiceDetails {
    /// The number the supplier quotes (their own invoice number), else Workday's.
    pub fn number(&self) -> String {
        self.invoice
            .supplier_invoice_number
            .clone()
            .or_else(|| self.invoice.invoice_number.clone())
            .unwrap_or_default()
    }

    /// The invoice in the mapper's model (what declarative rules and plugins read). `supplier_name` is used
    /// when Workday sent no descriptor for the invoice's supplier.
    pub fn to_mapper(&self, supplier_name: Option<&str>) -> MappedInvoice {
        let i = &self.invoice;
        let p = &self.position;
        let currency = i.currency.clone().unwrap_or_default();
        let payments = self
            .payments
            .iter()
            .map(|pay| {
                let on_this: Decimal = settlements(i, std::slice::from_ref(pay))
                    .filter_map(|s| s.line.amount_paid)
                    .sum();
                MappedPayment {
                    reference_id: pay
                        .reference_id
                        .clone()
                        .or_else(|| pay.wid.clone())
                        .unwrap_or_default(),
                    status: String::from(pay.status.clone()),
                    payment_date: date(pay.payment_date),
                    amount: Money {
                        amount: decimal(on_this),
                        currency: pay.currency.clone().unwrap_or_else(|| currency.clone()),
                    },
                    method: pay.payment_type.clone(),
                    reference: pay
                        .check_number
                        .clone()
                        .or_else(|| pay.reference_number.clone()),
                }
            })
            .collect();
        let purchase_order = self.purchase_order.as_ref().map(|po| MappedPo {
            number: po.document_number.clone().unwrap_or_default(),
            reference_id: po.wid.clone().unwrap_or_default(),
            status: String::from(po.status.clone()),
            order_date: date(po.document_date),
            total: Money {
                amount: decimal(po.total_amount.unwrap_or_default()),
                currency: po.currency.clone().unwrap_or_else(|| currency.clone()),
            },
            buyer: None,
        });
        // Without the PO record (not found, or not readable), the number on the invoice still maps.
        let purchase_order = purchase_order.or_else(|| {
            i.po_number.as_ref().map(|n| MappedPo {
                number: n.clone(),
                reference_id: String::new(),
                status: String::new(),
                order_date: None,
                total: Money {
                    amount: "0".into(),
                    currency: currency.clone(),
                },
                buyer: None,
            })
        });
        let mut extra = std::collections::BTreeMap::new();
        if let Some(n) = &i.invoice_number {
            extra.insert("workday_invoice_number".into(), n.clone());
        }
        extra.insert("credits".into(), decimal(p.credits));
        extra.insert("debits".into(), decimal(p.debits));
        extra.insert("paid".into(), decimal(p.paid));
        if let Some(days) = p.days_overdue {
            extra.insert("days_overdue".into(), days.to_string());
        }
        MappedInvoice {
            number: self.number(),
            reference_id: i
                .reference_id
                .clone()
                .or_else(|| i.wid.clone())
                .unwrap_or_default(),
            supplier_id: i.supplier.id.clone().unwrap_or_default(),
            supplier_name: i
                .supplier
                .descriptor
                .clone()
                .or_else(|| supplier_name.map(str::to_string))
                .unwrap_or_default(),
            status: String::from(i.document_status.clone()),
            payment_status: status_title(p.status).to_string(),
            invoice_date: date(i.invoice_date),
            due_date: date(i.due_date),
            total: Money {
                amount: decimal(p.amount),
                currency,
            },
            amount_due: decimal(p.due),
            memo: i.memo.clone(),
            purchase_order,
            payments,
            extra,
        }
    }
}
