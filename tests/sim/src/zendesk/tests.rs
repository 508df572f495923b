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
    // Zendesk's message carries the value: `Name: Lorem Ipsum has already been taken`.
    assert_eq!(
        body["details"]["name"][0]["description"],
        "Name: ACME has already been taken"
    );
    let (status, _, body) = send(
        reqwest::Method::POST,
        url,
        Some(json!({"organization": {"name": "Other", "external_id": "sup-1"}})),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(
        body["details"]["external_id"][0]["description"],
        "External ID: sup-1 has already been taken",
        "{body}"
    );
    assert!(body["details"].get("name").is_none(), "{body}");
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
    assert_eq!(h2["x-rate-limit-remaining"], "0");
    let retry: u64 = h3["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(h3["x-rate-limit-remaining"], "0");
    assert_eq!(body["error"], "APIRateLimitExceeded");
}

#[tokio::test]
async fn ratelimit_headers_come_only_with_list_endpoints() {
    let sim = ZendeskSim::start(SimConfig::default()).await.unwrap();
    let base = sim.base_url();
    // X-Rate-Limit / X-Rate-Limit-Remaining everywhere ...
    let (_, me, _) = send(
        reqwest::Method::GET,
        format!("{base}/api/v2/users/me"),
        None,
    )
    .await;
    assert_eq!(me["x-rate-limit"], "700");
    assert_eq!(me["x-rate-limit-remaining"], "699");
    for h in ["ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"] {
        assert!(me.get(h).is_none(), "{h} on users/me");
    }
    let (status, created, _) = send(
        reqwest::Method::POST,
        format!("{base}/api/v2/organizations"),
        Some(json!({"organization": {"name": "Acme", "external_id": "S-1"}})),
    )
    .await;
    assert_eq!(status, 201);
    assert!(created.get("ratelimit-remaining").is_none());
    // ... and the newer ratelimit-* on list endpoints (List, Search, Show Many ...).
    for path in [
        "/api/v2/organizations",
        "/api/v2/organizations/search?external_id=S-1",
        "/api/v2/organizations/show_many?external_ids=S-1",
        "/api/v2/ticket_fields",
    ] {
        let (status, h, _) = send(reqwest::Method::GET, format!("{base}{path}"), None).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(h["ratelimit-limit"], "700", "{path}");
        assert_eq!(
            h["ratelimit-remaining"], h["x-rate-limit-remaining"],
            "{path}"
        );
        let reset: u64 = h["ratelimit-reset"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&reset), "{path}: {reset}");
    }
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
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let done = loop {
        let (_, _, job) = send(reqwest::Method::GET, url.clone(), None).await;
        let status = job["job_status"]["status"].as_str().unwrap().to_string();
        if seen.last() != Some(&status) {
            seen.push(status.clone());
        }
        if status == "completed" {
            break job;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the job was still {status} after 10 s: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(seen, ["queued", "working", "completed"]);
    let results = done["job_status"]["results"].as_array().unwrap();
    assert_eq!(results.len(), 30);
    // CreateResourceResult: exactly {id, index}.
    assert_eq!(results[7]["index"], 7);
    assert_eq!(results[7].as_object().unwrap().len(), 2, "{}", results[7]);
    assert!(results[7]["id"].as_u64().is_some());
    assert_eq!(sim.organizations().len(), 30);
}

async fn finished_job(sim: &ZendeskSim, answer: Value) -> Vec<Value> {
    let url = answer["job_status"]["url"].as_str().unwrap().to_string();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (_, _, job) = send(reqwest::Method::GET, url.clone(), None).await;
        if job["job_status"]["status"] == "completed" {
            return job["job_status"]["results"].as_array().unwrap().clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline && sim.requests().len() < 500,
            "the job never completed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn job_results_have_zendesks_create_and_update_shapes() {
    let sim = ZendeskSim::start(SimConfig::default()).await.unwrap();
    let taken = sim
        .seed_organization("External Services Ltd", Some("S-0"))
        .unwrap();
    let base = sim.base_url();
    let (_, _, answer) = send(
        reqwest::Method::POST,
        format!("{base}/api/v2/organizations/create_many"),
        Some(json!({"organizations": [
            {"name": "Acme", "external_id": "S-1"},
            {"name": "External Services Ltd", "external_id": "S-2"},
            {"name": "Other", "external_id": "s-0"},
        ]})),
    )
    .await;
    let created = finished_job(&sim, answer).await;
    assert_eq!(created[0].as_object().unwrap().len(), 2, "{}", created[0]);
    // A failed create: {index, error, details}, the message naming the field and the value.
    assert_eq!(
        created[1],
        json!({"index": 1, "error": "DuplicateValue",
            "details": "Name: External Services Ltd has already been taken"})
    );
    assert_eq!(
        created[2]["details"],
        "External ID: s-0 has already been taken"
    );
    let acme = created[0]["id"].as_u64().unwrap();
    let (_, _, answer) = send(
        reqwest::Method::PUT,
        format!("{base}/api/v2/organizations/update_many"),
        Some(json!({"organizations": [
            {"id": acme, "notes": "updated"},
            {"id": acme + 1000, "notes": "no such organization"},
            {"id": acme, "name": "External Services Ltd"},
        ]})),
    )
    .await;
    let updated = finished_job(&sim, answer).await;
    // UpdateResourceResult: {id, action, status, success}, no index.
    assert_eq!(
        updated[0],
        json!({"id": acme, "action": "update", "status": "Updated", "success": true})
    );
    for failed in &updated[1..] {
        assert!(failed.get("index").is_none(), "{failed}");
        assert_eq!(failed["success"], false);
        assert_eq!(failed["status"], "Failed");
    }
    assert_eq!(updated[1]["id"], acme + 1000);
    assert_eq!(
        updated[2]["details"],
        "Name: External Services Ltd has already been taken"
    );
    assert_ne!(taken, acme);
}

async fn put_ticket(sim: &ZendeskSim, id: u64, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .put(format!("{}/api/v2/tickets/{id}", sim.base_url()))
        .header("authorization", basic())
        .json(&body)
        .send()
        .await
        .unwrap()
}

fn seed_ticket(sim: &ZendeskSim) -> u64 {
    sim.create_ticket(TicketSeed {
        subject: "s".into(),
        description: "d".into(),
        ..Default::default()
    })
    .unwrap()
}

#[tokio::test]
async fn update_ticket_has_its_own_limits_per_account_and_per_ticket() {
    let sim = ZendeskSim::start(SimConfig {
        ticket_update_limit: 4,
        ticket_update_per_ticket_limit: 2,
        ticket_update_per_ticket_window: Duration::from_millis(700),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let (a, b, c) = (seed_ticket(&sim), seed_ticket(&sim), seed_ticket(&sim));
    let tag = |t: &str| json!({"ticket": {"tags": [t]}});
    assert_eq!(put_ticket(&sim, a, tag("x")).await.status(), 200);
    // The simulator counted that update before this answer arrived: its window ends within 700 ms of now.
    let first_update_answered = tokio::time::Instant::now();
    assert_eq!(put_ticket(&sim, a, tag("y")).await.status(), 200);
    // The third update of one ticket within the window: 429, plain text, no Retry-After.
    let limited = put_ticket(&sim, a, tag("z")).await;
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().get("retry-after").is_none());
    assert!(
        limited.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let remaining: u32 = limited.headers()["x-rate-limit-remaining"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(remaining > 0, "the account's budget is not what ran out");
    assert!(serde_json::from_slice::<Value>(&limited.bytes().await.unwrap()).is_err());
    // Other tickets are not limited by it, until the account-wide Update Ticket limit (4 here).
    assert_eq!(put_ticket(&sim, b, tag("x")).await.status(), 200);
    assert_eq!(put_ticket(&sim, c, tag("x")).await.status(), 429);
    // Reads are not Update Ticket requests.
    let (status, _, _) = send(
        reqwest::Method::GET,
        format!("{}/api/v2/tickets/{a}", sim.base_url()),
        None,
    )
    .await;
    assert_eq!(status, 200);
    // The per-ticket window passes; the account's (60 s) does not.
    tokio::time::sleep_until(first_update_answered + Duration::from_millis(750)).await;
    assert_eq!(put_ticket(&sim, a, tag("w")).await.status(), 429);
    sim.reset_rate_limit();
    assert_eq!(put_ticket(&sim, a, tag("w")).await.status(), 200);
    assert_eq!(sim.ticket(a).unwrap()["tags"], json!(["w"]));
}

#[tokio::test]
async fn a_closed_ticket_refuses_updates() {
    let sim = ZendeskSim::start(SimConfig::default()).await.unwrap();
    let id = seed_ticket(&sim);
    assert_eq!(
        put_ticket(&sim, id, json!({"ticket": {"status": "closed"}}))
            .await
            .status(),
        200
    );
    let refused = put_ticket(&sim, id, json!({"ticket": {"tags": ["late"]}})).await;
    assert_eq!(refused.status(), 422);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(
        body,
        json!({"error": "RecordInvalid", "description": "Record validation errors",
            "details": {"status": [{"description": "Status: closed prevents ticket update"}]}})
    );
    assert_eq!(sim.ticket(id).unwrap()["tags"], json!([]));
    // In bulk, the item fails the same way.
    let (_, _, answer) = send(
        reqwest::Method::PUT,
        format!("{}/api/v2/tickets/update_many", sim.base_url()),
        Some(json!({"tickets": [{"id": id, "tags": ["late"]}]})),
    )
    .await;
    let results = finished_job(&sim, answer).await;
    assert_eq!(results[0]["id"], id);
    assert_eq!(results[0]["success"], false);
    assert_eq!(
        results[0]["details"],
        "Status: closed prevents ticket update"
    );
}

async fn token_request(sim: &ZendeskSim, body: Value) -> (u16, Value) {
    let answer = reqwest::Client::new()
        .post(format!("{}/oauth/tokens", sim.base_url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    (answer.status().as_u16(), answer.json().await.unwrap())
}

#[tokio::test]
async fn lifetimes_outside_what_zendesk_accepts_are_refused_and_spend_nothing() {
    let sim = ZendeskSim::start(SimConfig {
        reported_expires_in: Some(u64::MAX),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let issued = sim.issue_tokens(DEFAULT_OAUTH_CLIENT_ID);
    let refresh = |expires_in: Value, refresh_expires_in: Value| {
        json!({
            "grant_type": "refresh_token", "refresh_token": issued.refresh_token,
            "client_id": DEFAULT_OAUTH_CLIENT_ID, "client_secret": DEFAULT_OAUTH_CLIENT_SECRET,
            "expires_in": expires_in, "refresh_token_expires_in": refresh_expires_in,
        })
    };
    for (a, r) in [
        (json!(u64::MAX), json!(u64::MAX)),
        (json!(299), json!(604_800)),
        (json!(172_801), json!(7_776_000)),
        (json!(3600), json!(604_799)),
        (json!(3600), json!(7_776_001)),
        (json!("soon"), json!(604_800)),
    ] {
        let (status, body) = token_request(&sim, refresh(a.clone(), r.clone())).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_request")),
            "{a} {r}"
        );
    }
    // Nothing was spent: the refresh token still works. The knob reports an absurd `expires_in` anyway.
    let (status, pair) = token_request(&sim, refresh(json!(3600), json!(7_776_000))).await;
    assert_eq!(status, 200);
    assert_eq!(pair["expires_in"], json!(u64::MAX));
    assert_eq!(pair["refresh_token_expires_in"], json!(7_776_000));
    let me = reqwest::Client::new()
        .get(format!("{}/api/v2/users/me", sim.base_url()))
        .bearer_auth(pair["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
}

fn pkce_pair() -> (String, String) {
    use base64::Engine as _;
    use sha2::Digest as _;
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".to_string();
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

async fn authorize(sim: &ZendeskSim, extra: &[(&str, &str)]) -> reqwest::Response {
    let mut url =
        reqwest::Url::parse(&format!("{}/oauth/authorizations/new", sim.base_url())).unwrap();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", DEFAULT_OAUTH_CLIENT_ID)
        .append_pair("redirect_uri", "https://app.example/cb")
        .append_pair("scope", "read write")
        .append_pair("state", "st-1")
        .extend_pairs(extra);
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(url)
        .send()
        .await
        .unwrap()
}

async fn exchange(sim: &ZendeskSim, code: &str, verifier: Option<&str>) -> u16 {
    let mut body = json!({
        "grant_type": "authorization_code", "code": code,
        "client_id": DEFAULT_OAUTH_CLIENT_ID, "client_secret": DEFAULT_OAUTH_CLIENT_SECRET,
        "redirect_uri": "https://app.example/cb",
    });
    if let Some(v) = verifier {
        body["code_verifier"] = json!(v);
    }
    reqwest::Client::new()
        .post(format!("{}/oauth/tokens", sim.base_url()))
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn code_of(answer: &reqwest::Response) -> String {
    let location = reqwest::Url::parse(answer.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(
        location
            .query_pairs()
            .find(|(k, _)| k == "state")
            .unwrap()
            .1,
        "st-1"
    );
    location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned()
}

#[tokio::test]
async fn pkce_binds_the_code_to_its_verifier() {
    let sim = ZendeskSim::start(SimConfig::default()).await.unwrap();
    let (verifier, challenge) = pkce_pair();
    let pkce = [
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    // The right verifier.
    let answer = authorize(&sim, &pkce).await;
    assert_eq!(answer.status(), 302);
    assert_eq!(
        exchange(&sim, &code_of(&answer), Some(&verifier)).await,
        200
    );
    // No verifier, or another one: invalid_grant (and the code is spent).
    let code = code_of(&authorize(&sim, &pkce).await);
    assert_eq!(exchange(&sim, &code, None).await, 400);
    assert_eq!(exchange(&sim, &code, Some(&verifier)).await, 400);
    let code = code_of(&authorize(&sim, &pkce).await);
    let other = "x".repeat(43);
    assert_eq!(exchange(&sim, &code, Some(&other)).await, 400);
    // A challenge without S256 is refused at the authorization step.
    let plain = authorize(&sim, &[("code_challenge", challenge.as_str())]).await;
    assert_eq!(plain.status(), 400);
    let plain = authorize(
        &sim,
        &[
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "plain"),
        ],
    )
    .await;
    assert_eq!(plain.status(), 400);
    let grants = sim.token_grants();
    assert!(grants[0].code_verifier_presented);
    assert!(!grants[1].code_verifier_presented);
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
        webhook: Some(WebhookTarget::events(
            &format!("http://{addr}/hook"),
            "s3cret",
            "01HOOK",
        )),
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
    assert_eq!(headers["x-zendesk-webhook-id"], "01HOOK");
    assert_eq!(headers["x-zendesk-account-id"], "9242270");
    assert_eq!(
        headers["x-zendesk-webhook-invocation-id"],
        d[0].invocation_id.as_str()
    );
}

/// A hook that answers the given statuses in turn (then 200), each with its `Retry-After` (seconds) if given,
/// recording what it got.
async fn hook(
    statuses: Vec<(u16, Option<u64>)>,
) -> (
    String,
    std::sync::Arc<std::sync::Mutex<Vec<(axum::http::HeaderMap, axum::body::Bytes)>>>,
) {
    use std::sync::{Arc, Mutex};
    let got: Arc<Mutex<Vec<(axum::http::HeaderMap, axum::body::Bytes)>>> = Arc::default();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post({
            let got = got.clone();
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| async move {
                let mut all = got.lock().unwrap();
                all.push((headers, body));
                let (status, retry_after) =
                    statuses.get(all.len() - 1).copied().unwrap_or((200, None));
                let status = axum::http::StatusCode::from_u16(status).unwrap();
                match retry_after {
                    Some(secs) => axum::response::IntoResponse::into_response((
                        status,
                        [("retry-after", secs.to_string())],
                    )),
                    None => axum::response::IntoResponse::into_response(status),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hook"), got)
}

#[tokio::test]
async fn retries_of_one_invocation_keep_its_invocation_id() {
    let (url, got) = hook(vec![(503, Some(1)), (409, None)]).await;
    let sim = ZendeskSim::start(SimConfig {
        webhook: Some(WebhookTarget::events(&url, "s3cret", "01HOOK")),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    seed_ticket(&sim);
    let d = sim.wait_for_deliveries(3, Duration::from_secs(5)).await;
    assert_eq!(
        d.iter().map(|d| d.status).collect::<Vec<_>>(),
        [Some(503), Some(409), Some(200)]
    );
    // `Retry-After` was waited out.
    assert!(d[1].at.duration_since(d[0].at) >= Duration::from_secs(1));
    let got = got.lock().unwrap();
    let ids: Vec<&str> = got
        .iter()
        .map(|(h, _)| h["x-zendesk-webhook-invocation-id"].to_str().unwrap())
        .collect();
    assert!(ids.iter().all(|i| *i == ids[0]), "{ids:?}");
    assert!(ids[0].bytes().all(|b| b.is_ascii_digit()), "{ids:?}");
    // Each attempt is signed afresh.
    for (h, body) in got.iter() {
        let ts = h["x-zendesk-webhook-signature-timestamp"].to_str().unwrap();
        assert_eq!(
            h["x-zendesk-webhook-signature"],
            sign_webhook("s3cret", ts, body).as_str()
        );
    }
}

/// Zendesk retries a webhook answered 409, or 429 / 503 with a `Retry-After` under 60 seconds; a 500, a 503
/// without `Retry-After` or a 503 asking for a minute or more ends the delivery.
#[tokio::test]
async fn only_the_statuses_zendesk_retries_are_retried() {
    for (answer, retried) in [
        ((500, None), false),
        ((502, None), false),
        ((503, None), false),
        ((503, Some(60)), false),
        ((400, None), false),
        ((429, Some(0)), true),
        ((503, Some(0)), true),
        ((409, None), true),
    ] {
        let (url, got) = hook(vec![answer]).await;
        let sim = ZendeskSim::start(SimConfig {
            webhook: Some(WebhookTarget::events(&url, "s3cret", "01HOOK")),
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let first = seed_ticket(&sim);
        // Deliveries go out one after the other: a retry of the first would come before the second event.
        let second = seed_ticket(&sim);
        let attempts = if retried { 2 } else { 1 };
        let d = sim
            .wait_for_deliveries(attempts + 1, Duration::from_secs(5))
            .await;
        let tickets: Vec<u64> = d.iter().map(|d| d.ticket_id).collect();
        let mut expected = vec![first; attempts];
        expected.push(second);
        assert_eq!(tickets, expected, "{answer:?}");
        assert_eq!(got.lock().unwrap().len(), attempts + 1);
    }
}

#[tokio::test]
async fn a_trigger_webhook_sends_its_own_body() {
    let (url, got) = hook(Vec::new()).await;
    let sim = ZendeskSim::start(SimConfig {
        webhook: Some(WebhookTarget::trigger(
            &url,
            "s3cret",
            "01TRIGGERHOOK",
            r#"{"ticket_id": "{{ticket.id}}", "status": "{{ticket.status}}"}"#,
        )),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let id = seed_ticket(&sim);
    // Several changes at once are one trigger invocation, not one per event.
    sim.update_ticket(id, json!({"status": "open", "tags": ["a"]}))
        .unwrap();
    let d = sim.wait_for_deliveries(2, Duration::from_secs(5)).await;
    assert_eq!(d.len(), 2);
    assert_eq!(d[0].event_type, TRIGGER_DELIVERY);
    assert_eq!(d[0].event_id, d[0].invocation_id);
    assert_ne!(d[0].invocation_id, d[1].invocation_id);
    let got = got.lock().unwrap();
    let bodies: Vec<Value> = got
        .iter()
        .map(|(_, b)| serde_json::from_slice(b).unwrap())
        .collect();
    assert_eq!(
        bodies,
        [
            json!({"ticket_id": id.to_string(), "status": "new"}),
            json!({"ticket_id": id.to_string(), "status": "open"})
        ]
    );
    let (h, body) = &got[0];
    assert_eq!(h["x-zendesk-webhook-id"], "01TRIGGERHOOK");
    let ts = h["x-zendesk-webhook-signature-timestamp"].to_str().unwrap();
    assert_eq!(
        h["x-zendesk-webhook-signature"],
        sign_webhook("s3cret", ts, body).as_str()
    );
}

async fn get(url: &str) -> (u16, Value) {
    let (status, _, body) = send(reqwest::Method::GET, url.to_string(), None).await;
    (status, body)
}

fn ids(page: &Value, key: &str) -> Vec<u64> {
    page[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_u64().unwrap())
        .collect()
}

/// Lists page by offset (`page`, `per_page` ≤ 100, `next_page`, `count`, at most 10,000 records deep) and, when
/// `page[size]` is given, by cursor (`meta.has_more`, `after_cursor`, `links.next`; `page[size]` ≤ 100).
#[tokio::test]
async fn lists_page_by_offset_and_by_cursor() {
    let sim = ZendeskSim::start(SimConfig::default()).await.unwrap();
    let all: Vec<u64> = (0..250)
        .map(|i| {
            sim.seed_organization(&format!("Org {i:03}"), Some(&format!("S-{i}")))
                .unwrap()
        })
        .collect();
    let base = format!("{}/api/v2/organizations", sim.base_url());

    // Offset: 100 per page by default, links to the next page until the last.
    let (status, first) = get(&base).await;
    assert_eq!(status, 200);
    assert_eq!(first["count"], 250);
    assert_eq!(ids(&first, "organizations"), all[..100]);
    assert!(first["previous_page"].is_null());
    let mut seen = ids(&first, "organizations");
    let mut next = first["next_page"].as_str().map(str::to_string);
    while let Some(url) = next {
        let (status, page) = get(&url).await;
        assert_eq!(status, 200, "{url}");
        assert!(page["previous_page"].is_string());
        seen.extend(ids(&page, "organizations"));
        next = page["next_page"].as_str().map(str::to_string);
    }
    assert_eq!(seen, all);
    let (_, capped) = get(&format!("{base}?per_page=500")).await;
    assert_eq!(
        ids(&capped, "organizations").len(),
        100,
        "per_page is capped at 100"
    );
    let (_, small) = get(&format!("{base}?per_page=7&page=2")).await;
    assert_eq!(ids(&small, "organizations"), all[7..14]);
    for deep in ["page=101", "page=201&per_page=50"] {
        let (status, body) = get(&format!("{base}?{deep}")).await;
        assert_eq!(status, 400, "{deep}");
        assert_eq!(body["errors"][0]["code"], "InvalidPaginationDepth");
    }

    // Cursor: has_more / after_cursor / links.next, in order, each record once.
    let (status, page) = get(&format!("{base}?page[size]=100")).await;
    assert_eq!(status, 200);
    assert!(page.get("count").is_none() && page.get("next_page").is_none());
    assert_eq!(page["meta"]["has_more"], true);
    let mut seen = ids(&page, "organizations");
    let mut current = page;
    let mut pages = 1;
    while current["meta"]["has_more"] == true {
        let url = current["links"]["next"].as_str().unwrap().to_string();
        assert!(
            url.contains("page%5Bafter%5D=") || url.contains("page[after]="),
            "{url}"
        );
        let (status, page) = get(&url).await;
        assert_eq!(status, 200, "{url}");
        seen.extend(ids(&page, "organizations"));
        current = page;
        pages += 1;
    }
    assert_eq!((seen.clone(), pages), (all.clone(), 3));
    assert!(
        current["links"]["next"].is_string(),
        "the last page still links onwards; has_more is what says stop"
    );
    let (_, after_last) = get(current["links"]["next"].as_str().unwrap()).await;
    assert!(ids(&after_last, "organizations").is_empty());
    assert_eq!(after_last["meta"]["has_more"], false);
    // Backwards from the last page.
    let (_, previous) = get(current["links"]["prev"].as_str().unwrap()).await;
    assert_eq!(ids(&previous, "organizations"), all[100..200]);
    assert_eq!(previous["meta"]["has_more"], true);

    for bad in [
        "page[size]=101",
        "page[size]=0",
        "page[size]=x",
        "page[size]=10&page[after]=bogus",
    ] {
        let (status, _) = get(&format!("{base}?{bad}")).await;
        assert_eq!(status, 400, "{bad}");
    }
    // The other lists page the same way.
    for (path, key) in [
        ("organization_fields", "organization_fields"),
        ("ticket_fields", "ticket_fields"),
    ] {
        let (status, page) = get(&format!("{}/api/v2/{path}?page[size]=2", sim.base_url())).await;
        assert_eq!(status, 200, "{path}");
        assert!(
            page[key].is_array() && page["meta"]["has_more"] == false,
            "{page}"
        );
    }
}

/// Update Organization has its own limit (5 per minute per account in Zendesk; small here); `update_many` does
/// not count against it.
#[tokio::test]
async fn update_organization_has_its_own_limit() {
    let sim = ZendeskSim::start(SimConfig {
        organization_update_limit: 2,
        organization_update_window: Duration::from_millis(400),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let id = sim.seed_organization("Acme", Some("S-1")).unwrap();
    let url = format!("{}/api/v2/organizations/{id}", sim.base_url());
    let put = |notes: &str| {
        send(
            reqwest::Method::PUT,
            url.clone(),
            Some(json!({"organization": {"notes": notes}})),
        )
    };
    assert_eq!(put("a").await.0, 200);
    assert_eq!(put("b").await.0, 200);
    let (status, headers, body) = put("c").await;
    assert_eq!(status, 429);
    assert_eq!(body["errors"][0]["code"], "TooManyRequests");
    assert_eq!(body["errors"][0]["title"], "Too many requests to update");
    assert!(headers.get("retry-after").is_none());
    assert_ne!(
        headers["x-rate-limit-remaining"], "0",
        "the account still has budget"
    );
    assert_eq!(
        sim.organizations()[0]["notes"],
        "b",
        "the refused update changed nothing"
    );
    // Bulk updates are another endpoint.
    for _ in 0..3 {
        let (status, _, _) = send(
            reqwest::Method::PUT,
            format!("{}/api/v2/organizations/update_many", sim.base_url()),
            Some(json!({"organizations": [{"id": id, "notes": "bulk"}]})),
        )
        .await;
        assert_eq!(status, 200);
    }
    // The window slides: the endpoint answers again.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let (status, _, _) = put("d").await;
        if status == 200 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "still limited");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// An OAuth client created before Zendesk supported refresh tokens: without `expires_in` its grant gets an access
/// token that never expires and no refresh token; with `expires_in` it gets an expiring pair like any client.
#[tokio::test]
async fn a_legacy_client_gets_a_refresh_token_only_when_it_asks_for_expiry() {
    let sim = ZendeskSim::start(SimConfig {
        oauth_clients: vec![SimOauthClient {
            identifier: "old_client".into(),
            secret: "old-secret".into(),
            legacy: true,
        }],
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let redirect = "https://connector.example/cb";
    let grant = |code: String, lifetimes: Option<(u64, u64)>| {
        let mut body = json!({
            "grant_type": "authorization_code", "code": code, "client_id": "old_client",
            "client_secret": "old-secret", "redirect_uri": redirect,
        });
        if let Some((a, r)) = lifetimes {
            body["expires_in"] = json!(a);
            body["refresh_token_expires_in"] = json!(r);
        }
        body
    };
    let code = sim.authorization_code("old_client", redirect, "read write");
    let (status, old_style) = token_request(&sim, grant(code, None)).await;
    assert_eq!(status, 200);
    assert!(old_style["access_token"].is_string());
    assert!(old_style.get("refresh_token").is_none(), "{old_style}");
    assert!(old_style.get("expires_in").is_none(), "{old_style}");

    let code = sim.authorization_code("old_client", redirect, "read write");
    let (status, pair) = token_request(&sim, grant(code, Some((7200, 7_776_000)))).await;
    assert_eq!(status, 200);
    assert!(pair["refresh_token"].is_string(), "{pair}");
    assert_eq!(pair["expires_in"], json!(7200));
    assert_eq!(pair["refresh_token_expires_in"], json!(7_776_000));
    let grants = sim.token_grants();
    assert_eq!(grants[1].expires_in.as_deref(), Some("7200"));
    assert_eq!(grants[0].expires_in, None);
}
