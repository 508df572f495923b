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

/// `header` (a whole `soapenv:Header`) with `Workday_Common_Header` added after the security token.
fn common_header(header: &str, descriptors: &str) -> String {
    header.replace(
        "</soapenv:Header>",
        &format!(
            "<bsvc:Workday_Common_Header><bsvc:Include_Reference_Descriptors_In_Response>{descriptors}</bsvc:Include_Reference_Descriptors_In_Response></bsvc:Workday_Common_Header></soapenv:Header>"
        ),
    )
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
            "cvc-complex-type.2.4.a: Invalid content was found starting with element &apos;wd:Request_Criteria&apos;",
        ),
        // A version attribute, when sent, must be a version.
        (
            "Resource_Management",
            r#"<bsvc:Get_Suppliers_Request bsvc:version="46"/>"#,
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
            "Resource_Management",
            r#"<bsvc:Get_Supplier_Invoices_Request bsvc:version="v46.1"><bsvc:Request_References><bsvc:Supplier_Invoice_Reference><bsvc:ID bsvc:type="Supplier_Invoice_Reference_ID">SUPPLIER_INVOICE-3-999999</bsvc:ID></bsvc:Supplier_Invoice_Reference></bsvc:Request_References></bsvc:Get_Supplier_Invoices_Request>"#,
            "SUPPLIER_INVOICE-3-999999",
        ),
        // A payment reference takes a WID; other ID types are refused, not looked up.
        (
            "Settlement_Services",
            r#"<bsvc:Get_Payments_Request bsvc:version="v46.1"><bsvc:Request_References><bsvc:Payment_WWS_Reference><bsvc:ID bsvc:type="Payment_Reference_ID">PAYMENT-3-1</bsvc:ID></bsvc:Payment_WWS_Reference></bsvc:Request_References></bsvc:Get_Payments_Request>"#,
            "Invalid ID type &apos;Payment_Reference_ID&apos; for Payment_WWS_Reference: this reference accepts WID",
        ),
        // The common header holds a boolean.
        (
            "Resource_Management",
            "",
            "Include_Reference_Descriptors_In_Response",
        ),
    ];
    for (service, body, expect) in cases {
        let message = if body.is_empty() {
            request(&common_header(&good_header(), "sometimes"), SUPPLIERS_OK)
        } else {
            request(&good_header(), body)
        };
        let (status, answer) = post(&sim, service, message).await;
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
    // A request is its own object: read by its own WID, not by the invoice's.
    assert_eq!(page["data"][0]["id"], second.request_wid.as_str());
    assert_eq!(
        page["data"][0]["invoiceNumber"],
        second.supplier_invoice_number.as_str()
    );
    let one = |id: String| http.get(format!("{list}/{id}")).bearer_auth(&token).send();
    assert_eq!(
        one(second.request_wid.clone())
            .await
            .expect("send")
            .status(),
        200
    );
    assert_eq!(one(second.wid.clone()).await.expect("send").status(), 404);
    assert_eq!(
        one(format!(
            "Supplier_Invoice_Reference_ID={}",
            second.reference_id
        ))
        .await
        .expect("send")
        .status(),
        404
    );
}

/// A request body with a good header.
fn call(body: &str) -> String {
    request(&good_header(), body)
}

/// What the simulator answers a request that breaks the schema: a validation fault naming the element.
async fn refused(sim: &WorkdaySim, service: &str, body: &str, element: &str, xpath: &str) {
    let (status, answer) = post(sim, service, call(body)).await;
    assert_eq!(status, 500, "{body}");
    assert!(
        answer.contains("<faultcode>SOAP-ENV:Client.validationError</faultcode>"),
        "{answer}"
    );
    assert!(
        answer.contains(&format!(
            "Invalid content was found starting with element &apos;wd:{element}&apos;"
        )) || answer.contains(&format!(
            "Invalid content was found starting with element 'wd:{element}'"
        )),
        "{element} not named in {answer}"
    );
    assert!(answer.contains(xpath), "{xpath} missing from {answer}");
}

