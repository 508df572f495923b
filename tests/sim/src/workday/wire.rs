//! Writing Workday SOAP responses and faults the way Workday does: SOAP 1.1 envelope, `wd:` prefix for
//! `urn:com.workday/bsvc`, namespace-qualified attributes (`wd:type`, `wd:Descriptor`), dates with the
//! tenant's zone offset. References carry their `wd:Descriptor` (display name) only when the request's
//! `Workday_Common_Header/Include_Reference_Descriptors_In_Response` asked for them.

use std::fmt::Write as _;

use chrono::{DateTime, FixedOffset, NaiveDate, Offset as _, Utc};
use rust_decimal::Decimal;

use super::data::{
    Adjustment, COMPANIES, Invoice, Payment, PurchaseOrder, RemittanceStyle, Supplier, Universe,
};
use super::parse::Node;
use super::schema::Generation;

/// SOAP 1.1 envelope namespace.
pub const SOAP_ENV: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// Workday's namespace.
pub const WD: &str = "urn:com.workday/bsvc";
/// The zone suffix Workday puts on `xsd:date` values of this (Pacific) tenant.
const ZONE: &str = "-07:00";

/// An XML text builder with escaping.
#[derive(Debug, Default)]
pub struct Xml {
    buf: String,
    descriptors: bool,
}

fn esc_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#xa;"),
            _ => out.push(c),
        }
    }
}

impl Xml {
    /// With room for `n` bytes.
    pub fn with_capacity(n: usize) -> Self {
        Self {
            buf: String::with_capacity(n),
            descriptors: false,
        }
    }

    /// Whether [`Self::reference`] writes `wd:Descriptor` (off unless the request asked for descriptors).
    pub fn descriptors(mut self, on: bool) -> Self {
        self.descriptors = on;
        self
    }

    /// Appends markup as is.
    pub fn raw(&mut self, s: &str) -> &mut Self {
        self.buf.push_str(s);
        self
    }

    /// Appends escaped text.
    pub fn text(&mut self, s: &str) -> &mut Self {
        esc_into(&mut self.buf, s);
        self
    }

    /// `<wd:name>text</wd:name>`.
    pub fn el(&mut self, name: &str, text: &str) -> &mut Self {
        let _ = write!(self.buf, "<wd:{name}>");
        self.text(text);
        let _ = write!(self.buf, "</wd:{name}>");
        self
    }

    /// `<wd:name>` with attributes `wd:k="v"`.
    pub fn open_attrs(&mut self, name: &str, attrs: &[(&str, &str)]) -> &mut Self {
        let _ = write!(self.buf, "<wd:{name}");
        for (k, v) in attrs {
            let _ = write!(self.buf, " wd:{k}=\"");
            esc_into(&mut self.buf, v);
            self.buf.push('"');
        }
        self.buf.push('>');
        self
    }

    /// `<wd:name>`.
    pub fn open(&mut self, name: &str) -> &mut Self {
        let _ = write!(self.buf, "<wd:{name}>");
        self
    }

    /// `</wd:name>`.
    pub fn close(&mut self, name: &str) -> &mut Self {
        let _ = write!(self.buf, "</wd:{name}>");
        self
    }

    /// A reference with its IDs, and its descriptor when descriptors were asked for.
    pub fn reference(&mut self, name: &str, descriptor: &str, ids: &[(&str, &str)]) -> &mut Self {
        if self.descriptors {
            self.open_attrs(name, &[("Descriptor", descriptor)]);
        } else {
            self.open(name);
        }
        for (t, v) in ids {
            self.buf.push_str("<wd:ID wd:type=\"");
            esc_into(&mut self.buf, t);
            self.buf.push_str("\">");
            esc_into(&mut self.buf, v);
            self.buf.push_str("</wd:ID>");
        }
        self.close(name)
    }

