//! Typed requests and the SOAP envelope they are written into (WS-Security header, `bsvc:version`).
//!
//! A request either names records by reference ID (`Request_References`) or selects them by criteria
//! (`Request_Criteria`); Workday's schema makes the two a choice. `Response_Filter` carries the page, the page
//! size and the pinned `As_Of_Entry_DateTime`; `Response_Group` says which parts of each record to include.
//!
//! Every element is written in its `xsd:sequence` order: Workday validates requests against the schema and
//! answers an element out of order, or one its schema does not have, with a `Client.validationError`. The
//! orders below are the `Order` of the generated WSDL types (`Supplier_Request_CriteriaType`,
//! `Supplier_Invoice_Request_CriteriaType`, `Supplier_Invoice_Adjustment_Request_CriteriaType`,
//! `Purchase_Order_Request_CriteriaType`, `General_Payment_CriteriaType`, `Payments_Request_ReferencesType`, the
//! `*_Response_GroupType`s).
//!
//! The SOAP header carries the WS-Security UsernameToken and `Workday_Common_Header` with
//! `Include_Reference_Descriptors_In_Response` = `true`, so references come back with their display names
//! (`wd:Descriptor`); nothing read depends on them, they are for display only.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use quick_xml::escape::escape;
use secrecy::{ExposeSecret as _, SecretString};

use super::config::MAX_SOAP_PAGE_SIZE;
use super::ops::{BSVC_NS, Operation, PASSWORD_TEXT, SOAP_ENV_NS, WSSE_NS};

/// A reference ID of a given type, e.g. (`Supplier_ID`, `S-000042`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdLookup {
    /// The `wd:type` of the ID (`WID`, `Supplier_ID`, `Supplier_Invoice_Reference_ID`, `Document_Number`...).
    pub id_type: String,
    /// The IDs to read.
    pub values: Vec<String>,
}

/// `Get_Suppliers`: by `Supplier_ID` or by criteria.
#[derive(Debug, Clone, PartialEq)]
pub enum SupplierQuery {
    /// Suppliers by reference.
    ByReference(IdLookup),
    /// Suppliers matching criteria (all of them when the criteria are empty).
    Criteria(SupplierCriteria),
}

/// Criteria of `Get_Suppliers`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SupplierCriteria {
    /// `Updated_From_Date`: changed on or after (the incremental sync's bookmark).
    pub updated_from: Option<DateTime<Utc>>,
    /// `Updated_To_Date`: changed on or before.
    pub updated_to: Option<DateTime<Utc>>,
    /// `Supplier_Status_Reference` (`Business_Entity_Status_Value_ID`, e.g. `ACTIVE`).
    pub status: Option<String>,
}

/// `Get_Supplier_Invoices`: by invoice reference ID or by criteria. Workday has no invoice-number filter.
#[derive(Debug, Clone, PartialEq)]
pub enum InvoiceQuery {
    /// Invoices by reference (`Supplier_Invoice_Reference_ID` or `WID`).
    ByReference(IdLookup),
    /// Invoices matching criteria.
    Criteria(InvoiceCriteria),
}

/// Criteria of `Get_Supplier_Invoices`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InvoiceCriteria {
    /// `Supplier_Reference` (`Supplier_ID`), any of these.
    pub supplier_ids: Vec<String>,
    /// `Company_Reference` (`Company_Reference_ID`).
    pub company_id: Option<String>,
    /// `Invoice_Date_On_or_After`.
    pub invoice_date_from: Option<NaiveDate>,
    /// `Invoice_Date_On_or_Before`.
    pub invoice_date_to: Option<NaiveDate>,
    /// `Invoice_Due_Date_On_or_After`.
    pub due_date_from: Option<NaiveDate>,
    /// `Invoice_Due_Date_On_or_Before`.
    pub due_date_to: Option<NaiveDate>,
    /// `Purchase_Order_Reference` (`Document_Number`).
    pub po_number: Option<String>,
}

