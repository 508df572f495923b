//! The typed Workday model: what the client decodes from SOAP pages and REST answers.
//!
//! Every type is plain data (serde-serializable, no behaviour tied to the wire) so that the mapper, the lookup
//! cache and the sync can hold and pass them around. Money is [`Decimal`], never a float; dates are calendar
//! dates ([`NaiveDate`]) as Workday reports them. Optional means "Workday did not send it".

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A reference to another Workday object (`*_Reference` on the wire).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectRef {
    /// The Workday ID (`WID`), when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wid: Option<String>,
    /// The business ID (e.g. `Supplier_ID`, `Currency_ID`, `Company_Reference_ID`), when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Display name (`Descriptor`), when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub descriptor: Option<String>,
}

impl ObjectRef {
    /// The business ID, else the WID, else the descriptor: the best single string for display and matching.
    pub fn best(&self) -> Option<&str> {
        self.id
            .as_deref()
            .or(self.wid.as_deref())
            .or(self.descriptor.as_deref())
    }

    /// Whether nothing was sent.
    pub fn is_empty(&self) -> bool {
        self.wid.is_none() && self.id.is_none() && self.descriptor.is_none()
    }
}

/// A supplier (`Get_Suppliers` → `Supplier`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Supplier {
    /// Workday ID of the supplier.
    pub wid: Option<String>,
    /// `Supplier_ID`: the stable business key (Zendesk organizations use it as `external_id`).
    pub supplier_id: String,
    /// `Supplier_Reference_ID`, when it differs from the ID.
    pub reference_id: Option<String>,
    /// `Supplier_Name`.
    pub name: String,
    /// Active, inactive, or another status Workday reported.
    pub status: SupplierStatus,
    /// `Supplier_Category_Reference`.
    pub category: Option<ObjectRef>,
    /// Payment terms (`Payment_Terms_ID`, e.g. `NET_30`).
    pub payment_terms: Option<String>,
    /// Default currency (`Currency_ID`, ISO 4217).
    pub currency: Option<String>,
    /// Tax ID (`Business_Entity_Tax_ID`).
    pub tax_id: Option<String>,
    /// Addresses, phones, e-mails and web sites (`Business_Entity_Data/Contact_Data`).
    pub contacts: Contacts,
}

/// Supplier status (`Supplier_Status_Data/Status_Reference`, ID type `Business_Entity_Status_Value_ID`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
pub enum SupplierStatus {
    /// `ACTIVE`.
    Active,
    /// `INACTIVE`.
    Inactive,
    /// Any other value, kept as sent (e.g. `ON_HOLD`).
    Other(String),
    /// No status was sent.
    #[default]
    Unknown,
}

impl SupplierStatus {
    /// From a status ID such as `ACTIVE`.
    pub fn from_id(id: &str) -> Self {
        match normalize(id).as_str() {
            "active" => Self::Active,
            "inactive" => Self::Inactive,
            "" => Self::Unknown,
            _ => Self::Other(id.trim().to_string()),
        }
    }
}

impl From<String> for SupplierStatus {
    fn from(s: String) -> Self {
        Self::from_id(&s)
    }
}

impl From<SupplierStatus> for String {
    fn from(s: SupplierStatus) -> Self {
        match s {
            SupplierStatus::Active => "active".into(),
            SupplierStatus::Inactive => "inactive".into(),
            SupplierStatus::Other(v) => v,
            SupplierStatus::Unknown => String::new(),
        }
    }
}

/// Contact data of a business entity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contacts {
    /// Postal addresses, in the order sent.
    pub addresses: Vec<Address>,
    /// Phone numbers (the E.164 form when Workday sends it, else the formatted one).
    pub phones: Vec<String>,
    /// E-mail addresses.
    pub emails: Vec<String>,
    /// Web sites.
    pub websites: Vec<String>,
}