#[tokio::test]
async fn elements_the_schema_does_not_have_or_out_of_order_are_refused() {
    let sim = start().await;
    let rm = "Resource_Management";
    // Response groups have Include_Reference and Include_Attachment_Data only.
    refused(
        &sim,
        rm,
        r#"<bsvc:Get_Suppliers_Request><bsvc:Response_Group><bsvc:Include_Reference>true</bsvc:Include_Reference><bsvc:Include_Supplier_Data>true</bsvc:Include_Supplier_Data></bsvc:Response_Group></bsvc:Get_Suppliers_Request>"#,
        "Include_Supplier_Data",
        "/wd:Response_Group[1]/wd:Include_Supplier_Data[1]",
    )
    .await;
    refused(
        &sim,
        "Settlement_Services",
        r#"<bsvc:Get_Payments_Request><bsvc:Response_Group><bsvc:Include_Payment_Data>true</bsvc:Include_Payment_Data></bsvc:Response_Group></bsvc:Get_Payments_Request>"#,
        "Include_Payment_Data",
        "Include_Payment_Data[1]",
    )
    .await;
    // Payments by reference take Payment_WWS_Reference.
    refused(
        &sim,
        "Settlement_Services",
        r#"<bsvc:Get_Payments_Request><bsvc:Request_References><bsvc:Payment_Reference><bsvc:ID bsvc:type="WID">x</bsvc:ID></bsvc:Payment_Reference></bsvc:Request_References></bsvc:Get_Payments_Request>"#,
        "Payment_Reference",
        "/wd:Request_References[1]/wd:Payment_Reference[1]",
    )
    .await;
    // Purchase orders have Purchase_Order_Date_On_or_After, not Document_Date_On_or_After.
    refused(
        &sim,
        rm,
        r#"<bsvc:Get_Purchase_Orders_Request><bsvc:Request_Criteria><bsvc:Document_Date_On_or_After>2024-01-01</bsvc:Document_Date_On_or_After></bsvc:Request_Criteria></bsvc:Get_Purchase_Orders_Request>"#,
        "Document_Date_On_or_After",
        "Document_Date_On_or_After[1]",
    )
    .await;
    // Invoice criteria: Supplier_Reference comes before Company_Reference.
    refused(
        &sim,
        rm,
        r#"<bsvc:Get_Supplier_Invoices_Request><bsvc:Request_Criteria><bsvc:Company_Reference><bsvc:ID bsvc:type="Company_Reference_ID">UK01</bsvc:ID></bsvc:Company_Reference><bsvc:Supplier_Reference><bsvc:ID bsvc:type="Supplier_ID">S-000001</bsvc:ID></bsvc:Supplier_Reference></bsvc:Request_Criteria></bsvc:Get_Supplier_Invoices_Request>"#,
        "Supplier_Reference",
        "/wd:Request_Criteria[1]/wd:Supplier_Reference[1]",
    )
    .await;
    // ... and the due-date window after the purchase order.
    refused(
        &sim,
        rm,
        r#"<bsvc:Get_Supplier_Invoices_Request><bsvc:Request_Criteria><bsvc:Invoice_Due_Date_On_or_After>2024-01-01</bsvc:Invoice_Due_Date_On_or_After><bsvc:Purchase_Order_Reference><bsvc:ID bsvc:type="Document_Number">PO-0000001</bsvc:ID></bsvc:Purchase_Order_Reference></bsvc:Request_Criteria></bsvc:Get_Supplier_Invoices_Request>"#,
        "Purchase_Order_Reference",
        "Purchase_Order_Reference[1]",
    )
    .await;
    // Purchase order criteria: dates before Updated_From_Date.
    refused(
        &sim,
        rm,
        r#"<bsvc:Get_Purchase_Orders_Request><bsvc:Request_Criteria><bsvc:Updated_From_Date>2024-01-01T00:00:00Z</bsvc:Updated_From_Date><bsvc:Due_Date_On_or_After>2024-01-01</bsvc:Due_Date_On_or_After></bsvc:Request_Criteria></bsvc:Get_Purchase_Orders_Request>"#,
        "Due_Date_On_or_After",
        "Due_Date_On_or_After[1]",
    )
    .await;
    // General_Payment_Criteria: Company_Reference before Payee_Reference; single elements once.
    refused(
        &sim,
        "Settlement_Services",
        r#"<bsvc:Get_Payments_Request><bsvc:Request_Criteria><bsvc:General_Payment_Criteria><bsvc:Payee_Reference><bsvc:ID bsvc:type="Supplier_ID">S-000001</bsvc:ID></bsvc:Payee_Reference><bsvc:Company_Reference><bsvc:ID bsvc:type="Company_Reference_ID">UK01</bsvc:ID></bsvc:Company_Reference></bsvc:General_Payment_Criteria></bsvc:Request_Criteria></bsvc:Get_Payments_Request>"#,
        "Company_Reference",
        "/wd:General_Payment_Criteria[1]/wd:Company_Reference[1]",
    )
    .await;
    refused(
        &sim,
        rm,
        r#"<bsvc:Get_Suppliers_Request><bsvc:Request_Criteria><bsvc:Updated_From_Date>2024-01-01T00:00:00Z</bsvc:Updated_From_Date><bsvc:Updated_From_Date>2024-01-02T00:00:00Z</bsvc:Updated_From_Date></bsvc:Request_Criteria></bsvc:Get_Suppliers_Request>"#,
        "Updated_From_Date",
        "Updated_From_Date[2]",
    )
    .await;
    // Response_Filter: Page before Count; the request: Response_Filter before Response_Group.
    refused(
        &sim,
        rm,
        r#"<bsvc:Get_Suppliers_Request><bsvc:Response_Filter><bsvc:Count>5</bsvc:Count><bsvc:Page>1</bsvc:Page></bsvc:Response_Filter></bsvc:Get_Suppliers_Request>"#,
        "Page",
        "/wd:Response_Filter[1]/wd:Page[1]",
    )
    .await;
    refused(
        &sim,
        rm,
        r#"<bsvc:Get_Suppliers_Request><bsvc:Response_Group><bsvc:Include_Reference>1</bsvc:Include_Reference></bsvc:Response_Group><bsvc:Response_Filter><bsvc:Page>1</bsvc:Page></bsvc:Response_Filter></bsvc:Get_Suppliers_Request>"#,
        "Response_Filter",
        "/wd:Get_Suppliers_Request[1]/wd:Response_Filter[1]",
    )
    .await;
    // A valid criterion the simulator does not evaluate is refused, never ignored.
    let (status, answer) = post(
        &sim,
        rm,
        call(
            r#"<bsvc:Get_Suppliers_Request><bsvc:Request_Criteria><bsvc:DUNS_Number>123</bsvc:DUNS_Number></bsvc:Request_Criteria></bsvc:Get_Suppliers_Request>"#,
        ),
    )
    .await;
    assert_eq!(status, 500);
    assert!(answer.contains("DUNS_Number is valid here but the simulator does not evaluate it"));
    // Booleans are xsd:boolean.
    let (status, answer) = post(
        &sim,
        rm,
        call(
            r#"<bsvc:Get_Suppliers_Request><bsvc:Response_Group><bsvc:Include_Reference>yes</bsvc:Include_Reference></bsvc:Response_Group></bsvc:Get_Suppliers_Request>"#,
        ),
    )
    .await;
    assert_eq!(status, 500);
    assert!(
        answer.contains("is not a valid value for &apos;boolean&apos;")
            || answer.contains("is not a valid value for 'boolean'"),
        "{answer}"
    );
}