/// `Get_Supplier_Invoice_Adjustments`: by adjustment reference ID or by criteria. There is no criterion for
/// the original invoice: the adjustments of an invoice are those of its supplier that name it
/// ([`crate::payables::adjusts`]).
#[derive(Debug, Clone, PartialEq)]
pub enum AdjustmentQuery {
    /// Adjustments by reference (`Supplier_Invoice_Adjustment_Reference_ID` or `WID`).
    ByReference(IdLookup),
    /// Adjustments matching criteria.
    Criteria(AdjustmentCriteria),
}

/// Criteria of `Get_Supplier_Invoice_Adjustments` (`Supplier_Invoice_Adjustment_Request_CriteriaType`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdjustmentCriteria {
    /// `Company_Reference` (`Company_Reference_ID`).
    pub company_id: Option<String>,
    /// `Supplier_Reference` (`Supplier_ID`), any of these.
    pub supplier_ids: Vec<String>,
    /// `Invoice_Date_On_or_After`: the adjustment's date.
    pub date_from: Option<NaiveDate>,
    /// `Invoice_Date_On_or_Before`.
    pub date_to: Option<NaiveDate>,
}

/// `Get_Purchase_Orders`: by `Document_Number` or by criteria.
#[derive(Debug, Clone, PartialEq)]
pub enum PurchaseOrderQuery {
    /// Purchase orders by reference (`Document_Number` or `WID`).
    ByReference(IdLookup),
    /// Purchase orders matching criteria.
    Criteria(PurchaseOrderCriteria),
}

/// Criteria of `Get_Purchase_Orders` (`Purchase_Order_Request_Criteria`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PurchaseOrderCriteria {
    /// `Supplier_Reference` (`Supplier_ID`), any of these.
    pub supplier_ids: Vec<String>,
    /// `Purchase_Order_Date_On_or_After` (the PO's document date).
    pub po_date_from: Option<NaiveDate>,
    /// `Purchase_Order_Date_On_or_Before`.
    pub po_date_to: Option<NaiveDate>,
    /// `Due_Date_On_or_After`.
    pub due_date_from: Option<NaiveDate>,
    /// `Due_Date_On_or_Before`.
    pub due_date_to: Option<NaiveDate>,
    /// `Updated_From_Date`.
    pub updated_from: Option<DateTime<Utc>>,
    /// `Updated_To_Date`.
    pub updated_to: Option<DateTime<Utc>>,
}

/// `Get_Payments`: by payment reference (`Payment_WWS_Reference`) or by criteria.
#[derive(Debug, Clone, PartialEq)]
pub enum PaymentQuery {
    /// Payments by reference. `Payment_WWS_Reference` is a `Reporting_Transaction` reference whose ID types
    /// are not published in the material read; `WID` is the one every Workday reference accepts, and what
    /// [`PaymentQuery::by_wid`] sends.
    ByReference(IdLookup),
    /// Payments matching criteria (`General_Payment_Criteria`).
    Criteria(PaymentCriteria),
}

/// Criteria of `Get_Payments` (`Request_Criteria/General_Payment_Criteria`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PaymentCriteria {
    /// `Payee_Reference` (`Supplier_ID`), any of these.
    pub payee_supplier_ids: Vec<String>,
    /// `Company_Reference` (`Company_Reference_ID`).
    pub company_id: Option<String>,
    /// `Payment_Date_on_Date_Or_After`.
    pub payment_date_from: Option<NaiveDate>,
    /// `Payment_Date_on_Date_Or_Before`.
    pub payment_date_to: Option<NaiveDate>,
}

impl SupplierQuery {
    /// Suppliers by `Supplier_ID`.
    pub fn by_id<I: IntoIterator<Item = S>, S: Into<String>>(ids: I) -> Self {
        Self::ByReference(IdLookup::new("Supplier_ID", ids))
    }

    /// Every supplier.
    pub fn all() -> Self {
        Self::Criteria(SupplierCriteria::default())
    }
}

impl InvoiceQuery {
    /// Invoices by `Supplier_Invoice_Reference_ID` (the `Supplier_Invoice_ID`).
    pub fn by_reference_id<I: IntoIterator<Item = S>, S: Into<String>>(ids: I) -> Self {
        Self::ByReference(IdLookup::new("Supplier_Invoice_Reference_ID", ids))
    }

