//! What happens to a request before a handler sees it, outermost first: the request log, fault injection,
//! authentication (API token or OAuth bearer), and the per-plan rate limit with its headers.

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
    };
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
            rate_limited(limit, retry_after_secs)
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
        FaultKind::KillJob { .. } | FaultKind::FailJob { .. } => next.run(req).await,
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

fn rate_limited(limit: u32, retry_after: u64) -> Response {
    let mut r = (
        StatusCode::TOO_MANY_REQUESTS,
        Json(json!({
            "error": "APIRateLimitExceeded",
            "description": "Number of allowed API requests per minute exceeded"
        })),
    )
        .into_response();
    set_header(&mut r, "retry-after", retry_after);
    set_header(&mut r, "x-rate-limit", limit);
    set_header(&mut r, "x-rate-limit-remaining", 0);
    set_header(&mut r, "ratelimit-limit", limit);
    set_header(&mut r, "ratelimit-remaining", 0);
    set_header(&mut r, "ratelimit-reset", retry_after);
    r
}

fn ceil_secs(d: Duration) -> u64 {
    let s = d.as_secs();
    if d.subsec_nanos() > 0 { s + 1 } else { s }.max(1)
}

/// The plan's requests-per-window limit over a sliding window; `429` + `Retry-After` beyond it.
pub(crate) async fn rate_limit(
    State(shared): State<Arc<Shared>>,
    req: Request,
    next: Next,
) -> Response {
    if !req.uri().path().starts_with("/api/v2/") {
        return next.run(req).await;
    }
    let limit = shared.config.plan.rpm();
    let window = shared.config.rate_window;
    let decision = {
        let mut hits = shared.rate.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        while hits
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            hits.pop_front();
        }
        let reset = hits
            .front()
            .map_or(window, |t| window.saturating_sub(now.duration_since(*t)));
        if hits.len() >= limit as usize {
            Err(ceil_secs(reset))
        } else {
            hits.push_back(now);
            Ok((limit as usize - hits.len(), ceil_secs(reset)))
        }
    };
    match decision {
        Err(retry_after) => rate_limited(limit, retry_after),
        Ok((remaining, reset)) => {
            let mut r = next.run(req).await;
            set_header(&mut r, "x-rate-limit", limit);
            set_header(&mut r, "x-rate-limit-remaining", remaining);
            set_header(&mut r, "ratelimit-limit", limit);
            set_header(&mut r, "ratelimit-remaining", remaining);
            set_header(&mut r, "ratelimit-reset", reset);
            r
        }
    }
}