    /// An amount with two decimals.
    pub fn amount(&mut self, name: &str, d: Decimal) -> &mut Self {
        self.el(name, &format!("{d:.2}"))
    }

    /// An `xsd:date` with the tenant's zone.
    pub fn date(&mut self, name: &str, d: NaiveDate) -> &mut Self {
        self.el(name, &date_text(d))
    }

    /// A request element written back in the `wd` prefix (its Workday-namespace attributes too). With
    /// `booleans`, leaf values `true`/`false` are written as Workday answers booleans, `1`/`0`.
    pub fn node(&mut self, n: &Node, booleans: bool) -> &mut Self {
        let attrs: Vec<(&str, &str)> = n
            .attrs
            .iter()
            .filter(|(ns, _, _)| ns == WD)
            .map(|(_, k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.open_attrs(&n.name, &attrs);
        if n.children.is_empty() {
            match (booleans, n.text.as_str()) {
                (true, "true") => self.raw("1"),
                (true, "false") => self.raw("0"),
                (_, t) => self.text(t),
            };
        }
        for c in n.children.iter().filter(|c| c.ns == WD) {
            self.node(c, booleans);
        }
        self.close(&n.name)
    }

    /// The text built so far.
    pub fn finish(self) -> String {
        self.buf
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
}

/// `Response_Results`.
#[derive(Debug, Clone, Copy)]
pub struct Results {
    /// Total_Results.
    pub total_results: u64,
    /// Total_Pages.
    pub total_pages: u64,
    /// Page_Results.
    pub page_results: u64,
    /// Page.
    pub page: u64,
}

/// What a response echoes of its request.
#[derive(Debug)]
pub struct Echo<'a> {
    /// The request's `Request_References` or `Request_Criteria`.
    pub selection: Option<&'a Node>,
    /// `Response_Filter` as in force: (element, value) in schema order.
    pub filter: &'a [(&'a str, String)],
    /// The request's `Response_Group`.
    pub group: Option<&'a Node>,
}

/// Starts `{op}_Response` up to (not including) `Response_Data`: the echo of the request, then
/// `Response_Results` (the order of `Get_*_ResponseType`).
pub fn response_head(x: &mut Xml, op: &str, version: &str, echo: &Echo<'_>, results: Results) {
    x.raw("<?xml version='1.0' encoding='UTF-8'?>");
    let _ = write!(
        x.buf,
        "<env:Envelope xmlns:env=\"{SOAP_ENV}\"><env:Body><wd:{op}_Response xmlns:wd=\"{WD}\" wd:version=\""
    );
    x.text(version);
    x.raw("\">");
    if let Some(sel) = echo.selection {
        x.node(sel, false);
    }
    x.open("Response_Filter");
    for (k, v) in echo.filter {
        x.el(k, v);
    }
    x.close("Response_Filter");
    if let Some(group) = echo.group {
        x.node(group, true);
    }
    x.open("Response_Results");
    x.el("Total_Results", &results.total_results.to_string());
    x.el("Total_Pages", &results.total_pages.to_string());
    x.el("Page_Results", &results.page_results.to_string());
    x.el("Page", &results.page.to_string());
    x.close("Response_Results");
}

/// An `xsd:date` as this tenant writes it (`2024-06-15-07:00`).
pub fn date_text(d: NaiveDate) -> String {
    format!("{}{ZONE}", d.format("%Y-%m-%d"))
}

/// An `xsd:dateTime` in the tenant's zone, milliseconds (`2024-06-15T01:00:00.000-07:00`).
pub fn datetime_text(t: DateTime<Utc>) -> String {
    let zone = FixedOffset::west_opt(7 * 3600).unwrap_or_else(|| Utc.fix());
    t.with_timezone(&zone)
        .format("%Y-%m-%dT%H:%M:%S%.3f%:z")
        .to_string()
}

/// Ends `{op}_Response` and the envelope.
pub fn response_tail(x: &mut Xml, op: &str) {
    let _ = write!(x.buf, "</wd:{op}_Response></env:Body></env:Envelope>");
}

