//! The streaming decoder on the fixtures in tests/fixtures/workday, and property tests: arbitrary bytes and
//! mutated fixtures never panic.

use std::path::PathBuf;

use ml_connector::mapper::{Invoice as MappedInvoice, InvoiceSources};
use ml_connector::payables::{InvoicePosition, PaymentStatus, adjusts, settlements};
use ml_connector::workday::client::decode_soap_response;
use ml_connector::workday::decode::{
    PageBody, PageReader, Record, RecordError, SkippedRecord, decode_page,
};
use ml_connector::workday::model::{
    DocumentStatus, Payment, PaymentState, PurchaseOrder, PurchaseOrderLineKind, Supplier,
    SupplierInvoice, SupplierInvoiceAdjustment, SupplierStatus,
};
use ml_connector::workday::request::{
    AdjustmentCriteria, AdjustmentQuery, IdLookup, InvoiceQuery, PageRequest, PaymentCriteria,
    PaymentQuery, PurchaseOrderCriteria, PurchaseOrderQuery, SoapCredentials, SupplierCriteria,
    SupplierQuery, envelope,
};
use ml_connector::workday::{Operation, WorkdaySource};
use proptest::prelude::*;
use rust_decimal::Decimal;
use secrecy::SecretString;

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/workday")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn records<R: Record>(body: &[u8]) -> (Vec<R>, Option<ml_connector::workday::decode::PageInfo>) {
    match decode_page::<R>(body).unwrap() {
        PageBody::Records(mut reader) => {
            let recs: Vec<R> = reader.by_ref().collect::<Result<_, _>>().unwrap();
            (recs, reader.info())
        }
        PageBody::Fault(f) => panic!("unexpected fault {f:?}"),
    }
}

/// The records of a page and the ones skipped (the body itself must be well-formed).
fn records_and_skipped<R: Record>(body: &[u8]) -> (Vec<R>, Vec<SkippedRecord>) {
    let PageBody::Records(reader) = decode_page::<R>(body).unwrap() else {
        panic!("unexpected fault");
    };
    let (mut ok, mut skipped) = (Vec::new(), Vec::new());
    for r in reader {
        match r {
            Ok(r) => ok.push(r),
            Err(RecordError::Skipped(s)) => skipped.push(s),
            Err(RecordError::Malformed(e)) => panic!("malformed: {e:?}"),
        }
    }
    (ok, skipped)
}

#[test]
fn suppliers_fixture() {
    let (suppliers, info) = records::<Supplier>(&fixture("get_suppliers_response.xml"));
    let info = info.unwrap();
    assert_eq!(
        (
            info.total_results,
            info.total_pages,
            info.page_results,
            info.page
        ),
        (10, 5, 2, 1)
    );
    assert_eq!(suppliers.len(), 2);
    let s = &suppliers[0];
    assert_eq!(s.supplier_id, "S-000001");
    assert_eq!(s.name, "Pioneer Logistics Inc.");
    assert_eq!(s.wid.as_deref(), Some("0100000000ae9c5bb2460f4f91f320c3"));
    assert_eq!(s.status, SupplierStatus::Active);
    assert_eq!(s.currency.as_deref(), Some("GBP"));
    assert_eq!(s.payment_terms.as_deref(), Some("NET_45"));
    assert_eq!(
        s.category.as_ref().unwrap().id.as_deref(),
        Some("PROFESSIONAL_SERVICES")
    );
    let a = &s.contacts.addresses[0];
    assert_eq!(
        a.formatted.as_deref(),
        Some("9875 Industrial Pkwy\nToronto, Ontario M5V7\nCanada")
    );
    assert_eq!(a.city.as_deref(), Some("Toronto"));
    assert_eq!(a.region.as_deref(), Some("CAN-ON"));
    assert_eq!(a.country.as_deref(), Some("CA"));
    assert_eq!(a.effective_date, "2023-03-11".parse().ok());
    assert!(s.contacts.phones[0].starts_with("+1"));
    assert_eq!(s.contacts.emails.len(), 1);
    assert_eq!(s.contacts.websites.len(), 1);
    // v46.1 answers put the tax ID in Tax_ID_Widget_Data.
    assert_eq!(s.tax_id.as_deref(), Some("88-8725893"));
    // A supplier that moved: the former address is listed first, the current one is by date.
    let moved = &suppliers[1];
    assert_eq!(moved.contacts.addresses.len(), 2);
    let today = "2024-06-15".parse().unwrap();
    assert_eq!(
        moved.contacts.current_address(today).unwrap().lines,
        ["9260 Station Rd"]
    );
}

#[test]
fn invoices_fixture() {
    let (invoices, info) =
        records::<SupplierInvoice>(&fixture("get_supplier_invoices_response.xml"));
    assert_eq!(info.unwrap().page_results, 2);
    let i = &invoices[0];
    assert_eq!(i.reference_id.as_deref(), Some("SUPPLIER_INVOICE-3-1"));
    assert_eq!(i.invoice_number.as_deref(), Some("SINV-0000001"));
    assert_eq!(i.supplier_invoice_number.as_deref(), Some("INV-2024-01000"));
    assert_eq!(i.supplier.id.as_deref(), Some("S-000001"));
    assert_eq!(
        i.supplier.descriptor.as_deref(),
        Some("Pioneer Logistics Inc.")
    );
    assert_eq!(i.company.as_ref().unwrap().id.as_deref(), Some("UK01"));
    assert_eq!(i.currency.as_deref(), Some("GBP"));
    assert_eq!(i.invoice_date, "2024-05-25".parse().ok());
    assert_eq!(i.due_date, "2024-07-09".parse().ok());
    assert_eq!(i.gross_amount, Some(dec("26098.29")));
    assert_eq!(i.tax_amount, Some(dec("1933.21")));
    assert_eq!(i.document_status, DocumentStatus::Approved);
    assert!(!i.on_hold);
    let lines: Decimal = i.lines.iter().filter_map(|l| l.extended_amount).sum();
    assert_eq!(lines + dec("1933.21"), dec("26098.29"));
    // The purchase order comes from the lines' Purchase_Order_Line_Reference (parent Document_Number).
    assert_eq!(invoices[1].po_number.as_deref(), Some("PO-0000005"));
    assert_eq!(
        i.lines[0].spend_category.as_ref().unwrap().id.as_deref(),
        Some("IT_HARDWARE")
    );
}

