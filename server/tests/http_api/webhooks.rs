//! `POST /webhooks/zendesk/{tenant}` on the running application, on every backend: signature, timestamp
//! window, parsing and durable deduplicated enqueueing — request by request for each rejection, and end to end
//! with the Zendesk simulator sending signed events. Every rejection is checked to have enqueued nothing.

use crate::support as common;

use std::time::Duration;

use ml_connector::config::Config;
use ml_connector::http::AppState;
use ml_connector::store::{QueueCounts, QueueStatus, QueuedEvent, Store};
use ml_connector::tenant::{SecretName, TenantId, WorkdaySettings, ZendeskSettings};
use ml_connector::zendesk::webhook::{WebhookError, verify_signature};
use ml_connector_sim::zendesk::{
    SimConfig, TRIGGER_DELIVERY, TicketSeed, WebhookTarget, ZendeskSim, sign_webhook,
};
use reqwest::StatusCode;
use secrecy::SecretString;

const SECRET: &str = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3RpbmdfcHVycG9zZXNfb25seQ==";
const TICKET_CREATED: &[u8] = include_bytes!("../../../tests/fixtures/zendesk/ticket_created.json");
const FIELD_CHANGED: &[u8] =
    include_bytes!("../../../tests/fixtures/zendesk/ticket_custom_field_changed.json");
const USER_CREATED: &[u8] = include_bytes!("../../../tests/fixtures/zendesk/user_created.json");
const TRIGGER_TICKET: &[u8] = include_bytes!("../../../tests/fixtures/zendesk/trigger_ticket.json");

/// Computed outside the code under test, over the fixture file's exact bytes:
/// ```text
/// (printf '%s' 2024-01-01T00:00:00Z; cat tests/fixtures/zendesk/ticket_created.json) \
///   | openssl dgst -sha256 -hmac "$SECRET" -binary | base64
/// python3 -c "import hmac,hashlib,base64; b=open('tests/fixtures/zendesk/ticket_created.json','rb').read(); \
///   print(base64.b64encode(hmac.new(SECRET.encode(), b'2024-01-01T00:00:00Z'+b, hashlib.sha256).digest()).decode())"
/// ```
/// Both print the same value.
const VECTOR_TIMESTAMP: &str = "2024-01-01T00:00:00Z";
const VECTOR_SIGNATURE: &str = "T/HTkia3SZUyi42ZTfNwkFI9SXRHhKad8pIfOwsOz6g=";

fn acme() -> TenantId {
    TenantId::parse("acme").unwrap()
}

/// The running application with tenant `acme` and its webhook signing secret.
struct Fixture {
    state: AppState,
    app: common::TestApp,
}

async fn fixture_on(db: common::TestDb, tweak: impl FnOnce(&mut Config)) -> Fixture {
    let app = common::TestApp::spawn(db, tweak).await;
    let store = app.store();
    store
        .create_tenant(
            &acme(),
            "Acme",
            &WorkdaySettings::default(),
            &ZendeskSettings::default(),
        )
        .await
        .unwrap();
    store
        .put_secret(
            app.vault(),
            &acme(),
            SecretName::WebhookSigningSecret,
            &SecretString::from(SECRET),
        )
        .await
        .unwrap();
    Fixture {
        state: app.state().clone(),
        app,
    }
}

/// The fixture on each backend, configured by `tweak`.
async fn fixtures(tweak: impl Fn(&mut Config)) -> Vec<Fixture> {
    let mut all = Vec::new();
    for db in common::test_dbs().await {
        all.push(fixture_on(db, &tweak).await);
    }
    all
}

/// A request to send to the application.
struct Req {
    method: reqwest::Method,
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Req {
    fn get(path: &str) -> Self {
        Self {
            method: reqwest::Method::GET,
            path: path.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_string()));
        self
    }
}

/// A signature timestamp `offset_secs` from now (negative: in the past), as Zendesk writes it.
fn ts_from_now(offset_secs: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(offset_secs))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn now_ts() -> String {
    ts_from_now(0)
}

