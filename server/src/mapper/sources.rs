//! From what the clients read to what a mapping reads: the Workday model and the Zendesk ticket become the
//! mapper's input records ([`super::input`]), with the vocabulary the plugin contract documents
//! (`mapper-wasm/wit/mapper.wit`): supplier status `Active` / `Inactive` / as sent, invoice payment status
//! `Paid` / `Partially Paid` / `Unpaid` / `Overdue` (the invoice's [`InvoicePosition`]: its payments, credit
//! memos and due date), payment status `Complete` / `Pending` / `Canceled` / `Voided` / `Failed`, amounts as
//! decimal strings.
//!
//! Nothing here depends on a reference's `Descriptor` (Workday sends descriptors only when asked): names come
//! from the records themselves (the supplier's `Supplier_Name`), and a descriptor is used only where no data
//! field carries the value, with the reference's ID as the fallback.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::input::{Invoice, Money, Payment, PurchaseOrder, Supplier, TicketContext};
use crate::payables::{InvoicePosition, PaymentStatus, settlements};
use crate::workday::model::{self as wd, DocumentStatus, PaymentState, SupplierStatus};
use crate::zendesk::tickets::Ticket;

impl Supplier {
    /// The mapper's view of a Workday supplier; `today` picks the address in effect.
    pub fn from_workday(s: &wd::Supplier, today: NaiveDate) -> Self {
        let mut extra = BTreeMap::new();
        if let Some(r) = &s.reference_id {
            extra.insert("Supplier_Reference_ID".to_string(), r.clone());
        }
        if let Some(web) = s.contacts.websites.first() {
            extra.insert("Web_Address".to_string(), web.clone());
        }
        Supplier {
            id: s.supplier_id.clone(),
            reference_id: s.wid.clone().unwrap_or_default(),
            name: s.name.clone(),
            status: supplier_status(&s.status),
            category: s
                .category
                .as_ref()
                .and_then(|c| c.descriptor.clone().or_else(|| c.id.clone())),
            tax_id: s.tax_id.clone(),
            payment_terms: s.payment_terms.clone(),
            currency: s.currency.clone(),
            email: s.contacts.emails.first().cloned(),
            phone: s.contacts.phones.first().cloned(),
            address: s.contacts.current_address(today).and_then(one_line_address),
            extra,
        }
    }
}

impl From<&wd::PurchaseOrder> for PurchaseOrder {
    fn from(po: &wd::PurchaseOrder) -> Self {
        PurchaseOrder {
            number: po.document_number.clone().unwrap_or_default(),
            reference_id: po.wid.clone().unwrap_or_default(),
            status: document_status(&po.status),
            order_date: po.document_date.map(|d| d.to_string()),
            total: money(
                po.total_amount.unwrap_or(Decimal::ZERO),
                po.currency.as_deref(),
            ),
            buyer: po.buyer.as_ref().and_then(|b| b.best().map(str::to_string)),
        }
    }
}

/// What an invoice is mapped from: the invoice and the records around it. Only the invoice is required; the
/// others are the supplier's lists as read (records about other invoices are ignored).
#[derive(Debug, Clone, Copy)]
pub struct InvoiceSources<'a> {
    /// The invoice.
    pub invoice: &'a wd::SupplierInvoice,
    /// Its supplier (for the name: an invoice's `Supplier_Reference` carries only IDs unless descriptors were
    /// asked for).
    pub supplier: Option<&'a wd::Supplier>,
    /// Adjustments (credit and debit memos) of its supplier.
    pub adjustments: &'a [wd::SupplierInvoiceAdjustment],
    /// Payments to its supplier.
    pub payments: &'a [wd::Payment],
    /// Its purchase order.
    pub purchase_order: Option<&'a wd::PurchaseOrder>,
}

impl<'a> InvoiceSources<'a> {
    /// The invoice alone.
    pub fn of(invoice: &'a wd::SupplierInvoice) -> Self {
        Self {
            invoice,
            supplier: None,
            adjustments: &[],
            payments: &[],
            purchase_order: None,
        }
    }

    /// With its supplier.
    pub fn supplier(mut self, supplier: &'a wd::Supplier) -> Self {
        self.supplier = Some(supplier);
        self
    }

    /// With the adjustments at hand.
    pub fn adjustments(mut self, adjustments: &'a [wd::SupplierInvoiceAdjustment]) -> Self {
        self.adjustments = adjustments;
        self
    }

    /// With the payments at hand.
    pub fn payments(mut self, payments: &'a [wd::Payment]) -> Self {
        self.payments = payments;
        self
    }

