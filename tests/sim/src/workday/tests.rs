//! The simulator's own checks of what it receives, over HTTP.

use super::*;

const ENV_OPEN: &str = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:bsvc="urn:com.workday/bsvc">"#;

fn security(user: &str, password: &str, password_type: &str) -> String {
    format!(
        r#"<soapenv:Header><wsse:Security soapenv:mustUnderstand="1" xmlns:wsse="{}"><wsse:UsernameToken><wsse:Username>{user}</wsse:Username><wsse:Password Type="{password_type}">{password}</wsse:Password></wsse:UsernameToken></wsse:Security></soapenv:Header>"#,
        parse::WSSE
    )
}

fn request(header: &str, body: &str) -> String {
    format!("{ENV_OPEN}{header}<soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>")
}

fn good_header() -> String {
    security("isu_mlc@acme_dpt1", "sim-password", parse::PASSWORD_TEXT)
}

async fn start() -> WorkdaySim {
    WorkdaySim::start(SimConfig {
        suppliers: 20,
        anchor_date: NaiveDate::from_ymd_opt(2024, 6, 15).unwrap_or_default(),
        ..SimConfig::default()
    })
    .await
    .expect("start")
}

async fn post(sim: &WorkdaySim, service: &str, body: String) -> (u16, String) {
    let r = reqwest::Client::new()
        .post(format!(
            "{}/ccx/service/acme_dpt1/{service}/v46.1",
            sim.base_url()
        ))
        .header("content-type", "text/xml")
        .body(body)
        .send()
        .await
        .expect("send");
    (r.status().as_u16(), r.text().await.unwrap_or_default())
}

const SUPPLIERS_OK: &str = r#"<bsvc:Get_Suppliers_Request bsvc:version="v46.1"><bsvc:Response_Filter><bsvc:Page>1</bsvc:Page><bsvc:Count>5</bsvc:Count></bsvc:Response_Filter></bsvc:Get_Suppliers_Request>"#;

#[tokio::test]
async fn ws_security_is_required_and_checked() {
    let sim = start().await;
    let (status, body) = post(
        &sim,
        "Resource_Management",
        request(&good_header(), SUPPLIERS_OK),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("<wd:Total_Results>20</wd:Total_Results>"));
    assert_eq!(body.matches("<wd:Supplier>").count(), 5);
    for header in [
        String::new(),
        security("isu_mlc", "sim-password", parse::PASSWORD_TEXT),
        security("isu_mlc@other_tenant", "sim-password", parse::PASSWORD_TEXT),
        security("isu_mlc@acme_dpt1", "sim-password", "urn:PasswordDigest"),
        security("isu_mlc@acme_dpt1", "nope", parse::PASSWORD_TEXT),
    ] {
        let (status, body) =
            post(&sim, "Resource_Management", request(&header, SUPPLIERS_OK)).await;
        assert_eq!(status, 500);
        assert!(
            body.contains("<faultcode>SOAP-ENV:Client.authenticationError</faultcode>"),
            "{body}"
        );
        assert!(body.contains("invalid username or password"));
    }
}