#[test]
fn single_record_page_is_one_record_not_a_list() {
    let (invoices, info) =
        records::<SupplierInvoice>(&fixture("get_supplier_invoices_single_response.xml"));
    assert_eq!(invoices.len(), 1);
    let info = info.unwrap();
    assert_eq!(
        (info.total_results, info.total_pages, info.page_results),
        (2, 2, 1)
    );
}

#[test]
fn empty_response_has_no_records() {
    let (suppliers, info) = records::<Supplier>(&fixture("get_suppliers_empty_response.xml"));
    assert!(suppliers.is_empty());
    assert_eq!(info.unwrap().total_results, 0);
    // Without Response_Results either.
    let bare = br#"<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><wd:Get_Suppliers_Response xmlns:wd="urn:com.workday/bsvc"/></e:Body></e:Envelope>"#;
    let (suppliers, info) = records::<Supplier>(bare);
    assert!(suppliers.is_empty() && info.is_none());
}

#[test]
fn purchase_orders_and_payments_fixtures() {
    let (pos, _) = records::<PurchaseOrder>(&fixture("get_purchase_orders_response.xml"));
    assert!(!pos.is_empty());
    for po in &pos {
        assert!(po.document_number.as_deref().unwrap().starts_with("PO-"));
        assert_eq!(po.supplier.id.as_deref(), Some("S-000002"));
        let sum: Decimal = po.lines.iter().filter_map(|l| l.extended_amount).sum();
        assert_eq!(po.total_amount, Some(sum));
        assert!(po.document_date.is_some() && po.buyer.is_some());
        assert_ne!(po.status, DocumentStatus::Unknown);
    }
    let (payments, _) = records::<Payment>(&fixture("get_payments_response.xml"));
    let p = &payments[0];
    // Payment_Reference carries the WID (the ID a payment is read again by).
    assert_eq!(p.wid.as_deref(), Some("0400000000f63a095145b185c0a79a0f"));
    assert_eq!(p.reference_id, None);
    assert_eq!(p.reference_number.as_deref(), Some("PAY-0000001"));
    assert_eq!(p.status, PaymentState::Paid);
    // Date and type live in Payment_Group_Data.
    assert_eq!(p.payment_date, "2024-05-29".parse().ok());
    assert_eq!(p.amount, Some(dec("13310.13")));
    assert_eq!(p.currency.as_deref(), Some("GBP"));
    assert_eq!(p.payee.id.as_deref(), Some("S-000001"));
    assert_eq!(p.payment_type.as_deref(), Some("ACH"));
    assert_eq!(p.company.as_ref().unwrap().id.as_deref(), Some("UK01"));
    assert_eq!(
        p.settled[0].document_id.as_deref(),
        Some("SUPPLIER_INVOICE-3-1")
    );
    assert_eq!(p.settled[0].amount_paid, Some(dec("13310.13")));
    assert_eq!(p.settled[0].amount_due, Some(dec("12788.16")));
}

#[test]
fn payments_in_the_flat_form_still_decode() {
    // Older material puts the date and type directly in Payment_Data and the status in a reference.
    let body = br#"<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><wd:Get_Payments_Response xmlns:wd="urn:com.workday/bsvc"><wd:Response_Data><wd:Payment><wd:Payment_Reference><wd:ID wd:type="WID">0400000000f63a095145b185c0a79a0f</wd:ID></wd:Payment_Reference><wd:Payment_Data><wd:Payment_Type_Reference><wd:ID wd:type="Payment_Type_ID">Check</wd:ID></wd:Payment_Type_Reference><wd:Payment_Date>2024-02-03-08:00</wd:Payment_Date><wd:Payment_Amount>12.50</wd:Payment_Amount><wd:Currency_Reference><wd:ID wd:type="Currency_ID">USD</wd:ID></wd:Currency_Reference><wd:Payment_Status_Reference><wd:ID wd:type="Payment_Status_ID">Voided</wd:ID></wd:Payment_Status_Reference></wd:Payment_Data></wd:Payment></wd:Response_Data></wd:Get_Payments_Response></e:Body></e:Envelope>"#;
    let (payments, _) = records::<Payment>(body);
    let p = &payments[0];
    assert_eq!(p.payment_date, "2024-02-03".parse().ok());
    assert_eq!(p.payment_type.as_deref(), Some("Check"));
    assert_eq!(p.currency.as_deref(), Some("USD"));
    assert_eq!(p.status, PaymentState::Voided);
    assert_eq!(p.amount, Some(dec("12.50")));
}

