//! Record decoders: one `Supplier`, `Supplier_Invoice`, `Supplier_Invoice_Adjustment`, `Purchase_Order` or
//! `Payment` element into the model.
//!
//! Each decoder is called just after the record's start tag and consumes it through its end tag. Elements it
//! does not know (and elements outside the Workday namespace) are skipped, so newer versions that add
//! elements decode unchanged; where a newer version moved a part (the supplier's tax ID into
//! `Tax_ID_Widget_Data` in v40), the new place is read first and the old one is the fallback. A record without
//! its ID is noted as invalid on the cursor (and skipped by the page reader), not guessed.

use super::Record;
use super::cursor::{Cursor, DecodeError, El, Ns};
use crate::workday::model::{
    Address, Contacts, DocumentStatus, InvoiceLine, ObjectRef, Payment, PaymentState,
    PurchaseOrder, PurchaseOrderLine, PurchaseOrderLineKind, SettledDocument, Supplier,
    SupplierInvoice, SupplierInvoiceAdjustment, SupplierStatus,
};
use crate::workday::ops::Operation;

/// The next Workday-namespace child; children in other namespaces are skipped.
fn wd_child<'a>(c: &mut Cursor<'a>) -> Result<Option<El<'a>>, DecodeError> {
    loop {
        match c.child()? {
            Some(el) if el.ns == Ns::Wd => return Ok(Some(el)),
            Some(el) => c.skip(&el)?,
            None => return Ok(None),
        }
    }
}

/// A `*_Reference`: `Descriptor` attribute and `ID` children. `prefer` lists the ID types to report as `id`,
/// in order of preference; without a preferred one, the first ID that is not a WID is used.
fn reference(c: &mut Cursor<'_>, el: &El<'_>, prefer: &[&str]) -> Result<ObjectRef, DecodeError> {
    let mut r = ObjectRef {
        descriptor: c.attr(el, "Descriptor")?,
        ..Default::default()
    };
    let mut rank = usize::MAX;
    while let Some(id) = wd_child(c)? {
        if !id.is("ID") {
            c.skip(&id)?;
            continue;
        }
        let id_type = c.attr_ref(&id, "type")?.unwrap_or_default();
        let is_wid = id_type == "WID";
        let this_rank = prefer
            .iter()
            .position(|p| *p == id_type)
            .unwrap_or(prefer.len());
        let value = c.text()?;
        if value.is_empty() {
            continue;
        }
        if is_wid {
            r.wid = Some(value);
            continue;
        }
        if r.id.is_none() || this_rank < rank {
            r.id = Some(value);
            rank = this_rank;
        }
    }
    Ok(r)
}

/// The preferred business ID of a reference (a code such as a currency or payment terms), falling back to its
/// descriptor.
fn reference_code(
    c: &mut Cursor<'_>,
    el: &El<'_>,
    prefer: &[&str],
) -> Result<Option<String>, DecodeError> {
    let r = reference(c, el, prefer)?;
    Ok(r.id.or(r.descriptor))
}

fn non_empty(r: ObjectRef) -> Option<ObjectRef> {
    (!r.is_empty()).then_some(r)
}

impl Record for Supplier {
    const OPERATION: Operation = Operation::GetSuppliers;

    fn decode(c: &mut Cursor<'_>) -> Result<Self, DecodeError> {
        let mut s = Supplier::default();
        let mut reference_ids = ObjectRef::default();
        let mut tax = TaxIds::default();
        while let Some(el) = wd_child(c)? {
            match el.local() {
                b"Supplier_Reference" => {
                    reference_ids = reference(c, &el, &["Supplier_ID", "Supplier_Reference_ID"])?
                }
                b"Supplier_Data" => supplier_data(c, &mut s, &mut tax)?,
                _ => c.skip(&el)?,
            }
        }
        s.tax_id = tax.widget.or(tax.data).or(tax.business_entity);
        if s.wid.is_none() {
            s.wid = reference_ids.wid;
        }
        if s.supplier_id.is_empty() {
            match reference_ids.id.or_else(|| s.reference_id.clone()) {
                Some(id) => s.supplier_id = id,
                None => c.invalid("Supplier without Supplier_ID"),
            }
        }
        if s.name.is_empty() {
            s.name = reference_ids.descriptor.unwrap_or_default();
        }
        Ok(s)
    }

