//! The typed Workday model: what the client decodes from SOAP pages and REST answers.
//!
//! Every type is plain data (serde-serializable, no behaviour tied to the wire) so that the mapper, the lookup
//! cache and the sync can hold and pass them around. Money is [`Decimal`], never a float; dates are calendar
//! dates ([`NaiveDate`]) as Workday reports them. Optional means "Workday did not send it".

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
    /// Tax ID: the primary `Tax_ID_Text` of `Tax_ID_Widget_Data` (v40 and later), else of `Tax_ID_Data`
    /// (earlier versions), else `Business_Entity_Tax_ID`.
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
    /// Postal addresses, in the order sent (which says nothing about which is current: see
    /// [`Contacts::current_address`]).
    pub addresses: Vec<Address>,
    /// Phone numbers (the E.164 form when Workday sends it, else the formatted one).
    pub phones: Vec<String>,
    /// E-mail addresses.
    pub emails: Vec<String>,
    /// Web sites.
    pub websites: Vec<String>,
}

impl Contacts {
    /// The address in effect on `as_of`: of the addresses whose `Effective_Date` is not after `as_of` (an
    /// address without one counts as always in effect, and as the oldest), the one that took effect last;
    /// among those of the same date the primary one, then the first sent. `None` when there is no address
    /// yet in effect.
    pub fn current_address(&self, as_of: NaiveDate) -> Option<&Address> {
        self.addresses
            .iter()
            .enumerate()
            .filter(|(_, a)| a.effective_date.is_none_or(|d| d <= as_of))
            .max_by_key(|(i, a)| (a.effective_date, a.primary, std::cmp::Reverse(*i)))
            .map(|(_, a)| a)
    }
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
    /// Whether a usage of the address is marked primary (`Usage_Data/Type_Data/@Primary`).
    #[serde(default)]
    pub primary: bool,
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

/// A supplier invoice (`Get_Supplier_Invoices` → `Supplier_Invoice`).
///
/// Workday keeps supplier credit memos as a separate object, [`SupplierInvoiceAdjustment`], linked to the
/// invoice it adjusts; some tenants still enter a credit as an invoice with a negative total, which is kept as
/// sent (see [`crate::payables`] for how either counts).
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

/// A supplier invoice adjustment (`Get_Supplier_Invoice_Adjustments` → `Supplier_Invoice_Adjustment`):
/// Workday's supplier credit memo (or, with `Increase_Liability`, a debit memo), linked to the invoice it
/// adjusts by `Original_Invoice_Reference`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SupplierInvoiceAdjustment {
    /// Workday ID.
    pub wid: Option<String>,
    /// `Supplier_Invoice_Adjustment_ID` / `Supplier_Invoice_Adjustment_Reference_ID`: the key to read it again.
    pub reference_id: Option<String>,
    /// `Invoice_Number`: the number Workday assigned to the adjustment.
    pub adjustment_number: Option<String>,
    /// `Suppliers_Invoice_Number`: the number on the supplier's credit memo (newer versions).
    pub supplier_invoice_number: Option<String>,
    /// `Supplier_Reference`.
    pub supplier: ObjectRef,
    /// `Company_Reference`.
    pub company: Option<ObjectRef>,
    /// Currency (`Currency_ID`, ISO 4217).
    pub currency: Option<String>,
    /// `Adjustment_Date`.
    pub adjustment_date: Option<NaiveDate>,
    /// `Due_Date_Override`.
    pub due_date: Option<NaiveDate>,
    /// `Control_Total_Amount` as sent (its sign is not relied on: [`Self::increases_liability`] says which way
    /// the adjustment goes).
    pub control_amount: Option<Decimal>,
    /// `Tax_Amount`.
    pub tax_amount: Option<Decimal>,
    /// `Increase_Liability`: a debit memo (raises what is owed) rather than a credit memo.
    pub increases_liability: bool,
    /// `Adjustment_Reason_Reference` (`Adjustment_Reason_ID`).
    pub reason: Option<ObjectRef>,
    /// `Original_Invoice_Reference`: the invoice adjusted (`WID`, `Supplier_Invoice_Reference_ID`).
    pub original_invoice: Option<ObjectRef>,
    /// `Original_Invoice_Supplier_Reference_Number`.
    pub original_invoice_supplier_number: Option<String>,
    /// Document status, when the response carries one (the adjustment data type of the versions read has
    /// none: then [`DocumentStatus::Unknown`]).
    pub document_status: DocumentStatus,
    /// `On_Hold`.
    pub on_hold: bool,
    /// `Document_Memo`.
    pub memo: Option<String>,
    /// `Invoice_Line_Replacement_Data`, in order.
    pub lines: Vec<InvoiceLine>,
}

impl SupplierInvoiceAdjustment {
    /// The size of the adjustment, whatever sign it was sent with: `Control_Total_Amount`, else the lines plus
    /// tax.
    pub fn magnitude(&self) -> Decimal {
        self.control_amount
            .unwrap_or_else(|| {
                self.lines
                    .iter()
                    .filter_map(|l| l.extended_amount)
                    .sum::<Decimal>()
                    + self.tax_amount.unwrap_or_default()
            })
            .abs()
    }
}

