//! Which payment lines and which adjustments belong to which invoice.
//!
//! A payment's remittance (`Remittance_Data/Document_Remittance_Data`) names each document it settles with a
//! `Document_Type`, a `Document_ID` and a `Document_Reference`. What those carry is not the same everywhere:
//! Workday's reference ID of the invoice (`Supplier_Invoice_Reference_ID`), its WID, Workday's invoice number,
//! or the number on the supplier's own invoice (what a remittance advice shows the supplier). Every one of them
//! is tried. Workday's IDs and numbers are unique in the tenant; the supplier's invoice number is unique only
//! for that supplier, so it counts only when the payment is not known to go to someone else.
//!
//! An adjustment names the invoice it adjusts in `Original_Invoice_Reference` (WID and reference ID); when that
//! is absent, `Original_Invoice_Supplier_Reference_Number` is compared with the supplier's invoice number.

use crate::workday::model::{
    ObjectRef, Payment, SettledDocument, SupplierInvoice, SupplierInvoiceAdjustment,
};

/// What a remittance line is about, from its `Document_Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    /// A supplier invoice.
    Invoice,
    /// A supplier invoice adjustment (credit or debit memo).
    Adjustment,
    /// Something else a payment can settle (an expense report, an ad hoc payment, ...).
    Other,
    /// No type was sent.
    Unknown,
}

impl DocumentKind {
    /// From a `Document_Type` such as `Supplier_Invoice` or `Supplier Invoice Adjustment`.
    pub fn of(line: &SettledDocument) -> Self {
        let Some(t) = line.document_type.as_deref().map(str::trim) else {
            return Self::Unknown;
        };
        let t = t.to_ascii_lowercase();
        if t.is_empty() {
            Self::Unknown
        } else if t.contains("adjustment") || t.contains("credit") || t.contains("debit") {
            Self::Adjustment
        } else if t.contains("invoice") {
            Self::Invoice
        } else {
            Self::Other
        }
    }
}

/// One remittance line of one payment that settles an invoice.
#[derive(Debug, Clone, Copy)]
pub struct Settlement<'a> {
    /// The payment.
    pub payment: &'a Payment,
    /// Its line about the invoice.
    pub line: &'a SettledDocument,
}

/// Every remittance line of `payments` that settles `invoice`, in the order given.
pub fn settlements<'a>(
    invoice: &'a SupplierInvoice,
    payments: &'a [Payment],
) -> impl Iterator<Item = Settlement<'a>> + 'a {
    payments.iter().flat_map(move |payment| {
        payment
            .settled
            .iter()
            .filter(move |line| settles_invoice(payment, line, invoice))
            .map(move |line| Settlement { payment, line })
    })
}

/// Whether `line`, one remittance line of `payment`, settles `invoice`.
pub fn settles_invoice(
    payment: &Payment,
    line: &SettledDocument,
    invoice: &SupplierInvoice,
) -> bool {
    if matches!(
        DocumentKind::of(line),
        DocumentKind::Adjustment | DocumentKind::Other
    ) || same_party(&payment.payee, &invoice.supplier) == Some(false)
    {
        return false;
    }
    names_document(
        line,
        [&invoice.reference_id, &invoice.wid, &invoice.invoice_number],
        &invoice.supplier_invoice_number,
    )
}

/// Whether `line`, one remittance line of `payment`, settles `adjustment` (a credit applied in a payment).
pub fn settles_adjustment(
    payment: &Payment,
    line: &SettledDocument,
    adjustment: &SupplierInvoiceAdjustment,
) -> bool {
    if matches!(
        DocumentKind::of(line),
        DocumentKind::Invoice | DocumentKind::Other
    ) || same_party(&payment.payee, &adjustment.supplier) == Some(false)
    {
        return false;
    }
    names_document(
        line,
        [
            &adjustment.reference_id,
            &adjustment.wid,
            &adjustment.adjustment_number,
        ],
        &adjustment.supplier_invoice_number,
    )
}

/// Whether `adjustment` adjusts `invoice`.
pub fn adjusts(adjustment: &SupplierInvoiceAdjustment, invoice: &SupplierInvoice) -> bool {
    if same_party(&adjustment.supplier, &invoice.supplier) == Some(false) {
        return false;
    }
    if let Some(original) = &adjustment.original_invoice {
        if same(&original.wid, &invoice.wid) || same(&original.id, &invoice.reference_id) {
            return true;
        }
        // The reference names an invoice by an ID this one has too, and it is another invoice.
        let comparable = (original.wid.is_some() && invoice.wid.is_some())
            || (original.id.is_some() && invoice.reference_id.is_some());
        if comparable {
            return false;
        }
    }
    same_number(
        &adjustment.original_invoice_supplier_number,
        &invoice.supplier_invoice_number,
    )
}