    /// With its purchase order.
    pub fn purchase_order(mut self, po: &'a wd::PurchaseOrder) -> Self {
        self.purchase_order = Some(po);
        self
    }
}

impl Invoice {
    /// The mapper's view of a Workday invoice: its position on `today` (payments, credit and debit memos, due
    /// date), the payments that settle it, and its purchase order when known.
    pub fn from_workday(sources: &InvoiceSources<'_>, today: NaiveDate) -> Self {
        let invoice = sources.invoice;
        let position = InvoicePosition::of(invoice, sources.adjustments, sources.payments, today);
        let currency = invoice.currency.as_deref();
        let mut settling: Vec<Payment> = settlements(invoice, sources.payments)
            .map(|s| payment(s.payment, s.line.amount_paid, currency))
            .collect();
        settling.sort_by(|a, b| a.payment_date.cmp(&b.payment_date));
        let mut extra = BTreeMap::new();
        let mut put = |k: &str, v: Option<String>| {
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                extra.insert(k.to_string(), v);
            }
        };
        put("Invoice_Number", invoice.invoice_number.clone());
        put(
            "Suppliers_Invoice_Number",
            invoice.supplier_invoice_number.clone(),
        );
        put(
            "Company",
            invoice
                .company
                .as_ref()
                .and_then(|c| c.best().map(str::to_string)),
        );
        put("Payment_Terms", invoice.payment_terms.clone());
        put("Tax_Amount", invoice.tax_amount.map(|t| t.to_string()));
        put("Amount_Paid", Some(position.paid.normalize().to_string()));
        if !position.credits.is_zero() {
            put(
                "Amount_Credited",
                Some(position.credits.normalize().to_string()),
            );
        }
        if let Some(days) = position.days_overdue {
            put("Days_Overdue", Some(days.to_string()));
        }
        if invoice.on_hold {
            put("On_Hold", Some("true".into()));
        }
        let number = invoice
            .supplier_invoice_number
            .clone()
            .or_else(|| invoice.invoice_number.clone())
            .or_else(|| invoice.reference_id.clone())
            .unwrap_or_default();
        let supplier_name = sources
            .supplier
            .map(|s| s.name.clone())
            .filter(|n| !n.is_empty())
            .or_else(|| invoice.supplier.descriptor.clone())
            .unwrap_or_default();
        Invoice {
            number,
            reference_id: invoice
                .reference_id
                .clone()
                .or_else(|| invoice.wid.clone())
                .unwrap_or_default(),
            supplier_id: invoice
                .supplier
                .id
                .clone()
                .or_else(|| sources.supplier.map(|s| s.supplier_id.clone()))
                .or_else(|| invoice.supplier.wid.clone())
                .unwrap_or_default(),
            supplier_name,
            status: document_status(&invoice.document_status),
            payment_status: invoice_payment_status(position.status).to_string(),
            invoice_date: invoice.invoice_date.map(|d| d.to_string()),
            due_date: invoice.due_date.map(|d| d.to_string()),
            total: money(invoice.total(), currency),
            amount_due: position.due.normalize().to_string(),
            memo: invoice.memo.clone(),
            purchase_order: sources.purchase_order.map(PurchaseOrder::from),
            payments: settling,
            extra,
        }
    }
}

impl From<&Ticket> for TicketContext {
    fn from(t: &Ticket) -> Self {
        TicketContext {
            ticket_id: t.id,
            subject: t.subject.clone(),
            organization_id: t.organization_id,
            requester_email: None,
            tags: t.tags.clone(),
            brand_id: None,
        }
    }
}

fn payment(
    p: &wd::Payment,
    settled_amount: Option<Decimal>,
    fallback_currency: Option<&str>,
) -> Payment {
    Payment {
        reference_id: p
            .reference_id
            .clone()
            .or_else(|| p.wid.clone())
            .unwrap_or_default(),
        status: payment_state(&p.status),
        payment_date: p.payment_date.map(|d| d.to_string()),
        amount: money(
            settled_amount.or(p.amount).unwrap_or(Decimal::ZERO),
            p.currency.as_deref().or(fallback_currency),
        ),
        method: p.payment_type.clone(),
        reference: p
            .reference_number
            .clone()
            .or_else(|| p.check_number.clone()),
    }
}

fn money(amount: Decimal, currency: Option<&str>) -> Money {
    Money {
        amount: amount.normalize().to_string(),
        currency: currency.unwrap_or_default().to_string(),
    }
}