#[test]
fn purchase_order_total_adds_lines_tax_freight_and_other_charges() {
    let body = br#"<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><wd:Get_Purchase_Orders_Response xmlns:wd="urn:com.workday/bsvc"><wd:Response_Data><wd:Purchase_Order><wd:Purchase_Order_Data><wd:Document_Number>PO-9</wd:Document_Number><wd:Tax_Amount>8.25</wd:Tax_Amount><wd:Freight_Amount>10</wd:Freight_Amount><wd:Other_Charges>1.75</wd:Other_Charges><wd:Goods_Line_Data><wd:Line_Number>1</wd:Line_Number><wd:Extended_Amount>100.00</wd:Extended_Amount></wd:Goods_Line_Data><wd:Service_Line_Data><wd:Line_Number>2</wd:Line_Number><wd:Description>Installation</wd:Description><wd:Extended_Amount>50.00</wd:Extended_Amount></wd:Service_Line_Data></wd:Purchase_Order_Data></wd:Purchase_Order></wd:Response_Data></wd:Get_Purchase_Orders_Response></e:Body></e:Envelope>"#;
    let (pos, _) = records::<PurchaseOrder>(body);
    assert_eq!(pos[0].total_amount, Some(dec("170.00")));
    assert_eq!(pos[0].lines[1].description.as_deref(), Some("Installation"));
    assert_eq!(pos[0].tax_amount, Some(dec("8.25")));
}

#[test]
fn namespaces_by_uri_unknown_elements_cdata_and_credit_memos() {
    let (invoices, info) =
        records::<SupplierInvoice>(&fixture("get_supplier_invoices_variants_response.xml"));
    assert_eq!(
        info.unwrap().total_results,
        1,
        "Response_Results after Response_Data is read"
    );
    let i = &invoices[0];
    assert_eq!(i.reference_id.as_deref(), Some("SUPPLIER_INVOICE-3-4242"));
    assert_eq!(i.invoice_number.as_deref(), Some("SINV-0004242"));
    assert_eq!(
        i.supplier_invoice_number.as_deref(),
        Some("CR-2024/0007 & co")
    );
    assert_eq!(i.supplier.descriptor.as_deref(), Some("Smith & Sons GmbH"));
    assert_eq!(i.supplier.id.as_deref(), Some("S-000077"));
    assert_eq!(
        i.memo.as_deref(),
        Some("Credit for returned goods <damaged>")
    );
    assert_eq!(i.due_date, "2024-03-31".parse().ok());
    assert_eq!(i.control_amount, Some(dec("-1250.50")));
    assert_eq!(i.tax_amount, Some(dec("-50")));
    assert_eq!(i.po_number.as_deref(), Some("EXT-PO-9"));
    // A credit entered as a negative invoice (some tenants do) is kept as sent.
    assert!(i.on_hold && i.total() < Decimal::ZERO);
    assert_eq!(i.lines[0].quantity, Some(dec("-2")));
}

#[test]
fn fault_fixtures() {
    let fault = |name: &str| match decode_page::<Supplier>(&fixture(name)).unwrap() {
        PageBody::Fault(f) => f,
        PageBody::Records(_) => panic!("{name}: expected a fault"),
    };
    let auth = fault("fault_authentication.xml");
    assert_eq!(auth.code, "Client.authenticationError");
    assert_eq!(auth.message, "invalid username or password");
    let val = fault("fault_validation.xml");
    assert_eq!(val.code, "Client.validationError");
    assert_eq!(val.validation_errors.len(), 2);
    assert_eq!(
        val.validation_errors[0].message,
        "Invalid ID value.  'S-999999' is not a valid ID value for type = 'Supplier_ID'"
    );
    assert_eq!(
        val.validation_errors[1].xpath.as_deref(),
        Some("/wd:Get_Purchase_Orders_Request[1]/wd:Response_Filter[1]/wd:Count[1]")
    );
    let proc = fault("fault_processing.xml");
    assert_eq!(proc.code, "Server.processingError");
    assert_eq!(
        proc.detail.as_deref(),
        Some("The task submitted is not authorized.")
    );
}

#[test]
fn wrong_operation_and_non_xml_are_typed_errors_with_offsets() {
    let body = fixture("get_suppliers_response.xml");
    match decode_page::<Payment>(&body) {
        Err(e) => assert!(
            e.message.contains("Get_Payments_Response") && e.offset > 0,
            "{e:?}"
        ),
        Ok(_) => panic!("a Get_Suppliers page is not a Get_Payments page"),
    }
    let html = b"<html><body>502 Bad Gateway</body></html>";
    assert!(
        decode_page::<Supplier>(html)
            .unwrap_err()
            .message
            .contains("Envelope")
    );
    let e = decode_page::<Supplier>(b"").unwrap_err();
    assert_eq!(e.offset, 0);
    let e = decode_page::<Supplier>(b"not xml at all").unwrap_err();
    assert!(e.message.contains("not XML"), "{e:?}");
}

#[test]
fn a_record_with_a_bad_value_is_skipped_with_its_id_and_the_page_goes_on() {
    let body = String::from_utf8(fixture("get_supplier_invoices_response.xml")).unwrap();
    let bad = body.replacen("<wd:Tax_Amount>1933.21", "<wd:Tax_Amount>12,50", 1);
    let offset_of_bad = bad.find("12,50").unwrap() as u64;
    let reader: PageReader<'_, SupplierInvoice> = match decode_page(bad.as_bytes()).unwrap() {
        PageBody::Records(r) => r,
        PageBody::Fault(_) => unreachable!(),
    };
    let results: Vec<_> = reader.collect();
    assert_eq!(results.len(), 2);
    let Err(RecordError::Skipped(skipped)) = &results[0] else {
        panic!("{:?}", results[0]);
    };
    assert_eq!(skipped.index, 1);
    assert_eq!(skipped.id.as_deref(), Some("SUPPLIER_INVOICE-3-1"));
    assert!(skipped.message.contains("Tax_Amount"), "{skipped:?}");
    assert!(
        skipped.offset >= offset_of_bad && skipped.offset < offset_of_bad + 40,
        "{skipped:?} vs {offset_of_bad}"
    );
    let next = results[1].as_ref().unwrap();
    assert_eq!(next.reference_id.as_deref(), Some("SUPPLIER_INVOICE-3-2"));
    // Through the client's page decoding: the page is delivered with the skipped record listed.
    let page =
        page_of::<SupplierInvoice>(Operation::GetSupplierInvoices, 200, bad.as_bytes()).unwrap();
    assert_eq!(page.records.len(), 1);
    assert_eq!(page.skipped, vec![skipped.clone()]);
    // A broken document is still an error for the whole page.
    let broken = bad.replacen(
        "</wd:Supplier_Invoice_Data>",
        "</wd:Supplier_Invoice_Dat>",
        1,
    );
    assert!(
        page_of::<SupplierInvoice>(Operation::GetSupplierInvoices, 200, broken.as_bytes()).is_err()
    );
}

