//! An invoice's payment position as of a date: its amount, the credits and debits of its adjustments, what was
//! paid, what is still due, and the status that follows.
//!
//! The rules:
//! - A payment counts when money moved ([`PaymentState::counts_as_paid`]: not canceled, voided, failed or still
//!   in progress) and it is dated on or before the date asked about. What it paid on the invoice is the
//!   `Amount_Paid` of its remittance lines about that invoice ([`super::matching`]).
//! - An adjustment counts when it names the invoice, is dated on or before the date asked about, and is not a
//!   draft, in progress, canceled or denied. A credit memo lowers what is due, a debit memo
//!   (`Increase_Liability`) raises it, by the adjustment's size whatever sign it was sent with.
//! - An adjustment that a counted payment settles (it has its own remittance line) has been used up in that
//!   payment, netted against whatever invoices the payment settled; the invoice's own remittance line already
//!   says what was settled on it, so the adjustment is not counted a second time.
//! - Due = amount + debits − credits − paid. Nothing due: `paid`. Past the due date: `overdue` (even if part was
//!   paid). Otherwise `partially_paid` if anything was paid, else `unpaid`. A credit alone is not a payment.
//! - An invoice entered with a negative total (how some tenants record credits) is `paid` once nothing is owed
//!   back on it and is never overdue.

use std::fmt;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::matching::{adjusts, settlements, settles_adjustment};
use crate::workday::model::{DocumentStatus, Payment, SupplierInvoice, SupplierInvoiceAdjustment};

/// Where an invoice stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Nothing is due (paid in full, credited in full, or a zero invoice).
    Paid,
    /// Part paid, the rest not yet due.
    PartiallyPaid,
    /// Nothing paid, not yet due.
    Unpaid,
    /// Something is still due and the due date has passed.
    Overdue,
}

impl fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Paid => "paid",
            Self::PartiallyPaid => "partially paid",
            Self::Unpaid => "unpaid",
            Self::Overdue => "overdue",
        })
    }
}

/// The payment position of one invoice on one date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoicePosition {
    /// The date it was computed for.
    pub as_of: NaiveDate,
    /// The invoice's currency (`Currency_ID`), when sent.
    pub currency: Option<String>,
    /// The invoice's total ([`SupplierInvoice::total`]).
    pub amount: Decimal,
    /// Credit memos counted against it (zero or more).
    pub credits: Decimal,
    /// Debit memos counted on it (zero or more).
    pub debits: Decimal,
    /// What counted payments settled on it.
    pub paid: Decimal,
    /// What is left: amount + debits − credits − paid (negative when overpaid).
    pub due: Decimal,
    /// The status that follows.
    pub status: PaymentStatus,
    /// The invoice's due date, when known.
    pub due_date: Option<NaiveDate>,
    /// Days past the due date, when overdue.
    pub days_overdue: Option<u32>,
    /// Date of the latest counted payment.
    pub last_payment_date: Option<NaiveDate>,
}