    /// The invoices of one supplier.
    pub fn for_supplier(supplier_id: impl Into<String>) -> Self {
        Self::Criteria(InvoiceCriteria {
            supplier_ids: vec![supplier_id.into()],
            ..Default::default()
        })
    }
}

impl AdjustmentQuery {
    /// Adjustments by `Supplier_Invoice_Adjustment_Reference_ID`.
    pub fn by_reference_id<I: IntoIterator<Item = S>, S: Into<String>>(ids: I) -> Self {
        Self::ByReference(IdLookup::new(
            "Supplier_Invoice_Adjustment_Reference_ID",
            ids,
        ))
    }

    /// The adjustments of one supplier.
    pub fn for_supplier(supplier_id: impl Into<String>) -> Self {
        Self::Criteria(AdjustmentCriteria {
            supplier_ids: vec![supplier_id.into()],
            ..Default::default()
        })
    }
}

impl PurchaseOrderQuery {
    /// Purchase orders by `Document_Number`.
    pub fn by_document_number<I: IntoIterator<Item = S>, S: Into<String>>(numbers: I) -> Self {
        Self::ByReference(IdLookup::new("Document_Number", numbers))
    }
}

impl PaymentQuery {
    /// Payments by Workday ID: the one reference form every Workday object accepts.
    pub fn by_wid<I: IntoIterator<Item = S>, S: Into<String>>(wids: I) -> Self {
        Self::ByReference(IdLookup::new("WID", wids))
    }

    /// The payments to one supplier.
    pub fn for_supplier(supplier_id: impl Into<String>) -> Self {
        Self::Criteria(PaymentCriteria {
            payee_supplier_ids: vec![supplier_id.into()],
            ..Default::default()
        })
    }
}

impl IdLookup {
    /// IDs of one type.
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(id_type: &str, values: I) -> Self {
        Self {
            id_type: id_type.to_string(),
            values: values.into_iter().map(Into::into).collect(),
        }
    }
}

/// A query that selects the records of one operation.
pub trait SoapQuery {
    /// The operation it is sent with.
    const OPERATION: Operation;
    /// The record type of the response.
    type Record: crate::workday::decode::Record;
    /// Writes `Request_References` or `Request_Criteria` (in schema order).
    fn write_selection(&self, w: &mut XmlOut);
    /// Writes `Response_Group`'s content: only the flags the operation's `*_Response_GroupType` has.
    fn write_response_group(&self, w: &mut XmlOut);
}

impl SoapQuery for SupplierQuery {
    type Record = crate::workday::model::Supplier;
    const OPERATION: Operation = Operation::GetSuppliers;
    fn write_selection(&self, w: &mut XmlOut) {
        match self {
            Self::ByReference(l) => w.references("Supplier_Reference", l),
            Self::Criteria(c) => {
                // Supplier_Request_CriteriaType: Updated_From_Date, Updated_To_Date,
                // Supplier_Status_Reference*, Supplier_Category_Reference*, ...
                w.open("Request_Criteria");
                w.opt_datetime("Updated_From_Date", c.updated_from);
                w.opt_datetime("Updated_To_Date", c.updated_to);
                if let Some(s) = &c.status {
                    w.reference(
                        "Supplier_Status_Reference",
                        "Business_Entity_Status_Value_ID",
                        s,
                    );
                }
                w.close("Request_Criteria");
            }
        }
    }
    fn write_response_group(&self, w: &mut XmlOut) {
        // Supplier_Response_GroupType: Include_Reference, Include_Attachment_Data.
        w.leaf("Include_Reference", "true");
    }
}

