//! The `get_*_response.xml` fixtures in `tests/fixtures/workday` are the simulator's answers to the request
//! fixtures (the requests the client writes, which the server's tests compare byte for byte). The other
//! response fixtures there are written by hand from the published types, not by the simulator (see the
//! directory's README). This test keeps the simulator's in step:
//! it posts each request and compares the answer with the stored response. After a deliberate change to the
//! simulator's output, rewrite them with
//!
//! ```text
//! UPDATE_WORKDAY_FIXTURES=1 cargo nextest run -p ml-connector-sim fixtures
//! ```

use std::path::PathBuf;

use quick_xml::events::Event;
use quick_xml::{Reader, Writer};

use super::*;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/workday")
}

fn read(name: &str) -> String {
    std::fs::read_to_string(dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Indents a document two spaces per level (text stays inline, escapes stay as written).
fn pretty(xml: &str) -> String {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().trim_text(true);
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(e) => writer
                .write_event(e)
                .unwrap_or_else(|e| panic!("write: {e}")),
            Err(e) => panic!("the answer is not XML: {e}"),
        }
    }
    let mut out = String::from_utf8(writer.into_inner()).unwrap_or_default();
    out.push('\n');
    out
}

#[tokio::test]
async fn response_fixtures_are_the_simulators_answers_to_the_request_fixtures() {
    let sim = WorkdaySim::start(SimConfig {
        suppliers: 10,
        seed: 3,
        anchor_date: NaiveDate::from_ymd_opt(2024, 6, 15).unwrap_or_default(),
        ..SimConfig::default()
    })
    .await
    .expect("start");
    let suppliers = read("get_suppliers_request.xml");
    let invoices = read("get_supplier_invoices_request.xml");
    let cases = [
        (
            "Resource_Management",
            suppliers.clone(),
            "get_suppliers_response.xml",
        ),
        (
            "Resource_Management",
            suppliers.replace("2023-01-01T00:00:00Z", "2030-01-01T00:00:00Z"),
            "get_suppliers_empty_response.xml",
        ),
        (
            "Resource_Management",
            invoices.clone(),
            "get_supplier_invoices_response.xml",
        ),
        (
            "Resource_Management",
            invoices.replace("<bsvc:Count>999<", "<bsvc:Count>1<"),
            "get_supplier_invoices_single_response.xml",
        ),
        (
            "Resource_Management",
            read("get_supplier_invoice_adjustments_request.xml"),
            "get_supplier_invoice_adjustments_response.xml",
        ),
        (
            "Resource_Management",
            read("get_purchase_orders_request.xml"),
            "get_purchase_orders_response.xml",
        ),
        (
            "Settlement_Services",
            read("get_payments_request.xml"),
            "get_payments_response.xml",
        ),
        (
            "Settlement_Services",
            read("get_payments_by_reference_request.xml"),
            "get_payments_by_reference_response.xml",
        ),
    ];
    let update = std::env::var_os("UPDATE_WORKDAY_FIXTURES").is_some();
    let http = reqwest::Client::new();
    for (service, request, name) in cases {
        let answer = http
            .post(format!(
                "{}/ccx/service/acme_dpt1/{service}/v46.1",
                sim.base_url()
            ))
            .header("content-type", "text/xml")
            .body(request)
            .send()
            .await
            .expect("send");
        assert_eq!(answer.status().as_u16(), 200, "{name}");
        let text = pretty(&answer.text().await.unwrap_or_default());
        if update {
            std::fs::write(dir().join(name), &text).unwrap_or_else(|e| panic!("{name}: {e}"));
        } else {
            assert_eq!(
                text,
                read(name),
                "{name} differs from the simulator's answer; see this module's docs"
            );
        }
    }
}