#[test]
fn truncated_bodies_always_fail_cleanly() {
    for name in [
        "get_suppliers_response.xml",
        "get_supplier_invoices_response.xml",
        "fault_validation.xml",
    ] {
        let body = fixture(name);
        for cut in (0..body.len() - 20).step_by(3) {
            let prefix = &body[..cut];
            let outcome = drain::<SupplierInvoice>(prefix).and(drain::<Supplier>(prefix));
            assert!(outcome.is_err(), "{name} cut at {cut} decoded as complete");
        }
    }
}

/// Decodes everything; Ok(number of records, skipped included) or Err for a malformed body.
fn drain<R: Record>(body: &[u8]) -> Result<usize, String> {
    match decode_page::<R>(body).map_err(|e| e.message)? {
        PageBody::Fault(_) => Ok(0),
        PageBody::Records(reader) => {
            let mut n = 0;
            for r in reader {
                match r {
                    Ok(_) | Err(RecordError::Skipped(_)) => n += 1,
                    Err(RecordError::Malformed(e)) => return Err(e.message),
                }
            }
            Ok(n)
        }
    }
}

const ALL_FIXTURES: &[&str] = &[
    "get_suppliers_response.xml",
    "get_supplier_invoices_response.xml",
    "get_supplier_invoices_single_response.xml",
    "get_supplier_invoices_variants_response.xml",
    "get_supplier_invoice_adjustments_response.xml",
    "get_purchase_orders_response.xml",
    "get_payments_response.xml",
    "get_payments_by_reference_response.xml",
    "get_suppliers_empty_response.xml",
    "supplier_v40_tax_id_widget_response.xml",
    "invoices_without_descriptors_response.xml",
    "adjustments_credit_and_debit_memos_response.xml",
    "payments_remittance_suppliers_number_response.xml",
    "fault_authentication.xml",
    "fault_validation.xml",
    "fault_processing.xml",
];

fn all_fixtures() -> Vec<Vec<u8>> {
    ALL_FIXTURES.iter().map(|n| fixture(n)).collect()
}

fn decode_everything(body: &[u8]) {
    let _ = drain::<Supplier>(body);
    let _ = drain::<SupplierInvoice>(body);
    let _ = drain::<SupplierInvoiceAdjustment>(body);
    let _ = drain::<PurchaseOrder>(body);
    let _ = drain::<Payment>(body);
    // The client's page path too (fault or records, status handling, the capacity of the page).
    for status in [200, 500] {
        let _ = page_of::<Supplier>(Operation::GetSuppliers, status, body);
        let _ = page_of::<SupplierInvoice>(Operation::GetSupplierInvoices, status, body);
        let _ = page_of::<SupplierInvoiceAdjustment>(
            Operation::GetSupplierInvoiceAdjustments,
            status,
            body,
        );
        let _ = page_of::<PurchaseOrder>(Operation::GetPurchaseOrders, status, body);
        let _ = page_of::<Payment>(Operation::GetPayments, status, body);
    }
}

/// One HTTP answer through the client's page decoding.
fn page_of<R: Record>(
    op: Operation,
    status: u16,
    body: &[u8],
) -> Result<ml_connector::workday::PageOf<R>, ml_connector::workday::WorkdayError> {
    let source = WorkdaySource {
        transport: "soap".into(),
        service: op.default_service().into(),
        operation: op.name().into(),
        version: "v46.1".into(),
        page: 1,
        total_pages: 0,
        as_of: "2024-06-15T08:00:00Z".parse().unwrap(),
    };
    decode_soap_response::<R>(op, status, body, 1, source)
}

#[test]
fn a_huge_page_results_does_not_size_an_allocation() {
    let body = String::from_utf8(fixture("get_suppliers_response.xml")).unwrap();
    for huge in ["4000000000", "4294967295"] {
        let lying = body.replace(
            "<wd:Page_Results>2</wd:Page_Results>",
            &format!("<wd:Page_Results>{huge}</wd:Page_Results>"),
        );
        assert_ne!(lying, body);
        let page = page_of::<Supplier>(Operation::GetSuppliers, 200, lying.as_bytes()).unwrap();
        assert_eq!(page.records.len(), 2);
        assert!(
            page.records.capacity() <= 999,
            "{}",
            page.records.capacity()
        );
        assert_eq!(page.info.page_results.to_string(), huge);
    }
}

/// One edit of a fixture.
#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Duplicate(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let markup = prop::sample::select(vec![
        b"<".to_vec(),
        b">".to_vec(),
        b"</wd:Supplier>".to_vec(),
        b"<wd:Response_Data>".to_vec(),
        b"&".to_vec(),
        b"&#xFFFFFFFF;".to_vec(),
        b"<![CDATA[".to_vec(),
        b"xmlns:wd=\"urn:other\"".to_vec(),
        b"\xff\xfe".to_vec(),
        b"<wd:Gross_Invoice_Amount>1e99999</wd:Gross_Invoice_Amount>".to_vec(),
        b"<wd:Page>99999999999</wd:Page>".to_vec(),
        b"<wd:Page_Results>4000000000</wd:Page_Results>".to_vec(),
        b"<wd:Total_Pages>4294967295</wd:Total_Pages>".to_vec(),
    ]);
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (
            any::<usize>(),
            prop_oneof![markup, prop::collection::vec(any::<u8>(), 1..8)]
        )
            .prop_map(|(i, v)| Mutation::Insert(i, v)),
        (any::<usize>(), 1usize..64).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (any::<usize>(), 1usize..200).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
    ]
}