impl SoapQuery for InvoiceQuery {
    type Record = crate::workday::model::SupplierInvoice;
    const OPERATION: Operation = Operation::GetSupplierInvoices;
    fn write_selection(&self, w: &mut XmlOut) {
        match self {
            Self::ByReference(l) => w.references("Supplier_Invoice_Reference", l),
            Self::Criteria(c) => {
                // Supplier_Invoice_Request_CriteriaType: Supplier_Reference*, Company_Reference*,
                // Supplier_Status_Reference*, Invoice_Date_On_or_After, Invoice_Date_On_or_Before,
                // Purchase_Order_Reference, ..., Invoice_Due_Date_On_or_After, Invoice_Due_Date_On_or_Before, ...
                w.open("Request_Criteria");
                for id in &c.supplier_ids {
                    w.reference("Supplier_Reference", "Supplier_ID", id);
                }
                if let Some(id) = &c.company_id {
                    w.reference("Company_Reference", "Company_Reference_ID", id);
                }
                w.opt_date("Invoice_Date_On_or_After", c.invoice_date_from);
                w.opt_date("Invoice_Date_On_or_Before", c.invoice_date_to);
                if let Some(po) = &c.po_number {
                    w.reference("Purchase_Order_Reference", "Document_Number", po);
                }
                w.opt_date("Invoice_Due_Date_On_or_After", c.due_date_from);
                w.opt_date("Invoice_Due_Date_On_or_Before", c.due_date_to);
                w.close("Request_Criteria");
            }
        }
    }
    fn write_response_group(&self, w: &mut XmlOut) {
        // Supplier_Invoice_Response_GroupType: Include_Reference, Include_Attachment_Data.
        w.leaf("Include_Reference", "true");
    }
}

impl SoapQuery for AdjustmentQuery {
    type Record = crate::workday::model::SupplierInvoiceAdjustment;
    const OPERATION: Operation = Operation::GetSupplierInvoiceAdjustments;
    fn write_selection(&self, w: &mut XmlOut) {
        match self {
            Self::ByReference(l) => w.references("Supplier_Invoice_Adjustment_Reference", l),
            Self::Criteria(c) => {
                // Supplier_Invoice_Adjustment_Request_CriteriaType: Company_Reference*, Supplier_Reference*,
                // Supplier_Status_Reference*, Invoice_Date_On_or_After, Invoice_Date_On_or_Before, ...
                // (unlike the invoice criteria, the company comes first).
                w.open("Request_Criteria");
                if let Some(id) = &c.company_id {
                    w.reference("Company_Reference", "Company_Reference_ID", id);
                }
                for id in &c.supplier_ids {
                    w.reference("Supplier_Reference", "Supplier_ID", id);
                }
                w.opt_date("Invoice_Date_On_or_After", c.date_from);
                w.opt_date("Invoice_Date_On_or_Before", c.date_to);
                w.close("Request_Criteria");
            }
        }
    }
    fn write_response_group(&self, w: &mut XmlOut) {
        // Supplier_Invoice_Adjustment_Response_GroupType: Include_Reference, Include_Attachment_Data.
        w.leaf("Include_Reference", "true");
    }
}

impl SoapQuery for PurchaseOrderQuery {
    type Record = crate::workday::model::PurchaseOrder;
    const OPERATION: Operation = Operation::GetPurchaseOrders;
    fn write_selection(&self, w: &mut XmlOut) {
        match self {
            Self::ByReference(l) => w.references("Purchase_Order_Reference", l),
            Self::Criteria(c) => {
                // Purchase_Order_Request_CriteriaType: Organization_Reference*, Supplier_Reference*,
                // Purchase_Order_Number, Purchase_Order_Date_On_or_After, Purchase_Order_Date_On_or_Before,
                // Due_Date_On_or_After, Due_Date_On_or_Before, Updated_From_Date, Updated_To_Date, ...
                w.open("Request_Criteria");
                for id in &c.supplier_ids {
                    w.reference("Supplier_Reference", "Supplier_ID", id);
                }
                w.opt_date("Purchase_Order_Date_On_or_After", c.po_date_from);
                w.opt_date("Purchase_Order_Date_On_or_Before", c.po_date_to);
                w.opt_date("Due_Date_On_or_After", c.due_date_from);
                w.opt_date("Due_Date_On_or_Before", c.due_date_to);
                w.opt_datetime("Updated_From_Date", c.updated_from);
                w.opt_datetime("Updated_To_Date", c.updated_to);
                w.close("Request_Criteria");
            }
        }
    }
    fn write_response_group(&self, w: &mut XmlOut) {
        // Purchase_Order_Response_GroupType: Include_Reference, Include_Attachment_Data.
        w.leaf("Include_Reference", "true");
    }
}

