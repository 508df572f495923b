//! What happens to a request before a handler sees it, outermost first: the request log, fault injection,
//! authentication (API token or OAuth bearer), and the per-plan rate limit with its headers.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::json;

use super::Shared;
use super::faults::{self, FaultKind};
use super::log::{LoggedRequest, body_value, headers_of_interest};
use super::net::ConnControl;

/// Position of the request in the log.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LogSeq(pub usize);

/// Who is calling.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Principal {
    /// An agent, by user id.
    User(u64),
    /// No credentials at all (only `GET /api/v2/users/me` answers, with the anonymous user).
    Anonymous,
}

impl Principal {
    pub fn user_id(self) -> Option<u64> {
        match self {
            Self::User(id) => Some(id),
            Self::Anonymous => None,
        }
    }
}

const MAX_BODY: usize = 16 * 1024 * 1024;

/// Records every request, then the status it got (none when the connection was dropped).
pub(crate) async fn log_requests(
    State(shared): State<Arc<Shared>>,
    req: Request,
    next: Next,
) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .unwrap_or_default();
    let content_type = parts
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok());
    let index = {
        let mut log = shared.log.lock().unwrap_or_else(|e| e.into_inner());
        let index = log.len();
        log.push(LoggedRequest {
            seq: index as u64,
            received: Instant::now(),
            time: chrono::Utc::now(),
            method: parts.method.to_string(),
            path: parts.uri.path().to_string(),
            query: parts.uri.query().map(str::to_string),
            headers: headers_of_interest(&parts.headers),
            body: body_value(content_type, &bytes),
            status: None,
            fault: None,
        });
        index
    };
    let mut req = Request::from_parts(parts, Body::from(bytes));
    req.extensions_mut().insert(LogSeq(index));
    let response = next.run(req).await;
    if let Some(entry) = shared
        .log
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_mut(index)
    {
        entry.status = Some(response.status().as_u16());
    }
    response
}

fn note_fault(shared: &Shared, req: &Request, label: &str) {
    if let Some(LogSeq(i)) = req.extensions().get::<LogSeq>().copied()
        && let Some(entry) = shared
            .log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(i)
    {
        entry.fault = Some(label.to_string());
    }
}

async fn drop_connection(control: Option<ConnControl>) -> Response {
    match control {
        Some(c) => {
            c.kill();
            std::future::pending::<Response>().await
        }
        None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Applies the first armed fault that matches the request.
pub(crate) async fn inject_faults(
    State(shared): State<Arc<Shared>>,
    req: Request,
    next: Next,
) -> Response {
    let fault = {
        let mut armed = shared.faults.lock().unwrap_or_else(|e| e.into_inner());
        faults::take(&mut armed, req.method().as_str(), req.uri().path(), false)
    }
    .or_else(|| {
        shared
            .random_faults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
            .and_then(|r| r.draw(req.method().as_str(), req.uri().path()))
    });
    let Some(kind) = fault else {
        return next.run(req).await;
    };
    note_fault(&shared, &req, kind.label());
    let control = req.extensions().get::<ConnControl>().cloned();
    match kind {
        FaultKind::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let error = if code == 503 {
                "ServiceUnavailable"
            } else {
                "InternalServerError"
            };
            (
                status,
                Json(json!({"error": error, "description": "Simulated failure"})),
            )
                .into_response()
        }
        FaultKind::RateLimited { retry_after_secs } => {
            let limit = shared.config.plan.rpm();
            rate_limited(
                limit,
                &retry_after_secs.to_string(),
                false,
                retry_after_secs,
            )
        }
        FaultKind::RateLimitedRaw { retry_after } => {
            let mut r = plan_limit_exceeded();
            if let Some(v) = retry_after {
                set_header(&mut r, "retry-after", v);
            }
            r
        }
        FaultKind::Headers(pairs) => {
            let mut r = next.run(req).await;
            for (name, value) in pairs {
                if let (Ok(n), Ok(v)) = (
                    axum::http::HeaderName::from_bytes(name.as_bytes()),
                    HeaderValue::from_str(&value),
                ) {
                    r.headers_mut().insert(n, v);
                }
            }
            r
        }
        FaultKind::ResetBeforeProcessing => drop_connection(control).await,
        FaultKind::ResetAfterCommit => {
            let _committed = next.run(req).await;
            drop_connection(control).await
        }
        FaultKind::Delay(d) => {
            tokio::time::sleep(d).await;
            next.run(req).await
        }
        FaultKind::MalformedBody => {
            let _ = next.run(req).await;
            (
                StatusCode::OK,
                [("content-type", "application/json; charset=utf-8")],
                "<html><body>Bad gateway</body></html>",
            )
                .into_response()
        }
        FaultKind::KillJob { .. }
        | FaultKind::FailJob { .. }
        | FaultKind::JobNotYetVisible { .. } => next.run(req).await,
    }
}

fn unauthorized_basic() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"error": "Couldn't authenticate you"})),
    )
        .into_response()
}