/// The local names of the Workday-namespace children of `n`.
fn names(n: &parse::Node) -> Vec<&str> {
    n.children
        .iter()
        .filter(|c| c.ns == wire::WD)
        .map(|c| c.name.as_str())
        .collect()
}

fn find<'a>(n: &'a parse::Node, name: &str) -> &'a parse::Node {
    n.child(wire::WD, name)
        .unwrap_or_else(|| panic!("{name} missing under {}: {:?}", n.name, names(n)))
}

/// The `{op}_Response` element of an answer.
fn response(answer: &str) -> parse::Node {
    let root = parse::parse_tree(answer.as_bytes()).expect("XML");
    let body = root
        .children
        .into_iter()
        .find(|c| c.name == "Body")
        .expect("Body");
    body.children.into_iter().next().expect("response")
}

#[tokio::test]
async fn responses_echo_the_request_before_the_results() {
    let sim = start().await;
    let body = r#"<bsvc:Get_Supplier_Invoices_Request><bsvc:Request_Criteria><bsvc:Supplier_Reference><bsvc:ID bsvc:type="Supplier_ID">S-000002</bsvc:ID></bsvc:Supplier_Reference></bsvc:Request_Criteria><bsvc:Response_Filter><bsvc:Page>1</bsvc:Page><bsvc:Count>2</bsvc:Count></bsvc:Response_Filter><bsvc:Response_Group><bsvc:Include_Reference>true</bsvc:Include_Reference></bsvc:Response_Group></bsvc:Get_Supplier_Invoices_Request>"#;
    let (status, answer) = post(&sim, "Resource_Management", call(body)).await;
    assert_eq!(status, 200, "{answer}");
    let r = response(&answer);
    // Without bsvc:version, the endpoint's version answers.
    assert_eq!(r.attr(wire::WD, "version"), Some("v46.1"));
    let parts = names(&r);
    let expected_head = [
        "Request_Criteria",
        "Response_Filter",
        "Response_Group",
        "Response_Results",
    ];
    assert_eq!(&parts[..4], expected_head, "{parts:?}");
    let criteria = find(&r, "Request_Criteria");
    let supplier = find(criteria, "Supplier_Reference");
    assert_eq!(find(supplier, "ID").text, "S-000002");
    let filter = find(&r, "Response_Filter");
    assert_eq!(
        names(filter),
        [
            "As_Of_Effective_Date",
            "As_Of_Entry_DateTime",
            "Page",
            "Count"
        ]
    );
    assert_eq!(
        find(filter, "As_Of_Effective_Date").text,
        "2024-06-15-07:00"
    );
    assert_eq!(find(filter, "Count").text, "2");
    assert_eq!(
        find(find(&r, "Response_Group"), "Include_Reference").text,
        "1"
    );

    let by_ref = format!(
        r#"<bsvc:Get_Payments_Request bsvc:version="v45.0"><bsvc:Request_References><bsvc:Payment_WWS_Reference><bsvc:ID bsvc:type="WID">{}</bsvc:ID></bsvc:Payment_WWS_Reference></bsvc:Request_References></bsvc:Get_Payments_Request>"#,
        sim.universe().payment(0).wid
    );
    let (status, answer) = post(&sim, "Settlement_Services", call(&by_ref)).await;
    assert_eq!(status, 200, "{answer}");
    let r = response(&answer);
    assert_eq!(r.attr(wire::WD, "version"), Some("v45.0"));
    assert_eq!(
        names(&r),
        [
            "Request_References",
            "Response_Filter",
            "Response_Results",
            "Response_Data"
        ]
    );
    assert_eq!(
        names(find(&r, "Request_References")),
        ["Payment_WWS_Reference"]
    );
}

