//! The simulator's wire behaviour, checked with raw HTTP (no ml-connector code involved).

use std::time::Duration;

use serde_json::{Value, json};

use super::*;

fn basic() -> String {
    use base64::Engine as _;
    let raw = format!("{DEFAULT_AGENT_EMAIL}/token:{DEFAULT_API_TOKEN}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

async fn send(
    method: reqwest::Method,
    url: String,
    body: Option<Value>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = reqwest::Client::new()
        .request(method, url)
        .header("authorization", basic());
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.json().await.unwrap_or(Value::Null);
    (status, headers, body)
}

#[tokio::test]
async fn names_and_external_ids_are_unique_case_insensitively() {
    let sim = ZendeskSim::start(SimConfig::default()).await.unwrap();
    let url = format!("{}/api/v2/organizations.json", sim.base_url());
    let (status, _, body) = send(
        reqwest::Method::POST,
        url.clone(),
        Some(json!({"organization": {"name": "Acme", "external_id": "SUP-1"}})),
    )
    .await;
    assert_eq!(status, 201);
    for key in [
        "id",
        "url",
        "name",
        "external_id",
        "organization_fields",
        "tags",
        "domain_names",
        "created_at",
    ] {
        assert!(
            body["organization"].get(key).is_some(),
            "{key} missing: {body}"
        );
    }
    let (status, _, body) = send(
        reqwest::Method::POST,
        url.clone(),
        Some(json!({"organization": {"name": "ACME", "external_id": "SUP-2"}})),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"], "RecordInvalid");
    assert_eq!(body["details"]["name"][0]["error"], "DuplicateValue");
    let (status, _, body) = send(
        reqwest::Method::POST,
        url,
        Some(json!({"organization": {"name": "Other", "external_id": "sup-1"}})),
    )
    .await;
    assert_eq!(status, 422);
    assert!(body["details"]["external_id"].is_array(), "{body}");
    let (_, _, found) = send(
        reqwest::Method::GET,
        format!(
            "{}/api/v2/organizations/search?external_id=Sup-1",
            sim.base_url()
        ),
        None,
    )
    .await;
    assert_eq!(found["organizations"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_plan_limit_answers_429_with_retry_after_and_headers() {
    let sim = ZendeskSim::start(SimConfig {
        plan: Plan::Custom(2),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let me = format!("{}/api/v2/users/me", sim.base_url());
    let (s1, h1, _) = send(reqwest::Method::GET, me.clone(), None).await;
    let (s2, h2, _) = send(reqwest::Method::GET, me.clone(), None).await;
    let (s3, h3, body) = send(reqwest::Method::GET, me, None).await;
    assert_eq!((s1, s2, s3), (200, 200, 429));
    assert_eq!(h1["x-rate-limit"], "2");
    assert_eq!(h1["x-rate-limit-remaining"], "1");
    assert_eq!(h2["ratelimit-remaining"], "0");
    let retry: u64 = h3["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(h3["x-rate-limit-remaining"], "0");
    assert_eq!(body["error"], "APIRateLimitExceeded");
}

#[tokio::test]
async fn bulk_jobs_progress_over_time() {
    let sim = ZendeskSim::start(SimConfig {
        job_start_delay: Duration::from_millis(100),
        job_tick: Duration::from_millis(50),
        job_items_per_tick: 10,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let orgs: Vec<Value> = (0..30)
        .map(|i| json!({"name": format!("Org {i}"), "external_id": format!("E{i}")}))
        .collect();
    let (status, _, body) = send(
        reqwest::Method::POST,
        format!("{}/api/v2/organizations/create_many", sim.base_url()),
        Some(json!({"organizations": orgs})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["job_status"]["status"], "queued");
    assert_eq!(body["job_status"]["total"], 30);
    let url = body["job_status"]["url"].as_str().unwrap().to_string();
    let mut seen = Vec::new();
    let done = loop {
        let (_, _, job) = send(reqwest::Method::GET, url.clone(), None).await;
        let status = job["job_status"]["status"].as_str().unwrap().to_string();
        if seen.last() != Some(&status) {
            seen.push(status.clone());
        }
        if status == "completed" {
            break job;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(seen, ["queued", "working", "completed"]);
    let results = done["job_status"]["results"].as_array().unwrap();
    assert_eq!(results.len(), 30);
    assert_eq!(results[7]["index"], 7);
    assert_eq!(results[7]["status"], "Created");
    assert_eq!(sim.organizations().len(), 30);
}

#[tokio::test]
async fn refresh_tokens_work_once_and_revoke_the_old_access_token() {
    let sim = ZendeskSim::start(SimConfig::default()).await.unwrap();
    let issued = sim.issue_tokens(DEFAULT_OAUTH_CLIENT_ID);
    let http = reqwest::Client::new();
    let me = format!("{}/api/v2/users/me", sim.base_url());
    let bearer = |t: &str| format!("Bearer {t}");
    let ok = http
        .get(&me)
        .header("authorization", bearer(&issued.access_token))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let refresh = |token: String| {
        http.post(format!("{}/oauth/tokens", sim.base_url()))
            .json(&json!({
                "grant_type": "refresh_token", "refresh_token": token,
                "client_id": DEFAULT_OAUTH_CLIENT_ID, "client_secret": DEFAULT_OAUTH_CLIENT_SECRET,
            }))
            .send()
    };
    let first = refresh(issued.refresh_token.clone()).await.unwrap();
    assert_eq!(first.status(), 200);
    let pair: Value = first.json().await.unwrap();
    assert_eq!(pair["token_type"], "bearer");
    assert!(pair["expires_in"].as_u64().is_some());
    assert_ne!(
        pair["refresh_token"].as_str().unwrap(),
        issued.refresh_token
    );
    let reused = refresh(issued.refresh_token.clone()).await.unwrap();
    assert_eq!(reused.status(), 400);
    let err: Value = reused.json().await.unwrap();
    assert_eq!(err["error"], "invalid_grant");
    let old = http
        .get(&me)
        .header("authorization", bearer(&issued.access_token))
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), 401);
    let new = http
        .get(&me)
        .header(
            "authorization",
            bearer(pair["access_token"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(new.status(), 200);
}

#[tokio::test]
async fn a_reset_after_commit_drops_the_connection_but_keeps_the_write() {
    let sim = ZendeskSim::start(SimConfig::default()).await.unwrap();
    sim.inject(Fault::new(FaultKind::ResetAfterCommit).on("POST", "/api/v2/organizations"));
    let result = reqwest::Client::new()
        .post(format!("{}/api/v2/organizations", sim.base_url()))
        .header("authorization", basic())
        .json(&json!({"organization": {"name": "Acme", "external_id": "S-1"}}))
        .send()
        .await;
    assert!(
        result.is_err(),
        "the connection should have been dropped: {result:?}"
    );
    assert_eq!(sim.organizations().len(), 1);
    let log = sim.requests();
    assert_eq!(log[0].fault.as_deref(), Some("reset_after_commit"));
    assert_eq!(log[0].status, None);
}

#[tokio::test]
async fn webhooks_are_signed_over_timestamp_and_body() {
    use std::sync::{Arc, Mutex};
    let got: Arc<Mutex<Vec<(axum::http::HeaderMap, axum::body::Bytes)>>> = Arc::default();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post({
            let got = got.clone();
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| async move {
                got.lock().unwrap().push((headers, body));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let sim = ZendeskSim::start(SimConfig {
        webhook: Some(WebhookTarget {
            url: format!("http://{addr}/hook"),
            signing_secret: "s3cret".into(),
            webhook_id: "01HOOK".into(),
        }),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let id = sim
        .create_ticket(TicketSeed {
            subject: "Invoice?".into(),
            description: "Where is my money".into(),
            ..Default::default()
        })
        .unwrap();
    let d = sim.wait_for_deliveries(1, Duration::from_secs(5)).await;
    assert_eq!(d[0].status, Some(200));
    let (headers, body) = got.lock().unwrap()[0].clone();
    let ts = headers["x-zendesk-webhook-signature-timestamp"]
        .to_str()
        .unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(ts).is_ok());
    assert_eq!(
        headers["x-zendesk-webhook-signature"].to_str().unwrap(),
        sign_webhook("s3cret", ts, &body)
    );
    let event: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(event["type"], "zen:event-type:ticket.created");
    assert_eq!(event["detail"]["id"], id.to_string());
    assert_eq!(event["subject"], format!("zen:ticket:{id}"));
    assert_eq!(event["zendesk_event_version"], "2022-06-20");
    assert!(event["id"].as_str().is_some() && event["time"].as_str().is_some());
}