fn unauthorized_bearer() -> Response {
    let mut r = (
        StatusCode::UNAUTHORIZED,
        Json(json!({
            "error": "invalid_token",
            "error_description": "The access token provided is expired, revoked, malformed or invalid for other reasons."
        })),
    )
        .into_response();
    r.headers_mut().insert(
        "www-authenticate",
        HeaderValue::from_static("Bearer realm=\"Web Password\", error=\"invalid_token\""),
    );
    r
}

/// How authentication failed (each has its own 401 body).
#[derive(Debug, Clone, Copy)]
enum Rejected {
    Basic,
    Bearer,
}

impl Rejected {
    fn response(self) -> Response {
        match self {
            Self::Basic => unauthorized_basic(),
            Self::Bearer => unauthorized_bearer(),
        }
    }
}

fn authenticate(shared: &Shared, headers: &HeaderMap) -> Result<Principal, Rejected> {
    let Some(value) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return Ok(Principal::Anonymous);
    };
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or(Rejected::Basic)?;
        // API token auth: `{email}/token:{api_token}`. Password auth is not accepted.
        let (user, token) = decoded.split_once(':').ok_or(Rejected::Basic)?;
        let email = user.strip_suffix("/token").ok_or(Rejected::Basic)?;
        let agent = shared
            .config
            .agents
            .iter()
            .find(|a| a.email.eq_ignore_ascii_case(email) && a.api_token == token)
            .ok_or(Rejected::Basic)?;
        return Ok(Principal::User(agent.id));
    }
    if scheme.eq_ignore_ascii_case("bearer") {
        let reg = shared.oauth.lock().unwrap_or_else(|e| e.into_inner());
        return match reg.access_token(rest.trim()) {
            Some(t) if t.expires > Instant::now() => Ok(Principal::User(t.user_id)),
            _ => Err(Rejected::Bearer),
        };
    }
    Err(Rejected::Basic)
}

/// Authenticates `/api/v2/*` requests.
pub(crate) async fn authenticate_requests(
    State(shared): State<Arc<Shared>>,
    mut req: Request,
    next: Next,
) -> Response {
    if !req.uri().path().starts_with("/api/v2/") {
        return next.run(req).await;
    }
    match authenticate(&shared, req.headers()) {
        Ok(Principal::Anonymous) if req.uri().path() != "/api/v2/users/me" => unauthorized_basic(),
        Ok(p) => {
            req.extensions_mut().insert(p);
            next.run(req).await
        }
        Err(r) => r.response(),
    }
}

fn set_header(r: &mut Response, name: &'static str, value: impl ToString) {
    if let Ok(v) = HeaderValue::from_str(&value.to_string()) {
        r.headers_mut().insert(name, v);
    }
}