    fn record_id(&self) -> Option<String> {
        Some(self.supplier_id.clone())
            .filter(|id| !id.is_empty())
            .or_else(|| self.wid.clone())
    }
}

/// The places a supplier's tax ID may be, newest first.
#[derive(Default)]
struct TaxIds {
    /// `Supplier_Data/Tax_ID_Widget_Data/Tax_ID_Data` (v40 and later).
    widget: Option<String>,
    /// `Supplier_Data/Tax_ID_Data` (earlier versions).
    data: Option<String>,
    /// `Business_Entity_Data/Business_Entity_Tax_ID`.
    business_entity: Option<String>,
}

/// `Tax_ID_Data` entries (just opened: their parent's children follow): the primary one's `Tax_ID_Text`, else
/// the first with a text. Reads the parent through its end tag.
fn tax_id_list(c: &mut Cursor<'_>, found: &mut Option<(bool, String)>) -> Result<(), DecodeError> {
    while let Some(el) = wd_child(c)? {
        if el.is("Tax_ID_Data") {
            tax_id_data(c, found)?;
        } else {
            c.skip(&el)?;
        }
    }
    Ok(())
}

/// One `Tax_ID_Data` (`Tax_ID_Text`, `Tax_ID_Type_Reference`, `Transaction_Tax_ID`, `Primary_Tax_ID`).
fn tax_id_data(c: &mut Cursor<'_>, found: &mut Option<(bool, String)>) -> Result<(), DecodeError> {
    let mut text = None;
    let mut primary = false;
    while let Some(el) = wd_child(c)? {
        match el.local() {
            b"Tax_ID_Text" => text = c.opt_text()?,
            b"Primary_Tax_ID" => primary = c.boolean("Primary_Tax_ID")?.unwrap_or(false),
            _ => c.skip(&el)?,
        }
    }
    if let Some(text) = text {
        let better = match found {
            None => true,
            Some((was_primary, _)) => primary && !*was_primary,
        };
        if better {
            *found = Some((primary, text));
        }
    }
    Ok(())
}

fn supplier_data(
    c: &mut Cursor<'_>,
    s: &mut Supplier,
    tax: &mut TaxIds,
) -> Result<(), DecodeError> {
    let mut widget = None;
    let mut data = None;
    while let Some(el) = wd_child(c)? {
        match el.local() {
            b"Tax_ID_Widget_Data" => tax_id_list(c, &mut widget)?,
            b"Tax_ID_Data" => tax_id_data(c, &mut data)?,
            b"Supplier_ID" => s.supplier_id = c.text()?,
            b"Supplier_Reference_ID" => s.reference_id = c.opt_text()?,
            b"Supplier_Name" => s.name = c.text()?,
            b"Supplier_Category_Reference" => {
                s.category = non_empty(reference(c, &el, &["Supplier_Category_ID"])?)
            }
            b"Payment_Terms_Reference" => {
                s.payment_terms = reference_code(c, &el, &["Payment_Terms_ID"])?
            }
            b"Currency_Reference" => s.currency = reference_code(c, &el, &["Currency_ID"])?,
            b"Business_Entity_Data" => business_entity(c, s, tax)?,
            b"Supplier_Status_Data" => {
                while let Some(st) = wd_child(c)? {
                    if st.is("Status_Reference") {
                        if let Some(code) =
                            reference_code(c, &st, &["Business_Entity_Status_Value_ID"])?
                        {
                            s.status = SupplierStatus::from_id(&code);
                        }
                    } else {
                        c.skip(&st)?;
                    }
                }
            }
            _ => c.skip(&el)?,
        }
    }
    tax.widget = widget.map(|(_, t)| t);
    tax.data = data.map(|(_, t)| t);
    Ok(())
}

fn business_entity(
    c: &mut Cursor<'_>,
    s: &mut Supplier,
    tax: &mut TaxIds,
) -> Result<(), DecodeError> {
    while let Some(el) = wd_child(c)? {
        match el.local() {
            b"Business_Entity_Name" => {
                let name = c.text()?;
                if s.name.is_empty() {
                    s.name = name;
                }
            }
            b"Business_Entity_Tax_ID" => tax.business_entity = c.opt_text()?,
            b"Contact_Data" => contact_data(c, &mut s.contacts)?,
            _ => c.skip(&el)?,
        }
    }
    Ok(())
}