/// One validation error of a fault.
#[derive(Debug, Clone)]
pub struct Invalid {
    /// Message.
    pub message: String,
    /// Detail_Message.
    pub detail: String,
    /// Xpath.
    pub xpath: String,
}

/// A SOAP fault as Workday writes it.
pub fn fault(
    code: &str,
    message: &str,
    validation: &[Invalid],
    processing_detail: Option<&str>,
) -> String {
    let mut x = Xml::with_capacity(1024);
    x.raw("<?xml version='1.0' encoding='UTF-8'?>");
    let _ = write!(
        x.buf,
        "<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"{SOAP_ENV}\"><SOAP-ENV:Body><SOAP-ENV:Fault xmlns:wd=\"{WD}\"><faultcode>SOAP-ENV:{code}</faultcode><faultstring>"
    );
    x.text(message);
    x.raw("</faultstring>");
    if !validation.is_empty() {
        x.raw("<detail>").open("Validation_Fault");
        for v in validation {
            x.open("Validation_Error")
                .el("Message", &v.message)
                .el("Detail_Message", &v.detail)
                .el("Xpath", &v.xpath)
                .close("Validation_Error");
        }
        x.close("Validation_Fault").raw("</detail>");
    } else if let Some(d) = processing_detail {
        x.raw("<detail>")
            .open("Processing_Fault")
            .el("Detail_Message", d)
            .close("Processing_Fault")
            .raw("</detail>");
    }
    x.raw("</SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>");
    x.finish()
}

fn company_ref(x: &mut Xml, u: &Universe, company: usize) {
    let (id, name, _) = COMPANIES[company];
    let wid = u.other_wid(id);
    x.reference(
        "Company_Reference",
        name,
        &[("WID", &wid), ("Company_Reference_ID", id)],
    );
}

fn currency_ref(x: &mut Xml, currency: &str) {
    let numeric = match currency {
        "USD" => "840",
        "EUR" => "978",
        "GBP" => "826",
        _ => "124",
    };
    x.reference(
        "Currency_Reference",
        currency,
        &[
            ("Currency_ID", currency),
            ("Currency_Numeric_Code", numeric),
        ],
    );
}

fn supplier_ref(x: &mut Xml, s: &Supplier) {
    x.reference(
        "Supplier_Reference",
        &s.name,
        &[("WID", &s.wid), ("Supplier_ID", &s.id)],
    );
}

/// How a supplier is written.
#[derive(Debug, Clone, Copy)]
pub struct SupplierShape {
    /// Its own `Supplier_Reference`.
    pub with_reference: bool,
    /// The version's record shape.
    pub generation: Generation,
    /// Written without any `Supplier_ID` (an odd record a real tenant can hold: clients must get past it).
    pub without_id: bool,
}

