//! A Workday simulator: SOAP web services (`Get_Suppliers`, `Get_Supplier_Invoices`,
//! `Get_Supplier_Invoice_Adjustments`, `Get_Purchase_Orders` in `Resource_Management`, `Get_Payments` in
//! `Settlement_Services`), the OAuth2 token endpoint and REST reads of supplier invoice requests, over a
//! deterministic generated tenant of 10 to 100,000 suppliers.
//!
//! It checks what it receives the way Workday does (WS-Security UsernameToken `user@tenant` with a
//! PasswordText password, `bsvc:version` when sent, `Workday_Common_Header`, the request against the schema's
//! element names and order ([`schema`]), `Count` ≤ 999, criteria, the ID types each reference accepts) and
//! answers with Workday's envelopes, faults and paging, in the record shape of the version asked for
//! ([`schema::Generation`]), with reference descriptors only when the header asks for them. Faults can be
//! injected (429, 503, 500 processing faults, slow answers, dropped connections, malformed bodies) by rate or
//! scripted one by one; every request is logged.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use ml_connector_sim::workday::{SimConfig, WorkdaySim};
//! let sim = WorkdaySim::start(SimConfig { suppliers: 50, ..SimConfig::default() }).await?;
//! println!("SOAP at {}/ccx/service/{}/Resource_Management/v46.1", sim.base_url(), sim.config().tenant);
//! # Ok(()) }
//! ```

pub mod data;
pub mod ops;
pub mod parse;
pub mod rest;
pub mod schema;
pub mod wire;

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

pub use data::Universe;
use ops::{Op, Selection};
use wire::Invalid;

/// How the simulator is set up.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Address to listen on (port 0: any free port).
    pub listen: SocketAddr,
    /// Number of suppliers (10 to 100,000 is the supported range; any number ≥ 1 works).
    pub suppliers: u32,
    /// Seed of the data set.
    pub seed: u64,
    /// "Today" of the data set (invoice ages, due dates). Defaults to the current date.
    pub anchor_date: NaiveDate,
    /// Workday tenant name.
    pub tenant: String,
    /// Integration system user (the WS-Security user name is `{username}@{tenant}`).
    pub username: String,
    /// Its password.
    pub password: String,
    /// OAuth2 client id.
    pub client_id: String,
    /// OAuth2 client secret.
    pub client_secret: String,
    /// The refresh token the client presents (the first one, when tokens rotate).
    pub refresh_token: String,
    /// Whether every refresh-token grant issues a new refresh token and invalidates the old one (OAuth 2.0
    /// refresh-token rotation; Workday API clients can be set up either way).
    pub rotate_refresh_tokens: bool,
    /// Lifetime of issued access tokens.
    pub token_ttl: Duration,
    /// Whether the token answer carries `expires_in` (real Workday may omit it).
    pub send_expires_in: bool,
    /// Random fault injection.
    pub faults: FaultConfig,
    /// Most recent requests kept in the log.
    pub log_capacity: usize,
    /// Suppliers (0-based indices) whose records are sent without any `Supplier_ID`: odd records a real
    /// tenant can hold, which a client must get past without losing the rest of the page.
    pub suppliers_without_id: Vec<u32>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            suppliers: 100,
            seed: 1,
            anchor_date: Utc::now().date_naive(),
            tenant: "acme_dpt1".into(),
            username: "isu_mlc".into(),
            password: "sim-password".into(),
            client_id: "mlc-api-client".into(),
            client_secret: "sim-client-secret".into(),
            refresh_token: "sim-refresh-token".into(),
            rotate_refresh_tokens: false,
            token_ttl: Duration::from_secs(3600),
            send_expires_in: true,
            faults: FaultConfig::default(),
            log_capacity: 100_000,
            suppliers_without_id: Vec::new(),
        }
    }
}

