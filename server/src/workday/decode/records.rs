//! Record decoders: one `Supplier`, `Supplier_Invoice`, `Purchase_Order` or `Payment` element into the model.
//!
//! Each decoder is called just after the record's start tag and consumes it through its end tag. Elements it
//! does not know (and elements outside the Workday namespace) are skipped, so newer versions that add
//! elements decode unchanged.

use super::Record;
use super::cursor::{Cursor, DecodeError, El, Ns};
use crate::workday::model::{
    Address, Contacts, DocumentStatus, InvoiceLine, ObjectRef, Payment, PaymentState,
    PurchaseOrder, PurchaseOrderLine, SettledDocument, Supplier, SupplierInvoice, SupplierStatus,
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
        while let Some(el) = wd_child(c)? {
            match el.local() {
                b"Supplier_Reference" => {
                    reference_ids = reference(c, &el, &["Supplier_ID", "Supplier_Reference_ID"])?
                }
                b"Supplier_Data" => supplier_data(c, &mut s)?,
                _ => c.skip(&el)?,
            }
        }
        if s.wid.is_none() {
            s.wid = reference_ids.wid;
        }
        if s.supplier_id.is_empty() {
            s.supplier_id = reference_ids
                .id
                .or_else(|| s.reference_id.clone())
                .ok_or_else(|| c.err("Supplier without Supplier_ID"))?;
        }
        if s.name.is_empty() {
            s.name = reference_ids.descriptor.unwrap_or_default();
        }
        Ok(s)
    }
}

fn supplier_data(c: &mut Cursor<'_>, s: &mut Supplier) -> Result<(), DecodeError> {
    while let Some(el) = wd_child(c)? {
        match el.local() {
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
            b"Business_Entity_Data" => business_entity(c, s)?,
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
    Ok(())
}

fn business_entity(c: &mut Cursor<'_>, s: &mut Supplier) -> Result<(), DecodeError> {
    while let Some(el) = wd_child(c)? {
        match el.local() {
            b"Business_Entity_Name" => {
                let name = c.text()?;
                if s.name.is_empty() {
                    s.name = name;
                }
            }
            b"Business_Entity_Tax_ID" => s.tax_id = c.opt_text()?,
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
            return Err(c.err("Supplier_Invoice without a reference ID or WID"));
        }
        Ok(inv)
    }
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
                            b"Goods_Line_Data" | b"Service_Line_Data" => po.lines.push(po_line(c)?),
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
            return Err(c.err("Purchase_Order without a Document_Number or WID"));
        }
        Ok(po)
    }
}

fn po_line(c: &mut Cursor<'_>) -> Result<PurchaseOrderLine, DecodeError> {
    let mut line = PurchaseOrderLine::default();
    while let Some(el) = wd_child(c)? {
        match el.local() {
            b"Line_Number" => line.line_number = c.opt_text()?,
            // Goods lines have Item_Description, service lines Description.
            b"Item_Description" | b"Description" => line.description = c.opt_text()?,
            b"Quantity" => line.quantity = c.decimal("Quantity")?,
            b"Unit_Cost" => line.unit_cost = c.decimal("Unit_Cost")?,
            b"Extended_Amount" => line.extended_amount = c.decimal("Extended_Amount")?,
            _ => c.skip(&el)?,
        }
    }
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
                b"Payment_Reference" => {
                    reference_ids = reference(c, &el, &["Payment_Reference_ID"])?
                }
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
            return Err(c.err("Payment without a reference"));
        }
        Ok(p)
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