/// A postal address (`Address_Data`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// `Formatted_Address` attribute: the whole address, lines separated by `\n`.
    pub formatted: Option<String>,
    /// `Address_Line_Data`, in order.
    pub lines: Vec<String>,
    /// `Municipality`.
    pub city: Option<String>,
    /// `Country_Region_Reference` (e.g. `USA-CA`) or `Country_Region_Descriptor`.
    pub region: Option<String>,
    /// `Postal_Code`.
    pub postal_code: Option<String>,
    /// `Country_Reference` (ISO 3166-1 code when sent).
    pub country: Option<String>,
    /// `Effective_Date` attribute.
    pub effective_date: Option<NaiveDate>,
}

/// Document status of an invoice or purchase order (`*_Document_Status_Reference`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
pub enum DocumentStatus {
    /// Draft.
    Draft,
    /// In progress (awaiting approval).
    InProgress,
    /// Approved.
    Approved,
    /// Canceled.
    Canceled,
    /// Denied.
    Denied,
    /// Closed (purchase orders).
    Closed,
    /// Issued (purchase orders).
    Issued,
    /// Any other value, kept as sent.
    Other(String),
    /// No status was sent.
    #[default]
    Unknown,
}

impl DocumentStatus {
    /// From a status ID or descriptor, tolerant of case, spaces and underscores.
    pub fn from_id(id: &str) -> Self {
        match normalize(id).as_str() {
            "draft" => Self::Draft,
            "in progress" | "inprogress" | "awaiting approval" => Self::InProgress,
            "approved" => Self::Approved,
            "canceled" | "cancelled" => Self::Canceled,
            "denied" => Self::Denied,
            "closed" => Self::Closed,
            "issued" => Self::Issued,
            "" => Self::Unknown,
            _ => Self::Other(id.trim().to_string()),
        }
    }
}

impl From<String> for DocumentStatus {
    fn from(s: String) -> Self {
        Self::from_id(&s)
    }
}

impl From<DocumentStatus> for String {
    fn from(s: DocumentStatus) -> Self {
        match s {
            DocumentStatus::Draft => "draft".into(),
            DocumentStatus::InProgress => "in_progress".into(),
            DocumentStatus::Approved => "approved".into(),
            DocumentStatus::Canceled => "canceled".into(),
            DocumentStatus::Denied => "denied".into(),
            DocumentStatus::Closed => "closed".into(),
            DocumentStatus::Issued => "issued".into(),
            DocumentStatus::Other(v) => v,
            DocumentStatus::Unknown => String::new(),
        }
    }
}

/// A supplier invoice (`Get_Supplier_Invoices` → `Supplier_Invoice`). Credit memos carry negative amounts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SupplierInvoice {
    /// Workday ID.
    pub wid: Option<String>,
    /// `Supplier_Invoice_ID` / `Supplier_Invoice_Reference_ID` (e.g. `SUPPLIER_INVOICE-3-1042`): the key to read
    /// the invoice again by reference.
    pub reference_id: Option<String>,
    /// `Invoice_Number`: the number Workday assigned.
    pub invoice_number: Option<String>,
    /// `Suppliers_Invoice_Number`: the number on the supplier's document (what a supplier quotes).
    pub supplier_invoice_number: Option<String>,
    /// `Supplier_Reference`.
    pub supplier: ObjectRef,
    /// `Company_Reference`.
    pub company: Option<ObjectRef>,
    /// Currency (`Currency_ID`, ISO 4217).
    pub currency: Option<String>,
    /// `Invoice_Date`.
    pub invoice_date: Option<NaiveDate>,
    /// Due date (`Due_Date_Override`, else `Due_Date`).
    pub due_date: Option<NaiveDate>,
    /// `Control_Amount_Total`.
    pub control_amount: Option<Decimal>,
    /// `Tax_Amount`.
    pub tax_amount: Option<Decimal>,
    /// `Gross_Invoice_Amount`.
    pub gross_amount: Option<Decimal>,
    /// Purchase order: the `Document_Number` a line's `Purchase_Order_Line_Reference` points at (its ID's
    /// `parent_id`), else a header `Purchase_Order_Reference`, else `External_PO_Number`.
    pub po_number: Option<String>,
    /// `Invoice_Document_Status_Reference`.
    pub document_status: DocumentStatus,
    /// `On_Hold`.
    pub on_hold: bool,
    /// `Payment_Terms_Reference`.
    pub payment_terms: Option<String>,
    /// `Memo`.
    pub memo: Option<String>,
    /// `Invoice_Line_Replacement_Data`, in order.
    pub lines: Vec<InvoiceLine>,
}