/// One `wd:Supplier`, in `Supplier_DataType` order. The tax ID is in `Tax_ID_Widget_Data/Tax_ID_Data` from
/// v40 on; before, in `Tax_ID_Data` and `Business_Entity_Tax_ID`.
pub fn supplier(x: &mut Xml, u: &Universe, s: &Supplier, shape: SupplierShape) {
    x.open("Supplier");
    if shape.with_reference {
        if shape.without_id {
            x.reference("Supplier_Reference", &s.name, &[("WID", &s.wid)]);
        } else {
            supplier_ref(x, s);
        }
    }
    x.open("Supplier_Data");
    if !shape.without_id {
        x.el("Supplier_ID", &s.id)
            .el("Supplier_Reference_ID", &s.id);
    }
    x.el("Supplier_Name", &s.name).el("Worktag_Only", "0");
    // Tax_ID_DataType: Tax_ID_Text, Tax_ID_Type_Reference, Transaction_Tax_ID, Primary_Tax_ID.
    let tax_id = |x: &mut Xml| {
        x.open("Tax_ID_Data").el("Tax_ID_Text", &s.tax_id);
        x.reference(
            "Tax_ID_Type_Reference",
            "Employer Identification Number",
            &[("Tax_ID_Type_ID", "EIN")],
        );
        x.el("Transaction_Tax_ID", "0")
            .el("Primary_Tax_ID", "1")
            .close("Tax_ID_Data");
    };
    match shape.generation {
        Generation::V40 => {
            x.open("Tax_ID_Widget_Data");
            tax_id(x);
            x.close("Tax_ID_Widget_Data");
        }
        Generation::V28 => tax_id(x),
    }
    let cat_wid = u.other_wid(s.category.0);
    x.reference(
        "Supplier_Category_Reference",
        s.category.1,
        &[("WID", &cat_wid), ("Supplier_Category_ID", s.category.0)],
    );
    x.reference(
        "Payment_Terms_Reference",
        s.terms.1,
        &[("Payment_Terms_ID", s.terms.0)],
    );
    business_entity(x, s, shape.generation);
    x.open("Supplier_Status_Data");
    let status_name = if s.status == "ACTIVE" {
        "Active"
    } else {
        "Inactive"
    };
    x.reference(
        "Status_Reference",
        status_name,
        &[("Business_Entity_Status_Value_ID", s.status)],
    );
    x.close("Supplier_Status_Data");
    currency_ref(x, s.currency());
    x.close("Supplier_Data").close("Supplier");
}

/// `Business_Entity_Data`: name, tax ID (before v40), external ID, `Contact_Data` (addresses, phone, e-mail,
/// web).
fn business_entity(x: &mut Xml, s: &Supplier, generation: Generation) {
    x.open("Business_Entity_Data")
        .el("Business_Entity_Name", &s.name);
    if generation == Generation::V28 {
        x.el("Business_Entity_Tax_ID", &s.tax_id);
    }
    x.el("External_Entity_ID", &format!("EXT-{}", s.index + 1))
        .open("Contact_Data");
    // The address history as Workday keeps it: the former address first, the current one, then a move that
    // takes effect later. Which one is current is said by the dates, not by the order.
    if let Some((street, since)) = &s.former_address {
        address(x, s, street, None, *since);
    }
    address(x, s, &s.street, s.street2.as_deref(), s.address_since);
    if let Some((street, since)) = &s.upcoming_address {
        address(x, s, street, None, *since);
    }
    phone_email_web(x, s);
    x.close("Contact_Data").close("Business_Entity_Data");
}

/// One `Address_Data` of the supplier's city, effective from `since`.
fn address(x: &mut Xml, s: &Supplier, street: &str, street2: Option<&str>, since: NaiveDate) {
    let city = s.city;
    let mut formatted = street.to_string();
    if let Some(l2) = street2 {
        formatted.push('\n');
        formatted.push_str(l2);
    }
    formatted.push_str(&format!(
        "\n{}, {} {}\n{}",
        city.name, city.region, s.postal_code, city.country
    ));
    let effective = since.format("%Y-%m-%d").to_string();
    x.open_attrs(
        "Address_Data",
        &[
            ("Effective_Date", &effective),
            ("Address_Format_Type", "Basic"),
            ("Formatted_Address", &formatted),
            ("Defaulted_Business_Site_Address", "0"),
        ],
    );
    x.reference(
        "Country_Reference",
        city.country,
        &[
            ("ISO_3166-1_Alpha-2_Code", city.alpha2),
            ("ISO_3166-1_Alpha-3_Code", city.alpha3),
        ],
    );
    x.el(
        "Last_Modified",
        &s.updated_at
            .format("%Y-%m-%dT%H:%M:%S%.3f-07:00")
            .to_string(),
    );
    x.open_attrs(
        "Address_Line_Data",
        &[("Type", "ADDRESS_LINE_1"), ("Descriptor", "Address Line 1")],
    )
    .text(street)
    .close("Address_Line_Data");
    if let Some(l2) = street2 {
        x.open_attrs(
            "Address_Line_Data",
            &[("Type", "ADDRESS_LINE_2"), ("Descriptor", "Address Line 2")],
        )
        .text(l2)
        .close("Address_Line_Data");
    }
    x.el("Municipality", city.name);
    x.reference(
        "Country_Region_Reference",
        city.region,
        &[("Country_Region_ID", city.region_id)],
    );
    x.el("Country_Region_Descriptor", city.region)
        .el("Postal_Code", &s.postal_code);
    x.open_attrs("Usage_Data", &[("Public", "1")])
        .open_attrs("Type_Data", &[("Primary", "1")])
        .reference(
            "Type_Reference",
            "Business",
            &[("Communication_Usage_Type_ID", "BUSINESS")],
        )
        .close("Type_Data")
        .close("Usage_Data")
        .close("Address_Data");
}