impl InvoicePosition {
    /// The position of `invoice` on `as_of`, from the `adjustments` and `payments` at hand (those that are not
    /// about this invoice are ignored, so the supplier's whole lists can be passed).
    pub fn of(
        invoice: &SupplierInvoice,
        adjustments: &[SupplierInvoiceAdjustment],
        payments: &[Payment],
        as_of: NaiveDate,
    ) -> Self {
        let counts =
            |p: &Payment| p.status.counts_as_paid() && p.payment_date.is_none_or(|d| d <= as_of);
        let amount = invoice.total();
        let mut paid = Decimal::ZERO;
        let mut last_payment_date = None;
        for s in settlements(invoice, payments).filter(|s| counts(s.payment)) {
            paid += s.line.amount_paid.unwrap_or_default();
            last_payment_date = last_payment_date.max(s.payment.payment_date);
        }
        let (mut credits, mut debits) = (Decimal::ZERO, Decimal::ZERO);
        for adjustment in adjustments
            .iter()
            .filter(|a| in_force(a, as_of) && adjusts(a, invoice))
        {
            let used_in_a_payment = payments.iter().filter(|p| counts(p)).any(|p| {
                p.settled.iter().any(|line| {
                    settles_adjustment(p, line, adjustment)
                        && line.amount_paid.is_some_and(|a| !a.is_zero())
                })
            });
            if used_in_a_payment {
                continue;
            }
            if adjustment.increases_liability {
                debits += adjustment.magnitude();
            } else {
                credits += adjustment.magnitude();
            }
        }
        let due = amount + debits - credits - paid;
        let past_due = invoice.due_date.filter(|d| *d < as_of);
        let status = if amount < Decimal::ZERO {
            // Money owed back: settled once nothing is owed back any more.
            if due >= Decimal::ZERO {
                PaymentStatus::Paid
            } else {
                PaymentStatus::Unpaid
            }
        } else if due <= Decimal::ZERO {
            PaymentStatus::Paid
        } else if past_due.is_some() {
            PaymentStatus::Overdue
        } else if paid > Decimal::ZERO {
            PaymentStatus::PartiallyPaid
        } else {
            PaymentStatus::Unpaid
        };
        let days_overdue = (status == PaymentStatus::Overdue)
            .then(|| past_due.map(|d| u32::try_from((as_of - d).num_days()).unwrap_or(u32::MAX)))
            .flatten();
        Self {
            as_of,
            currency: invoice.currency.clone(),
            amount,
            credits,
            debits,
            paid,
            due,
            status,
            due_date: invoice.due_date,
            days_overdue,
            last_payment_date,
        }
    }

    /// Whether nothing is left to pay.
    pub fn is_settled(&self) -> bool {
        self.status == PaymentStatus::Paid
    }
}

/// The signed effect of an adjustment on what is due: minus its size for a credit memo, plus for a debit memo
/// (`Increase_Liability`), whatever sign `Control_Total_Amount` was sent with.
pub fn adjustment_effect(adjustment: &SupplierInvoiceAdjustment) -> Decimal {
    if adjustment.increases_liability {
        adjustment.magnitude()
    } else {
        -adjustment.magnitude()
    }
}