/// The Ticketing API list endpoints: the ones whose answers carry the newer `ratelimit-limit`,
/// `ratelimit-remaining` and `ratelimit-reset` headers besides `X-Rate-Limit` / `X-Rate-Limit-Remaining`
/// (Zendesk's rate-limit docs: "The responses from Ticketing API list endpoints such as List Tickets or Search
/// Users provide the following headers").
pub(crate) fn is_list_endpoint(method: &axum::http::Method, path: &str) -> bool {
    method == axum::http::Method::GET
        && matches!(
            path,
            "/api/v2/organizations"
                | "/api/v2/organizations/search"
                | "/api/v2/organizations/show_many"
                | "/api/v2/organization_fields"
                | "/api/v2/ticket_fields"
                | "/api/v2/tickets"
        )
}

/// The account-wide headers: `X-Rate-Limit*` on every answer, `ratelimit-*` on list endpoints only.
fn set_rate_headers(r: &mut Response, list: bool, limit: u32, remaining: usize, reset: u64) {
    set_header(r, "x-rate-limit", limit);
    set_header(r, "x-rate-limit-remaining", remaining);
    if list {
        set_header(r, "ratelimit-limit", limit);
        set_header(r, "ratelimit-remaining", remaining);
        set_header(r, "ratelimit-reset", reset);
    }
}

/// Zendesk's answer when the plan's limit is exceeded, before any header is added.
fn plan_limit_exceeded() -> Response {
    (
        StatusCode::TOO_MANY_REQUESTS,
        Json(json!({
            "error": "APIRateLimitExceeded",
            "description": "Number of allowed API requests per minute exceeded"
        })),
    )
        .into_response()
}

/// The account's plan limit exceeded: 429, `Retry-After`, a JSON body.
pub(crate) fn rate_limited(limit: u32, retry_after: &str, list: bool, reset: u64) -> Response {
    let mut r = plan_limit_exceeded();
    set_header(&mut r, "retry-after", retry_after);
    set_rate_headers(&mut r, list, limit, 0, reset);
    r
}

/// An endpoint limit exceeded: 429 — Update Ticket's with a plain-text body, Update Organization's with the
/// body of Zendesk's OpenAPI document (`{"errors": [{"code": "TooManyRequests", "title": "Too many requests to
/// update"}]}`) — and, unless configured otherwise, no `Retry-After`; the account headers say budget is left.
fn endpoint_limited(
    which: EndpointLimit,
    retry_after: Option<u64>,
    limit: u32,
    remaining: usize,
) -> Response {
    let mut r = match which {
        EndpointLimit::TicketUpdate => (
            StatusCode::TOO_MANY_REQUESTS,
            [("content-type", "text/plain; charset=utf-8")],
            "Too Many Requests\n",
        )
            .into_response(),
        EndpointLimit::OrganizationUpdate => (
            StatusCode::TOO_MANY_REQUESTS,
            Json(json!({"errors": [{"code": "TooManyRequests", "title": "Too many requests to update"}]})),
        )
            .into_response(),
    };
    if let Some(secs) = retry_after {
        set_header(&mut r, "retry-after", secs);
    }
    set_header(&mut r, "x-rate-limit", limit);
    set_header(&mut r, "x-rate-limit-remaining", remaining);
    r
}

fn ceil_secs(d: Duration) -> u64 {
    let s = d.as_secs();
    if d.subsec_nanos() > 0 { s + 1 } else { s }.max(1)
}

/// Counts a hit in a sliding window of `window`; `Err(seconds until a slot frees)` when `limit` are in it.
fn sliding(
    hits: &mut VecDeque<Instant>,
    now: Instant,
    window: Duration,
    limit: usize,
) -> Result<(usize, u64), u64> {
    while hits
        .front()
        .is_some_and(|t| now.duration_since(*t) >= window)
    {
        hits.pop_front();
    }
    let reset = hits
        .front()
        .map_or(window, |t| window.saturating_sub(now.duration_since(*t)));
    if hits.len() >= limit {
        return Err(ceil_secs(reset));
    }
    hits.push_back(now);
    Ok((limit - hits.len(), ceil_secs(reset)))
}