fn apply(body: &mut Vec<u8>, m: &Mutation) {
    if body.is_empty() {
        return;
    }
    let at = |i: usize, len: usize| i % len;
    match m {
        Mutation::Flip(i, b) => {
            let i = at(*i, body.len());
            body[i] ^= b | 1;
        }
        Mutation::Insert(i, v) => {
            let i = at(*i, body.len() + 1);
            body.splice(i..i, v.iter().copied());
        }
        Mutation::Delete(i, n) => {
            let i = at(*i, body.len());
            let end = (i + n).min(body.len());
            body.drain(i..end);
        }
        Mutation::Duplicate(i, n) => {
            let i = at(*i, body.len());
            let end = (i + n).min(body.len());
            let copy = body[i..end].to_vec();
            body.splice(end..end, copy);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        decode_everything(&bytes);
    }

    #[test]
    fn arbitrary_text_inside_an_envelope_never_panics(inner in "\\PC{0,600}") {
        let body = format!(
            r#"<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><wd:Get_Supplier_Invoices_Response xmlns:wd="urn:com.workday/bsvc"><wd:Response_Data><wd:Supplier_Invoice>{inner}</wd:Supplier_Invoice></wd:Response_Data></wd:Get_Supplier_Invoices_Response></e:Body></e:Envelope>"#
        );
        decode_everything(body.as_bytes());
    }

    #[test]
    fn any_response_results_never_panic_or_oversize(
        total in any::<u32>(), pages in any::<u32>(), on_page in any::<u32>(), page in any::<u32>()
    ) {
        let body = String::from_utf8(fixture("get_supplier_invoices_response.xml")).unwrap();
        let start = body.find("<wd:Response_Results>").unwrap();
        let end = body.find("</wd:Response_Results>").unwrap();
        let results = format!(
            "<wd:Response_Results><wd:Total_Results>{total}</wd:Total_Results><wd:Total_Pages>{pages}</wd:Total_Pages><wd:Page_Results>{on_page}</wd:Page_Results><wd:Page>{page}</wd:Page>"
        );
        let lying = format!("{}{}{}", &body[..start], results, &body[end..]);
        let p = page_of::<SupplierInvoice>(Operation::GetSupplierInvoices, 200, lying.as_bytes()).unwrap();
        prop_assert_eq!(p.records.len(), 2);
        prop_assert!(p.records.capacity() <= 999);
        prop_assert_eq!(p.info.total_pages, pages);
    }

    #[test]
    fn mutated_fixtures_never_panic(which in 0usize..ALL_FIXTURES.len(), edits in prop::collection::vec(mutation(), 1..6)) {
        let mut body = all_fixtures().swap_remove(which);
        for m in &edits {
            apply(&mut body, m);
        }
        decode_everything(&body);
    }
}

fn creds() -> SoapCredentials {
    SoapCredentials {
        username: "isu_mlc".into(),
        tenant: "acme_dpt1".into(),
        password: SecretString::from("sim-password"),
    }
}

/// Removes the whitespace between tags, to compare documents written by hand and by the client.
fn compact(xml: &[u8]) -> String {
    let text = String::from_utf8(xml.to_vec()).unwrap();
    let mut out = String::new();
    for line in text.lines() {
        out.push_str(line.trim());
    }
    out.replace("?><", "?>\n<")
}

#[test]
fn request_fixtures_are_what_the_client_sends() {
    let page = |count| PageRequest {
        page: 1,
        count,
        as_of: "2024-06-15T08:00:00Z".parse().unwrap(),
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "get_suppliers_request.xml",
            envelope(
                &SupplierQuery::Criteria(SupplierCriteria {
                    updated_from: Some("2023-01-01T00:00:00Z".parse().unwrap()),
                    ..Default::default()
                }),
                "v46.1",
                &creds(),
                &page(2),
            )
            .unwrap(),
        ),
        (
            "get_supplier_invoices_request.xml",
            envelope(
                &InvoiceQuery::ByReference(IdLookup::new(
                    "Supplier_Invoice_Reference_ID",
                    ["SUPPLIER_INVOICE-3-1", "SUPPLIER_INVOICE-3-2"],
                )),
                "v46.1",
                &creds(),
                &page(999),
            )
            .unwrap(),
        ),
        (
            "get_supplier_invoice_adjustments_request.xml",
            envelope(
                &AdjustmentQuery::Criteria(AdjustmentCriteria {
                    company_id: Some("US01".into()),
                    date_from: Some("2023-01-01".parse().unwrap()),
                    ..Default::default()
                }),
                "v46.1",
                &creds(),
                &page(2),
            )
            .unwrap(),
        ),
        (
            "get_purchase_orders_request.xml",
            envelope(
                &PurchaseOrderQuery::Criteria(PurchaseOrderCriteria {
                    supplier_ids: vec!["S-000002".into()],
                    po_date_from: Some("2023-01-01".parse().unwrap()),
                    ..Default::default()
                }),
                "v46.1",
                &creds(),
                &page(100),
            )
            .unwrap(),
        ),
        (
            "get_payments_request.xml",
            envelope(
                &PaymentQuery::Criteria(PaymentCriteria {
                    payee_supplier_ids: vec!["S-000001".into()],
                    payment_date_from: Some("2023-06-01".parse().unwrap()),
                    ..Default::default()
                }),
                "v46.1",
                &creds(),
                &page(100),
            )
            .unwrap(),
        ),
        (
            "get_payments_by_reference_request.xml",
            envelope(
                &PaymentQuery::by_wid(["0400000000f63a095145b185c0a79a0f"]),
                "v46.1",
                &creds(),
                &page(1),
            )
            .unwrap(),
        ),
    ];
    for (name, sent) in cases {
        assert_eq!(compact(&sent), compact(&fixture(name)), "{name}");
    }
}