fn contact_data(c: &mut Cursor<'_>, contacts: &mut Contacts) -> Result<(), DecodeError> {
    while let Some(el) = wd_child(c)? {
        match el.local() {
            b"Address_Data" => contacts.addresses.push(address(c, &el)?),
            b"Phone_Data" => {
                let e164 = c.attr(&el, "E164_Formatted_Phone")?;
                let formatted = c.attr(&el, "Formatted_Phone")?;
                let mut number = None;
                while let Some(p) = wd_child(c)? {
                    if p.is("Phone_Number") {
                        number = c.opt_text()?;
                    } else {
                        c.skip(&p)?;
                    }
                }
                if let Some(phone) = e164.or(formatted).or(number) {
                    contacts.phones.push(phone);
                }
            }
            b"Email_Address_Data" => {
                while let Some(e) = wd_child(c)? {
                    if e.is("Email_Address") {
                        if let Some(v) = c.opt_text()? {
                            contacts.emails.push(v);
                        }
                    } else {
                        c.skip(&e)?;
                    }
                }
            }
            b"Web_Address_Data" => {
                while let Some(e) = wd_child(c)? {
                    if e.is("Web_Address") {
                        if let Some(v) = c.opt_text()? {
                            contacts.websites.push(v);
                        }
                    } else {
                        c.skip(&e)?;
                    }
                }
            }
            _ => c.skip(&el)?,
        }
    }
    Ok(())
}

fn address(c: &mut Cursor<'_>, el: &El<'_>) -> Result<Address, DecodeError> {
    let mut a = Address {
        formatted: c.attr(el, "Formatted_Address")?,
        effective_date: c
            .attr(el, "Effective_Date")?
            .and_then(|d| super::cursor::parse_date(&d)),
        ..Default::default()
    };
    while let Some(el) = wd_child(c)? {
        match el.local() {
            b"Address_Line_Data" => {
                if let Some(line) = c.opt_text()? {
                    a.lines.push(line);
                }
            }
            b"Municipality" => a.city = c.opt_text()?,
            b"Postal_Code" => a.postal_code = c.opt_text()?,
            b"Country_Reference" => {
                a.country = reference_code(
                    c,
                    &el,
                    &["ISO_3166-1_Alpha-2_Code", "ISO_3166-1_Alpha-3_Code"],
                )?
            }
            b"Country_Region_Reference" => {
                let code = reference_code(c, &el, &["Country_Region_ID"])?;
                if a.region.is_none() {
                    a.region = code;
                }
            }
            b"Country_Region_Descriptor" => {
                let d = c.opt_text()?;
                a.region = a.region.take().or(d);
            }
            b"Usage_Data" => {
                // Usage_Data/Type_Data[@Primary]: one usage marked primary makes the address primary.
                while let Some(t) = wd_child(c)? {
                    if t.is("Type_Data") {
                        if c.attr_ref(&t, "Primary")?
                            .is_some_and(|p| matches!(p.trim(), "1" | "true"))
                        {
                            a.primary = true;
                        }
                        c.skip(&t)?;
                    } else {
                        c.skip(&t)?;
                    }
                }
            }
            _ => c.skip(&el)?,
        }
    }
    Ok(a)
}

impl Record for SupplierInvoice {
    const OPERATION: Operation = Operation::GetSupplierInvoices;