impl SoapQuery for PaymentQuery {
    type Record = crate::workday::model::Payment;
    const OPERATION: Operation = Operation::GetPayments;
    fn write_selection(&self, w: &mut XmlOut) {
        match self {
            // Payments_Request_ReferencesType holds Payment_WWS_Reference (a Reporting_Transaction reference).
            Self::ByReference(l) => w.references("Payment_WWS_Reference", l),
            Self::Criteria(c) => {
                // General_Payment_CriteriaType: Company_Reference*, Bank_Account_Reference*,
                // Payment_Category_Reference*, Payee_Reference*, ..., Payment_Date_on_Date_Or_After,
                // Payment_Date_on_Date_Or_Before, ...
                w.open("Request_Criteria");
                w.open("General_Payment_Criteria");
                if let Some(id) = &c.company_id {
                    w.reference("Company_Reference", "Company_Reference_ID", id);
                }
                for id in &c.payee_supplier_ids {
                    w.reference("Payee_Reference", "Supplier_ID", id);
                }
                w.opt_date("Payment_Date_on_Date_Or_After", c.payment_date_from);
                w.opt_date("Payment_Date_on_Date_Or_Before", c.payment_date_to);
                w.close("General_Payment_Criteria");
                w.close("Request_Criteria");
            }
        }
    }
    fn write_response_group(&self, w: &mut XmlOut) {
        // Payments_Response_GroupType: Include_Reference, Include_Originating_Bank_Data,
        // Include_Payroll_Remittance_Data, Include_Payment_Group_Data, Include_Payroll_Result_Country_Data.
        // Payment_Group_Data holds the payment date, currency and type.
        w.leaf("Include_Reference", "true");
        w.leaf("Include_Payment_Group_Data", "true");
    }
}

/// Who is calling: `{user}@{tenant}` and the password, for the WS-Security header.
#[derive(Debug, Clone)]
pub struct SoapCredentials {
    /// Integration system user, without `@tenant`.
    pub username: String,
    /// Workday tenant name.
    pub tenant: String,
    /// Password (PasswordText).
    pub password: SecretString,
}

/// One page request: which page, how many records, and the pinned as-of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// 1-based page number.
    pub page: u32,
    /// `Count`, 1–999.
    pub count: u32,
    /// `As_Of_Entry_DateTime`, the same for every page of a walk.
    pub as_of: DateTime<Utc>,
}

/// Writes the whole SOAP request. The result holds the password: send it, never log it.
pub fn envelope<Q: SoapQuery>(
    query: &Q,
    version: &str,
    credentials: &SoapCredentials,
    page: &PageRequest,
) -> Result<Vec<u8>, String> {
    if page.count == 0 || page.count > MAX_SOAP_PAGE_SIZE {
        return Err(format!(
            "Count must be between 1 and 999, got {}",
            page.count
        ));
    }
    if page.page == 0 {
        return Err("Page starts at 1".into());
    }
    let mut w = XmlOut::with_capacity(2048);
    w.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    w.raw(&format!(
        "<soapenv:Envelope xmlns:soapenv=\"{SOAP_ENV_NS}\" xmlns:bsvc=\"{BSVC_NS}\">"
    ));
    w.raw("<soapenv:Header>");
    w.raw(&format!(
        "<wsse:Security soapenv:mustUnderstand=\"1\" xmlns:wsse=\"{WSSE_NS}\"><wsse:UsernameToken>"
    ));
    w.raw("<wsse:Username>");
    w.text(&format!("{}@{}", credentials.username, credentials.tenant));
    w.raw("</wsse:Username>");
    w.raw(&format!("<wsse:Password Type=\"{PASSWORD_TEXT}\">"));
    w.text(credentials.password.expose_secret());
    w.raw("</wsse:Password></wsse:UsernameToken></wsse:Security>");
    // Workday_Common_HeaderType: references in the answer carry their display names.
    w.open("Workday_Common_Header");
    w.leaf("Include_Reference_Descriptors_In_Response", "true");
    w.close("Workday_Common_Header");
    w.raw("</soapenv:Header><soapenv:Body>");
    let request = Q::OPERATION.request_element();
    w.raw(&format!("<bsvc:{request} bsvc:version=\""));
    w.text(version);
    w.raw("\">");
    query.write_selection(&mut w);
    w.open("Response_Filter");
    w.leaf(
        "As_Of_Entry_DateTime",
        &page.as_of.to_rfc3339_opts(SecondsFormat::Millis, true),
    );
    w.leaf("Page", &page.page.to_string());
    w.leaf("Count", &page.count.to_string());
    w.close("Response_Filter");
    w.open("Response_Group");
    query.write_response_group(&mut w);
    w.close("Response_Group");
    w.raw(&format!(
        "</bsvc:{request}></soapenv:Body></soapenv:Envelope>"
    ));
    Ok(w.into_bytes())
}