fn date(s: &str) -> chrono::NaiveDate {
    s.parse().unwrap()
}

#[test]
fn v40_supplier_tax_ids_come_from_the_widget_and_addresses_by_date() {
    let (suppliers, skipped) =
        records_and_skipped::<Supplier>(&fixture("supplier_v40_tax_id_widget_response.xml"));
    assert_eq!(suppliers.len(), 2);
    let s = &suppliers[0];
    assert_eq!(s.supplier_id, "S-004711");
    assert_eq!(s.reference_id.as_deref(), Some("NORDWIND"));
    // The primary tax ID, though listed second; there is no Business_Entity_Tax_ID.
    assert_eq!(s.tax_id.as_deref(), Some("12/345/67890"));
    // Listed out of order; the one in effect on the day asked about.
    assert_eq!(s.contacts.addresses.len(), 3);
    assert!(s.contacts.addresses.iter().all(|a| a.primary));
    let street = |d: &str| s.contacts.current_address(date(d)).unwrap().lines[0].clone();
    assert_eq!(street("2024-06-15"), "Speicherallee 3");
    assert_eq!(street("2024-09-01"), "Neue Mitte 7");
    assert_eq!(street("2022-01-01"), "Hafenstraße 12");
    let mapped = ml_connector::mapper::Supplier::from_workday(s, date("2024-06-15"));
    assert_eq!(
        mapped.address.as_deref(),
        Some("Speicherallee 3, 20457 Hamburg, Germany")
    );
    assert_eq!(mapped.tax_id.as_deref(), Some("12/345/67890"));
    // No descriptors were sent: the category is its ID, not a blank.
    assert_eq!(mapped.category.as_deref(), Some("RAW_MATERIALS"));
    // A primary entry without a text does not hide the one that has one.
    assert_eq!(suppliers[1].supplier_id, "S-004712");
    assert_eq!(suppliers[1].tax_id.as_deref(), Some("DE299887766"));
    // The record without any Supplier_ID is skipped and named by its WID.
    assert_eq!(
        skipped,
        [SkippedRecord {
            index: 2,
            id: Some("0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e".into()),
            offset: skipped[0].offset,
            message: "Supplier without Supplier_ID".into(),
        }]
    );
    // Through the client's page decoding: two records, one skipped, and the walk would go on.
    let page = page_of::<Supplier>(
        Operation::GetSuppliers,
        200,
        &fixture("supplier_v40_tax_id_widget_response.xml"),
    )
    .unwrap();
    assert_eq!((page.records.len(), page.skipped.len()), (2, 1));
    assert_eq!(page.info.page_results, 3);
}

#[test]
fn older_versions_keep_the_tax_id_in_tax_id_data_or_the_business_entity() {
    let page = |supplier_data: &str| {
        format!(
            r#"<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><wd:Get_Suppliers_Response xmlns:wd="urn:com.workday/bsvc" wd:version="v28.1"><wd:Response_Data><wd:Supplier><wd:Supplier_Data><wd:Supplier_ID>S-1</wd:Supplier_ID><wd:Supplier_Name>Old Shape Ltd</wd:Supplier_Name>{supplier_data}</wd:Supplier_Data></wd:Supplier></wd:Response_Data></wd:Get_Suppliers_Response></e:Body></e:Envelope>"#
        )
    };
    let tax_id = |supplier_data: &str| {
        records::<Supplier>(page(supplier_data).as_bytes()).0[0]
            .tax_id
            .clone()
    };
    // v28: Tax_ID_Data directly in Supplier_Data (before the business entity), primary wins.
    assert_eq!(
        tax_id(
            "<wd:Tax_ID_Data><wd:Tax_ID_Text>11-1111111</wd:Tax_ID_Text><wd:Primary_Tax_ID>0</wd:Primary_Tax_ID></wd:Tax_ID_Data><wd:Tax_ID_Data><wd:Tax_ID_Text>22-2222222</wd:Tax_ID_Text><wd:Primary_Tax_ID>1</wd:Primary_Tax_ID></wd:Tax_ID_Data><wd:Business_Entity_Data><wd:Business_Entity_Tax_ID>33-3333333</wd:Business_Entity_Tax_ID></wd:Business_Entity_Data>"
        )
        .as_deref(),
        Some("22-2222222")
    );
    // Only the business entity's.
    assert_eq!(
        tax_id("<wd:Business_Entity_Data><wd:Business_Entity_Tax_ID>33-3333333</wd:Business_Entity_Tax_ID></wd:Business_Entity_Data>").as_deref(),
        Some("33-3333333")
    );
    // The widget wins over both when a response has all three.
    assert_eq!(
        tax_id("<wd:Tax_ID_Widget_Data><wd:Tax_ID_Data><wd:Tax_ID_Text>44-4444444</wd:Tax_ID_Text></wd:Tax_ID_Data></wd:Tax_ID_Widget_Data><wd:Tax_ID_Data><wd:Tax_ID_Text>22-2222222</wd:Tax_ID_Text></wd:Tax_ID_Data><wd:Business_Entity_Data><wd:Business_Entity_Tax_ID>33-3333333</wd:Business_Entity_Tax_ID></wd:Business_Entity_Data>").as_deref(),
        Some("44-4444444")
    );
    assert_eq!(tax_id(""), None);
}