    fn decode(c: &mut Cursor<'_>) -> Result<Self, DecodeError> {
        let mut inv = SupplierInvoice::default();
        let mut reference_ids = ObjectRef::default();
        let mut due_override = None;
        let mut due = None;
        let mut external_po = None;
        let mut line_po = None;
        while let Some(el) = wd_child(c)? {
            match el.local() {
                b"Supplier_Invoice_Reference" => {
                    reference_ids = reference(c, &el, &["Supplier_Invoice_Reference_ID"])?
                }
                b"Supplier_Invoice_Data" => {
                    while let Some(el) = wd_child(c)? {
                        match el.local() {
                            b"Supplier_Invoice_ID" => inv.reference_id = c.opt_text()?,
                            b"Invoice_Number" => inv.invoice_number = c.opt_text()?,
                            b"Suppliers_Invoice_Number" => {
                                inv.supplier_invoice_number = c.opt_text()?
                            }
                            b"Invoice_Document_Status_Reference" | b"Document_Status_Reference" => {
                                if let Some(code) = reference_code(c, &el, &["Document_Status_ID"])?
                                {
                                    inv.document_status = DocumentStatus::from_id(&code);
                                }
                            }
                            b"Company_Reference" => {
                                inv.company =
                                    non_empty(reference(c, &el, &["Company_Reference_ID"])?)
                            }
                            b"Currency_Reference" => {
                                inv.currency = reference_code(c, &el, &["Currency_ID"])?
                            }
                            b"Supplier_Reference" => {
                                inv.supplier = reference(c, &el, &["Supplier_ID"])?
                            }
                            b"Invoice_Date" => inv.invoice_date = c.date("Invoice_Date")?,
                            b"Due_Date_Override" => due_override = c.date("Due_Date_Override")?,
                            b"Due_Date" => due = c.date("Due_Date")?,
                            b"Control_Amount_Total" => {
                                inv.control_amount = c.decimal("Control_Amount_Total")?
                            }
                            b"Tax_Amount" => inv.tax_amount = c.decimal("Tax_Amount")?,
                            b"Gross_Invoice_Amount" => {
                                inv.gross_amount = c.decimal("Gross_Invoice_Amount")?
                            }
                            b"External_PO_Number" => external_po = c.opt_text()?,
                            b"Purchase_Order_Reference" => {
                                inv.po_number = reference_code(c, &el, &["Document_Number"])?
                            }
                            b"Payment_Terms_Reference" => {
                                inv.payment_terms = reference_code(c, &el, &["Payment_Terms_ID"])?
                            }
                            b"Memo" => inv.memo = c.opt_text()?,
                            b"On_Hold" => inv.on_hold = c.boolean("On_Hold")?.unwrap_or(false),
                            b"Invoice_Line_Replacement_Data" => {
                                let (line, po) = invoice_line(c)?;
                                inv.lines.push(line);
                                line_po = line_po.or(po);
                            }
                            _ => c.skip(&el)?,
                        }
                    }
                }
                _ => c.skip(&el)?,
            }
        }
        inv.due_date = due_override.or(due);
        inv.po_number = inv.po_number.or(line_po).or(external_po);
        if inv.wid.is_none() {
            inv.wid = reference_ids.wid;
        }
        if inv.reference_id.is_none() {
            inv.reference_id = reference_ids.id;
        }
        if inv.reference_id.is_none() && inv.wid.is_none() {
            c.invalid("Supplier_Invoice without a reference ID or WID");
        }
        Ok(inv)
    }

    fn record_id(&self) -> Option<String> {
        self.reference_id
            .clone()
            .or_else(|| self.wid.clone())
            .or_else(|| self.invoice_number.clone())
    }
}

impl Record for SupplierInvoiceAdjustment {
    const OPERATION: Operation = Operation::GetSupplierInvoiceAdjustments;

    fn decode(c: &mut Cursor<'_>) -> Result<Self, DecodeError> {
        let mut adj = SupplierInvoiceAdjustment::default();
        let mut reference_ids = ObjectRef::default();
        while let Some(el) = wd_child(c)? {
            match el.local() {
                b"Supplier_Invoice_Adjustment_Reference" => {
                    reference_ids =
                        reference(c, &el, &["Supplier_Invoice_Adjustment_Reference_ID"])?
                }
                b"Supplier_Invoice_Adjustment_Data" => adjustment_data(c, &mut adj)?,
                _ => c.skip(&el)?,
            }
        }
        if adj.wid.is_none() {
            adj.wid = reference_ids.wid;
        }
        if adj.reference_id.is_none() {
            adj.reference_id = reference_ids.id;
        }
        if adj.reference_id.is_none() && adj.wid.is_none() {
            c.invalid("Supplier_Invoice_Adjustment without a reference ID or WID");
        }
        Ok(adj)
    }

    fn record_id(&self) -> Option<String> {
        self.reference_id
            .clone()
            .or_else(|| self.wid.clone())
            .or_else(|| self.adjustment_number.clone())
    }
}