/// `Phone_Data`, `Email_Address_Data`, `Web_Address_Data`.
fn phone_email_web(x: &mut Xml, s: &Supplier) {
    let city = s.city;
    let e164 = format!(
        "+{}{}{}",
        city.phone_code,
        s.phone.0,
        s.phone.1.replace('-', "")
    );
    let formatted_phone = format!("+{} ({}) {}", city.phone_code, s.phone.0, s.phone.1);
    x.open_attrs(
        "Phone_Data",
        &[
            ("Area_Code", &s.phone.0),
            ("Phone_Number_Without_Area_Code", &s.phone.1),
            ("E164_Formatted_Phone", &e164),
            ("Formatted_Phone", &formatted_phone),
            ("International_Formatted_Phone", &formatted_phone),
        ],
    )
    .el("Country_ISO_Code", city.alpha3)
    .el("International_Phone_Code", city.phone_code)
    .el("Area_Code", &s.phone.0)
    .el("Phone_Number", &s.phone.1)
    .reference(
        "Phone_Device_Type_Reference",
        "Landline",
        &[("Phone_Device_Type_ID", "Landline")],
    )
    .close("Phone_Data");
    x.open("Email_Address_Data")
        .el("Email_Address", &s.email)
        .close("Email_Address_Data");
    x.open("Web_Address_Data")
        .el("Web_Address", &s.website)
        .close("Web_Address_Data");
}