#[tokio::test]
async fn response_group_flags_decide_what_records_carry() {
    let sim = start().await;
    let ask = |group: &str| {
        call(&format!(
            r#"<bsvc:Get_Payments_Request><bsvc:Response_Filter><bsvc:Count>1</bsvc:Count></bsvc:Response_Filter>{group}</bsvc:Get_Payments_Request>"#
        ))
    };
    let record = |answer: &str| {
        let r = response(answer);
        find(find(&r, "Response_Data"), "Payment").clone()
    };
    // No Response_Group: every group.
    let (_, all) = post(&sim, "Settlement_Services", ask("")).await;
    let p = record(&all);
    assert_eq!(names(&p), ["Payment_Reference", "Payment_Data"]);
    assert_eq!(names(find(&p, "Payment_Data"))[0], "Payment_Group_Data");
    // A Response_Group: only what it asks for.
    let (_, bare) = post(
        &sim,
        "Settlement_Services",
        ask(r#"<bsvc:Response_Group><bsvc:Include_Reference>false</bsvc:Include_Reference></bsvc:Response_Group>"#),
    )
    .await;
    let p = record(&bare);
    assert_eq!(names(&p), ["Payment_Data"]);
    assert!(
        find(&p, "Payment_Data")
            .child(wire::WD, "Payment_Group_Data")
            .is_none()
    );
    let (_, grouped) = post(
        &sim,
        "Settlement_Services",
        ask(r#"<bsvc:Response_Group><bsvc:Include_Reference>true</bsvc:Include_Reference><bsvc:Include_Payment_Group_Data>true</bsvc:Include_Payment_Group_Data></bsvc:Response_Group>"#),
    )
    .await;
    let p = record(&grouped);
    assert_eq!(names(&p), ["Payment_Reference", "Payment_Data"]);
    assert_eq!(names(find(&p, "Payment_Data"))[0], "Payment_Group_Data");
}

/// Checks that the children of `n` appear in the order of `schema` (a list of the type's element names in
/// `xsd:sequence` order, transcribed from Workday's WSDL types) and that every child is one of them.
fn in_schema_order(n: &parse::Node, schema: &[&str]) {
    let mut at = 0;
    for name in names(n) {
        let pos = schema
            .iter()
            .position(|s| *s == name)
            .unwrap_or_else(|| panic!("{name} is not an element of {}", n.name));
        assert!(
            pos >= at,
            "{name} is out of order in {}: {:?}",
            n.name,
            names(n)
        );
        at = pos;
    }
}

/// `Supplier_DataType` (the elements up to `Currency_Reference`).
const SUPPLIER_DATA: &[&str] = &[
    "Supplier_ID",
    "Supplier_Reference_ID",
    "Supplier_Name",
    "Worktag_Only",
    "Restricted_To_Companies_Reference",
    "Approval_Status_Reference",
    "Submit",
    "Tax_Authority_Form_Type_Reference",
    "IRS_1099_Supplier",
    "Report_1099_with_Parent",
    "Tax_ID_Data",
    // v40 and later: the tax IDs moved into a widget at the same place.
    "Tax_ID_Widget_Data",
    "Tax_Status",
    "Supplier_Category_Reference",
    "Supplier_Group_Reference",
    "Tax_Document_Date",
    "Default_Tax_Code_Reference",
    "Default_Withholding_Tax_Code_Reference",
    "FATCA",
    "Certificate_of_Insurance_Date",
    "Customer_Account_Number",
    "DUNS_Number",
    "Invoice_Any_Supplier",
    "Enable_Global_Location_Number",
    "Disable_Change_Order",
    "Purchase_Order_Issue_Option_Reference",
    "Multi-Supplier_Supplier_Link_for_PO_Issue_Reference",
    "Shipping_Terms_Reference",
    "Shipping_Method_Reference",
    "Acknowledgement_Expected",
    "Enable_ASN",
    "ASN_Due_In_Days",
    "Payment_Terms_Reference",
    "Payment_Types_Accepted_Reference",
    "Default_Payment_Type_Reference",
    "Procurement_Credit_Card_Reference",
    "Included_Children_Reference",
    "Proposed_Children_Reference",
    "Business_Entity_Data",
    "Settlement_Account_Data",
    "Do_not_pay_during_Bank_Account_updates",
    "Supplier_Status_Data",
    "Proposed_Supplier_Status_Data",
    "Always_Separate_Payments",
    "Currency_Reference",
    "Accepted_Currencies_Reference",
];

/// `Supplier_Invoice_DataType` (up to the lines), with `Suppliers_Invoice_Number` of newer versions placed
/// before `External_PO_Number`.
const INVOICE_DATA: &[&str] = &[
    "Supplier_Invoice_ID",
    "Submit",
    "Locked_in_Workday",
    "Invoice_Number",
    "Invoice_Document_Status_Reference",
    "Company_Reference",
    "Currency_Reference",
    "Supplier_Reference",
    "Supplier_Connection_Reference",
    "Tax_Option_Reference",
    "Ship-To_Address_Reference",
    "Tax_Code_Reference",
    "Default_Withholding_Tax_Code_Reference",
    "Invoice_Date",
    "Due_Date_Override",
    "Accounting_Date_Override",
    "Budget_Date",
    "On_Hold",
    "Control_Amount_Total",
    "Tax_Amount",
    "Withholding_Tax_Amount",
    "Freight_Amount",
    "Other_Charges",
    "Supplier_Document_Received",
    "Supplier_Reference_Number",
    "Suppliers_Invoice_Number",
    "External_PO_Number",
    "Supplier_Contract_Reference",
    "Document_Link",
    "Supplier_Invoice_Request_Reference",
    "Requester_Reference",
    "Memo",
    "Payment_Terms_Reference",
    "Override_Payment_Type_Reference",
    "Handling_Code_Reference",
    "Prepaid",
    "Prepayment_Release_Type_Reference",
    "Release_Date",
    "Frequency_Reference",
    "Number_of_Installments",
    "Use_Invoice_Date",
    "From_Date",
    "Gross_Invoice_Amount",
    "Total_Amount_Retained",
    "Total_Amount_Released",
    "Retention_Memo",
    "Attachment_Data",
    "Tax_Code_Data",
    "Withholding_Tax_Code_Data",
    "Invoice_Line_Replacement_Data",
];

/// `Supplier_Invoice_Line_Replacement_DataType`.
const INVOICE_LINE: &[&str] = &[
    "Supplier_Invoice_Line_ID",
    "Line_Order",
    "Intercompany_Affiliate_Reference",
    "Purchase_Item_Reference",
    "Item_Description",
    "Purchase_Order_Line_Reference",
    "Supplier_Contract_Line_Reference",
    "Customer_Invoice_Line_Reference",
    "Spend_Category_Reference",
    "Ship_To_Address_Reference",
    "Ship_To_Contact_Reference",
    "Accounting_Treatment_Reference",
    "Trackable_Item",
    "Tax_Applicability_Reference",
    "Tax_Code_Reference",
    "Withholding_Tax_Code_Reference",
    "Quantity",
    "Unit_Cost",
    "Extended_Amount",
    "Retention_Amount",
    "Payment_Amount",
    "Budget_Date",
    "Prepaid",
    "Memo",
    "Worktags_Reference",
];

/// `Purchase_Order_Outbound_DataType` (up to the goods lines): no total element.
const PO_DATA: &[&str] = &[
    "Purchase_Order_ID",
    "Locked_in_Workday",
    "Document_Number",
    "Purchase_Order_Document_Status_Reference",
    "Company_Reference",
    "Supplier_Reference",
    "Document_Date",
    "Acknowledgement_Expected",
    "Tax_Amount",
    "Freight_Amount",
    "Other_Charges",
    "Payment_Terms_Reference",
    "Override_Payment_Type_Reference",
    "Procurement_Credit_Card_Reference",
    "Shipping_Terms_Reference",
    "Shipping_Method_Reference",
    "Shipping_Instruction",
    "Due_Date",
    "Supplier_Contract_Reference",
    "Currency_Reference",
    "Tax_Option_Reference",
    "Tax_Code_Reference",
    "Issue_Option_Reference",
    "Buyer_Reference",
    "Bill_To_Contact_Reference",
    "Memo",
    "Internal_Memo",
    "Prepaid",
    "Prepayment_Release_Type_Reference",
    "Expected_Release_Date",
    "Use_Prepaid_Posting_Rules_for_Receipt_Accruals",
    "Percent_to_Retain",
    "Estimated_Retention_Release_Date",
    "Retention_Memo",
    "Goods_Line_Data",
    "Deliverables_Line_Data",
    "Service_Line_Data",
    "Contingent_Worker_Line_Data",
    "Tax_Code_Data",
];

/// `ProjectBased_Order_Line_Replacement_DataType` (`Deliverables_Line_Data`).
const DELIVERABLES_LINE: &[&str] = &[
    "Deliverables_Order_Line_ID",
    "Line_Number",
    "Project_Reference",
    "Supplier_Contract_Line_Reference",
    "Prepaid",
    "Retention",
    "Memo",
    "Requisition_Line_Reference",
    "Resource_Category_Reference",
    "Project_Phase_Data",
    "Extended_Amount",
    "Worktags_Reference",
];

/// `Contingent_Worker_Order_Line_DataType` (`Contingent_Worker_Line_Data`).
const CONTINGENT_WORKER_LINE: &[&str] = &[
    "Line_Number",
    "Contingent_Worker_Reference",
    "Position_Reference",
    "Location_Reference",
    "Position_Time_Type_Reference",
    "Start_Date",
    "End_Date",
    "Scheduled_Hours",
    "Contract_Pay_Rate",
    "Time_Code_Data",
    "Extended_Amount",
    "Resource_Category_Reference",
    "Tax_Applicability_Reference",
    "Tax_Code_Reference",
    "Worktags_Reference",
    "Memo",
];

/// `Supplier_Invoice_Adjustment_DataType` (up to the lines), with `Suppliers_Invoice_Number` of newer versions
/// placed as in the invoice, before `External_PO_Number`.
const ADJUSTMENT_DATA: &[&str] = &[
    "Supplier_Invoice_Adjustment_ID",
    "Submit",
    "Locked_in_Workday",
    "Invoice_Number",
    "Company_Reference",
    "Currency_Reference",
    "Supplier_Reference",
    "Supplier_Connection_Reference",
    "Increase_Liability",
    "Adjustment_Reason_Reference",
    "Adjustment_Date",
    "Due_Date_Override",
    "Accounting_Date_Override",
    "Budget_Date",
    "Tax_Option_Reference",
    "Ship-To_Address_Reference",
    "Tax_Code_Reference",
    "Default_Withholding_Tax_Code_Reference",
    "Control_Total_Amount",
    "Tax_Amount",
    "Withholding_Tax_Amount",
    "Freight_Amount",
    "Other_Charges",
    "Original_Invoice_Reference",
    "Original_Invoice_Supplier_Reference_Number",
    "Payment_Terms_Reference",
    "Override_Payment_Type_Reference",
    "Handling_Code_Reference",
    "On_Hold",
    "Supplier_Document_Received",
    "Supplier_Reference_Number",
    "Suppliers_Invoice_Number",
    "External_PO_Number",
    "Supplier_Contract_Reference",
    "Document_Link",
    "Document_Memo",
    "Attachment_Data",
    "Invoice_Line_Replacement_Data",
];

/// `Tax_ID_DataType`.
const TAX_ID_DATA: &[&str] = &[
    "Tax_ID_Text",
    "Tax_ID_Type_Reference",
    "Transaction_Tax_ID",
    "Primary_Tax_ID",
];

/// `Item_Order_Line_Replacement_DataType` (`Goods_Line_Data`), the first elements.
const GOODS_LINE: &[&str] = &[
    "Item_Reference",
    "Goods_Purchase_Order_Line_ID",
    "Line_Number",
    "Item_Description",
    "Supplier_Contract_Line_Reference",
    "Resource_Category_Reference",
    "Tax_Applicability_Reference",
    "Tax_Code_Reference",
    "Quantity",
    "Unit_of_Measure_Reference",
    "Unit_Cost",
    "Extended_Amount",
    "Due_Date",
];

/// `Payment_WWS_DataType`.
const PAYMENT_DATA: &[&str] = &[
    "Payment_Group_Data",
    "Settlement_Run_Reference",
    "Payment_Status",
    "Payment_Memo",
    "Payment_Reference_Number",
    "Payment_Amount",
    "Amount_as_Text",
    "Discount_Taken",
    "Currency_Reference",
    "Currency_Symbol",
    "Currency_Description",
    "Check_or_Advice_Number",
    "Check_Number",
    "Prenote_Flag",
    "Payroll_Payment_Display_Order",
    "Handling_Code_Reference",
    "Tax_Code_Reference",
    "Company_Reference",
    "On_Behalf_of_Company_Reference",
    "Mandate_Data",
    "Originating_Contact_Data",
    "Originating_Bank_Data",
    "On_Behalf_Of_Company_Data",
    "Receiving_Party_Reference",
    "Receiving_Party_Contact_Data",
    "Receiving_Party_Bank_Data",
    "Receiving_Party_Credit_Card_Data",
    "Remittance_Data",
];

/// `Payment_Group_DataType`.
const PAYMENT_GROUP_DATA: &[&str] = &[
    "Payment_Group_Reference",
    "Payment_Date",
    "Currency_Reference",
    "Payment_Type_Reference",
    "Payment_Method_Reference",
    "Payment_Category_Reference",
];

/// `Document_Remittance_DataType`.
const DOCUMENT_REMITTANCE: &[&str] = &[
    "Document_Type",
    "Document_ID",
    "Document_Reference",
    "Document_Date",
    "Total_Payable_Amount",
    "Amount_Paid",
    "Amount_Due",
    "Discount_Taken",
];

#[tokio::test]
async fn records_follow_the_schema_order() {
    let sim = start().await;
    let all = |request: &str, count: u32| {
        call(&format!(
            r#"<bsvc:{request}><bsvc:Response_Filter><bsvc:Count>{count}</bsvc:Count></bsvc:Response_Filter></bsvc:{request}>"#
        ))
    };
    let data = |answer: &str| find(&response(answer), "Response_Data").clone();

    let (_, answer) = post(
        &sim,
        "Resource_Management",
        all("Get_Suppliers_Request", 20),
    )
    .await;
    for s in &data(&answer).children {
        let d = find(s, "Supplier_Data");
        in_schema_order(d, SUPPLIER_DATA);
        let be = find(d, "Business_Entity_Data");
        in_schema_order(
            be,
            &[
                "Business_Entity_Name",
                "Business_Entity_Tax_ID",
                "External_Entity_ID",
                "Contact_Data",
            ],
        );
        in_schema_order(
            find(be, "Contact_Data"),
            &[
                "Address_Data",
                "Phone_Data",
                "Email_Address_Data",
                "Instant_Messenger_Data",
                "Web_Address_Data",
            ],
        );
        let widget = find(d, "Tax_ID_Widget_Data");
        in_schema_order(find(widget, "Tax_ID_Data"), TAX_ID_DATA);
        assert!(d.child(wire::WD, "Tax_ID_Data").is_none());
        let names = names(d);
        assert_eq!(names.last(), Some(&"Currency_Reference"), "{names:?}");
    }

    let (_, answer) = post(
        &sim,
        "Resource_Management",
        all("Get_Supplier_Invoices_Request", 100),
    )
    .await;
    let mut with_po = 0;
    for inv in &data(&answer).children {
        let d = find(inv, "Supplier_Invoice_Data");
        in_schema_order(d, INVOICE_DATA);
        for line in d
            .children
            .iter()
            .filter(|c| c.name == "Invoice_Line_Replacement_Data")
        {
            in_schema_order(line, INVOICE_LINE);
            if let Some(r) = line.child(wire::WD, "Purchase_Order_Line_Reference") {
                let id = find(r, "ID");
                assert_eq!(id.attr(wire::WD, "parent_type"), Some("Document_Number"));
                assert!(
                    id.attr(wire::WD, "parent_id")
                        .is_some_and(|p| p.starts_with("PO-"))
                );
                with_po += 1;
            }
        }
    }
    assert!(with_po > 0, "some invoice lines point at a purchase order");

    let rm = "Resource_Management";
    let (mut deliverables, mut contingent) = (0, 0);
    let (_, answer) = post(&sim, rm, all("Get_Purchase_Orders_Request", 60)).await;
    for po in &data(&answer).children {
        let d = find(po, "Purchase_Order_Data");
        in_schema_order(d, PO_DATA);
        assert!(d.child(wire::WD, "Total_Amount").is_none());
        for line in &d.children {
            match line.name.as_str() {
                "Goods_Line_Data" => in_schema_order(line, GOODS_LINE),
                "Deliverables_Line_Data" => {
                    in_schema_order(line, DELIVERABLES_LINE);
                    deliverables += 1;
                }
                "Contingent_Worker_Line_Data" => {
                    in_schema_order(line, CONTINGENT_WORKER_LINE);
                    contingent += 1;
                }
                _ => {}
            }
        }
    }
    assert!(
        deliverables > 0 && contingent > 0,
        "{deliverables} {contingent}"
    );

    let (_, answer) = post(
        &sim,
        rm,
        all("Get_Supplier_Invoice_Adjustments_Request", 50),
    )
    .await;
    let adjustments = data(&answer);
    assert!(!adjustments.children.is_empty());
    for a in &adjustments.children {
        let d = find(a, "Supplier_Invoice_Adjustment_Data");
        in_schema_order(d, ADJUSTMENT_DATA);
        for line in d
            .children
            .iter()
            .filter(|c| c.name == "Invoice_Line_Replacement_Data")
        {
            in_schema_order(line, INVOICE_LINE);
        }
        let original = find(d, "Original_Invoice_Reference");
        assert!(
            original
                .children
                .iter()
                .any(|id| id.attr(wire::WD, "type") == Some("Supplier_Invoice_Reference_ID"))
        );
    }

    let (_, answer) = post(&sim, "Settlement_Services", all("Get_Payments_Request", 50)).await;
    for p in &data(&answer).children {
        let d = find(p, "Payment_Data");
        in_schema_order(d, PAYMENT_DATA);
        in_schema_order(find(d, "Payment_Group_Data"), PAYMENT_GROUP_DATA);
        // Payment_Status is a plain string in Payment_WWS_Data.
        assert!(find(d, "Payment_Status").children.is_empty());
        for r in &find(d, "Remittance_Data").children {
            in_schema_order(r, DOCUMENT_REMITTANCE);
        }
    }
}

/// The attribute `wd:Descriptor` of the first `name` element anywhere under `n`.
fn descriptor_of<'a>(n: &'a parse::Node, name: &str) -> Option<Option<&'a str>> {
    if n.name == name {
        return Some(n.attr(wire::WD, "Descriptor"));
    }
    n.children.iter().find_map(|c| descriptor_of(c, name))
}