#[tokio::test]
async fn request_shape_is_validated_like_workday() {
    let sim = start().await;
    let cases = [
        // Get_Payments lives in Settlement_Services.
        (
            "Resource_Management",
            r#"<bsvc:Get_Payments_Request bsvc:version="v46.1"/>"#,
            "Settlement_Services",
        ),
        // No invoice-number filter in Workday.
        (
            "Resource_Management",
            r#"<bsvc:Get_Supplier_Invoices_Request bsvc:version="v46.1"><bsvc:Request_Criteria><bsvc:Invoice_Number>SINV-1</bsvc:Invoice_Number></bsvc:Request_Criteria></bsvc:Get_Supplier_Invoices_Request>"#,
            "Request_Criteria[1]/wd:Invoice_Number[1]",
        ),
        // References and criteria are a choice.
        (
            "Resource_Management",
            r#"<bsvc:Get_Suppliers_Request bsvc:version="v46.1"><bsvc:Request_References><bsvc:Supplier_Reference><bsvc:ID bsvc:type="Supplier_ID">S-000001</bsvc:ID></bsvc:Supplier_Reference></bsvc:Request_References><bsvc:Request_Criteria/></bsvc:Get_Suppliers_Request>"#,
            "exclusive",
        ),
        // The version attribute is required.
        (
            "Resource_Management",
            r#"<bsvc:Get_Suppliers_Request/>"#,
            "@wd:version",
        ),
        // Page must be at least 1, dates must be dates.
        (
            "Resource_Management",
            r#"<bsvc:Get_Suppliers_Request bsvc:version="v46.1"><bsvc:Request_Criteria><bsvc:Updated_From_Date>yesterday</bsvc:Updated_From_Date></bsvc:Request_Criteria><bsvc:Response_Filter><bsvc:Page>0</bsvc:Page></bsvc:Response_Filter></bsvc:Get_Suppliers_Request>"#,
            "Page[1]",
        ),
        // Unknown IDs are named.
        (
            "Settlement_Services",
            r#"<bsvc:Get_Payments_Request bsvc:version="v46.1"><bsvc:Request_References><bsvc:Payment_Reference><bsvc:ID bsvc:type="Payment_Reference_ID">PAYMENT-3-999999</bsvc:ID></bsvc:Payment_Reference></bsvc:Request_References></bsvc:Get_Payments_Request>"#,
            "PAYMENT-3-999999",
        ),
    ];
    for (service, body, expect) in cases {
        let (status, answer) = post(&sim, service, request(&good_header(), body)).await;
        assert_eq!(status, 500, "{body}");
        assert!(answer.contains("Client.validationError"), "{answer}");
        assert!(answer.contains(expect), "{expect} missing from {answer}");
    }
    let (status, answer) = post(&sim, "Resource_Management", "<not-soap/>".into()).await;
    assert_eq!(status, 500);
    assert!(answer.contains("Client.validationError"), "{answer}");
    let log = sim.requests();
    assert!(
        log.iter()
            .all(|r| r.kind == "soap" && r.outcome.starts_with("fault:"))
    );
}

#[tokio::test]
async fn paging_reports_results_and_omits_empty_data() {
    let sim = start().await;
    let page = |p: u32| {
        format!(
            r#"<bsvc:Get_Suppliers_Request bsvc:version="v46.1"><bsvc:Response_Filter><bsvc:Page>{p}</bsvc:Page><bsvc:Count>8</bsvc:Count></bsvc:Response_Filter></bsvc:Get_Suppliers_Request>"#
        )
    };
    let (_, last) = post(
        &sim,
        "Resource_Management",
        request(&good_header(), &page(3)),
    )
    .await;
    assert!(last.contains("<wd:Total_Pages>3</wd:Total_Pages><wd:Page_Results>4</wd:Page_Results><wd:Page>3</wd:Page>"), "{last}");
    assert!(last.contains("<wd:Supplier_ID>S-000020</wd:Supplier_ID>"));
    let (status, beyond) = post(
        &sim,
        "Resource_Management",
        request(&good_header(), &page(4)),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        !beyond.contains("Response_Data")
            && beyond.contains("<wd:Page_Results>0</wd:Page_Results>")
    );
}

#[tokio::test]
async fn token_endpoint_and_rest_guard() {
    let sim = start().await;
    let http = reqwest::Client::new();
    let token_url = format!("{}/ccx/oauth2/acme_dpt1/token", sim.base_url());
    let r = http
        .post(&token_url)
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "sim-refresh-token"),
            ("client_id", "mlc-api-client"),
            ("client_secret", "wrong"),
        ])
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 401);
    let r = http
        .post(&token_url)
        .basic_auth("mlc-api-client", Some("sim-client-secret"))
        .form(&[("grant_type", "password")])
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 400);
    let r = http
        .post(&token_url)
        .basic_auth("mlc-api-client", Some("sim-client-secret"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "sim-refresh-token"),
        ])
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let answer: serde_json::Value = r.json().await.expect("json");
    assert_eq!(answer["token_type"], "Bearer");
    assert_eq!(answer["expires_in"], 3600);
    let token = answer["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let list = format!(
        "{}/ccx/api/accountsPayable/v1/acme_dpt1/supplierInvoiceRequests",
        sim.base_url()
    );
    let r = http.get(&list).send().await.expect("send");
    assert_eq!(r.status(), 401);
    let r = http
        .get(format!("{list}?limit=101"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 400);
    let r = http
        .get(format!("{list}?limit=3&offset=1"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap_or_default();
    let page: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(page["data"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        page["total"].as_u64(),
        Some(u64::from(sim.universe().invoice_count()))
    );
    // Amounts are exact decimal numbers in the JSON text.
    let second = sim.universe().invoice(1);
    assert!(
        text.contains(&format!(
            "\"totalInvoiceAmount\":{{\"value\":{:.2},",
            second.gross
        )),
        "{text}"
    );
}