/// One `wd:Supplier_Invoice`, in `Supplier_Invoice_DataType` order. There is no header-level purchase order
/// reference in the schema: each line that was ordered points at its PO line (`Purchase_Order_Line_Reference`,
/// ID type `Line_Number` with the PO's `Document_Number` as parent). `Suppliers_Invoice_Number` (the supplier's
/// own number) is in the v40 shape only; `Supplier_Invoice_Request_Reference` names the request the invoice was
/// created from.
pub fn invoice(
    x: &mut Xml,
    u: &Universe,
    inv: &Invoice,
    with_reference: bool,
    generation: Generation,
) {
    let s = u.supplier(inv.supplier);
    x.open("Supplier_Invoice");
    if with_reference {
        x.reference(
            "Supplier_Invoice_Reference",
            &format!("Supplier Invoice: {}", inv.invoice_number),
            &[
                ("WID", &inv.wid),
                ("Supplier_Invoice_Reference_ID", &inv.reference_id),
            ],
        );
    }
    x.open("Supplier_Invoice_Data")
        .el("Supplier_Invoice_ID", &inv.reference_id)
        .el("Invoice_Number", &inv.invoice_number);
    let status_name = inv.key.status.replace('_', " ");
    x.reference(
        "Invoice_Document_Status_Reference",
        &status_name,
        &[("Document_Status_ID", inv.key.status)],
    );
    company_ref(x, u, s.company);
    currency_ref(x, s.currency());
    supplier_ref(x, &s);
    x.date("Invoice_Date", inv.key.invoice_date)
        .date("Due_Date_Override", inv.key.due_date)
        .el("On_Hold", if inv.key.on_hold { "1" } else { "0" })
        .amount("Control_Amount_Total", inv.gross)
        .amount("Tax_Amount", inv.tax);
    if generation == Generation::V40 {
        // Newer than the v28 schema: between the supplier reference number and External_PO_Number.
        x.el("Suppliers_Invoice_Number", &inv.supplier_invoice_number);
    }
    x.reference(
        "Supplier_Invoice_Request_Reference",
        &format!("Supplier Invoice Request: {}", inv.supplier_invoice_number),
        &[("WID", &inv.request_wid)],
    );
    if let Some(m) = &inv.memo {
        x.el("Memo", m);
    }
    x.reference(
        "Payment_Terms_Reference",
        s.terms.1,
        &[("Payment_Terms_ID", s.terms.0)],
    );
    x.amount("Gross_Invoice_Amount", inv.gross);
    for (i, l) in inv.lines.iter().enumerate() {
        x.open("Invoice_Line_Replacement_Data")
            .el("Line_Order", &(i + 1).to_string())
            .el("Item_Description", l.description);
        if let Some(po) = &inv.po_number {
            x.open("Purchase_Order_Line_Reference")
                .raw("<wd:ID wd:type=\"Line_Number\" wd:parent_type=\"Document_Number\" wd:parent_id=\"")
                .text(po)
                .raw("\">1</wd:ID>")
                .close("Purchase_Order_Line_Reference");
        }
        x.reference(
            "Spend_Category_Reference",
            l.spend_category.1,
            &[("Spend_Category_ID", l.spend_category.0)],
        );
        x.el("Quantity", &l.quantity.to_string())
            .amount("Unit_Cost", l.unit_cost)
            .amount("Extended_Amount", l.amount);
        x.reference(
            "Worktags_Reference",
            "Cost Center: Finance",
            &[("Cost_Center_Reference_ID", "CC_FINANCE")],
        );
        x.close("Invoice_Line_Replacement_Data");
    }
    x.close("Supplier_Invoice_Data").close("Supplier_Invoice");
}

/// One `wd:Supplier_Invoice_Adjustment` (a credit memo), in `Supplier_Invoice_Adjustment_DataType` order: the
/// original invoice in `Original_Invoice_Reference`, the credit in `Control_Total_Amount` (positive, with
/// `Increase_Liability` false), one line.
pub fn adjustment(
    x: &mut Xml,
    u: &Universe,
    adj: &Adjustment,
    with_reference: bool,
    generation: Generation,
) {
    let s = u.supplier(adj.supplier);
    let inv = &adj.invoice;
    x.open("Supplier_Invoice_Adjustment");
    if with_reference {
        x.reference(
            "Supplier_Invoice_Adjustment_Reference",
            &format!("Supplier Invoice Adjustment: {}", adj.adjustment_number),
            &[
                ("WID", &adj.wid),
                (
                    "Supplier_Invoice_Adjustment_Reference_ID",
                    &adj.reference_id,
                ),
            ],
        );
    }
    x.open("Supplier_Invoice_Adjustment_Data")
        .el("Supplier_Invoice_Adjustment_ID", &adj.reference_id)
        .el("Invoice_Number", &adj.adjustment_number);
    company_ref(x, u, s.company);
    currency_ref(x, s.currency());
    supplier_ref(x, &s);
    x.el("Increase_Liability", "0");
    x.reference(
        "Adjustment_Reason_Reference",
        adj.reason.1,
        &[("Adjustment_Reason_ID", adj.reason.0)],
    );
    x.date("Adjustment_Date", adj.date)
        .amount("Control_Total_Amount", adj.amount)
        .amount("Tax_Amount", adj.tax);
    x.reference(
        "Original_Invoice_Reference",
        &format!("Supplier Invoice: {}", inv.invoice_number),
        &[
            ("WID", &inv.wid),
            ("Supplier_Invoice_Reference_ID", &inv.reference_id),
        ],
    );
    x.reference(
        "Payment_Terms_Reference",
        s.terms.1,
        &[("Payment_Terms_ID", s.terms.0)],
    );
    x.el("On_Hold", "0");
    if generation == Generation::V40 {
        x.el("Suppliers_Invoice_Number", &adj.supplier_credit_number);
    }
    x.el(
        "Document_Memo",
        &format!("{} on {}", adj.reason.1, inv.supplier_invoice_number),
    );
    let line = inv.lines.first();
    x.open("Invoice_Line_Replacement_Data")
        .el("Line_Order", "1")
        .el(
            "Item_Description",
            &format!("Credit: {}", line.map_or("goods", |l| l.description)),
        );
    if let Some(l) = line {
        x.reference(
            "Spend_Category_Reference",
            l.spend_category.1,
            &[("Spend_Category_ID", l.spend_category.0)],
        );
    }
    x.el("Quantity", "1")
        .amount("Unit_Cost", adj.amount - adj.tax)
        .amount("Extended_Amount", adj.amount - adj.tax);
    x.close("Invoice_Line_Replacement_Data");
    x.close("Supplier_Invoice_Adjustment_Data")
        .close("Supplier_Invoice_Adjustment");
}