/// A supplier invoice request (REST `accountsPayable` v1, `supplierInvoiceRequests`): a request for a supplier
/// invoice (from a requester or the supplier) that goes through the Supplier Invoice Request business process.
/// It is not the supplier invoice: accounts payable turns an approved request into one, which is read over SOAP
/// ([`SupplierInvoice`]). References in REST answers are WIDs with descriptors.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SupplierInvoiceRequest {
    /// Workday ID of the request.
    pub wid: Option<String>,
    /// Its display name.
    pub descriptor: Option<String>,
    /// The invoice number on the supplier's document.
    pub supplier_invoice_number: Option<String>,
    /// The supplier (WID and name).
    pub supplier: ObjectRef,
    /// The company (WID and name).
    pub company: Option<ObjectRef>,
    /// Currency code.
    pub currency: Option<String>,
    /// Invoice date.
    pub invoice_date: Option<NaiveDate>,
    /// Due date.
    pub due_date: Option<NaiveDate>,
    /// The request's status, as Workday names it.
    pub status: Option<String>,
    /// Control total.
    pub control_amount: Option<Decimal>,
    /// Tax.
    pub tax_amount: Option<Decimal>,
    /// Total invoice amount.
    pub total_amount: Option<Decimal>,
    /// Memo.
    pub memo: Option<String>,
    /// Lines, in order.
    pub lines: Vec<InvoiceLine>,
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
    /// The order's total: Workday's purchase order has no total element, so it is derived from every line
    /// (goods, deliverables, services, contingent workers) plus tax, freight and other charges when sent; see
    /// [`PurchaseOrder::derived_total`].
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
    /// Goods, deliverables, service and contingent-worker lines, in the order sent.
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

/// One purchase order line: `Goods_Line_Data`, `Service_Line_Data`, `Deliverables_Line_Data` (project-based)
/// or `Contingent_Worker_Line_Data`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PurchaseOrderLine {
    /// Which kind of line.
    #[serde(default)]
    pub kind: PurchaseOrderLineKind,
    /// `Line_Number`.
    pub line_number: Option<String>,
    /// `Item_Description` (goods), `Description` (services), else the line's `Memo`.
    pub description: Option<String>,
    /// `Quantity` (goods), `Scheduled_Hours` (contingent workers).
    pub quantity: Option<Decimal>,
    /// `Unit_Cost` (goods), `Contract_Pay_Rate` (contingent workers).
    pub unit_cost: Option<Decimal>,
    /// `Extended_Amount`.
    pub extended_amount: Option<Decimal>,
}

/// The kind of a purchase order line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PurchaseOrderLineKind {
    /// `Goods_Line_Data`.
    #[default]
    Goods,
    /// `Service_Line_Data`.
    Service,
    /// `Deliverables_Line_Data` (a project-based line).
    Deliverables,
    /// `Contingent_Worker_Line_Data`.
    ContingentWorker,
}

/// A payment (`Get_Payments` → `Payment`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Payment {
    /// Workday ID.
    pub wid: Option<String>,
    /// An ID of `Payment_Reference` that is not a WID, when sent (informational: payments are read again by
    /// WID).
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
    /// The documents (invoices, adjustments) this payment settles (`Remittance_Data/Document_Remittance_Data`).
    pub settled: Vec<SettledDocument>,
}

/// One document a payment settles.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SettledDocument {
    /// `Document_Type` (e.g. `Supplier_Invoice`, or an adjustment's type).
    pub document_type: Option<String>,
    /// `Document_ID`: an ID of the document (what it holds is not the same in every tenant: see
    /// [`crate::payables::matching`]).
    pub document_id: Option<String>,
    /// `Document_Reference`: a number of the document (Workday's, or the supplier's own).
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

    #[test]
    fn the_current_address_is_the_latest_in_effect_not_the_first_sent() {
        let at = |street: &str, on: Option<&str>, primary: bool| Address {
            lines: vec![street.into()],
            effective_date: on.map(date),
            primary,
            ..Default::default()
        };
        let contacts = Contacts {
            addresses: vec![
                at("Old Rd 1", Some("2019-01-01"), true),
                at("New Rd 2", Some("2023-03-01"), false),
                at("Future Rd 3", Some("2024-09-01"), true),
                at("Undated 4", None, true),
            ],
            ..Default::default()
        };
        let current = |d: &str| {
            contacts
                .current_address(date(d))
                .map(|a| a.lines[0].as_str())
        };
        assert_eq!(current("2024-06-15"), Some("New Rd 2"));
        assert_eq!(current("2024-09-01"), Some("Future Rd 3"));
        assert_eq!(current("2020-06-01"), Some("Old Rd 1"));
        assert_eq!(current("2000-01-01"), Some("Undated 4"));
        // Same date: the primary one, then the first sent.
        let tie = Contacts {
            addresses: vec![
                at("A", Some("2023-01-01"), false),
                at("B", Some("2023-01-01"), true),
                at("C", Some("2023-01-01"), true),
            ],
            ..Default::default()
        };
        assert_eq!(
            tie.current_address(date("2024-01-01")).unwrap().lines[0],
            "B"
        );
        assert!(
            Contacts::default()
                .current_address(date("2024-01-01"))
                .is_none()
        );
    }

    #[test]
    fn an_adjustment_has_a_magnitude_whatever_its_sign() {
        let adj = |control: Option<&str>| SupplierInvoiceAdjustment {
            control_amount: control.map(dec),
            tax_amount: Some(dec("-2.00")),
            lines: vec![InvoiceLine {
                extended_amount: Some(dec("-20.00")),
                ..Default::default()
            }],
            ..Default::default()
        };
        assert_eq!(adj(Some("22.00")).magnitude(), dec("22.00"));
        assert_eq!(adj(Some("-22.00")).magnitude(), dec("22.00"));
        assert_eq!(adj(None).magnitude(), dec("22.00"));
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