/// `Supplier_Invoice_Adjustment_Data` (`Supplier_Invoice_Adjustment_DataType`).
fn adjustment_data(
    c: &mut Cursor<'_>,
    adj: &mut SupplierInvoiceAdjustment,
) -> Result<(), DecodeError> {
    while let Some(el) = wd_child(c)? {
        match el.local() {
            b"Supplier_Invoice_Adjustment_ID" => adj.reference_id = c.opt_text()?,
            b"Invoice_Number" => adj.adjustment_number = c.opt_text()?,
            b"Suppliers_Invoice_Number" => adj.supplier_invoice_number = c.opt_text()?,
            b"Invoice_Document_Status_Reference"
            | b"Document_Status_Reference"
            | b"Adjustment_Status_Reference" => {
                if let Some(code) = reference_code(c, &el, &["Document_Status_ID"])? {
                    adj.document_status = DocumentStatus::from_id(&code);
                }
            }
            b"Company_Reference" => {
                adj.company = non_empty(reference(c, &el, &["Company_Reference_ID"])?)
            }
            b"Currency_Reference" => adj.currency = reference_code(c, &el, &["Currency_ID"])?,
            b"Supplier_Reference" => adj.supplier = reference(c, &el, &["Supplier_ID"])?,
            b"Increase_Liability" => {
                adj.increases_liability = c.boolean("Increase_Liability")?.unwrap_or(false)
            }
            b"Adjustment_Reason_Reference" => {
                adj.reason = non_empty(reference(c, &el, &["Adjustment_Reason_ID"])?)
            }
            b"Adjustment_Date" => adj.adjustment_date = c.date("Adjustment_Date")?,
            b"Due_Date_Override" => adj.due_date = c.date("Due_Date_Override")?,
            b"Control_Total_Amount" => adj.control_amount = c.decimal("Control_Total_Amount")?,
            b"Tax_Amount" => adj.tax_amount = c.decimal("Tax_Amount")?,
            b"Original_Invoice_Reference" => {
                adj.original_invoice =
                    non_empty(reference(c, &el, &["Supplier_Invoice_Reference_ID"])?)
            }
            b"Original_Invoice_Supplier_Reference_Number" => {
                adj.original_invoice_supplier_number = c.opt_text()?
            }
            b"On_Hold" => adj.on_hold = c.boolean("On_Hold")?.unwrap_or(false),
            b"Document_Memo" | b"Memo" => adj.memo = c.opt_text()?,
            b"Invoice_Line_Replacement_Data" => adj.lines.push(invoice_line(c)?.0),
            _ => c.skip(&el)?,
        }
    }
    Ok(())
}

/// One invoice line, and the purchase order its `Purchase_Order_Line_Reference` points at (the `parent_id` of
/// an ID whose `parent_type` is `Document_Number`).
fn invoice_line(c: &mut Cursor<'_>) -> Result<(InvoiceLine, Option<String>), DecodeError> {
    let mut line = InvoiceLine::default();
    let mut po = None;
    while let Some(el) = wd_child(c)? {
        match el.local() {
            b"Purchase_Order_Line_Reference" => {
                while let Some(id) = wd_child(c)? {
                    if id.is("ID")
                        && c.attr_ref(&id, "parent_type")?.as_deref() == Some("Document_Number")
                    {
                        po = po.or(c.attr(&id, "parent_id")?.filter(|p| !p.is_empty()));
                    }
                    c.skip(&id)?;
                }
            }
            b"Line_Order" => line.order = c.opt_text()?,
            b"Item_Description" => line.description = c.opt_text()?,
            b"Quantity" => line.quantity = c.decimal("Quantity")?,
            b"Unit_Cost" => line.unit_cost = c.decimal("Unit_Cost")?,
            b"Extended_Amount" => line.extended_amount = c.decimal("Extended_Amount")?,
            b"Spend_Category_Reference" => {
                line.spend_category = non_empty(reference(c, &el, &["Spend_Category_ID"])?)
            }
            b"Memo" => line.memo = c.opt_text()?,
            _ => c.skip(&el)?,
        }
    }
    Ok((line, po))
}

impl Record for PurchaseOrder {
    const OPERATION: Operation = Operation::GetPurchaseOrders;