/// Rates (0.0–1.0) of injected faults, drawn independently per data request (not the token endpoint).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// HTTP 429 Too Many Requests.
    pub rate_429: f64,
    /// HTTP 503 Service Unavailable (an HTML page, no SOAP fault).
    pub rate_503: f64,
    /// HTTP 500 with a `Server.processingError` SOAP fault.
    pub rate_500: f64,
    /// A delay of `slow_ms` before answering normally.
    pub rate_slow: f64,
    /// Delay of a slow answer, in milliseconds.
    pub slow_ms: u64,
    /// The connection is dropped in the middle of the body.
    pub rate_drop: f64,
    /// A 200 answer whose body is truncated and garbled.
    pub rate_malformed: f64,
    /// Seed of the fault draws.
    pub seed: u64,
}

/// One injected fault, for scripting exact sequences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// HTTP 429.
    TooManyRequests,
    /// HTTP 503.
    ServiceUnavailable,
    /// HTTP 500 with `Server.processingError`.
    ProcessingError,
    /// Answer after this many milliseconds.
    Slow(u64),
    /// Drop the connection mid-body.
    Drop,
    /// Truncated, garbled body with status 200.
    Malformed,
}

/// One request the simulator received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedRequest {
    /// Sequence number (from 1).
    pub seq: u64,
    /// When it arrived.
    pub at: DateTime<Utc>,
    /// HTTP method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// `soap`, `token` or `rest`.
    pub kind: String,
    /// SOAP operation (e.g. `Get_Suppliers`) or REST resource.
    pub operation: Option<String>,
    /// Service in the URL.
    pub service: Option<String>,
    /// Version in the URL.
    pub version: Option<String>,
    /// `bsvc:version` attribute of the request element.
    pub request_version: Option<String>,
    /// WS-Security user name (never the password).
    pub username: Option<String>,
    /// `Workday_Common_Header/Include_Reference_Descriptors_In_Response` as sent.
    pub descriptors: Option<String>,
    /// Requested page.
    pub page: Option<u32>,
    /// Requested count / limit.
    pub count: Option<u32>,
    /// REST offset.
    pub offset: Option<u64>,
    /// As_Of_Entry_DateTime.
    pub as_of: Option<String>,
    /// HTTP status answered (0 when the connection was dropped).
    pub status: u16,
    /// What happened: `ok`, `fault:Client.validationError`, `injected:429`, ...
    pub outcome: String,
}

struct FaultState {
    config: FaultConfig,
    draws: u64,
    scripted: VecDeque<Fault>,
}

struct SimState {
    config: SimConfig,
    universe: Universe,
    faults: Mutex<FaultState>,
    log: Mutex<VecDeque<LoggedRequest>>,
    seq: AtomicU64,
    tokens: Mutex<rest::Tokens>,
    /// The refresh token that is valid now, and how many rotations happened.
    refresh: Mutex<(String, u64)>,
    cache: Mutex<VecDeque<(String, Selection)>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl SimState {
    fn next_fault(&self) -> Option<Fault> {
        let mut f = lock(&self.faults);
        if let Some(s) = f.scripted.pop_front() {
            return Some(s);
        }
        let c = f.config.clone();
        let total =
            c.rate_429 + c.rate_503 + c.rate_500 + c.rate_slow + c.rate_drop + c.rate_malformed;
        if total <= 0.0 {
            return None;
        }
        f.draws += 1;
        let mut z = c.seed ^ f.draws.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        let x = (z >> 11) as f64 / (1u64 << 53) as f64;
        let mut acc = 0.0;
        for (rate, fault) in [
            (c.rate_429, Fault::TooManyRequests),
            (c.rate_503, Fault::ServiceUnavailable),
            (c.rate_500, Fault::ProcessingError),
            (c.rate_slow, Fault::Slow(c.slow_ms)),
            (c.rate_drop, Fault::Drop),
            (c.rate_malformed, Fault::Malformed),
        ] {
            acc += rate;
            if x < acc {
                return Some(fault);
            }
        }
        None
    }

    /// Logs a data request with its answer's status (0 when the connection was dropped) and outcome.
    fn finish(&self, mut entry: LoggedRequest, response: Response, outcome: String) -> Response {
        entry.status = if outcome == "injected:drop" {
            0
        } else {
            response.status().as_u16()
        };
        entry.outcome = outcome;
        self.record(entry);
        response
    }

    fn record(&self, mut entry: LoggedRequest) {
        entry.seq = self.seq.fetch_add(1, Ordering::SeqCst) + 1;
        let mut log = lock(&self.log);
        if log.len() >= self.config.log_capacity.max(1) {
            log.pop_front();
        }
        log.push_back(entry);
    }

    fn selection(&self, q: &ops::Query) -> Selection {
        if let Some((_, s)) = lock(&self.cache).iter().find(|(k, _)| *k == q.cache_key) {
            return s.clone();
        }
        let s = ops::select(&self.universe, q);
        let mut cache = lock(&self.cache);
        if cache.len() >= 8 {
            cache.pop_front();
        }
        cache.push_back((q.cache_key.clone(), s.clone()));
        s
    }
}

/// A running simulator. Stops when dropped.
pub struct WorkdaySim {
    addr: SocketAddr,
    state: Arc<SimState>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for WorkdaySim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkdaySim")
            .field("addr", &self.addr)
            .finish()
    }
}