impl SupplierInvoice {
    /// The amount to be paid: gross, else control total, else the sum of the lines.
    pub fn total(&self) -> Decimal {
        self.gross_amount
            .or(self.control_amount)
            .unwrap_or_else(|| self.lines.iter().filter_map(|l| l.extended_amount).sum())
    }

    /// Whether this is a credit memo (a negative total).
    pub fn is_credit_memo(&self) -> bool {
        self.total() < Decimal::ZERO
    }

    /// Whether `settled` (one entry of a payment's remittance) is about this invoice.
    pub fn is_settled_by(&self, settled: &SettledDocument) -> bool {
        let eq =
            |a: &Option<String>, b: &Option<String>| matches!((a, b), (Some(a), Some(b)) if a == b);
        eq(&settled.document_id, &self.reference_id)
            || eq(&settled.document_id, &self.wid)
            || eq(&settled.document_reference, &self.invoice_number)
            || (settled.document_id.is_none()
                && eq(&settled.document_reference, &self.supplier_invoice_number))
    }

    /// Derives the payment position from the payments that settle this invoice and the due date.
    ///
    /// Payments that are canceled, voided, failed or returned do not count. `today` decides "overdue": an
    /// invoice that is not fully paid after its due date is overdue, whether or not part of it was paid.
    pub fn payment_summary<'a>(
        &self,
        payments: impl IntoIterator<Item = &'a Payment>,
        today: NaiveDate,
    ) -> PaymentSummary {
        let total = self.total();
        let mut paid = Decimal::ZERO;
        let mut last_payment_date = None;
        for payment in payments {
            if !payment.status.counts_as_paid() {
                continue;
            }
            for settled in payment.settled.iter().filter(|s| self.is_settled_by(s)) {
                paid += settled.amount_paid.unwrap_or(Decimal::ZERO);
                last_payment_date = last_payment_date.max(payment.payment_date);
            }
        }
        let due = total - paid;
        let status = if total.is_zero()
            || (total > Decimal::ZERO && due <= Decimal::ZERO)
            || (total < Decimal::ZERO && due >= Decimal::ZERO)
        {
            InvoicePaymentStatus::Paid
        } else if self.due_date.is_some_and(|d| d < today) && total > Decimal::ZERO {
            InvoicePaymentStatus::Overdue
        } else if !paid.is_zero() {
            InvoicePaymentStatus::PartiallyPaid
        } else {
            InvoicePaymentStatus::Unpaid
        };
        PaymentSummary {
            status,
            amount_paid: paid,
            amount_due: due,
            last_payment_date,
        }
    }
}

/// One invoice line (`Invoice_Line_Replacement_Data`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InvoiceLine {
    /// `Line_Order`.
    pub order: Option<String>,
    /// `Item_Description`.
    pub description: Option<String>,
    /// `Quantity`.
    pub quantity: Option<Decimal>,
    /// `Unit_Cost`.
    pub unit_cost: Option<Decimal>,
    /// `Extended_Amount`.
    pub extended_amount: Option<Decimal>,
    /// `Spend_Category_Reference`.
    pub spend_category: Option<ObjectRef>,
    /// `Memo`.
    pub memo: Option<String>,
}

/// Where an invoice stands, derived from its payments and due date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoicePaymentStatus {
    /// Fully paid (or a credit memo fully applied, or a zero invoice).
    Paid,
    /// Part paid, not yet due.
    PartiallyPaid,
    /// Nothing paid, not yet due.
    Unpaid,
    /// Not fully paid and past its due date.
    Overdue,
}

impl fmt::Display for InvoicePaymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Paid => "paid",
            Self::PartiallyPaid => "partially paid",
            Self::Unpaid => "unpaid",
            Self::Overdue => "overdue",
        })
    }
}