#[test]
fn a_response_without_descriptors_decodes_every_value_from_ids() {
    let (invoices, _) =
        records::<SupplierInvoice>(&fixture("invoices_without_descriptors_response.xml"));
    let i = &invoices[0];
    assert_eq!(i.reference_id.as_deref(), Some("SUPPLIER_INVOICE-7-501"));
    assert_eq!(i.wid.as_deref(), Some("3f0c9a8b7d6e5f4a3b2c1d0e9f8a7b6c"));
    assert_eq!(i.supplier.id.as_deref(), Some("S-004711"));
    assert_eq!(i.supplier.descriptor, None);
    assert_eq!(i.company.as_ref().unwrap().id.as_deref(), Some("DE01"));
    assert_eq!(i.currency.as_deref(), Some("EUR"));
    assert_eq!(i.document_status, DocumentStatus::Approved);
    assert_eq!(i.payment_terms.as_deref(), Some("NET_30"));
    assert_eq!(i.supplier_invoice_number.as_deref(), Some("RE-2024-0815"));
    assert_eq!(i.due_date, Some(date("2024-05-31")));
    assert_eq!(i.total(), dec("11900.00"));
    assert_eq!(
        i.lines[0].spend_category.as_ref().unwrap().id.as_deref(),
        Some("RAW_MATERIALS")
    );
    // The supplier's name comes from the supplier record, not from a descriptor that was never sent.
    let (suppliers, _) =
        records_and_skipped::<Supplier>(&fixture("supplier_v40_tax_id_widget_response.xml"));
    let mapped = MappedInvoice::from_workday(
        &InvoiceSources::of(i).supplier(&suppliers[0]),
        date("2024-05-15"),
    );
    assert_eq!(mapped.supplier_name, "Nordwind Industrial GmbH");
    assert_eq!(mapped.supplier_id, "S-004711");
    assert_eq!(mapped.status, "Approved");
}

#[test]
fn adjustments_decode_with_their_link_to_the_original_invoice() {
    let (adjustments, info) = records::<SupplierInvoiceAdjustment>(&fixture(
        "adjustments_credit_and_debit_memos_response.xml",
    ));
    assert_eq!(info.unwrap().total_results, 3);
    let credit = &adjustments[0];
    assert_eq!(
        credit.reference_id.as_deref(),
        Some("SUPPLIER_INVOICE_ADJUSTMENT-7-12")
    );
    assert_eq!(
        credit.wid.as_deref(),
        Some("7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d")
    );
    assert_eq!(credit.adjustment_number.as_deref(), Some("SIA-0000012"));
    assert_eq!(
        credit.supplier_invoice_number.as_deref(),
        Some("GS-2024-0099")
    );
    assert_eq!(credit.supplier.id.as_deref(), Some("S-004711"));
    assert_eq!(credit.currency.as_deref(), Some("EUR"));
    assert_eq!(credit.adjustment_date, Some(date("2024-05-10")));
    assert_eq!(credit.control_amount, Some(dec("1190.00")));
    assert_eq!(credit.tax_amount, Some(dec("190.00")));
    assert!(!credit.increases_liability);
    assert_eq!(
        credit.reason.as_ref().unwrap().id.as_deref(),
        Some("Returned_Goods")
    );
    let original = credit.original_invoice.as_ref().unwrap();
    assert_eq!(original.id.as_deref(), Some("SUPPLIER_INVOICE-7-501"));
    assert_eq!(
        original.wid.as_deref(),
        Some("3f0c9a8b7d6e5f4a3b2c1d0e9f8a7b6c")
    );
    assert_eq!(credit.memo.as_deref(), Some("4 damaged sheets returned"));
    assert_eq!(credit.lines[0].extended_amount, Some(dec("1000.00")));
    assert_eq!(credit.document_status, DocumentStatus::Unknown);
    let debit = &adjustments[1];
    assert!(debit.increases_liability);
    assert_eq!(debit.original_invoice, None);
    assert_eq!(
        debit.original_invoice_supplier_number.as_deref(),
        Some("RE-2024-0815")
    );
    assert_eq!(debit.magnitude(), dec("59.50"));
    let negative = &adjustments[2];
    assert_eq!(negative.control_amount, Some(dec("-250.00")));
    assert_eq!(negative.magnitude(), dec("250.00"));
    // Which invoice each adjusts.
    let (invoices, _) =
        records::<SupplierInvoice>(&fixture("invoices_without_descriptors_response.xml"));
    let of = |inv: &SupplierInvoice| -> Vec<&str> {
        adjustments
            .iter()
            .filter(|a| adjusts(a, inv))
            .map(|a| a.adjustment_number.as_deref().unwrap())
            .collect()
    };
    assert_eq!(of(&invoices[0]), ["SIA-0000012", "SIA-0000013"]);
    assert_eq!(of(&invoices[1]), ["SIA-0000014"]);
}