fn post(tenant: &str, body: &[u8], timestamp: Option<&str>, signature: Option<&str>) -> Req {
    let mut req = Req {
        method: reqwest::Method::POST,
        path: format!("/webhooks/zendesk/{tenant}"),
        headers: vec![("content-type", "application/json".into())],
        body: body.to_vec(),
    };
    if let Some(ts) = timestamp {
        req = req.header("x-zendesk-webhook-signature-timestamp", ts);
    }
    if let Some(sig) = signature {
        req = req.header("x-zendesk-webhook-signature", sig);
    }
    req
}

/// A request to `tenant` signed with `secret` at `timestamp` (the simulator's signer, independent of the
/// server's code).
fn signed_at(tenant: &str, body: &[u8], secret: &str, timestamp: &str) -> Req {
    let sig = sign_webhook(secret, timestamp, body);
    post(tenant, body, Some(timestamp), Some(&sig))
}

/// A request signed now with `secret`.
fn signed(body: &[u8], secret: &str) -> Req {
    signed_at("acme", body, secret, &now_ts())
}

/// Sends `req` to the running application.
async fn call(f: &Fixture, req: Req) -> (StatusCode, serde_json::Value) {
    let mut builder = f.app.client.request(req.method, f.app.url(&req.path));
    for (name, value) in req.headers {
        builder = builder.header(name, value);
    }
    let resp = builder.body(req.body).send().await.unwrap();
    let status = resp.status();
    let bytes = resp.bytes().await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or_default())
}

async fn counts(store: &Store) -> QueueCounts {
    store.queue_counts(&acme()).await.unwrap()
}

async fn queued_event(f: &Fixture, event_id: &str) -> Option<QueuedEvent> {
    f.state
        .store()
        .queued_event(&acme(), event_id)
        .await
        .unwrap()
}

#[test]
fn independent_test_vector_verifies() {
    let secret = SecretString::from(SECRET);
    verify_signature(&secret, VECTOR_TIMESTAMP, TICKET_CREATED, VECTOR_SIGNATURE).unwrap();
    // One byte off anywhere fails.
    let mut body = TICKET_CREATED.to_vec();
    body[10] ^= 1;
    assert_eq!(
        verify_signature(&secret, VECTOR_TIMESTAMP, &body, VECTOR_SIGNATURE),
        Err(WebhookError::InvalidSignature)
    );
    assert_eq!(
        verify_signature(
            &secret,
            "2024-01-01T00:00:01Z",
            TICKET_CREATED,
            VECTOR_SIGNATURE
        ),
        Err(WebhookError::InvalidSignature)
    );
    // The old docs' order (body + timestamp) is not what Zendesk signs.
    let mut reordered = TICKET_CREATED.to_vec();
    reordered.extend_from_slice(VECTOR_TIMESTAMP.as_bytes());
    assert!(verify_signature(&secret, "", &reordered, VECTOR_SIGNATURE).is_err());
    // The simulator's signer agrees with the vector.
    assert_eq!(
        sign_webhook(SECRET, VECTOR_TIMESTAMP, TICKET_CREATED),
        VECTOR_SIGNATURE
    );
}