/// The payment position of one invoice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentSummary {
    /// Paid / partially paid / unpaid / overdue.
    pub status: InvoicePaymentStatus,
    /// Sum of the amounts paid against the invoice.
    pub amount_paid: Decimal,
    /// What is left to pay (negative for an over-payment).
    pub amount_due: Decimal,
    /// Date of the latest counted payment.
    pub last_payment_date: Option<NaiveDate>,
}

/// A purchase order (`Get_Purchase_Orders` → `Purchase_Order`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PurchaseOrder {
    /// Workday ID.
    pub wid: Option<String>,
    /// `Document_Number` (e.g. `PO-0001234`): the key to read it again.
    pub document_number: Option<String>,
    /// Document status.
    pub status: DocumentStatus,
    /// `Supplier_Reference`.
    pub supplier: ObjectRef,
    /// `Company_Reference`.
    pub company: Option<ObjectRef>,
    /// Currency (`Currency_ID`).
    pub currency: Option<String>,
    /// `Document_Date`.
    pub document_date: Option<NaiveDate>,
    /// `Due_Date`.
    pub due_date: Option<NaiveDate>,
    /// The order's total: Workday's purchase order has no total element, so it is derived from the lines
    /// (plus tax, freight and other charges when sent); see [`PurchaseOrder::derived_total`].
    pub total_amount: Option<Decimal>,
    /// `Tax_Amount`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_amount: Option<Decimal>,
    /// `Freight_Amount`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freight_amount: Option<Decimal>,
    /// `Other_Charges`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_charges: Option<Decimal>,
    /// `Buyer_Reference`.
    pub buyer: Option<ObjectRef>,
    /// `Payment_Terms_Reference`.
    pub payment_terms: Option<String>,
    /// `Memo`.
    pub memo: Option<String>,
    /// Goods and service lines, in order.
    pub lines: Vec<PurchaseOrderLine>,
}

impl PurchaseOrder {
    /// The sum of the lines' extended amounts plus tax, freight and other charges; `None` when there is
    /// nothing to add up.
    pub fn derived_total(&self) -> Option<Decimal> {
        let parts: Vec<Decimal> = self
            .lines
            .iter()
            .filter_map(|l| l.extended_amount)
            .chain(
                [self.tax_amount, self.freight_amount, self.other_charges]
                    .into_iter()
                    .flatten(),
            )
            .collect();
        (!parts.is_empty()).then(|| parts.into_iter().sum())
    }
}

/// One purchase order line (`Goods_Line_Data` or `Service_Line_Data`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PurchaseOrderLine {
    /// `Line_Number`.
    pub line_number: Option<String>,
    /// `Item_Description` (goods) or `Description` (services).
    pub description: Option<String>,
    /// `Quantity`.
    pub quantity: Option<Decimal>,
    /// `Unit_Cost`.
    pub unit_cost: Option<Decimal>,
    /// `Extended_Amount`.
    pub extended_amount: Option<Decimal>,
}

/// A payment (`Get_Payments` → `Payment`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Payment {
    /// Workday ID.
    pub wid: Option<String>,
    /// The ID of `Payment_Reference` that is not a WID, when sent.
    pub reference_id: Option<String>,
    /// `Payment_Reference_Number`: the reference printed on the remittance.
    pub reference_number: Option<String>,
    /// Payment status.
    pub status: PaymentState,
    /// `Payment_Group_Data/Payment_Date` (a flat `Payment_Date` is read too).
    pub payment_date: Option<NaiveDate>,
    /// `Payment_Amount`.
    pub amount: Option<Decimal>,
    /// Currency (`Currency_ID` of `Currency_Reference`, else of `Payment_Group_Data`).
    pub currency: Option<String>,
    /// `Company_Reference`.
    pub company: Option<ObjectRef>,
    /// The payee (`Receiving_Party_Reference`, `Supplier_ID` for suppliers).
    pub payee: ObjectRef,
    /// `Payment_Group_Data/Payment_Type_Reference` (e.g. `ACH`, `Check`).
    pub payment_type: Option<String>,
    /// `Check_Number`.
    pub check_number: Option<String>,
    /// The documents (invoices) this payment settles (`Remittance_Data/Document_Remittance_Data`).
    pub settled: Vec<SettledDocument>,
}