/// One `wd:Purchase_Order`, in `Purchase_Order_Outbound_DataType` order. The schema has no total: it is the
/// sum of every line — goods, deliverables (project-based), contingent workers — plus tax, freight and other
/// charges (which these orders do not have).
pub fn purchase_order(x: &mut Xml, u: &Universe, po: &PurchaseOrder, with_reference: bool) {
    let s = u.supplier(po.supplier);
    x.open("Purchase_Order");
    if with_reference {
        x.reference(
            "Purchase_Order_Reference",
            &po.document_number,
            &[("WID", &po.wid), ("Document_Number", &po.document_number)],
        );
    }
    x.open("Purchase_Order_Data")
        .el(
            "Purchase_Order_ID",
            &format!("PURCHASE_ORDER-3-{}", po.global + 1),
        )
        .el("Document_Number", &po.document_number);
    x.reference(
        "Purchase_Order_Document_Status_Reference",
        po.status,
        &[("Document_Status_ID", po.status)],
    );
    company_ref(x, u, s.company);
    supplier_ref(x, &s);
    x.date("Document_Date", po.document_date);
    x.reference(
        "Payment_Terms_Reference",
        s.terms.1,
        &[("Payment_Terms_ID", s.terms.0)],
    );
    x.date("Due_Date", po.due_date);
    currency_ref(x, s.currency());
    x.reference(
        "Buyer_Reference",
        po.buyer.1,
        &[("Employee_ID", &po.buyer.0)],
    );
    for (i, (desc, qty, unit, amount)) in po.lines.iter().enumerate() {
        x.open("Goods_Line_Data")
            .el("Line_Number", &(i + 1).to_string())
            .el("Item_Description", desc)
            .el("Quantity", &qty.to_string())
            .amount("Unit_Cost", *unit)
            .amount("Extended_Amount", *amount)
            .close("Goods_Line_Data");
    }
    let mut n = po.lines.len();
    if let Some((memo, amount)) = po.deliverables {
        n += 1;
        // ProjectBased_Order_Line_Replacement_DataType: no quantity, no description; a memo.
        x.open("Deliverables_Line_Data")
            .el("Line_Number", &n.to_string())
            .el("Memo", memo)
            .amount("Extended_Amount", amount)
            .close("Deliverables_Line_Data");
    }
    if let Some((hours, rate, amount)) = po.contingent_worker {
        n += 1;
        // Contingent_Worker_Order_Line_DataType: scheduled hours at a contract pay rate.
        x.open("Contingent_Worker_Line_Data")
            .el("Line_Number", &n.to_string())
            .el("Scheduled_Hours", &hours.to_string())
            .amount("Contract_Pay_Rate", rate)
            .amount("Extended_Amount", amount)
            .el("Memo", "Contract staff")
            .close("Contingent_Worker_Line_Data");
    }
    x.close("Purchase_Order_Data").close("Purchase_Order");
}