/// Whether an adjustment has taken effect by `as_of`.
fn in_force(adjustment: &SupplierInvoiceAdjustment, as_of: NaiveDate) -> bool {
    !matches!(
        adjustment.document_status,
        DocumentStatus::Draft
            | DocumentStatus::InProgress
            | DocumentStatus::Canceled
            | DocumentStatus::Denied
    ) && adjustment.adjustment_date.is_none_or(|d| d <= as_of)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workday::model::{ObjectRef, PaymentState, SettledDocument};

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn supplier() -> ObjectRef {
        ObjectRef {
            id: Some("S-1".into()),
            ..Default::default()
        }
    }

    fn invoice(total: &str, due: &str) -> SupplierInvoice {
        SupplierInvoice {
            reference_id: Some("SUPPLIER_INVOICE-3-7".into()),
            invoice_number: Some("SINV-7".into()),
            supplier_invoice_number: Some("A-7".into()),
            supplier: supplier(),
            currency: Some("EUR".into()),
            gross_amount: Some(dec(total)),
            due_date: Some(date(due)),
            ..Default::default()
        }
    }

    fn line(kind: &str, id: &str, amount: &str) -> SettledDocument {
        SettledDocument {
            document_type: Some(kind.into()),
            document_id: Some(id.into()),
            amount_paid: Some(dec(amount)),
            ..Default::default()
        }
    }

    fn payment(amount: &str, status: &str, on: &str) -> Payment {
        Payment {
            status: PaymentState::from_id(status),
            payment_date: Some(date(on)),
            payee: supplier(),
            settled: vec![line("Supplier_Invoice", "SUPPLIER_INVOICE-3-7", amount)],
            ..Default::default()
        }
    }

    fn credit(amount: &str, on: &str) -> SupplierInvoiceAdjustment {
        SupplierInvoiceAdjustment {
            reference_id: Some("SUPPLIER_INVOICE_ADJUSTMENT-3-1".into()),
            supplier: supplier(),
            adjustment_date: Some(date(on)),
            control_amount: Some(dec(amount)),
            original_invoice: Some(ObjectRef {
                id: Some("SUPPLIER_INVOICE-3-7".into()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    const TODAY: &str = "2024-06-15";

    fn at(
        inv: &SupplierInvoice,
        adj: &[SupplierInvoiceAdjustment],
        pay: &[Payment],
    ) -> InvoicePosition {
        InvoicePosition::of(inv, adj, pay, date(TODAY))
    }

    #[test]
    fn payments_and_the_due_date_decide_the_status() {
        let inv = invoice("100.00", "2024-06-30");
        assert_eq!(at(&inv, &[], &[]).status, PaymentStatus::Unpaid);
        let partial = at(&inv, &[], &[payment("40.00", "Paid", "2024-06-01")]);
        assert_eq!(partial.status, PaymentStatus::PartiallyPaid);
        assert_eq!((partial.paid, partial.due), (dec("40.00"), dec("60.00")));
        let full = at(
            &inv,
            &[],
            &[
                payment("40.00", "Paid", "2024-06-01"),
                payment("60.00", "Complete", "2024-06-10"),
            ],
        );
        assert_eq!(full.status, PaymentStatus::Paid);
        assert!(full.is_settled());
        assert_eq!(full.last_payment_date, Some(date("2024-06-10")));
        // Voided, failed and in-progress payments do not count.
        for state in ["Voided", "Failed", "In Progress", "Canceled"] {
            assert_eq!(
                at(&inv, &[], &[payment("100.00", state, "2024-06-01")]).status,
                PaymentStatus::Unpaid,
                "{state}"
            );
        }
        let late = invoice("100.00", "2024-06-01");
        let overdue = at(&late, &[], &[payment("10", "Paid", "2024-05-01")]);
        assert_eq!(overdue.status, PaymentStatus::Overdue);
        assert_eq!(overdue.days_overdue, Some(14));
        assert_eq!(overdue.due, dec("90"));
        assert_eq!(at(&inv, &[], &[]).days_overdue, None);
    }

    #[test]
    fn a_credit_memo_lowers_what_is_due_without_being_a_payment() {
        let inv = invoice("100.00", "2024-06-30");
        let credited = at(&inv, &[credit("30.00", "2024-06-05")], &[]);
        assert_eq!(credited.credits, dec("30.00"));
        assert_eq!(credited.due, dec("70.00"));
        assert_eq!(credited.status, PaymentStatus::Unpaid);
        // Sent negative or positive, a credit is a credit.
        assert_eq!(
            at(&inv, &[credit("-30.00", "2024-06-05")], &[]).due,
            dec("70.00")
        );
        // Credit and payment together cover it.
        let both = at(
            &inv,
            &[credit("30.00", "2024-06-05")],
            &[payment("70.00", "Paid", "2024-06-10")],
        );
        assert_eq!((both.due, both.status), (dec("0.00"), PaymentStatus::Paid));
        let part = at(
            &inv,
            &[credit("30.00", "2024-06-05")],
            &[payment("20.00", "Paid", "2024-06-10")],
        );
        assert_eq!(
            (part.due, part.status),
            (dec("50.00"), PaymentStatus::PartiallyPaid)
        );
        // A full credit leaves nothing due.
        assert_eq!(
            at(&inv, &[credit("100.00", "2024-06-05")], &[]).status,
            PaymentStatus::Paid
        );
        // Past the due date with something left after the credit: overdue.
        let late = invoice("100.00", "2024-06-01");
        assert_eq!(
            at(&late, &[credit("30.00", "2024-06-05")], &[]).status,
            PaymentStatus::Overdue
        );
    }

    #[test]
    fn adjustments_that_are_not_in_force_or_not_about_it_do_not_count() {
        let inv = invoice("100.00", "2024-06-30");
        let future = credit("30.00", "2024-07-01");
        let mut canceled = credit("30.00", "2024-06-01");
        canceled.document_status = DocumentStatus::Canceled;
        let mut draft = credit("30.00", "2024-06-01");
        draft.document_status = DocumentStatus::Draft;
        let mut other_invoice = credit("30.00", "2024-06-01");
        other_invoice.original_invoice = Some(ObjectRef {
            id: Some("SUPPLIER_INVOICE-3-8".into()),
            ..Default::default()
        });
        let p = at(&inv, &[future, canceled, draft, other_invoice], &[]);
        assert_eq!((p.credits, p.due), (Decimal::ZERO, dec("100.00")));
        // As of a later date the future credit counts.
        let later = InvoicePosition::of(
            &inv,
            &[credit("30.00", "2024-07-01")],
            &[],
            date("2024-07-02"),
        );
        assert_eq!(later.due, dec("70.00"));
    }

    #[test]
    fn a_debit_memo_raises_what_is_due() {
        let inv = invoice("100.00", "2024-06-30");
        let mut debit = credit("15.00", "2024-06-05");
        debit.increases_liability = true;
        assert_eq!(adjustment_effect(&debit), dec("15.00"));
        assert_eq!(
            adjustment_effect(&credit("-15.00", "2024-06-05")),
            dec("-15.00")
        );
        let p = at(&inv, &[debit], &[payment("100.00", "Paid", "2024-06-10")]);
        assert_eq!((p.debits, p.due), (dec("15.00"), dec("15.00")));
        assert_eq!(p.status, PaymentStatus::PartiallyPaid);
    }

    #[test]
    fn a_credit_used_in_a_payment_is_not_counted_twice() {
        // The payment settles the invoice in full and applies the credit: 100 − 30 = 70 of cash.
        let inv = invoice("100.00", "2024-06-30");
        let mut netted = payment("100.00", "Paid", "2024-06-10");
        netted.settled.push(line(
            "Supplier_Invoice_Adjustment",
            "SUPPLIER_INVOICE_ADJUSTMENT-3-1",
            "-30.00",
        ));
        let p = at(&inv, &[credit("30.00", "2024-06-05")], &[netted]);
        assert_eq!(
            (p.credits, p.paid, p.due),
            (Decimal::ZERO, dec("100.00"), dec("0.00"))
        );
        assert_eq!(p.status, PaymentStatus::Paid);
        // Used in a payment to settle another invoice: this one still owes its full amount.
        let mut elsewhere = payment("50.00", "Paid", "2024-06-10");
        elsewhere.settled[0].document_id = Some("SUPPLIER_INVOICE-3-9".into());
        elsewhere.settled.push(line(
            "Supplier_Invoice_Adjustment",
            "SUPPLIER_INVOICE_ADJUSTMENT-3-1",
            "-30.00",
        ));
        let p = at(&inv, &[credit("30.00", "2024-06-05")], &[elsewhere]);
        assert_eq!((p.credits, p.due), (Decimal::ZERO, dec("100.00")));
    }

    #[test]
    fn a_negative_invoice_is_settled_once_nothing_is_owed_back_and_never_overdue() {
        let memo = invoice("-25.50", "2024-01-01");
        let open = at(&memo, &[], &[]);
        assert_eq!(
            (open.status, open.due),
            (PaymentStatus::Unpaid, dec("-25.50"))
        );
        assert_eq!(open.days_overdue, None);
        assert_eq!(
            at(&memo, &[], &[payment("-25.50", "Paid", "2024-02-01")]).status,
            PaymentStatus::Paid
        );
        assert_eq!(
            at(&invoice("0", "2024-01-01"), &[], &[]).status,
            PaymentStatus::Paid
        );
    }

    #[test]
    fn a_position_serializes_with_snake_case_status() {
        let p = at(&invoice("100.00", "2024-06-01"), &[], &[]);
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["status"], "overdue");
        assert_eq!(json["due"], "100.00");
        assert_eq!(serde_json::from_value::<InvoicePosition>(json).unwrap(), p);
        assert_eq!(PaymentStatus::PartiallyPaid.to_string(), "partially paid");
    }
}