/// One document a payment settles.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SettledDocument {
    /// `Document_Type`.
    pub document_type: Option<String>,
    /// `Document_ID`: the invoice's reference ID.
    pub document_id: Option<String>,
    /// `Document_Reference`: the invoice number.
    pub document_reference: Option<String>,
    /// `Document_Date`.
    pub document_date: Option<NaiveDate>,
    /// `Total_Payable_Amount`.
    pub total_payable: Option<Decimal>,
    /// `Amount_Paid` by this payment.
    pub amount_paid: Option<Decimal>,
    /// `Amount_Due` after this payment.
    pub amount_due: Option<Decimal>,
    /// `Discount_Taken`.
    pub discount_taken: Option<Decimal>,
}

/// Payment status (`Payment_Status`, a plain string in `Payment_WWS_Data`; a `Payment_Status_Reference` is
/// read too).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
pub enum PaymentState {
    /// Paid / complete / settled.
    Paid,
    /// Scheduled or in progress, not yet paid.
    InProgress,
    /// Canceled.
    Canceled,
    /// Voided.
    Voided,
    /// Failed or returned by the bank.
    Failed,
    /// Any other value, kept as sent.
    Other(String),
    /// No status was sent.
    #[default]
    Unknown,
}

impl PaymentState {
    /// From a status ID or descriptor.
    pub fn from_id(id: &str) -> Self {
        match normalize(id).as_str() {
            "paid" | "complete" | "completed" | "settled" | "reconciled" | "cleared" | "sent" => {
                Self::Paid
            }
            "in progress" | "inprogress" | "scheduled" | "pending" | "draft" => Self::InProgress,
            "canceled" | "cancelled" => Self::Canceled,
            "void" | "voided" => Self::Voided,
            "failed" | "returned" | "rejected" => Self::Failed,
            "" => Self::Unknown,
            _ => Self::Other(id.trim().to_string()),
        }
    }

    /// Whether money moved (for deriving an invoice's payment status). An unknown status counts: Workday
    /// returns settled payments without a status in some response groups.
    pub fn counts_as_paid(&self) -> bool {
        matches!(self, Self::Paid | Self::Unknown | Self::Other(_))
    }
}

impl From<String> for PaymentState {
    fn from(s: String) -> Self {
        Self::from_id(&s)
    }
}

impl From<PaymentState> for String {
    fn from(s: PaymentState) -> Self {
        match s {
            PaymentState::Paid => "paid".into(),
            PaymentState::InProgress => "in_progress".into(),
            PaymentState::Canceled => "canceled".into(),
            PaymentState::Voided => "voided".into(),
            PaymentState::Failed => "failed".into(),
            PaymentState::Other(v) => v,
            PaymentState::Unknown => String::new(),
        }
    }
}

/// Where a record came from, for the audit log: service, operation, version, page and as-of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkdaySource {
    /// Transport: `soap` or `rest`.
    pub transport: String,
    /// SOAP service (e.g. `Resource_Management`) or REST API (e.g. `accountsPayable/v1`).
    pub service: String,
    /// Operation (e.g. `Get_Supplier_Invoices`) or REST resource.
    pub operation: String,
    /// Web service version (e.g. `v46.1`).
    pub version: String,
    /// Page number (1-based) the record was on.
    pub page: u32,
    /// `Total_Pages` Workday reported with that page.
    pub total_pages: u32,
    /// `As_Of_Entry_DateTime` the walk was pinned to.
    pub as_of: DateTime<Utc>,
}

/// A record together with where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sourced<T> {
    /// The record.
    pub record: T,
    /// Its provenance, shared by every record of its page (serialized as the plain object).
    #[serde(with = "shared_source")]
    pub source: Arc<WorkdaySource>,
}

/// (De)serializes an `Arc<WorkdaySource>` as the `WorkdaySource` itself (serde's `rc` feature is not on).
mod shared_source {
    use std::sync::Arc;

    use serde::{Deserialize as _, Deserializer, Serialize as _, Serializer};

    use super::WorkdaySource;