/// One `wd:Payment`, in `Payment_WWS_DataType` order: `Payment_Group_Data` (date, currency, type, category;
/// only when the response group asks for it), `Payment_Status` (text), reference number, amount, currency,
/// check number, company, payee, remittance. `Payment_Reference` carries the WID (the one ID type a payment
/// reference is known to take). Remittance lines name each invoice the way the payment's [`RemittanceStyle`]
/// says; a credit netted in the payment has its own line with a negative amount.
pub fn payment(x: &mut Xml, u: &Universe, p: &Payment, with_reference: bool, with_group: bool) {
    let s = u.supplier(p.supplier);
    x.open("Payment");
    if with_reference {
        x.reference(
            "Payment_Reference",
            &format!("Payment: {}", p.reference_number),
            &[("WID", &p.wid)],
        );
    }
    x.open("Payment_Data");
    if with_group {
        x.open("Payment_Group_Data").date("Payment_Date", p.date);
        currency_ref(x, s.currency());
        x.reference(
            "Payment_Type_Reference",
            p.payment_type,
            &[("Payment_Type_ID", p.payment_type)],
        )
        .reference(
            "Payment_Category_Reference",
            "Supplier Payment",
            &[("Payment_Category_ID", "SUPPLIER_PAYMENT")],
        )
        .close("Payment_Group_Data");
    }
    x.el("Payment_Status", &p.status.replace('_', " "))
        .el("Payment_Reference_Number", &p.reference_number)
        .amount("Payment_Amount", p.amount);
    currency_ref(x, s.currency());
    if let Some(c) = &p.check_number {
        x.el("Check_Number", c);
    }
    company_ref(x, u, s.company);
    x.reference(
        "Receiving_Party_Reference",
        &s.name,
        &[("WID", &s.wid), ("Supplier_ID", &s.id)],
    );
    x.open("Remittance_Data");
    for st in &p.settled {
        let inv = &st.invoice;
        x.open("Document_Remittance_Data")
            .el("Document_Type", "Supplier_Invoice");
        match p.remittance {
            RemittanceStyle::WorkdayIds => {
                x.el("Document_ID", &inv.reference_id)
                    .el("Document_Reference", &inv.invoice_number);
            }
            RemittanceStyle::WidAndSuppliersNumber => {
                x.el("Document_ID", &inv.wid)
                    .el("Document_Reference", &inv.supplier_invoice_number);
            }
            RemittanceStyle::SuppliersNumberOnly => {
                x.el("Document_Reference", &inv.supplier_invoice_number);
            }
        }
        x.date("Document_Date", inv.key.invoice_date)
            .amount("Total_Payable_Amount", inv.gross)
            .amount("Amount_Paid", st.amount_paid)
            .amount("Amount_Due", inv.gross - st.amount_paid)
            .amount("Discount_Taken", Decimal::ZERO)
            .close("Document_Remittance_Data");
    }
    for c in &p.applied_credits {
        x.open("Document_Remittance_Data")
            .el("Document_Type", "Supplier_Invoice_Adjustment")
            .el("Document_ID", &c.reference_id)
            .el("Document_Reference", &c.supplier_credit_number)
            .date("Document_Date", c.date)
            .amount("Total_Payable_Amount", -c.amount)
            .amount("Amount_Paid", -c.amount)
            .amount("Amount_Due", Decimal::ZERO)
            .amount("Discount_Taken", Decimal::ZERO)
            .close("Document_Remittance_Data");
    }
    x.close("Remittance_Data");
    x.close("Payment_Data").close("Payment");
}