#[test]
fn a_remittance_naming_the_suppliers_invoice_number_attaches_to_the_invoice() {
    let (payments, _) = records::<Payment>(&fixture(
        "payments_remittance_suppliers_number_response.xml",
    ));
    let p = &payments[0];
    assert_eq!(p.wid.as_deref(), Some("b7e1c2d3a4f5b6c7d8e9f0a1b2c3d4e5"));
    assert_eq!(p.reference_id, None);
    assert_eq!(p.reference_number.as_deref(), Some("PAY-2024-3307"));
    assert_eq!(p.payee.id.as_deref(), Some("S-004711"));
    assert_eq!(p.payment_date, Some(date("2024-05-20")));
    assert_eq!(p.payment_type.as_deref(), Some("SEPA"));
    let line = &p.settled[0];
    assert_eq!(line.document_id, None);
    assert_eq!(line.document_reference.as_deref(), Some("RE-2024-0815"));
    assert_eq!(line.amount_paid, Some(dec("5000.00")));
    assert_eq!(line.amount_due, Some(dec("5769.50")));
    assert_eq!(payments[2].status, PaymentState::Voided);

    let (invoices, _) =
        records::<SupplierInvoice>(&fixture("invoices_without_descriptors_response.xml"));
    let invoice = &invoices[0];
    // Only the first payment settles it: the second goes to another supplier with the same number, the
    // third (which names it by Workday's IDs) was voided.
    let found: Vec<_> = settlements(invoice, &payments)
        .map(|s| s.payment.reference_number.clone().unwrap())
        .collect();
    assert_eq!(found, ["PAY-2024-3307", "PAY-2024-3290"]);
    assert!(settlements(&invoices[1], &payments).next().is_none());

    // The whole story: 11,900.00 + 59.50 (debit memo) − 1,190.00 (credit memo) − 5,000.00 paid.
    let (adjustments, _) = records::<SupplierInvoiceAdjustment>(&fixture(
        "adjustments_credit_and_debit_memos_response.xml",
    ));
    let before_due = InvoicePosition::of(invoice, &adjustments, &payments, date("2024-05-25"));
    assert_eq!(before_due.amount, dec("11900.00"));
    assert_eq!(before_due.credits, dec("1190.00"));
    assert_eq!(before_due.debits, dec("59.50"));
    assert_eq!(before_due.paid, dec("5000.00"));
    assert_eq!(before_due.due, dec("5769.50"));
    assert_eq!(before_due.status, PaymentStatus::PartiallyPaid);
    assert_eq!(before_due.last_payment_date, Some(date("2024-05-20")));
    let after_due = InvoicePosition::of(invoice, &adjustments, &payments, date("2024-06-15"));
    assert_eq!(after_due.status, PaymentStatus::Overdue);
    assert_eq!(after_due.days_overdue, Some(15));
    // Before the credit memo and the payment existed.
    let early = InvoicePosition::of(invoice, &adjustments, &payments, date("2024-05-05"));
    assert_eq!(
        (early.due, early.status),
        (dec("11900.00"), PaymentStatus::Unpaid)
    );
    // Invoice 502: its credit was sent with negative amounts and still lowers what is due.
    let other = InvoicePosition::of(&invoices[1], &adjustments, &payments, date("2024-06-01"));
    assert_eq!((other.credits, other.due), (dec("250.00"), dec("2250.00")));
    // The same through the mapper, as a plugin sees it.
    let mapped = MappedInvoice::from_workday(
        &InvoiceSources::of(invoice)
            .adjustments(&adjustments)
            .payments(&payments),
        date("2024-05-25"),
    );
    assert_eq!(mapped.amount_due, "5769.5");
    assert_eq!(mapped.payment_status, "Partially Paid");
    assert_eq!(mapped.extra["Amount_Credited"], "1190");
    assert_eq!(mapped.payments.len(), 2);
    assert_eq!(mapped.number, "RE-2024-0815");
}

#[test]
fn purchase_order_totals_count_deliverables_and_contingent_worker_lines() {
    let body = br#"<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><wd:Get_Purchase_Orders_Response xmlns:wd="urn:com.workday/bsvc"><wd:Response_Data><wd:Purchase_Order><wd:Purchase_Order_Data><wd:Document_Number>PO-10</wd:Document_Number><wd:Tax_Amount>19.00</wd:Tax_Amount><wd:Goods_Line_Data><wd:Line_Number>1</wd:Line_Number><wd:Item_Description>Bolts</wd:Item_Description><wd:Quantity>10</wd:Quantity><wd:Unit_Cost>10.00</wd:Unit_Cost><wd:Extended_Amount>100.00</wd:Extended_Amount></wd:Goods_Line_Data><wd:Deliverables_Line_Data><wd:Line_Number>2</wd:Line_Number><wd:Project_Reference><wd:ID wd:type="Project_ID">PRJ-7</wd:ID></wd:Project_Reference><wd:Memo>Milestone 1</wd:Memo><wd:Extended_Amount>5000.00</wd:Extended_Amount></wd:Deliverables_Line_Data><wd:Service_Line_Data><wd:Line_Number>3</wd:Line_Number><wd:Description>Installation</wd:Description><wd:Extended_Amount>250.00</wd:Extended_Amount></wd:Service_Line_Data><wd:Contingent_Worker_Line_Data><wd:Line_Number>4</wd:Line_Number><wd:Scheduled_Hours>40</wd:Scheduled_Hours><wd:Contract_Pay_Rate>75.00</wd:Contract_Pay_Rate><wd:Extended_Amount>3000.00</wd:Extended_Amount><wd:Memo>Contract engineer</wd:Memo></wd:Contingent_Worker_Line_Data></wd:Purchase_Order_Data></wd:Purchase_Order></wd:Response_Data></wd:Get_Purchase_Orders_Response></e:Body></e:Envelope>"#;
    let (pos, _) = records::<PurchaseOrder>(body);
    let po = &pos[0];
    assert_eq!(po.total_amount, Some(dec("8369.00")));
    let kinds: Vec<_> = po.lines.iter().map(|l| l.kind).collect();
    assert_eq!(
        kinds,
        [
            PurchaseOrderLineKind::Goods,
            PurchaseOrderLineKind::Deliverables,
            PurchaseOrderLineKind::Service,
            PurchaseOrderLineKind::ContingentWorker
        ]
    );
    assert_eq!(po.lines[1].description.as_deref(), Some("Milestone 1"));
    assert_eq!(po.lines[3].quantity, Some(dec("40")));
    assert_eq!(po.lines[3].unit_cost, Some(dec("75.00")));
    assert_eq!(
        po.lines[3].description.as_deref(),
        Some("Contract engineer")
    );
}