fn one_line_address(a: &wd::Address) -> Option<String> {
    let text = match &a.formatted {
        Some(f) => f
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(", "),
        None => a
            .lines
            .iter()
            .cloned()
            .chain(a.postal_code.clone())
            .chain(a.city.clone())
            .chain(a.region.clone())
            .chain(a.country.clone())
            .filter(|p| !p.trim().is_empty())
            .collect::<Vec<_>>()
            .join(", "),
    };
    (!text.is_empty()).then_some(text)
}

fn supplier_status(s: &SupplierStatus) -> String {
    match s {
        SupplierStatus::Active => "Active".into(),
        SupplierStatus::Inactive => "Inactive".into(),
        SupplierStatus::Other(v) => title_case(v),
        SupplierStatus::Unknown => String::new(),
    }
}

fn document_status(s: &DocumentStatus) -> String {
    match s {
        DocumentStatus::Draft => "Draft".into(),
        DocumentStatus::InProgress => "In Progress".into(),
        DocumentStatus::Approved => "Approved".into(),
        DocumentStatus::Canceled => "Canceled".into(),
        DocumentStatus::Denied => "Denied".into(),
        DocumentStatus::Closed => "Closed".into(),
        DocumentStatus::Issued => "Issued".into(),
        DocumentStatus::Other(v) => title_case(v),
        DocumentStatus::Unknown => String::new(),
    }
}

fn payment_state(s: &PaymentState) -> String {
    match s {
        PaymentState::Paid => "Complete".into(),
        PaymentState::InProgress => "Pending".into(),
        PaymentState::Canceled => "Canceled".into(),
        PaymentState::Voided => "Voided".into(),
        PaymentState::Failed => "Failed".into(),
        PaymentState::Other(v) => title_case(v),
        PaymentState::Unknown => String::new(),
    }
}

fn invoice_payment_status(s: PaymentStatus) -> &'static str {
    match s {
        PaymentStatus::Paid => "Paid",
        PaymentStatus::PartiallyPaid => "Partially Paid",
        PaymentStatus::Unpaid => "Unpaid",
        PaymentStatus::Overdue => "Overdue",
    }
}