impl WorkdaySim {
    /// Binds `config.listen` and serves in the background.
    pub async fn start(config: SimConfig) -> anyhow::Result<Self> {
        anyhow::ensure!(
            config.suppliers >= 1,
            "the simulator needs at least one supplier"
        );
        anyhow::ensure!(
            config.suppliers <= 1_000_000,
            "at most 1,000,000 suppliers (100,000 is the tested maximum)"
        );
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(SimState {
            universe: Universe::new(config.seed, config.suppliers, config.anchor_date),
            faults: Mutex::new(FaultState {
                config: config.faults.clone(),
                draws: 0,
                scripted: VecDeque::new(),
            }),
            log: Mutex::new(VecDeque::new()),
            seq: AtomicU64::new(0),
            tokens: Mutex::new(rest::Tokens::default()),
            refresh: Mutex::new((config.refresh_token.clone(), 0)),
            cache: Mutex::new(VecDeque::new()),
            config,
        });
        let app = router(state.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(Self {
            addr,
            state,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT`: the "Workday host" to configure in a tenant.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &SimConfig {
        &self.state.config
    }

    /// The refresh token the token endpoint accepts now (changes on every grant when tokens rotate).
    pub fn current_refresh_token(&self) -> String {
        lock(&self.state.refresh).0.clone()
    }

    /// The data set (to compute expected answers in tests).
    pub fn universe(&self) -> &Universe {
        &self.state.universe
    }

    /// Replaces the random fault rates.
    pub fn set_faults(&self, faults: FaultConfig) {
        lock(&self.state.faults).config = faults;
    }

    /// Queues faults for the next data requests, in order, before any random draw.
    pub fn push_faults(&self, faults: impl IntoIterator<Item = Fault>) {
        lock(&self.state.faults).scripted.extend(faults);
    }

    /// Every logged request, oldest first.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        lock(&self.state.log).iter().cloned().collect()
    }

    /// Empties the request log.
    pub fn clear_requests(&self) {
        lock(&self.state.log).clear();
    }

    /// Invalidates every access token issued so far (the next REST call gets 401).
    pub fn revoke_access_tokens(&self) {
        lock(&self.state.tokens).revoke_all();
    }

    /// Stops serving and waits for the server task.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for WorkdaySim {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

fn router(state: Arc<SimState>) -> Router {
    Router::new()
        .route("/ccx/service/{tenant}/{service}/{version}", post(soap))
        .route("/ccx/oauth2/{tenant}/token", post(token))
        .route(
            "/ccx/api/{service}/{version}/{tenant}/supplierInvoiceRequests",
            get(rest_invoice_requests),
        )
        .route(
            "/ccx/api/{service}/{version}/{tenant}/supplierInvoiceRequests/{id}",
            get(rest_invoice_request),
        )
        .route(
            "/_sim/requests",
            get(control_requests).delete(control_clear),
        )
        .route("/_sim/faults", axum::routing::put(control_faults))
        .route("/_sim/revoke-tokens", post(control_revoke))
        .with_state(state)
}

fn xml_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/xml;charset=UTF-8")],
        body,
    )
        .into_response()
}

fn soap_fault(code: &str, message: &str, invalid: &[Invalid], detail: Option<&str>) -> Response {
    xml_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        wire::fault(code, message, invalid, detail),
    )
}

fn new_entry(kind: &str, method: &str, path: String) -> LoggedRequest {
    LoggedRequest {
        seq: 0,
        at: Utc::now(),
        method: method.into(),
        path,
        kind: kind.into(),
        operation: None,
        service: None,
        version: None,
        request_version: None,
        username: None,
        descriptors: None,
        page: None,
        count: None,
        offset: None,
        as_of: None,
        status: 0,
        outcome: String::new(),
    }
}

/// Applies a fault that replaces the answer. `Slow` waits and lets the request through.
async fn pre_fault(fault: Option<Fault>, soap_style: bool) -> Option<(Response, &'static str)> {
    match fault? {
        Fault::TooManyRequests => Some((
            (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::CONTENT_TYPE, "text/plain")],
                "Too Many Requests",
            )
                .into_response(),
            "injected:429",
        )),
        Fault::ServiceUnavailable => Some((
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONTENT_TYPE, "text/html")],
                "<html><body><h1>503 Service Unavailable</h1><p>Workday is undergoing maintenance.</p></body></html>",
            )
                .into_response(),
            "injected:503",
        )),
        Fault::ProcessingError if soap_style => Some((
            soap_fault(
                "Server.processingError",
                "Processing error occurred. The task submitted is not authorized or the system is busy; try again later.",
                &[],
                Some("Service temporarily unavailable (simulated)"),
            ),
            "injected:500",
        )),
        Fault::ProcessingError => Some((
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(rest::error_json("processing error (simulated)")),
            )
                .into_response(),
            "injected:500",
        )),
        Fault::Slow(ms) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            None
        }
        Fault::Drop | Fault::Malformed => None,
    }
}

/// Sends a successful answer, or damages it when the fault says so; returns the outcome to log.
fn post_fault(
    fault: Option<Fault>,
    content_type: &'static str,
    body: String,
) -> (Response, String) {
    let status = StatusCode::OK;
    match fault {
        Some(Fault::Drop) => {
            let cut = body.len() / 3;
            let head = Bytes::copy_from_slice(&body.as_bytes()[..cut]);
            let stream = futures::stream::iter(vec![
                Ok::<Bytes, std::io::Error>(head),
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "connection dropped (simulated)",
                )),
            ]);
            let response = Response::builder()
                .status(status)
                .header(header::CONTENT_TYPE, content_type)
                .body(Body::from_stream(stream))
                .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response());
            (response, "injected:drop".to_string())
        }
        Some(Fault::Malformed) => {
            let cut = body.len() * 3 / 5;
            let mut damaged = body.as_bytes()[..cut].to_vec();
            damaged.extend_from_slice(b"<<\x00 garbage &nope; </wd:Unclosed");
            let response = Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, content_type)
                .body(Body::from(damaged))
                .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response());
            (response, "injected:malformed".to_string())
        }
        _ => (
            (status, [(header::CONTENT_TYPE, content_type)], body).into_response(),
            "ok".to_string(),
        ),
    }
}

async fn soap(
    State(state): State<Arc<SimState>>,
    Path((tenant, service, version)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    let mut entry = new_entry(
        "soap",
        "POST",
        format!("/ccx/service/{tenant}/{service}/{version}"),
    );
    entry.service = Some(service.clone());
    entry.version = Some(version.clone());
    let fault = state.next_fault();
    let (response, outcome) = soap_inner(
        &state, &tenant, &service, &version, &body, &mut entry, fault,
    )
    .await;
    state.finish(entry, response, outcome)
}

async fn soap_inner(
    state: &SimState,
    tenant: &str,
    service: &str,
    version: &str,
    body: &[u8],
    entry: &mut LoggedRequest,
    fault: Option<Fault>,
) -> (Response, String) {
    let cfg = &state.config;
    let parsed = parse::parse_tree(body).and_then(parse::soap_request);
    if let Ok(req) = &parsed {
        entry.operation = Some(req.request.name.trim_end_matches("_Request").to_string());
        entry.username = req.token.as_ref().map(|t| t.username.clone());
        entry.descriptors = req
            .common_header
            .as_ref()
            .and_then(|h| h.child(wire::WD, "Include_Reference_Descriptors_In_Response"))
            .map(|d| d.text.clone());
        entry.request_version = req.request.attr(wire::WD, "version").map(str::to_string);
        if let Some(f) = req.request.child(wire::WD, "Response_Filter") {
            entry.page = f.child(wire::WD, "Page").and_then(|p| p.text.parse().ok());
            entry.count = f.child(wire::WD, "Count").and_then(|p| p.text.parse().ok());
            entry.as_of = f
                .child(wire::WD, "As_Of_Entry_DateTime")
                .map(|p| p.text.clone());
        }
    }
    if let Some((response, outcome)) = pre_fault(fault, true).await {
        return (response, outcome.into());
    }
    let req = match parsed {
        Ok(r) => r,
        Err(message) => {
            return (
                soap_fault("Client.validationError", &message, &[], None),
                "fault:Client.validationError".into(),
            );
        }
    };
    // Security first: Workday answers an authentication fault before looking at the request.
    let expected_user = format!("{}@{}", cfg.username, cfg.tenant);
    let authentic = tenant == cfg.tenant
        && req
            .token
            .as_ref()
            .is_some_and(|t| t.username == expected_user && t.password == cfg.password);
    if !authentic {
        return (
            soap_fault(
                "Client.authenticationError",
                "invalid username or password",
                &[],
                None,
            ),
            "fault:Client.authenticationError".into(),
        );
    }
    let validation = |message: String, xpath: String| {
        (
            soap_fault(
                "Client.validationError",
                &format!("Validation error occurred. {message}"),
                &[Invalid {
                    message: message.clone(),
                    detail: message,
                    xpath,
                }],
                None,
            ),
            "fault:Client.validationError".to_string(),
        )
    };
    // Workday_Common_HeaderType: Include_Reference_Descriptors_In_Response (xsd:boolean), nothing else.
    let mut descriptors = false;
    if let Some(header) = &req.common_header {
        let (ok, bad) = schema::check(header, schema::COMMON_HEADER);
        if let Some(m) = bad.first() {
            return validation(
                m.message.clone(),
                format!("/wd:Workday_Common_Header[1]/wd:{}", m.step),
            );
        }
        for m in ok {
            match schema::boolean(&m.node.text) {
                Some(on) => descriptors = on,
                None => {
                    return validation(
                        format!(
                            "cvc-datatype-valid.1.2.1: '{}' is not a valid value for 'boolean'.",
                            m.node.text
                        ),
                        format!("/wd:Workday_Common_Header[1]/wd:{}", m.step),
                    );
                }
            }
        }
    }
    let Some(op) = Op::from_request(&req.request.name) else {
        return validation(
            format!("{} is not an operation of this simulator", req.request.name),
            format!("/wd:{}[1]", req.request.name),
        );
    };
    if op.service() != service {
        return validation(
            format!(
                "{} is not an operation of the {service} service (it belongs to {})",
                op.name(),
                op.service()
            ),
            format!("/wd:{}[1]", req.request.name),
        );
    }
    // `bsvc:version` is optional (`use="optional"`): without it the endpoint's version applies.
    let request_version = req.request.attr(wire::WD, "version").unwrap_or(version);
    let valid_version = |v: &str| {
        v.strip_prefix('v').is_some_and(|r| {
            !r.is_empty()
                && r.split('.')
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        })
    };
    if !valid_version(version) || !valid_version(request_version) {
        return validation(
            format!("Invalid version: URL `{version}`, request attribute `{request_version}`"),
            format!("/wd:{}[1]/@wd:version", req.request.name),
        );
    }
    let query = match ops::parse_query(&state.universe, op, &req.request) {
        Ok(q) => q,
        Err(errors) => {
            let summary = errors
                .iter()
                .map(|e| e.message.clone())
                .collect::<Vec<_>>()
                .join("; ");
            return (
                soap_fault(
                    "Client.validationError",
                    &format!("Validation error occurred. {summary}"),
                    &errors,
                    None,
                ),
                "fault:Client.validationError".into(),
            );
        }
    };
    let selection = state.selection(&query);
    let shape = ops::Shape {
        version: request_version,
        descriptors,
        suppliers_without_id: &cfg.suppliers_without_id,
    };
    let text = ops::render(&state.universe, &query, &shape, &selection);
    post_fault(fault, "text/xml;charset=UTF-8", text)
}

async fn token(
    State(state): State<Arc<SimState>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut entry = new_entry("token", "POST", format!("/ccx/oauth2/{tenant}/token"));
    let cfg = &state.config;
    let form: HashMap<String, String> = url_form(&body);
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let (status, outcome, answer) = if tenant != cfg.tenant {
        (
            StatusCode::NOT_FOUND,
            "unknown_tenant",
            serde_json::json!({"error": "invalid_request", "error_description": "unknown tenant"}),
        )
    } else if form.get("grant_type").map(String::as_str) != Some("refresh_token") {
        (
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            serde_json::json!({"error": "unsupported_grant_type"}),
        )
    } else if rest::client_credentials(auth, &form)
        != Some((cfg.client_id.clone(), cfg.client_secret.clone()))
    {
        (
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            serde_json::json!({"error": "invalid_client", "error_description": "client authentication failed"}),
        )
    } else if form.get("refresh_token") != Some(&lock(&state.refresh).0) {
        (
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            serde_json::json!({"error": "invalid_grant", "error_description": "invalid refresh token"}),
        )
    } else {
        let token = lock(&state.tokens).issue(cfg.seed, cfg.token_ttl);
        let refresh_token = {
            let mut refresh = lock(&state.refresh);
            if cfg.rotate_refresh_tokens {
                refresh.1 += 1;
                refresh.0 = format!("{}-r{}", cfg.refresh_token, refresh.1);
            }
            refresh.0.clone()
        };
        let mut answer = serde_json::json!({
            "access_token": token,
            "token_type": "Bearer",
            "refresh_token": refresh_token,
        });
        if cfg.send_expires_in {
            answer["expires_in"] = serde_json::json!(cfg.token_ttl.as_secs());
        }
        (StatusCode::OK, "ok", answer)
    };
    entry.status = status.as_u16();
    entry.outcome = outcome.into();
    state.record(entry);
    (status, Json(answer)).into_response()
}

fn url_form(body: &[u8]) -> HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// Checks the bearer token and the path; `Some` is the refusal to send.
fn rest_reject(
    state: &SimState,
    headers: &HeaderMap,
    service: &str,
    version: &str,
    tenant: &str,
) -> Option<(Response, &'static str)> {
    if service != "accountsPayable" || version != "v1" || tenant != state.config.tenant {
        return Some((
            (
                StatusCode::NOT_FOUND,
                Json(rest::error_json("resource not found")),
            )
                .into_response(),
            "not_found",
        ));
    }
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if !token.is_some_and(|t| lock(&state.tokens).valid(t)) {
        return Some((
            (
                StatusCode::UNAUTHORIZED,
                Json(rest::error_json("invalid access token")),
            )
                .into_response(),
            "unauthorized",
        ));
    }
    None
}

/// `GET .../supplierInvoiceRequests/{id}`: one supplier invoice request by its WID (REST IDs are WIDs).
async fn rest_invoice_request(
    State(state): State<Arc<SimState>>,
    Path((service, version, tenant, id)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let mut entry = new_entry(
        "rest",
        "GET",
        format!("/ccx/api/{service}/{version}/{tenant}/supplierInvoiceRequests/{id}"),
    );
    entry.operation = Some("supplierInvoiceRequests".into());
    let fault = state.next_fault();
    let (response, outcome) = async {
        if let Some((r, o)) = rest_reject(&state, &headers, &service, &version, &tenant) {
            return (r, o.to_string());
        }
        if let Some((r, o)) = pre_fault(fault, false).await {
            return (r, o.to_string());
        }
        let u = &state.universe;
        let Some(g) = u.find_invoice_request(&id) else {
            return (
                (
                    StatusCode::NOT_FOUND,
                    Json(rest::error_json(
                        "The resource you requested was not found.",
                    )),
                )
                    .into_response(),
                "not_found".to_string(),
            );
        };
        let base = format!("/ccx/api/{service}/{version}/{tenant}");
        let body = serde_json::to_string(&rest::invoice_request_json(u, &u.invoice(g), &base))
            .unwrap_or_default();
        post_fault(fault, "application/json", body)
    }
    .await;
    state.finish(entry, response, outcome)
}

#[derive(Debug, Deserialize)]
struct ListParams {
    supplier: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
}

/// `GET .../supplierInvoiceRequests?supplier={WID}&limit=&offset=`: the requests, `limit`/`offset` paged.
async fn rest_invoice_requests(
    State(state): State<Arc<SimState>>,
    Path((service, version, tenant)): Path<(String, String, String)>,
    Query(params): Query<ListParams>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let mut entry = new_entry(
        "rest",
        "GET",
        format!(
            "/ccx/api/{service}/{version}/{tenant}/supplierInvoiceRequests{}",
            query.map(|q| format!("?{q}")).unwrap_or_default()
        ),
    );
    entry.operation = Some("supplierInvoiceRequests".into());
    let fault = state.next_fault();
    let limit = params.limit.as_deref().map(str::parse::<u32>);
    let offset = params.offset.as_deref().map(str::parse::<u64>);
    entry.count = limit.clone().and_then(Result::ok);
    entry.offset = offset.clone().and_then(Result::ok);
    let (response, outcome) = async {
        if let Some((r, o)) = rest_reject(&state, &headers, &service, &version, &tenant) {
            return (r, o.to_string());
        }
        if let Some((r, o)) = pre_fault(fault, false).await {
            return (r, o.to_string());
        }
        let bad = |m: &str| {
            (
                (StatusCode::BAD_REQUEST, Json(rest::error_json(m))).into_response(),
                "bad_request".to_string(),
            )
        };
        let limit = match limit {
            None => 20,
            Some(Ok(l)) if (1..=100).contains(&l) => l,
            Some(_) => return bad("limit must be between 1 and 100"),
        };
        let offset = match offset {
            None => 0,
            Some(Ok(o)) => o,
            Some(Err(_)) => return bad("offset must be a whole number"),
        };
        let u = &state.universe;
        // Like every instance filter of Workday's REST API, `supplier` takes a Workday ID.
        let range = match params.supplier.as_deref() {
            None => 0..u.invoice_count(),
            Some(s) => match u.find_supplier("WID", s) {
                Some(k) => u.invoices_of(k),
                None => {
                    return bad(&format!(
                        "Invalid ID value. '{s}' is not a Workday ID of a supplier (the supplier parameter takes a WID)"
                    ));
                }
            },
        };
        let total = range.len() as u64;
        let base = format!("/ccx/api/{service}/{version}/{tenant}");
        let data = range
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(limit as usize)
            .map(|g| rest::invoice_request_json(u, &u.invoice(g), &base))
            .collect();
        let body = serde_json::to_string(&rest::Collection { data, total }).unwrap_or_default();
        post_fault(fault, "application/json", body)
    }
    .await;
    state.finish(entry, response, outcome)
}

async fn control_requests(State(state): State<Arc<SimState>>) -> Json<Vec<LoggedRequest>> {
    Json(lock(&state.log).iter().cloned().collect())
}

async fn control_clear(State(state): State<Arc<SimState>>) -> StatusCode {
    lock(&state.log).clear();
    StatusCode::NO_CONTENT
}

async fn control_faults(
    State(state): State<Arc<SimState>>,
    Json(faults): Json<FaultConfig>,
) -> StatusCode {
    lock(&state.faults).config = faults;
    StatusCode::NO_CONTENT
}

async fn control_revoke(State(state): State<Arc<SimState>>) -> StatusCode {
    lock(&state.tokens).revoke_all();
    StatusCode::NO_CONTENT
}

/// Command-line options of `ml-connector-sim workday`.
#[derive(Debug, clap::Args)]
pub struct CliArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Number of suppliers (10 to 100,000).
    #[arg(long, default_value_t = 1000)]
    pub suppliers: u32,
    /// Seed of the data set.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Tenant, credentials, dates and fault injection.
    #[command(flatten)]
    pub options: Box<CliOptions>,
}

/// The less common options of `ml-connector-sim workday`.
#[derive(Debug, clap::Args)]
pub struct CliOptions {
    /// "Today" of the data set, YYYY-MM-DD (default: the current date).
    #[arg(long, value_name = "DATE")]
    pub anchor_date: Option<NaiveDate>,
    /// Workday tenant name.
    #[arg(long, default_value = "acme_dpt1")]
    pub tenant: String,
    /// Integration system user (without @tenant).
    #[arg(long, default_value = "isu_mlc")]
    pub user: String,
    /// Its password.
    #[arg(long, default_value = "sim-password")]
    pub password: String,
    /// OAuth2 client id.
    #[arg(long, default_value = "mlc-api-client")]
    pub client_id: String,
    /// OAuth2 client secret.
    #[arg(long, default_value = "sim-client-secret")]
    pub client_secret: String,
    /// OAuth2 refresh token.
    #[arg(long, default_value = "sim-refresh-token")]
    pub refresh_token: String,
    /// Issue a new refresh token on every grant and invalidate the old one.
    #[arg(long)]
    pub rotate_refresh_tokens: bool,
    /// Lifetime of access tokens, in seconds.
    #[arg(long, default_value_t = 3600)]
    pub token_ttl_secs: u64,
    /// Rate (0–1) of HTTP 429 answers.
    #[arg(long, default_value_t = 0.0)]
    pub rate_429: f64,
    /// Rate of HTTP 503 answers.
    #[arg(long, default_value_t = 0.0)]
    pub rate_503: f64,
    /// Rate of HTTP 500 Server.processingError faults.
    #[arg(long, default_value_t = 0.0)]
    pub rate_500: f64,
    /// Rate of slow answers.
    #[arg(long, default_value_t = 0.0)]
    pub rate_slow: f64,
    /// Delay of a slow answer, in milliseconds.
    #[arg(long, default_value_t = 2000)]
    pub slow_ms: u64,
    /// Rate of connections dropped mid-body.
    #[arg(long, default_value_t = 0.0)]
    pub rate_drop: f64,
    /// Rate of malformed (truncated, garbled) bodies.
    #[arg(long, default_value_t = 0.0)]
    pub rate_malformed: f64,
    /// Seed of the fault draws.
    #[arg(long, default_value_t = 0)]
    pub fault_seed: u64,
}

/// Runs the simulator until interrupted. Prints `listening on http://ADDR` on standard output first.
pub async fn run_cli(args: CliArgs) -> anyhow::Result<()> {
    let o = *args.options;
    for (name, rate) in [
        ("--rate-429", o.rate_429),
        ("--rate-503", o.rate_503),
        ("--rate-500", o.rate_500),
        ("--rate-slow", o.rate_slow),
        ("--rate-drop", o.rate_drop),
        ("--rate-malformed", o.rate_malformed),
    ] {
        anyhow::ensure!(
            (0.0..=1.0).contains(&rate),
            "{name} must be between 0 and 1"
        );
    }
    let config = SimConfig {
        listen: args.listen,
        suppliers: args.suppliers,
        seed: args.seed,
        anchor_date: o.anchor_date.unwrap_or_else(|| Utc::now().date_naive()),
        tenant: o.tenant,
        username: o.user,
        password: o.password,
        client_id: o.client_id,
        client_secret: o.client_secret,
        refresh_token: o.refresh_token,
        rotate_refresh_tokens: o.rotate_refresh_tokens,
        token_ttl: Duration::from_secs(o.token_ttl_secs),
        send_expires_in: true,
        faults: FaultConfig {
            rate_429: o.rate_429,
            rate_503: o.rate_503,
            rate_500: o.rate_500,
            rate_slow: o.rate_slow,
            slow_ms: o.slow_ms,
            rate_drop: o.rate_drop,
            rate_malformed: o.rate_malformed,
            seed: o.fault_seed,
        },
        log_capacity: 100_000,
        suppliers_without_id: Vec::new(),
    };
    let sim = WorkdaySim::start(config).await?;
    println!("listening on {}", sim.base_url());
    tracing::info!(
        url = %sim.base_url(),
        tenant = %sim.config().tenant,
        suppliers = sim.config().suppliers,
        seed = sim.config().seed,
        "Workday simulator ready: SOAP at /ccx/service/{{tenant}}/{{Service}}/{{version}}"
    );
    tokio::signal::ctrl_c().await?;
    sim.shutdown().await;
    Ok(())
}