    pub fn serialize<S: Serializer>(
        source: &Arc<WorkdaySource>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        source.as_ref().serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Arc<WorkdaySource>, D::Error> {
        WorkdaySource::deserialize(deserializer).map(Arc::new)
    }
}

fn normalize(s: &str) -> String {
    s.trim().replace(['_', '-'], " ").to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn invoice(total: Decimal, due: &str) -> SupplierInvoice {
        SupplierInvoice {
            reference_id: Some("SUPPLIER_INVOICE-3-7".into()),
            invoice_number: Some("SINV-7".into()),
            gross_amount: Some(total),
            due_date: Some(date(due)),
            ..Default::default()
        }
    }

    fn payment(amount: Decimal, status: &str, on: &str) -> Payment {
        Payment {
            status: PaymentState::from_id(status),
            payment_date: Some(date(on)),
            settled: vec![SettledDocument {
                document_id: Some("SUPPLIER_INVOICE-3-7".into()),
                amount_paid: Some(amount),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn payment_status_is_derived_from_payments_and_due_date() {
        let today = date("2024-06-15");
        let inv = invoice(dec("100.00"), "2024-06-30");
        let s = |p: &[Payment]| inv.payment_summary(p, today);
        assert_eq!(s(&[]).status, InvoicePaymentStatus::Unpaid);
        let partial = s(&[payment(dec("40.00"), "Paid", "2024-06-01")]);
        assert_eq!(partial.status, InvoicePaymentStatus::PartiallyPaid);
        assert_eq!(partial.amount_due, dec("60.00"));
        let full = s(&[
            payment(dec("40.00"), "Paid", "2024-06-01"),
            payment(dec("60.00"), "Complete", "2024-06-10"),
        ]);
        assert_eq!(full.status, InvoicePaymentStatus::Paid);
        assert_eq!(full.last_payment_date, Some(date("2024-06-10")));
        // A voided payment does not count.
        assert_eq!(
            s(&[payment(dec("100.00"), "Voided", "2024-06-01")]).status,
            InvoicePaymentStatus::Unpaid
        );
        let late = invoice(dec("100.00"), "2024-06-01");
        assert_eq!(
            late.payment_summary(&[payment(dec("10"), "Paid", "2024-05-01")], today)
                .status,
            InvoicePaymentStatus::Overdue
        );
    }

    #[test]
    fn credit_memos_are_negative_and_never_overdue() {
        let memo = invoice(dec("-25.50"), "2024-01-01");
        assert!(memo.is_credit_memo());
        let today = date("2024-06-15");
        assert_eq!(
            memo.payment_summary(&[], today).status,
            InvoicePaymentStatus::Unpaid
        );
        assert_eq!(
            memo.payment_summary(&[payment(dec("-25.50"), "Paid", "2024-02-01")], today)
                .status,
            InvoicePaymentStatus::Paid
        );
    }

    #[test]
    fn statuses_serialize_as_strings() {
        let s = Supplier {
            supplier_id: "S-1".into(),
            status: SupplierStatus::from_id("ACTIVE"),
            ..Default::default()
        };
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["status"], "active");
        let back: Supplier = serde_json::from_value(json).unwrap();
        assert_eq!(back, s);
        assert_eq!(
            DocumentStatus::from_id("In_Progress"),
            DocumentStatus::InProgress
        );
        assert_eq!(
            PaymentState::from_id("On Hold"),
            PaymentState::Other("On Hold".into())
        );
    }

    #[test]
    fn a_shared_source_serializes_as_the_plain_object() {
        let source = WorkdaySource {
            transport: "soap".into(),
            service: "Resource_Management".into(),
            operation: "Get_Suppliers".into(),
            version: "v46.1".into(),
            page: 2,
            total_pages: 3,
            as_of: "2024-06-15T08:00:00Z".parse().unwrap(),
        };
        let sourced = Sourced {
            record: 7,
            source: Arc::new(source.clone()),
        };
        let json = serde_json::to_value(&sourced).unwrap();
        assert_eq!(
            json,
            serde_json::json!({ "record": 7, "source": serde_json::to_value(&source).unwrap() })
        );
        assert_eq!(
            serde_json::from_value::<Sourced<i32>>(json).unwrap(),
            sourced
        );
    }
}