#[tokio::test]
async fn reference_descriptors_come_only_when_the_common_header_asks() {
    let sim = start().await;
    let invoices = r#"<bsvc:Get_Supplier_Invoices_Request bsvc:version="v46.1"><bsvc:Response_Filter><bsvc:Count>3</bsvc:Count></bsvc:Response_Filter></bsvc:Get_Supplier_Invoices_Request>"#;
    for (header, expected) in [
        (good_header(), None),
        (common_header(&good_header(), "false"), None),
        (common_header(&good_header(), "0"), None),
        (common_header(&good_header(), "true"), Some(true)),
        (common_header(&good_header(), "1"), Some(true)),
    ] {
        let (status, answer) = post(&sim, "Resource_Management", request(&header, invoices)).await;
        assert_eq!(status, 200, "{answer}");
        let r = response(&answer);
        let supplier = descriptor_of(&r, "Supplier_Reference").expect("a supplier reference");
        let status_ref =
            descriptor_of(&r, "Invoice_Document_Status_Reference").expect("a status reference");
        match expected {
            None => {
                assert_eq!(supplier, None, "{header}");
                assert_eq!(status_ref, None);
                assert!(!answer.contains("wd:Descriptor="), "{answer}");
            }
            Some(_) => {
                assert!(supplier.is_some_and(|d| !d.is_empty()), "{header}");
                assert!(status_ref.is_some());
            }
        }
    }
    let sent: Vec<Option<String>> = sim.requests().into_iter().map(|r| r.descriptors).collect();
    assert_eq!(
        sent,
        [
            None,
            Some("false".into()),
            Some("0".into()),
            Some("true".into()),
            Some("1".into())
        ]
    );
    // Only Include_Reference_Descriptors_In_Response belongs in the header.
    let other = good_header().replace(
        "</soapenv:Header>",
        "<bsvc:Workday_Common_Header><bsvc:Include_Everything>true</bsvc:Include_Everything></bsvc:Workday_Common_Header></soapenv:Header>",
    );
    let (status, answer) = post(&sim, "Resource_Management", request(&other, invoices)).await;
    assert_eq!(status, 500);
    assert!(answer.contains("Include_Everything"), "{answer}");
}

