//! From what the clients read to what a mapping reads: the Workday model and the Zendesk ticket become the
//! mapper's input records ([`super::input`]), with the vocabulary the plugin contract documents
//! (`mapper-wasm/wit/mapper.wit`): supplier status `Active` / `Inactive` / as sent, invoice payment status
//! `Paid` / `Partially Paid` / `Unpaid` / `Overdue` (derived from payments and the due date), payment status
//! `Complete` / `Pending` / `Canceled` / `Voided` / `Failed`, amounts as decimal strings.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::input::{Invoice, Money, Payment, PurchaseOrder, Supplier, TicketContext};
use crate::workday::model::{
    self as wd, DocumentStatus, InvoicePaymentStatus, PaymentState, SupplierStatus,
};
use crate::zendesk::tickets::Ticket;

impl From<&wd::Supplier> for Supplier {
    fn from(s: &wd::Supplier) -> Self {
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
            address: s.contacts.addresses.first().and_then(one_line_address),
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

impl Invoice {
    /// The mapper's view of a Workday invoice, with the payments that settle it (others are ignored) and its
    /// purchase order when known. `today` decides whether an unpaid invoice is overdue.
    pub fn from_workday(
        invoice: &wd::SupplierInvoice,
        payments: &[wd::Payment],
        purchase_order: Option<&wd::PurchaseOrder>,
        today: NaiveDate,
    ) -> Self {
        let summary = invoice.payment_summary(payments, today);
        let currency = invoice.currency.as_deref();
        let mut settling: Vec<Payment> = payments
            .iter()
            .flat_map(|p| {
                p.settled
                    .iter()
                    .filter(|s| invoice.is_settled_by(s))
                    .map(move |s| payment(p, s.amount_paid, currency))
            })
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
        put(
            "Amount_Paid",
            Some(summary.amount_paid.normalize().to_string()),
        );
        if invoice.on_hold {
            put("On_Hold", Some("true".into()));
        }
        let number = invoice
            .supplier_invoice_number
            .clone()
            .or_else(|| invoice.invoice_number.clone())
            .or_else(|| invoice.reference_id.clone())
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
                .or_else(|| invoice.supplier.wid.clone())
                .unwrap_or_default(),
            supplier_name: invoice.supplier.descriptor.clone().unwrap_or_default(),
            status: document_status(&invoice.document_status),
            payment_status: invoice_payment_status(summary.status).to_string(),
            invoice_date: invoice.invoice_date.map(|d| d.to_string()),
            due_date: invoice.due_date.map(|d| d.to_string()),
            total: money(invoice.total(), currency),
            amount_due: summary.amount_due.normalize().to_string(),
            memo: invoice.memo.clone(),
            purchase_order: purchase_order.map(PurchaseOrder::from),
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

fn invoice_payment_status(s: InvoicePaymentStatus) -> &'static str {
    match s {
        InvoicePaymentStatus::Paid => "Paid",
        InvoicePaymentStatus::PartiallyPaid => "Partially Paid",
        InvoicePaymentStatus::Unpaid => "Unpaid",
        InvoicePaymentStatus::Overdue => "Overdue",
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
        let none: [wd::Payment; 0] = [];
        assert_eq!(
            Invoice::from_workday(&inv, &none, None, before_due).payment_status,
            "Unpaid"
        );
        assert_eq!(
            Invoice::from_workday(&inv, &none, None, after_due).payment_status,
            "Overdue"
        );
        let part = [
            paid("8000.00", "2026-10-20", PaymentState::Paid),
            paid("4450.00", "2026-10-10", PaymentState::Canceled),
        ];
        let mapped = Invoice::from_workday(&inv, &part, None, date("2026-10-25"));
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
            Invoice::from_workday(&inv, &full, None, after_due).payment_status,
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
        let m = Supplier::from(&s);
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