/// `ON_HOLD` → `On Hold`; values that already carry lower case are kept as sent.
fn title_case(v: &str) -> String {
    let v = v.trim();
    if v.chars().any(|c| c.is_lowercase()) {
        return v.to_string();
    }
    v.split(['_', ' '])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let lower = w.to_lowercase();
            let mut chars = lower.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workday::model::{Contacts, ObjectRef, SettledDocument};

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn invoice() -> wd::SupplierInvoice {
        wd::SupplierInvoice {
            wid: Some("wid-inv".into()),
            reference_id: Some("SUPPLIER_INVOICE-3-77".into()),
            invoice_number: Some("SI-0077".into()),
            supplier_invoice_number: Some("INV-88213".into()),
            supplier: ObjectRef {
                wid: None,
                id: Some("SUP-000123".into()),
                descriptor: Some("Globex".into()),
            },
            currency: Some("EUR".into()),
            invoice_date: Some(date("2026-10-01")),
            due_date: Some(date("2026-10-31")),
            gross_amount: Some(dec("12450.00")),
            po_number: Some("PO-2024-0042".into()),
            document_status: DocumentStatus::Approved,
            ..Default::default()
        }
    }

    fn paid(amount: &str, on: &str, status: PaymentState) -> wd::Payment {
        wd::Payment {
            reference_id: Some(format!("PAY-{on}")),
            status,
            payment_date: Some(date(on)),
            amount: Some(dec(amount)),
            currency: Some("EUR".into()),
            payment_type: Some("Wire".into()),
            payee: ObjectRef {
                id: Some("SUP-000123".into()),
                ..Default::default()
            },
            settled: vec![SettledDocument {
                document_id: Some("SUPPLIER_INVOICE-3-77".into()),
                amount_paid: Some(dec(amount)),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn invoice_payment_status_uses_the_contract_vocabulary() {
        let inv = invoice();
        let before_due = date("2026-10-15");
        let after_due = date("2026-11-15");
        let alone = InvoiceSources::of(&inv);
        assert_eq!(
            Invoice::from_workday(&alone, before_due).payment_status,
            "Unpaid"
        );
        let overdue = Invoice::from_workday(&alone, after_due);
        assert_eq!(overdue.payment_status, "Overdue");
        assert_eq!(overdue.extra["Days_Overdue"], "15");
        let part = [
            paid("8000.00", "2026-10-20", PaymentState::Paid),
            paid("4450.00", "2026-10-10", PaymentState::Canceled),
        ];
        let mapped = Invoice::from_workday(
            &InvoiceSources::of(&inv).payments(&part),
            date("2026-10-25"),
        );
        assert_eq!(mapped.payment_status, "Partially Paid");
        assert_eq!(mapped.amount_due, "4450");
        assert_eq!(
            mapped.total,
            Money {
                amount: "12450".into(),
                currency: "EUR".into()
            }
        );
        // Both settling payments are listed (oldest first), the canceled one with its status.
        assert_eq!(mapped.payments.len(), 2);
        assert_eq!(mapped.payments[0].status, "Canceled");
        assert_eq!(mapped.payments[1].status, "Complete");
        let full = [paid("12450.00", "2026-10-20", PaymentState::Paid)];
        assert_eq!(
            Invoice::from_workday(&InvoiceSources::of(&inv).payments(&full), after_due)
                .payment_status,
            "Paid"
        );
        assert_eq!(
            mapped.number, "INV-88213",
            "the supplier's own number is the one they quote"
        );
        assert_eq!(mapped.extra["Invoice_Number"], "SI-0077");
        assert_eq!(mapped.supplier_id, "SUP-000123");
        assert_eq!(mapped.status, "Approved");
    }

    #[test]
    fn a_credit_memo_reduces_the_amount_due_and_names_come_from_records_not_descriptors() {
        let mut inv = invoice();
        // As Workday answers without Include_Reference_Descriptors_In_Response: IDs only.
        inv.supplier.descriptor = None;
        let supplier = wd::Supplier {
            supplier_id: "SUP-000123".into(),
            name: "Globex Corporation".into(),
            ..Default::default()
        };
        let credit = wd::SupplierInvoiceAdjustment {
            reference_id: Some("SUPPLIER_INVOICE_ADJUSTMENT-3-4".into()),
            supplier: inv.supplier.clone(),
            adjustment_date: Some(date("2026-10-05")),
            control_amount: Some(dec("2450.00")),
            original_invoice: Some(ObjectRef {
                id: Some("SUPPLIER_INVOICE-3-77".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let credits = [credit];
        let sources = InvoiceSources::of(&inv)
            .supplier(&supplier)
            .adjustments(&credits);
        let mapped = Invoice::from_workday(&sources, date("2026-10-15"));
        assert_eq!(mapped.amount_due, "10000");
        assert_eq!(mapped.total.amount, "12450");
        assert_eq!(mapped.payment_status, "Unpaid");
        assert_eq!(mapped.extra["Amount_Credited"], "2450");
        assert_eq!(mapped.supplier_name, "Globex Corporation");
        // Without the supplier record and without descriptors, the name is unknown, not made up.
        assert_eq!(
            Invoice::from_workday(&InvoiceSources::of(&inv), date("2026-10-15")).supplier_name,
            ""
        );
        let paid = [paid("10000.00", "2026-10-20", PaymentState::Paid)];
        let settled = Invoice::from_workday(&sources.payments(&paid), date("2026-11-15"));
        assert_eq!(
            (settled.payment_status.as_str(), settled.amount_due.as_str()),
            ("Paid", "0")
        );
    }

    #[test]
    fn supplier_and_purchase_order_convert() {
        let s = wd::Supplier {
            supplier_id: "SUP-1".into(),
            name: "Acme".into(),
            status: SupplierStatus::Other("ON_HOLD".into()),
            contacts: Contacts {
                addresses: vec![wd::Address {
                    formatted: Some("Industriestr. 5\n10115 Berlin\nDE".into()),
                    ..Default::default()
                }],
                emails: vec!["ar@acme.example".into()],
                ..Default::default()
            },
            ..Default::default()
        };
        let m = Supplier::from_workday(&s, date("2024-06-15"));
        assert_eq!(m.status, "On Hold");
        assert_eq!(
            m.address.as_deref(),
            Some("Industriestr. 5, 10115 Berlin, DE")
        );
        assert_eq!(m.email.as_deref(), Some("ar@acme.example"));
        assert_eq!(supplier_status(&SupplierStatus::Active), "Active");

        let po = wd::PurchaseOrder {
            document_number: Some("PO-7".into()),
            status: DocumentStatus::Issued,
            total_amount: Some(dec("100.50")),
            currency: Some("USD".into()),
            buyer: Some(ObjectRef {
                descriptor: Some("Procurement".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let m = PurchaseOrder::from(&po);
        assert_eq!((m.number.as_str(), m.status.as_str()), ("PO-7", "Issued"));
        assert_eq!(m.total.amount, "100.5");
        assert_eq!(m.buyer.as_deref(), Some("Procurement"));
    }
}