/// A small XML writer for `bsvc:` elements (escapes text; element names are trusted constants).
#[derive(Debug)]
pub struct XmlOut {
    buf: String,
}

impl XmlOut {
    fn with_capacity(n: usize) -> Self {
        Self {
            buf: String::with_capacity(n),
        }
    }

    fn raw(&mut self, s: &str) {
        self.buf.push_str(s);
    }

    fn text(&mut self, s: &str) {
        self.buf.push_str(&escape(s));
    }

    /// `<bsvc:name>`.
    pub fn open(&mut self, name: &str) {
        self.buf.push_str("<bsvc:");
        self.buf.push_str(name);
        self.buf.push('>');
    }

    /// `</bsvc:name>`.
    pub fn close(&mut self, name: &str) {
        self.buf.push_str("</bsvc:");
        self.buf.push_str(name);
        self.buf.push('>');
    }

    /// `<bsvc:name>value</bsvc:name>`.
    pub fn leaf(&mut self, name: &str, value: &str) {
        self.open(name);
        self.text(value);
        self.close(name);
    }

    fn opt_date(&mut self, name: &str, value: Option<NaiveDate>) {
        if let Some(d) = value {
            self.leaf(name, &d.format("%Y-%m-%d").to_string());
        }
    }

    fn opt_datetime(&mut self, name: &str, value: Option<DateTime<Utc>>) {
        if let Some(t) = value {
            self.leaf(name, &t.to_rfc3339_opts(SecondsFormat::Secs, true));
        }
    }

    /// `<bsvc:name><bsvc:ID bsvc:type="id_type">value</bsvc:ID></bsvc:name>`.
    pub fn reference(&mut self, name: &str, id_type: &str, value: &str) {
        self.open(name);
        self.buf.push_str("<bsvc:ID bsvc:type=\"");
        self.text(id_type);
        self.buf.push_str("\">");
        self.text(value);
        self.buf.push_str("</bsvc:ID>");
        self.close(name);
    }

    fn references(&mut self, name: &str, lookup: &IdLookup) {
        self.open("Request_References");
        for v in &lookup.values {
            self.reference(name, &lookup.id_type, v);
        }
        self.close("Request_References");
    }