    fn decode(c: &mut Cursor<'_>) -> Result<Self, DecodeError> {
        let mut po = PurchaseOrder::default();
        let mut reference_ids = ObjectRef::default();
        while let Some(el) = wd_child(c)? {
            match el.local() {
                b"Purchase_Order_Reference" => {
                    reference_ids = reference(c, &el, &["Document_Number"])?
                }
                b"Purchase_Order_Data" => {
                    while let Some(el) = wd_child(c)? {
                        match el.local() {
                            b"Document_Number" => po.document_number = c.opt_text()?,
                            b"Document_Status_Reference"
                            | b"Purchase_Order_Status_Reference"
                            | b"Purchase_Order_Document_Status_Reference"
                            | b"Status_Reference" => {
                                if let Some(code) = reference_code(
                                    c,
                                    &el,
                                    &["Document_Status_ID", "Purchase_Order_Status_ID"],
                                )? {
                                    po.status = DocumentStatus::from_id(&code);
                                }
                            }
                            b"Company_Reference" => {
                                po.company =
                                    non_empty(reference(c, &el, &["Company_Reference_ID"])?)
                            }
                            b"Currency_Reference" => {
                                po.currency = reference_code(c, &el, &["Currency_ID"])?
                            }
                            b"Supplier_Reference" => {
                                po.supplier = reference(c, &el, &["Supplier_ID"])?
                            }
                            b"Document_Date" => po.document_date = c.date("Document_Date")?,
                            b"Due_Date" => po.due_date = c.date("Due_Date")?,
                            b"Tax_Amount" => po.tax_amount = c.decimal("Tax_Amount")?,
                            b"Freight_Amount" => po.freight_amount = c.decimal("Freight_Amount")?,
                            b"Other_Charges" => po.other_charges = c.decimal("Other_Charges")?,
                            b"Buyer_Reference" => {
                                po.buyer = non_empty(reference(c, &el, &["Employee_ID"])?)
                            }
                            b"Payment_Terms_Reference" => {
                                po.payment_terms = reference_code(c, &el, &["Payment_Terms_ID"])?
                            }
                            b"Memo" => po.memo = c.opt_text()?,
                            b"Goods_Line_Data" => {
                                po.lines.push(po_line(c, PurchaseOrderLineKind::Goods)?)
                            }
                            b"Service_Line_Data" => {
                                po.lines.push(po_line(c, PurchaseOrderLineKind::Service)?)
                            }
                            b"Deliverables_Line_Data" => po
                                .lines
                                .push(po_line(c, PurchaseOrderLineKind::Deliverables)?),
                            b"Contingent_Worker_Line_Data" => po
                                .lines
                                .push(po_line(c, PurchaseOrderLineKind::ContingentWorker)?),
                            _ => c.skip(&el)?,
                        }
                    }
                }
                _ => c.skip(&el)?,
            }
        }
        if po.wid.is_none() {
            po.wid = reference_ids.wid;
        }
        if po.document_number.is_none() {
            po.document_number = reference_ids.id;
        }
        po.total_amount = po.derived_total();
        if po.document_number.is_none() && po.wid.is_none() {
            c.invalid("Purchase_Order without a Document_Number or WID");
        }
        Ok(po)
    }

    fn record_id(&self) -> Option<String> {
        self.document_number.clone().or_else(|| self.wid.clone())
    }
}

/// One line of any kind: goods (`Item_Order_Line_Replacement_DataType`), services, deliverables
/// (`ProjectBased_Order_Line_Replacement_DataType`) or contingent workers (`Contingent_Worker_Order_Line_DataType`).
fn po_line(
    c: &mut Cursor<'_>,
    kind: PurchaseOrderLineKind,
) -> Result<PurchaseOrderLine, DecodeError> {
    let mut line = PurchaseOrderLine {
        kind,
        ..Default::default()
    };
    let mut memo = None;
    while let Some(el) = wd_child(c)? {
        match el.local() {
            b"Line_Number" => line.line_number = c.opt_text()?,
            // Goods lines have Item_Description, service lines Description.
            b"Item_Description" | b"Description" => line.description = c.opt_text()?,
            b"Quantity" => line.quantity = c.decimal("Quantity")?,
            b"Scheduled_Hours" => line.quantity = c.decimal("Scheduled_Hours")?,
            b"Unit_Cost" => line.unit_cost = c.decimal("Unit_Cost")?,
            b"Contract_Pay_Rate" => line.unit_cost = c.decimal("Contract_Pay_Rate")?,
            b"Extended_Amount" => line.extended_amount = c.decimal("Extended_Amount")?,
            b"Memo" => memo = c.opt_text()?,
            _ => c.skip(&el)?,
        }
    }
    // Deliverables and contingent-worker lines have no description of their own.
    line.description = line.description.or(memo);
    Ok(line)
}

impl Record for Payment {
    const OPERATION: Operation = Operation::GetPayments;