#[tokio::test]
async fn the_version_asked_for_decides_the_record_shape() {
    let sim = start().await;
    let suppliers = |version: &str| {
        call(&format!(
            r#"<bsvc:Get_Suppliers_Request bsvc:version="{version}"><bsvc:Response_Filter><bsvc:Count>2</bsvc:Count></bsvc:Response_Filter></bsvc:Get_Suppliers_Request>"#
        ))
    };
    let invoices = |version: &str| {
        call(&format!(
            r#"<bsvc:Get_Supplier_Invoices_Request bsvc:version="{version}"><bsvc:Response_Filter><bsvc:Count>2</bsvc:Count></bsvc:Response_Filter></bsvc:Get_Supplier_Invoices_Request>"#
        ))
    };
    let tax = sim.universe().supplier(0).tax_id;
    for version in ["v46.1", "v40.2", "v45.0"] {
        let (_, answer) = post(&sim, "Resource_Management", suppliers(version)).await;
        let r = response(&answer);
        assert_eq!(r.attr(wire::WD, "version"), Some(version));
        let d = find(find(find(&r, "Response_Data"), "Supplier"), "Supplier_Data");
        let widget = find(d, "Tax_ID_Widget_Data");
        assert_eq!(find(find(widget, "Tax_ID_Data"), "Tax_ID_Text").text, tax);
        assert!(
            find(d, "Business_Entity_Data")
                .child(wire::WD, "Business_Entity_Tax_ID")
                .is_none()
        );
        let (_, answer) = post(&sim, "Resource_Management", invoices(version)).await;
        assert!(
            answer.contains("<wd:Suppliers_Invoice_Number>"),
            "{version}"
        );
    }
    for version in ["v28.1", "v35.0", "v39.2"] {
        let (_, answer) = post(&sim, "Resource_Management", suppliers(version)).await;
        let r = response(&answer);
        let d = find(find(find(&r, "Response_Data"), "Supplier"), "Supplier_Data");
        in_schema_order(d, SUPPLIER_DATA);
        assert!(d.child(wire::WD, "Tax_ID_Widget_Data").is_none());
        assert_eq!(find(find(d, "Tax_ID_Data"), "Tax_ID_Text").text, tax);
        assert_eq!(
            find(find(d, "Business_Entity_Data"), "Business_Entity_Tax_ID").text,
            tax
        );
        let (_, answer) = post(&sim, "Resource_Management", invoices(version)).await;
        assert!(!answer.contains("Suppliers_Invoice_Number"), "{version}");
    }
}