    fn into_bytes(self) -> Vec<u8> {
        self.buf.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> SoapCredentials {
        SoapCredentials {
            username: "isu_mlc".into(),
            tenant: "acme_dpt1".into(),
            password: SecretString::from("p<&>ss"),
        }
    }

    fn page() -> PageRequest {
        PageRequest {
            page: 2,
            count: 999,
            as_of: "2024-05-01T12:00:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn envelope_carries_security_version_and_filter() {
        let body = envelope(
            &SupplierQuery::by_id(["S-1", "S-2"]),
            "v46.1",
            &creds(),
            &page(),
        )
        .unwrap();
        let s = String::from_utf8(body).unwrap();
        assert!(
            s.contains("<wsse:Username>isu_mlc@acme_dpt1</wsse:Username>"),
            "{s}"
        );
        assert!(
            s.contains("#PasswordText\">p&lt;&amp;&gt;ss</wsse:Password>"),
            "{s}"
        );
        assert!(s.contains("<bsvc:Get_Suppliers_Request bsvc:version=\"v46.1\">"));
        assert!(
            s.contains("</wsse:Security><bsvc:Workday_Common_Header><bsvc:Include_Reference_Descriptors_In_Response>true</bsvc:Include_Reference_Descriptors_In_Response></bsvc:Workday_Common_Header></soapenv:Header>"),
            "{s}"
        );
        assert!(s.contains("<bsvc:ID bsvc:type=\"Supplier_ID\">S-2</bsvc:ID>"));
        assert!(s.contains("<bsvc:As_Of_Entry_DateTime>2024-05-01T12:00:00.000Z</bsvc:As_Of_Entry_DateTime><bsvc:Page>2</bsvc:Page><bsvc:Count>999</bsvc:Count>"));
        // Well-formed and namespaced as Workday expects.
        let mut r = quick_xml::NsReader::from_str(&s);
        while r.read_event().unwrap() != quick_xml::events::Event::Eof {}
    }

    #[test]
    fn count_above_999_is_refused_before_sending() {
        let p = PageRequest {
            count: 1000,
            ..page()
        };
        assert!(envelope(&SupplierQuery::all(), "v46.1", &creds(), &p).is_err());
    }

    /// The local names of the children of the first `{bsvc}parent` in `xml`, in document order.
    fn children_of(xml: &str, parent: &str) -> Vec<String> {
        use quick_xml::events::Event;
        let mut r = quick_xml::NsReader::from_str(xml);
        let mut depth_in: Option<usize> = None;
        let mut depth = 0usize;
        let mut out = Vec::new();
        loop {
            match r.read_event().unwrap() {
                Event::Start(e) => {
                    depth += 1;
                    let name = String::from_utf8(e.local_name().as_ref().to_vec()).unwrap();
                    match depth_in {
                        Some(d) if depth == d + 1 => out.push(name),
                        None if name == parent => depth_in = Some(depth),
                        _ => {}
                    }
                }
                Event::End(_) => {
                    if depth_in == Some(depth) {
                        return out;
                    }
                    depth -= 1;
                }
                Event::Eof => return out,
                _ => {}
            }
        }
    }

    fn sent<Q: SoapQuery>(q: &Q) -> String {
        String::from_utf8(envelope(q, "v46.1", &creds(), &page()).unwrap()).unwrap()
    }

    #[test]
    fn response_groups_only_carry_flags_the_schema_has() {
        for s in [
            sent(&SupplierQuery::all()),
            sent(&InvoiceQuery::for_supplier("S-1")),
            sent(&PurchaseOrderQuery::by_document_number(["PO-1"])),
            sent(&AdjustmentQuery::for_supplier("S-1")),
        ] {
            assert_eq!(children_of(&s, "Response_Group"), ["Include_Reference"]);
        }
        assert_eq!(
            children_of(&sent(&PaymentQuery::for_supplier("S-1")), "Response_Group"),
            ["Include_Reference", "Include_Payment_Group_Data"]
        );
    }

    #[test]
    fn criteria_follow_the_schema_sequence() {
        let d = |s: &str| Some(s.parse::<NaiveDate>().unwrap());
        let t = |s: &str| Some(s.parse::<DateTime<Utc>>().unwrap());
        let invoices = InvoiceQuery::Criteria(InvoiceCriteria {
            supplier_ids: vec!["S-1".into(), "S-2".into()],
            company_id: Some("UK01".into()),
            invoice_date_from: d("2024-01-01"),
            invoice_date_to: d("2024-02-01"),
            due_date_from: d("2024-03-01"),
            due_date_to: d("2024-04-01"),
            po_number: Some("PO-1".into()),
        });
        assert_eq!(
            children_of(&sent(&invoices), "Request_Criteria"),
            [
                "Supplier_Reference",
                "Supplier_Reference",
                "Company_Reference",
                "Invoice_Date_On_or_After",
                "Invoice_Date_On_or_Before",
                "Purchase_Order_Reference",
                "Invoice_Due_Date_On_or_After",
                "Invoice_Due_Date_On_or_Before",
            ]
        );
        let adjustments = AdjustmentQuery::Criteria(AdjustmentCriteria {
            company_id: Some("UK01".into()),
            supplier_ids: vec!["S-1".into()],
            date_from: d("2024-01-01"),
            date_to: d("2024-02-01"),
        });
        assert_eq!(
            children_of(&sent(&adjustments), "Request_Criteria"),
            [
                "Company_Reference",
                "Supplier_Reference",
                "Invoice_Date_On_or_After",
                "Invoice_Date_On_or_Before",
            ]
        );
        let pos = PurchaseOrderQuery::Criteria(PurchaseOrderCriteria {
            supplier_ids: vec!["S-1".into()],
            po_date_from: d("2024-01-01"),
            po_date_to: d("2024-02-01"),
            due_date_from: d("2024-03-01"),
            due_date_to: d("2024-04-01"),
            updated_from: t("2024-01-01T00:00:00Z"),
            updated_to: t("2024-05-01T00:00:00Z"),
        });
        assert_eq!(
            children_of(&sent(&pos), "Request_Criteria"),
            [
                "Supplier_Reference",
                "Purchase_Order_Date_On_or_After",
                "Purchase_Order_Date_On_or_Before",
                "Due_Date_On_or_After",
                "Due_Date_On_or_Before",
                "Updated_From_Date",
                "Updated_To_Date",
            ]
        );
        let suppliers = SupplierQuery::Criteria(SupplierCriteria {
            updated_from: t("2024-01-01T00:00:00Z"),
            updated_to: t("2024-05-01T00:00:00Z"),
            status: Some("ACTIVE".into()),
        });
        assert_eq!(
            children_of(&sent(&suppliers), "Request_Criteria"),
            [
                "Updated_From_Date",
                "Updated_To_Date",
                "Supplier_Status_Reference"
            ]
        );
        let payments = PaymentQuery::Criteria(PaymentCriteria {
            payee_supplier_ids: vec!["S-1".into()],
            company_id: Some("UK01".into()),
            payment_date_from: d("2024-01-01"),
            payment_date_to: d("2024-02-01"),
        });
        assert_eq!(
            children_of(&sent(&payments), "General_Payment_Criteria"),
            [
                "Company_Reference",
                "Payee_Reference",
                "Payment_Date_on_Date_Or_After",
                "Payment_Date_on_Date_Or_Before",
            ]
        );
    }

    #[test]
    fn payments_by_reference_use_payment_wws_reference() {
        let s = sent(&PaymentQuery::by_wid(["0400000000f63a095145b185c0a79a0f"]));
        assert_eq!(
            children_of(&s, "Request_References"),
            ["Payment_WWS_Reference"]
        );
        assert!(s.contains("<bsvc:Payment_WWS_Reference><bsvc:ID bsvc:type=\"WID\">0400000000f63a095145b185c0a79a0f</bsvc:ID></bsvc:Payment_WWS_Reference>"), "{s}");
    }

    #[test]
    fn payment_criteria_nest_in_general_payment_criteria() {
        let q = PaymentQuery::Criteria(PaymentCriteria {
            payee_supplier_ids: vec!["S-9".into()],
            payment_date_from: Some("2024-01-01".parse().unwrap()),
            ..Default::default()
        });
        let s = String::from_utf8(envelope(&q, "v46.1", &creds(), &page()).unwrap()).unwrap();
        assert!(s.contains("<bsvc:Request_Criteria><bsvc:General_Payment_Criteria><bsvc:Payee_Reference><bsvc:ID bsvc:type=\"Supplier_ID\">S-9</bsvc:ID></bsvc:Payee_Reference><bsvc:Payment_Date_on_Date_Or_After>2024-01-01</bsvc:Payment_Date_on_Date_Or_After></bsvc:General_Payment_Criteria></bsvc:Request_Criteria>"), "{s}");
    }
}