#[tokio::test]
async fn the_test_vector_is_accepted_by_the_route() {
    // The vector's timestamp is from 2024: widen the window so that only the signature is on trial.
    for f in fixtures(|c| {
        c.zendesk.webhook_timestamp_window_secs = 100 * 365 * 24 * 3600;
    })
    .await
    {
        let (status, body) = call(
            &f,
            post(
                "acme",
                TICKET_CREATED,
                Some(VECTOR_TIMESTAMP),
                Some(VECTOR_SIGNATURE),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "queued");
        let row = queued_event(&f, "cbe4028c-7239-495d-b020-f22348516046")
            .await
            .unwrap();
        assert_eq!(row.ticket_id, 5158);
        assert_eq!(row.event_type, "zen:event-type:ticket.created");
        assert_eq!(row.status, QueueStatus::Queued);
        assert_eq!(row.payload.as_bytes(), TICKET_CREATED);
    }
}

#[tokio::test]
async fn a_valid_signature_is_accepted_and_queued() {
    for f in fixtures(|_| {}).await {
        let (status, body) = call(&f, signed(FIELD_CHANGED, SECRET)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "queued");
        assert_eq!(body["event_id"], "0f6c2f69-4c5b-4d1f-9f25-6b0b6f3e5a11");
        assert_eq!(counts(f.state.store()).await.queued, 1);
    }
}

#[tokio::test]
async fn a_tampered_body_is_rejected_and_nothing_is_queued() {
    for f in fixtures(|_| {}).await {
        let ts = now_ts();
        let sig = sign_webhook(SECRET, &ts, TICKET_CREATED);
        let tampered = String::from_utf8(TICKET_CREATED.to_vec())
            .unwrap()
            .replace("\"id\":\"5158\"", "\"id\":\"5159\"");
        let (status, body) =
            call(&f, post("acme", tampered.as_bytes(), Some(&ts), Some(&sig))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["error"]["code"], "invalid_signature");
        assert_eq!(counts(f.state.store()).await, QueueCounts::default());
    }
}

#[tokio::test]
async fn a_wrong_secret_is_rejected_and_nothing_is_queued() {
    for f in fixtures(|_| {}).await {
        let (status, body) = call(&f, signed(TICKET_CREATED, "another-webhook's-secret")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["error"]["code"], "invalid_signature");
        // Garbage that is not even base64.
        let (status, _) = call(
            &f,
            post(
                "acme",
                TICKET_CREATED,
                Some(&now_ts()),
                Some("not base64 at all!"),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(counts(f.state.store()).await, QueueCounts::default());
    }
}

#[tokio::test]
async fn stale_and_future_timestamps_are_rejected_and_nothing_is_queued() {
    for f in fixtures(|_| {}).await {
        for offset in [-6 * 60, 6 * 60] {
            // Correctly signed: only the time is wrong.
            let req = signed_at("acme", TICKET_CREATED, SECRET, &ts_from_now(offset));
            let (status, body) = call(&f, req).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "offset {offset}");
            assert_eq!(body["error"]["code"], "stale_timestamp");
        }
        // Inside the window both ways is fine.
        let req = signed_at("acme", USER_CREATED, SECRET, &ts_from_now(-240));
        let (status, _) = call(&f, req).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(counts(f.state.store()).await, QueueCounts::default());
    }
}

#[tokio::test]
async fn a_replayed_event_id_is_acknowledged_but_not_queued_twice() {
    for f in fixtures(|_| {}).await {
        let ts = now_ts();
        let first = call(&f, signed_at("acme", TICKET_CREATED, SECRET, &ts)).await;
        assert_eq!(
            (first.0, first.1["status"].as_str()),
            (StatusCode::OK, Some("queued"))
        );
        // The exact same request again (a replay) ...
        let again = call(&f, signed_at("acme", TICKET_CREATED, SECRET, &ts)).await;
        assert_eq!(
            (again.0, again.1["status"].as_str()),
            (StatusCode::OK, Some("duplicate"))
        );
        // ... and a redelivery of the same event, freshly signed.
        let redelivery = call(&f, signed(TICKET_CREATED, SECRET)).await;
        assert_eq!(redelivery.1["status"], "duplicate");
        assert_eq!(
            counts(f.state.store()).await,
            QueueCounts {
                queued: 1,
                ..Default::default()
            }
        );
    }
}

#[tokio::test]
async fn malformed_events_are_rejected_and_nothing_is_queued() {
    for f in fixtures(|_| {}).await {
        for bad in [
            &b"{not json"[..],
            b"[]",
            br#"{"type":"zen:event-type:ticket.created","detail":{"id":"1"}}"#,
            br#"{"type":"zen:event-type:ticket.created","id":"e1","detail":{"subject":"no id"}}"#,
            br#"{"id":"e2","detail":{"id":"1"}}"#,
        ] {
            let (status, body) = call(&f, signed(bad, SECRET)).await;
            assert_eq!(
                status,
                StatusCode::BAD_REQUEST,
                "{}",
                String::from_utf8_lossy(bad)
            );
            assert_eq!(body["error"]["code"], "malformed_event");
        }
        assert_eq!(counts(f.state.store()).await, QueueCounts::default());
    }
}

#[tokio::test]
async fn missing_headers_unknown_tenants_and_big_bodies_are_refused() {
    for f in fixtures(|_| {}).await {
        let (status, body) = call(&f, post("acme", TICKET_CREATED, None, None)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["error"]["code"], "missing_signature");
        let (status, _) = call(&f, post("acme", TICKET_CREATED, Some(&now_ts()), None)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        // Unknown (or invalid) tenant: the same answer as a bad signature.
        for tenant in ["globex", "Not-A-Tenant"] {
            let req = signed_at(tenant, TICKET_CREATED, SECRET, &now_ts());
            let (status, body) = call(&f, req).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{tenant}");
            assert_eq!(body["error"]["code"], "invalid_signature");
        }

        let huge = vec![b' '; f.state.config().zendesk.webhook_max_body_bytes + 1];
        let (status, body) = call(&f, signed(&huge, SECRET)).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(body["error"]["code"], "payload_too_large");
        assert_eq!(counts(f.state.store()).await, QueueCounts::default());
    }
}

/// Makes every insert into the queue fail (a real failure of the real store, as when its disk is full), or
/// lifts that again.
async fn queue_inserts_fail(store: &Store, fail: bool) {
    let statements: &[&'static str] = match (store.backend(), fail) {
        (ml_connector::store::Backend::Sqlite, true) => &[
            "CREATE TRIGGER mlc_test_outage BEFORE INSERT ON enrichment_queue \
             BEGIN SELECT RAISE(ABORT, 'simulated outage: database or disk is full'); END",
        ],
        (ml_connector::store::Backend::Sqlite, false) => &["DROP TRIGGER mlc_test_outage"],
        (ml_connector::store::Backend::Postgres, true) => &[
            "CREATE FUNCTION mlc_test_outage() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'simulated outage: could not extend file'; END $$",
            "CREATE TRIGGER mlc_test_outage BEFORE INSERT ON enrichment_queue \
             FOR EACH ROW EXECUTE FUNCTION mlc_test_outage()",
        ],
        (ml_connector::store::Backend::Postgres, false) => {
            &["DROP TRIGGER mlc_test_outage ON enrichment_queue"]
        }
    };
    for sql in statements {
        sqlx::query(*sql).execute(store.pool()).await.unwrap();
    }
}

/// Status, `Retry-After` and JSON body of a request.
async fn call_with_retry_after(
    f: &Fixture,
    req: Req,
) -> (StatusCode, Option<String>, serde_json::Value) {
    let mut builder = f.app.client.request(req.method, f.app.url(&req.path));
    for (name, value) in req.headers {
        builder = builder.header(name, value);
    }
    let resp = builder.body(req.body).send().await.unwrap();
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    let bytes = resp.bytes().await.unwrap();
    (
        status,
        retry_after,
        serde_json::from_slice(&bytes).unwrap_or_default(),
    )
}

/// The store failing is not the sender's fault: the answer is a 503 with `Retry-After` (which Zendesk retries;
/// it does not retry a 500), nothing is half-stored, and the retry, once the store is back, is queued once.
#[tokio::test]
async fn a_store_failure_asks_zendesk_to_retry_and_loses_nothing() {
    for f in fixtures(|c| c.zendesk.webhook_retry_after_secs = 7).await {
        let name = f.app.name;
        queue_inserts_fail(f.state.store(), true).await;
        let ts = now_ts();
        let request = || signed_at("acme", TICKET_CREATED, SECRET, &ts);
        let (status, retry_after, body) = call_with_retry_after(&f, request()).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{name}: {body}");
        assert_eq!(retry_after.as_deref(), Some("7"), "{name}");
        assert_eq!(body["error"]["code"], "store_unavailable", "{name}");
        assert!(
            !body.to_string().contains("outage"),
            "{name}: no internals in the answer: {body}"
        );
        assert_eq!(
            counts(f.state.store()).await,
            QueueCounts::default(),
            "{name}"
        );

        // Zendesk sends the same request again once the store is back.
        queue_inserts_fail(f.state.store(), false).await;
        let (status, retry_after, body) = call_with_retry_after(&f, request()).await;
        assert_eq!(
            (status, retry_after),
            (StatusCode::OK, None),
            "{name}: {body}"
        );
        assert_eq!(body["status"], "queued");
        let (_, _, body) = call_with_retry_after(&f, request()).await;
        assert_eq!(body["status"], "duplicate", "{name}");
        assert_eq!(counts(f.state.store()).await.queued, 1, "{name}");
    }
}

/// A store that cannot even be read (its connections are gone) is answered the same way.
#[tokio::test]
async fn an_unreachable_store_is_a_503_with_retry_after() {
    for f in fixtures(|_| {}).await {
        f.state.store().close().await;
        let (status, retry_after, body) =
            call_with_retry_after(&f, signed(TICKET_CREATED, SECRET)).await;
        assert_eq!(
            status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}: {body}",
            f.app.name
        );
        assert_eq!(retry_after.as_deref(), Some("10"));
        assert_eq!(body["error"]["code"], "store_unavailable");
    }
}

/// A trigger request signed now, with the webhook and invocation id headers Zendesk sends (either omitted
/// when `None`).
fn trigger_request(body: &[u8], timestamp: &str, invocation: Option<&str>) -> Req {
    let mut req =
        signed_at("acme", body, SECRET, timestamp).header("x-zendesk-account-id", "9242270");
    if let Some(id) = invocation {
        req = req
            .header("x-zendesk-webhook-id", "01TRIGGERHOOK")
            .header("x-zendesk-webhook-invocation-id", id);
    }
    req
}

#[tokio::test]
async fn a_trigger_webhook_is_queued_once_per_invocation() {
    for f in fixtures(|_| {}).await {
        let (status, body) = call(
            &f,
            trigger_request(TRIGGER_TICKET, &now_ts(), Some("8350205582")),
        )
        .await;
        assert_eq!(
            (status, body["status"].as_str()),
            (StatusCode::OK, Some("queued")),
            "{body}"
        );
        assert_eq!(body["event_id"], "trigger:01TRIGGERHOOK:8350205582");
        let row = queued_event(&f, "trigger:01TRIGGERHOOK:8350205582")
            .await
            .unwrap();
        assert_eq!(row.event_type, "trigger");
        assert_eq!(row.ticket_id, 35436);
        assert_eq!(row.payload.as_bytes(), TRIGGER_TICKET);
        // A retry of the same invocation (signed again, a moment later) and a byte-for-byte replay: duplicates.
        let retry = trigger_request(TRIGGER_TICKET, &now_ts(), Some("8350205582"));
        assert_eq!(call(&f, retry).await.1["status"], "duplicate");
        // The trigger firing again for the ticket is another invocation: queued.
        let again = call(
            &f,
            trigger_request(TRIGGER_TICKET, &now_ts(), Some("8350205999")),
        )
        .await;
        assert_eq!(again.1["status"], "queued");
        // A number works as well as the rendered string.
        let numeric = call(
            &f,
            trigger_request(br#"{"ticket_id": 77}"#, &now_ts(), Some("1")),
        )
        .await;
        assert_eq!(numeric.1["status"], "queued");
        assert_eq!(
            counts(f.state.store()).await,
            QueueCounts {
                queued: 3,
                ..Default::default()
            }
        );
    }
}

#[tokio::test]
async fn a_trigger_webhook_without_invocation_id_is_keyed_by_timestamp_and_body() {
    for f in fixtures(|_| {}).await {
        let ts = now_ts();
        let first = call(&f, trigger_request(TRIGGER_TICKET, &ts, None)).await;
        assert_eq!(first.1["status"], "queued", "{}", first.1);
        let id = first.1["event_id"].as_str().unwrap().to_string();
        assert!(id.starts_with("trigger:sha256:"), "{id}");
        // The exact request again: a replay.
        let replay = call(&f, trigger_request(TRIGGER_TICKET, &ts, None)).await;
        assert_eq!(
            (replay.1["status"].as_str(), replay.1["event_id"].as_str()),
            (Some("duplicate"), Some(id.as_str()))
        );
        assert_eq!(counts(f.state.store()).await.queued, 1);
    }
}

#[tokio::test]
async fn trigger_webhooks_are_verified_and_checked_like_events() {
    for f in fixtures(|_| {}).await {
        // Signed with another secret: 401, before the body is even read.
        let (status, body) = call(&f, signed(TRIGGER_TICKET, "not-the-secret")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["error"]["code"], "invalid_signature");
        // Stale.
        let old = ts_from_now(-3600);
        let (status, body) = call(&f, trigger_request(TRIGGER_TICKET, &old, Some("2"))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["error"]["code"], "stale_timestamp");
        // Authentic but not usable: a placeholder the trigger did not fill, no ticket id, a bad invocation id.
        for (bad, invocation) in [
            (&br#"{"ticket_id": "{{ticket.id}}"}"#[..], Some("3")),
            (br#"{"ticket_id": ""}"#, Some("4")),
            (br#"{"ticket": {"id": 5}}"#, Some("5")),
            (br#"["ticket_id", 5]"#, Some("6")),
            (br#"{"ticket_id": "5"}"#, Some("not an id")),
        ] {
            let (status, body) = call(&f, trigger_request(bad, &now_ts(), invocation)).await;
            assert_eq!(
                (status, body["error"]["code"].as_str()),
                (StatusCode::BAD_REQUEST, Some("malformed_event")),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(counts(f.state.store()).await, QueueCounts::default());
    }
}

#[tokio::test]
async fn non_ticket_events_are_acknowledged_not_queued() {
    for f in fixtures(|_| {}).await {
        let (status, body) = call(&f, signed(USER_CREATED, SECRET)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["status"], "ignored");
        assert_eq!(counts(f.state.store()).await, QueueCounts::default());
    }
}

#[tokio::test]
async fn the_route_is_in_the_openapi_document() {
    for f in fixtures(|_| {}).await {
        let (status, doc) = call(&f, Req::get("/openapi.json")).await;
        assert_eq!(status, StatusCode::OK);
        let op = &doc["paths"]["/webhooks/zendesk/{tenant}"]["post"];
        assert!(op.is_object(), "{doc}");
        assert!(op["responses"]["401"].is_object());
    }
}

impl Fixture {
    /// Where Zendesk delivers tenant `acme`'s webhooks.
    fn webhook_url(&self) -> String {
        self.app.url("/webhooks/zendesk/acme")
    }
}

/// A Zendesk simulator that sends its webhooks to `target`.
async fn sim_delivering_to(target: WebhookTarget) -> ZendeskSim {
    ZendeskSim::start(SimConfig {
        webhook: Some(target),
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

/// A new ticket about the unpaid invoice INV-2024-0042.
fn unpaid_invoice_ticket(sim: &ZendeskSim, subject: &str) -> u64 {
    sim.create_ticket(TicketSeed {
        subject: subject.into(),
        description: "Invoice INV-2024-0042 is still unpaid.".into(),
        ..Default::default()
    })
    .unwrap()
}

/// The simulator signs events the way Zendesk does and posts them to the real server; they land in the queue.
#[tokio::test]
async fn simulator_webhooks_reach_the_queue_end_to_end() {
    for db in common::test_dbs().await {
        let name = db.name;
        let f = fixture_on(db, |_| {}).await;
        let sim = sim_delivering_to(WebhookTarget::events(
            &f.webhook_url(),
            SECRET,
            "01HWEBHOOK",
        ))
        .await;
        let field = sim.seed_ticket_field("tagger", "Invoice status", &[("Paid", "invoice_paid")]);
        let ticket = unpaid_invoice_ticket(&sim, "Where is my payment for INV-2024-0042?");
        sim.update_ticket(
            ticket,
            serde_json::json!({"custom_fields": [{"id": field, "value": "invoice_paid"}]}),
        )
        .unwrap();
        // The dropdown adds its tag too, so Zendesk reports a tags change as well.
        let deliveries = sim.wait_for_deliveries(3, Duration::from_secs(10)).await;
        assert_eq!(deliveries.len(), 3, "{name}: {deliveries:?}");
        for d in &deliveries {
            assert_eq!(d.status, Some(200), "{name}: {d:?}");
            let row = queued_event(&f, &d.event_id)
                .await
                .unwrap_or_else(|| panic!("{name}: event {} not queued", d.event_id));
            assert_eq!(row.ticket_id, ticket as i64);
            assert_eq!(row.event_type, d.event_type);
            assert_eq!(row.payload.as_bytes(), d.body.as_slice());
        }
        let types: Vec<&str> = deliveries.iter().map(|d| d.event_type.as_str()).collect();
        assert_eq!(
            types,
            [
                "zen:event-type:ticket.created",
                "zen:event-type:ticket.custom_field_changed",
                "zen:event-type:ticket.tags_changed",
            ]
        );
        // A replay of a delivery (same bytes, same signature) is acknowledged and not queued again.
        assert_eq!(sim.replay(&deliveries[0]).await.unwrap(), 200);
        assert_eq!(counts(f.state.store()).await.queued, 3, "{name}");
        // A sender with the wrong secret gets 401 and queues nothing.
        sim.set_webhook(Some(WebhookTarget::events(
            &f.webhook_url(),
            "wrong",
            "01HWEBHOOK",
        )));
        sim.update_ticket(ticket, serde_json::json!({"status": "open"}))
            .unwrap();
        let deliveries = sim.wait_for_deliveries(4, Duration::from_secs(10)).await;
        assert_eq!(deliveries[3].status, Some(401), "{name}");
        assert_eq!(counts(f.state.store()).await.queued, 3, "{name}");
        f.app.stop().await;
    }
}

/// Zendesk's own retry brings an event the store could not take: the first delivery is answered 503 with
/// `Retry-After`, the simulator waits that long and sends it again (same event, same invocation id), and it is
/// queued once.
#[tokio::test]
async fn an_event_refused_during_a_store_outage_arrives_with_zendesks_retry() {
    for f in fixtures(|c| c.zendesk.webhook_retry_after_secs = 1).await {
        let name = f.app.name;
        queue_inserts_fail(f.state.store(), true).await;
        let sim = sim_delivering_to(WebhookTarget::events(
            &f.webhook_url(),
            SECRET,
            "01HWEBHOOK",
        ))
        .await;
        let ticket = unpaid_invoice_ticket(&sim, "Where is my payment for INV-2024-0042?");
        let first = sim.wait_for_deliveries(1, Duration::from_secs(10)).await;
        assert_eq!(first[0].status, Some(503), "{name}: {first:?}");
        queue_inserts_fail(f.state.store(), false).await;
        let deliveries = sim.wait_for_deliveries(2, Duration::from_secs(10)).await;
        assert_eq!(deliveries.len(), 2, "{name}: {deliveries:?}");
        assert_eq!(deliveries[1].status, Some(200));
        assert_eq!(deliveries[1].event_id, deliveries[0].event_id);
        assert_eq!(deliveries[1].invocation_id, deliveries[0].invocation_id);
        let row = queued_event(&f, &deliveries[0].event_id).await.unwrap();
        assert_eq!(row.ticket_id, ticket as i64);
        assert_eq!(counts(f.state.store()).await.queued, 1, "{name}");
        f.app.stop().await;
    }
}

/// A webhook connected to a trigger: the simulator sends the trigger's own body on every ticket change, with
/// Zendesk's headers; each invocation is queued once, and a replay is a duplicate.
#[tokio::test]
async fn simulator_trigger_webhooks_reach_the_queue_end_to_end() {
    for f in fixtures(|_| {}).await {
        let sim = sim_delivering_to(WebhookTarget::trigger(
            &f.webhook_url(),
            SECRET,
            "01TRIGGERHOOK",
            r#"{"ticket_id": "{{ticket.id}}"}"#,
        ))
        .await;
        let ticket = unpaid_invoice_ticket(&sim, "Where is my payment?");
        sim.update_ticket(ticket, serde_json::json!({"status": "open"}))
            .unwrap();
        let deliveries = sim.wait_for_deliveries(2, Duration::from_secs(10)).await;
        assert_eq!(deliveries.len(), 2, "{deliveries:?}");
        for d in &deliveries {
            assert_eq!(d.status, Some(200), "{d:?}");
            assert_eq!(d.event_type, TRIGGER_DELIVERY);
            let key = format!("trigger:01TRIGGERHOOK:{}", d.invocation_id);
            let row = queued_event(&f, &key)
                .await
                .unwrap_or_else(|| panic!("{key} not queued"));
            assert_eq!(
                (row.event_type.as_str(), row.ticket_id),
                ("trigger", ticket as i64)
            );
        }
        assert_eq!(sim.replay(&deliveries[1]).await.unwrap(), 200);
        assert_eq!(counts(f.state.store()).await.queued, 2);
        f.app.stop().await;
    }
}