#[tokio::test]
async fn adjustments_by_reference_and_by_criteria_like_workday() {
    let sim = start().await;
    let u = sim.universe();
    let adj = u.adjustment(0);
    let supplier = u.supplier(adj.supplier);
    let rm = "Resource_Management";
    for (id_type, id) in [
        ("WID", adj.wid.as_str()),
        (
            "Supplier_Invoice_Adjustment_Reference_ID",
            adj.reference_id.as_str(),
        ),
    ] {
        let (status, answer) = post(
            &sim,
            rm,
            call(&format!(
                r#"<bsvc:Get_Supplier_Invoice_Adjustments_Request><bsvc:Request_References><bsvc:Supplier_Invoice_Adjustment_Reference><bsvc:ID bsvc:type="{id_type}">{id}</bsvc:ID></bsvc:Supplier_Invoice_Adjustment_Reference></bsvc:Request_References></bsvc:Get_Supplier_Invoice_Adjustments_Request>"#
            )),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        let r = response(&answer);
        let d = find(
            find(find(&r, "Response_Data"), "Supplier_Invoice_Adjustment"),
            "Supplier_Invoice_Adjustment_Data",
        );
        assert_eq!(
            find(d, "Supplier_Invoice_Adjustment_ID").text,
            adj.reference_id
        );
        assert_eq!(
            find(d, "Control_Total_Amount").text,
            format!("{:.2}", adj.amount)
        );
        assert_eq!(find(d, "Increase_Liability").text, "0");
    }
    // Criteria: the company comes before the supplier (the other way round from the invoice criteria).
    let company = data::COMPANIES[supplier.company].0;
    let (status, answer) = post(
        &sim,
        rm,
        call(&format!(
            r#"<bsvc:Get_Supplier_Invoice_Adjustments_Request><bsvc:Request_Criteria><bsvc:Company_Reference><bsvc:ID bsvc:type="Company_Reference_ID">{company}</bsvc:ID></bsvc:Company_Reference><bsvc:Supplier_Reference><bsvc:ID bsvc:type="Supplier_ID">{}</bsvc:ID></bsvc:Supplier_Reference></bsvc:Request_Criteria></bsvc:Get_Supplier_Invoice_Adjustments_Request>"#,
            supplier.id
        )),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let expected = u.adjustments_of(adj.supplier).len();
    assert!(answer.contains(&format!("<wd:Total_Results>{expected}</wd:Total_Results>")));
    refused(
        &sim,
        rm,
        &format!(
            r#"<bsvc:Get_Supplier_Invoice_Adjustments_Request><bsvc:Request_Criteria><bsvc:Supplier_Reference><bsvc:ID bsvc:type="Supplier_ID">{}</bsvc:ID></bsvc:Supplier_Reference><bsvc:Company_Reference><bsvc:ID bsvc:type="Company_Reference_ID">{company}</bsvc:ID></bsvc:Company_Reference></bsvc:Request_Criteria></bsvc:Get_Supplier_Invoice_Adjustments_Request>"#,
            supplier.id
        ),
        "Company_Reference",
        "/wd:Request_Criteria[1]/wd:Company_Reference[1]",
    )
    .await;
    // There is no original-invoice criterion.
    refused(
        &sim,
        rm,
        r#"<bsvc:Get_Supplier_Invoice_Adjustments_Request><bsvc:Request_Criteria><bsvc:Original_Invoice_Reference><bsvc:ID bsvc:type="Supplier_Invoice_Reference_ID">SUPPLIER_INVOICE-3-1</bsvc:ID></bsvc:Original_Invoice_Reference></bsvc:Request_Criteria></bsvc:Get_Supplier_Invoice_Adjustments_Request>"#,
        "Original_Invoice_Reference",
        "Original_Invoice_Reference[1]",
    )
    .await;
    // Adjustments are served from Resource_Management only.
    let (status, answer) = post(
        &sim,
        "Settlement_Services",
        call(r#"<bsvc:Get_Supplier_Invoice_Adjustments_Request/>"#),
    )
    .await;
    assert_eq!(status, 500);
    assert!(answer.contains("Resource_Management"), "{answer}");
}

#[tokio::test]
async fn a_supplier_without_an_id_is_sent_as_real_tenants_hold_it() {
    let sim = WorkdaySim::start(SimConfig {
        suppliers: 5,
        suppliers_without_id: vec![1],
        anchor_date: NaiveDate::from_ymd_opt(2024, 6, 15).unwrap_or_default(),
        ..SimConfig::default()
    })
    .await
    .expect("start");
    let (_, answer) = post(&sim, "Resource_Management", call(SUPPLIERS_OK)).await;
    let r = response(&answer);
    let records = &find(&r, "Response_Data").children;
    assert_eq!(records.len(), 5);
    let odd = find(&records[1], "Supplier_Data");
    assert!(odd.child(wire::WD, "Supplier_ID").is_none());
    let ids: Vec<_> = find(&records[1], "Supplier_Reference")
        .children
        .iter()
        .map(|id| id.attr(wire::WD, "type").unwrap_or_default().to_string())
        .collect();
    assert_eq!(ids, ["WID"]);
    assert!(
        find(&records[0], "Supplier_Data")
            .child(wire::WD, "Supplier_ID")
            .is_some()
    );
}