/// Whether the line's `Document_ID` or `Document_Reference` is one of Workday's `ids` for the document, or
/// the supplier's own number for it.
fn names_document(
    line: &SettledDocument,
    ids: [&Option<String>; 3],
    suppliers_number: &Option<String>,
) -> bool {
    let named = [&line.document_id, &line.document_reference];
    named
        .iter()
        .any(|n| ids.iter().any(|id| same(n, id)) || same_number(n, suppliers_number))
}

/// Equal IDs (surrounding spaces aside).
fn same(a: &Option<String>, b: &Option<String>) -> bool {
    match (a.as_deref().map(str::trim), b.as_deref().map(str::trim)) {
        (Some(a), Some(b)) => !a.is_empty() && a == b,
        _ => false,
    }
}

/// Equal document numbers as people type them: spaces around and letter case do not matter.
fn same_number(a: &Option<String>, b: &Option<String>) -> bool {
    match (a.as_deref().map(str::trim), b.as_deref().map(str::trim)) {
        (Some(a), Some(b)) => !a.is_empty() && a.eq_ignore_ascii_case(b),
        _ => false,
    }
}

/// Whether two references name the same party: `Some(true)` or `Some(false)` when an ID of the same kind is
/// on both sides (the WID first), `None` when that cannot be told.
fn same_party(a: &ObjectRef, b: &ObjectRef) -> Option<bool> {
    match ((&a.wid, &b.wid), (&a.id, &b.id)) {
        ((Some(x), Some(y)), _) | (_, (Some(x), Some(y))) => Some(x.trim() == y.trim()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn supplier(id: &str) -> ObjectRef {
        ObjectRef {
            id: Some(id.into()),
            ..Default::default()
        }
    }

    fn invoice() -> SupplierInvoice {
        SupplierInvoice {
            wid: Some("0e0000000000000000000000000000a1".into()),
            reference_id: Some("SUPPLIER_INVOICE-3-77".into()),
            invoice_number: Some("SINV-0000077".into()),
            supplier_invoice_number: Some("INV-88213".into()),
            supplier: supplier("S-000123"),
            ..Default::default()
        }
    }

    fn paid_to(payee: &str, id: Option<&str>, reference: Option<&str>) -> Payment {
        Payment {
            payee: supplier(payee),
            settled: vec![SettledDocument {
                document_type: Some("Supplier_Invoice".into()),
                document_id: id.map(Into::into),
                document_reference: reference.map(Into::into),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    fn settles(p: &Payment) -> bool {
        settles_invoice(p, &p.settled[0], &invoice())
    }

    #[test]
    fn every_identifier_a_remittance_may_carry_is_matched() {
        let us = "S-000123";
        // Workday's reference ID, WID or invoice number, in either field.
        assert!(settles(&paid_to(us, Some("SUPPLIER_INVOICE-3-77"), None)));
        assert!(settles(&paid_to(
            us,
            Some("0e0000000000000000000000000000a1"),
            None
        )));
        assert!(settles(&paid_to(us, None, Some("SINV-0000077"))));
        assert!(settles(&paid_to(us, Some("SINV-0000077"), None)));
        assert!(settles(&paid_to(us, None, Some(" SUPPLIER_INVOICE-3-77 "))));
        // The supplier's own invoice number, as typed.
        assert!(settles(&paid_to(us, None, Some("INV-88213"))));
        assert!(settles(&paid_to(us, None, Some("inv-88213 "))));
        assert!(settles(&paid_to(us, Some("INV-88213"), None)));
        // A payee that cannot be told (no ID on the payment) does not block it.
        let mut unknown = paid_to(us, None, Some("INV-88213"));
        unknown.payee = ObjectRef::default();
        assert!(settles(&unknown));
        // Nothing that names this invoice.
        assert!(!settles(&paid_to(
            us,
            Some("SUPPLIER_INVOICE-3-78"),
            Some("INV-1")
        )));
        assert!(!settles(&paid_to(us, None, None)));
    }

    #[test]
    fn a_payment_to_another_supplier_never_settles_the_invoice() {
        // Another supplier may well use the same invoice number.
        assert!(!settles(&paid_to("S-000999", None, Some("INV-88213"))));
        // Even Workday's own IDs do not cross suppliers.
        assert!(!settles(&paid_to(
            "S-000999",
            Some("SUPPLIER_INVOICE-3-77"),
            None
        )));
        // WIDs decide when both sides have them.
        let mut by_wid = paid_to("S-000123", None, Some("INV-88213"));
        by_wid.payee.wid = Some("w-other".into());
        let mut inv = invoice();
        inv.supplier.wid = Some("w-ours".into());
        assert!(!settles_invoice(&by_wid, &by_wid.settled[0], &inv));
    }

    #[test]
    fn lines_about_adjustments_or_other_documents_do_not_settle_invoices() {
        let mut p = paid_to("S-000123", Some("SUPPLIER_INVOICE-3-77"), None);
        for (t, kind) in [
            ("Supplier_Invoice_Adjustment", DocumentKind::Adjustment),
            ("Expense_Report", DocumentKind::Other),
        ] {
            p.settled[0].document_type = Some(t.into());
            assert_eq!(DocumentKind::of(&p.settled[0]), kind);
            assert!(!settles(&p), "{t}");
        }
        p.settled[0].document_type = None;
        assert_eq!(DocumentKind::of(&p.settled[0]), DocumentKind::Unknown);
        assert!(settles(&p));
        let inv = invoice();
        assert_eq!(settlements(&inv, std::slice::from_ref(&p)).count(), 1);
    }

    fn credit() -> SupplierInvoiceAdjustment {
        SupplierInvoiceAdjustment {
            wid: Some("0f00000000000000000000000000000b".into()),
            reference_id: Some("SUPPLIER_INVOICE_ADJUSTMENT-3-5".into()),
            adjustment_number: Some("SIA-0000005".into()),
            supplier_invoice_number: Some("CR-88213".into()),
            supplier: supplier("S-000123"),
            original_invoice: Some(ObjectRef {
                wid: Some("0e0000000000000000000000000000a1".into()),
                id: Some("SUPPLIER_INVOICE-3-77".into()),
                descriptor: None,
            }),
            ..Default::default()
        }
    }

    #[test]
    fn adjustments_link_to_their_original_invoice() {
        assert!(adjusts(&credit(), &invoice()));
        // By reference ID alone, or by WID alone.
        let mut by_id = credit();
        by_id.original_invoice.as_mut().unwrap().wid = None;
        assert!(adjusts(&by_id, &invoice()));
        let mut by_wid = credit();
        by_wid.original_invoice.as_mut().unwrap().id = None;
        assert!(adjusts(&by_wid, &invoice()));
        // Another invoice.
        let mut other = credit();
        other.original_invoice = Some(ObjectRef {
            id: Some("SUPPLIER_INVOICE-3-78".into()),
            ..Default::default()
        });
        other.original_invoice_supplier_number = Some("INV-88213".into());
        assert!(!adjusts(&other, &invoice()));
        // No reference: the original invoice's supplier number, for the same supplier.
        let mut by_number = credit();
        by_number.original_invoice = None;
        by_number.original_invoice_supplier_number = Some("inv-88213".into());
        assert!(adjusts(&by_number, &invoice()));
        by_number.supplier = supplier("S-000999");
        assert!(!adjusts(&by_number, &invoice()));
        let mut unlinked = credit();
        unlinked.original_invoice = None;
        assert!(!adjusts(&unlinked, &invoice()));
    }

    #[test]
    fn an_adjustment_is_settled_by_the_line_that_names_it() {
        let mut p = paid_to("S-000123", Some("SUPPLIER_INVOICE_ADJUSTMENT-3-5"), None);
        p.settled[0].document_type = Some("Supplier_Invoice_Adjustment".into());
        assert!(settles_adjustment(&p, &p.settled[0], &credit()));
        // A line typed as an invoice is about an invoice, whatever it names.
        p.settled[0].document_type = Some("Supplier_Invoice".into());
        assert!(!settles_adjustment(&p, &p.settled[0], &credit()));
        let by_number = paid_to("S-000123", None, Some("CR-88213"));
        let mut untyped = by_number.clone();
        untyped.settled[0].document_type = None;
        assert!(settles_adjustment(&untyped, &untyped.settled[0], &credit()));
    }
}