/// `PUT /api/v2/tickets/{id}` (not `update_many`): the ticket id.
fn ticket_update(method: &axum::http::Method, path: &str) -> Option<u64> {
    if method != axum::http::Method::PUT {
        return None;
    }
    path.strip_prefix("/api/v2/tickets/")
        .and_then(|id| id.parse().ok())
}

/// `PUT /api/v2/organizations/{id}` (not `update_many`): Update Organization.
fn organization_update(method: &axum::http::Method, path: &str) -> bool {
    method == axum::http::Method::PUT
        && path
            .strip_prefix("/api/v2/organizations/")
            .is_some_and(|id| id.trim_end_matches(".json").parse::<u64>().is_ok())
}

/// An endpoint's own limit.
#[derive(Debug, Clone, Copy)]
enum EndpointLimit {
    TicketUpdate,
    OrganizationUpdate,
}

/// Which endpoint limit, if any, refuses this request.
fn endpoint_limit(shared: &Shared, req: &Request, now: Instant) -> Option<EndpointLimit> {
    let c = &shared.config;
    if organization_update(req.method(), req.uri().path()) {
        let mut hits = shared
            .organization_updates
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        return sliding(
            &mut hits,
            now,
            c.organization_update_window,
            c.organization_update_limit.max(1) as usize,
        )
        .err()
        .map(|_| EndpointLimit::OrganizationUpdate);
    }
    let ticket = ticket_update(req.method(), req.uri().path())?;
    let account = {
        let mut hits = shared
            .ticket_updates
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        sliding(
            &mut hits,
            now,
            c.ticket_update_window,
            c.ticket_update_limit.max(1) as usize,
        )
    };
    if account.is_err() {
        return Some(EndpointLimit::TicketUpdate);
    }
    let user = req
        .extensions()
        .get::<Principal>()
        .and_then(|p| p.user_id())
        .unwrap_or(0);
    let mut per_ticket = shared
        .ticket_updates_per_ticket
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let hits = per_ticket.entry((user, ticket)).or_default();
    sliding(
        hits,
        now,
        c.ticket_update_per_ticket_window,
        c.ticket_update_per_ticket_limit.max(1) as usize,
    )
    .err()
    .map(|_| EndpointLimit::TicketUpdate)
}

/// The plan's requests-per-window limit over a sliding window (`429` + `Retry-After` beyond it), then the
/// endpoint limits: Update Ticket per account and per user and ticket (`429`, plain text, no `Retry-After`),
/// Update Organization per account (`429`, JSON `errors`, no `Retry-After`).
pub(crate) async fn rate_limit(
    State(shared): State<Arc<Shared>>,
    req: Request,
    next: Next,
) -> Response {
    if !req.uri().path().starts_with("/api/v2/") {
        return next.run(req).await;
    }
    let limit = shared.config.plan.rpm();
    let list = is_list_endpoint(req.method(), req.uri().path());
    let now = Instant::now();
    let decision = {
        let mut hits = shared.rate.lock().unwrap_or_else(|e| e.into_inner());
        sliding(&mut hits, now, shared.config.rate_window, limit as usize)
    };
    let (remaining, reset) = match decision {
        Err(retry_after) => {
            return rate_limited(limit, &retry_after.to_string(), list, retry_after);
        }
        Ok(budget) => budget,
    };
    if let Some(which) = endpoint_limit(&shared, &req, now) {
        let window = match which {
            EndpointLimit::TicketUpdate => shared.config.ticket_update_window,
            EndpointLimit::OrganizationUpdate => shared.config.organization_update_window,
        };
        let retry_after = shared
            .config
            .endpoint_limit_retry_after
            .then(|| ceil_secs(window));
        return endpoint_limited(which, retry_after, limit, remaining);
    }
    let mut r = next.run(req).await;
    set_rate_headers(&mut r, list, limit, remaining, reset);
    r
}