    fn decode(c: &mut Cursor<'_>) -> Result<Self, DecodeError> {
        let mut p = Payment::default();
        let mut reference_ids = ObjectRef::default();
        let mut group = PaymentGroup::default();
        while let Some(el) = wd_child(c)? {
            match el.local() {
                b"Payment_Reference" => reference_ids = reference(c, &el, &[])?,
                b"Payment_Data" => {
                    while let Some(el) = wd_child(c)? {
                        match el.local() {
                            b"Payment_Reference_Number" => p.reference_number = c.opt_text()?,
                            b"Payment_Status_Reference" => {
                                if let Some(code) = reference_code(c, &el, &["Payment_Status_ID"])?
                                {
                                    p.status = PaymentState::from_id(&code);
                                }
                            }
                            b"Payment_Status" => {
                                if let Some(s) = c.opt_text()? {
                                    p.status = PaymentState::from_id(&s);
                                }
                            }
                            b"Payment_Date" => p.payment_date = c.date("Payment_Date")?,
                            b"Payment_Amount" => p.amount = c.decimal("Payment_Amount")?,
                            b"Currency_Reference" => {
                                p.currency = reference_code(c, &el, &["Currency_ID"])?
                            }
                            b"Company_Reference" => {
                                p.company = non_empty(reference(c, &el, &["Company_Reference_ID"])?)
                            }
                            b"Receiving_Party_Reference" | b"Payee_Reference" => {
                                p.payee = reference(c, &el, &["Supplier_ID"])?
                            }
                            b"Payment_Type_Reference" => {
                                p.payment_type = reference_code(c, &el, &["Payment_Type_ID"])?
                            }
                            b"Check_Number" => p.check_number = c.opt_text()?,
                            b"Payment_Group_Data" => group = payment_group(c)?,
                            b"Remittance_Data" => {
                                while let Some(r) = wd_child(c)? {
                                    if r.is("Document_Remittance_Data") {
                                        p.settled.push(settled_document(c)?);
                                    } else {
                                        c.skip(&r)?;
                                    }
                                }
                            }
                            _ => c.skip(&el)?,
                        }
                    }
                }
                _ => c.skip(&el)?,
            }
        }
        // Payment_WWS_Data keeps the date and type in Payment_Group_Data; a flat element (older material)
        // is read too, and the group's value wins.
        p.payment_date = group.date.or(p.payment_date);
        p.payment_type = group.payment_type.or(p.payment_type);
        p.currency = p.currency.or(group.currency);
        p.wid = reference_ids.wid;
        p.reference_id = reference_ids.id;
        if p.wid.is_none() && p.reference_id.is_none() && p.reference_number.is_none() {
            c.invalid("Payment without a reference");
        }
        Ok(p)
    }

    fn record_id(&self) -> Option<String> {
        self.wid
            .clone()
            .or_else(|| self.reference_id.clone())
            .or_else(|| self.reference_number.clone())
    }
}

/// What `Payment_Group_Data` holds: the payment date, currency and type.
#[derive(Default)]
struct PaymentGroup {
    date: Option<chrono::NaiveDate>,
    currency: Option<String>,
    payment_type: Option<String>,
}

fn payment_group(c: &mut Cursor<'_>) -> Result<PaymentGroup, DecodeError> {
    let mut g = PaymentGroup::default();
    while let Some(el) = wd_child(c)? {
        match el.local() {
            b"Payment_Date" => g.date = c.date("Payment_Group_Data/Payment_Date")?,
            b"Currency_Reference" => g.currency = reference_code(c, &el, &["Currency_ID"])?,
            b"Payment_Type_Reference" => {
                g.payment_type = reference_code(c, &el, &["Payment_Type_ID"])?
            }
            _ => c.skip(&el)?,
        }
    }
    Ok(g)
}

fn settled_document(c: &mut Cursor<'_>) -> Result<SettledDocument, DecodeError> {
    let mut d = SettledDocument::default();
    while let Some(el) = wd_child(c)? {
        match el.local() {
            b"Document_Type" => d.document_type = c.opt_text()?,
            b"Document_ID" => d.document_id = c.opt_text()?,
            b"Document_Reference" => d.document_reference = c.opt_text()?,
            b"Document_Date" => d.document_date = c.date("Document_Date")?,
            b"Total_Payable_Amount" => d.total_payable = c.decimal("Total_Payable_Amount")?,
            b"Amount_Paid" => d.amount_paid = c.decimal("Amount_Paid")?,
            b"Amount_Due" => d.amount_due = c.decimal("Amount_Due")?,
            b"Discount_Taken" => d.discount_taken = c.decimal("Discount_Taken")?,
            _ => c.skip(&el)?,
        }
    }
    Ok(d)
}
