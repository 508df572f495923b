//! The one error type of the HTTP layer and the JSON error body every endpoint shares:
//! `{"error": {"code": "snake_case_reason", "message": "...", "request_id": "..."}}`.
//!
//! Handlers return [`ApiError`]; its `IntoResponse` records the status, code and message in the response
//! extensions, and [`render_errors`] (a middleware that knows the request id) writes the body. Responses that
//! axum or tower produce on their own (404 for an unknown route, 405, 413, a plain-text extractor rejection)
//! are rewritten into the same shape. 500s are logged with their cause; the body never carries it.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::ContextError;
use crate::store::StoreError;

/// Errors a handler can answer with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed.
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// 401: missing or invalid credentials.
    #[error("{message}")]
    Unauthorized { code: &'static str, message: String },
    /// 403: authenticated, but not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// 404.
    #[error("{0}")]
    NotFound(String),
    /// 404 with its own code (e.g. `invoice_not_found`).
    #[error("{message}")]
    NotFoundWith { code: &'static str, message: String },
    /// 409.
    #[error("{0}")]
    Conflict(String),
    /// 409 with its own code (e.g. `sync_running`).
    #[error("{message}")]
    ConflictWith { code: &'static str, message: String },
    /// 413.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 422: well-formed but rejected (e.g. a plugin that fails validation).
    #[error("{message}")]
    Unprocessable { code: &'static str, message: String },
    /// 429.
    #[error("{0}")]
    TooManyRequests(String),
    /// 502: an upstream (Workday, Zendesk) failed.
    #[error("{message}")]
    Upstream { code: &'static str, message: String },
    /// 504: an upstream did not answer in time.
    #[error("{message}")]
    GatewayTimeout { code: &'static str, message: String },
    /// 503: not ready or temporarily unable.
    #[error("{message}")]
    Unavailable { code: &'static str, message: String },
    /// 500: a bug or an unexpected failure. Logged with its cause; the client sees only "internal error".
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    /// Shorthand for a 400.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            message: message.into(),
        }
    }

    /// Shorthand for a 401.
    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::Unauthorized {
            code,
            message: message.into(),
        }
    }

    /// Shorthand for a 500 from any error.
    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        Self::Internal(err.into())
    }

    /// HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) | Self::NotFoundWith { .. } => StatusCode::NOT_FOUND,
            Self::Conflict(_) | Self::ConflictWith { .. } => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Upstream { .. } => StatusCode::BAD_GATEWAY,
            Self::GatewayTimeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Machine-readable reason.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. }
            | Self::Unauthorized { code, .. }
            | Self::Unprocessable { code, .. }
            | Self::Upstream { code, .. }
            | Self::NotFoundWith { code, .. }
            | Self::GatewayTimeout { code, .. }
            | Self::Unavailable { code, .. }
            | Self::ConflictWith { code, .. } => code,
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::Conflict(_) => "conflict",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::TooManyRequests(_) => "rate_limited",
            Self::Internal(_) => "internal",
        }
    }
}

impl From<ContextError> for ApiError {
    fn from(err: ContextError) -> Self {
        match err {
            ContextError::UnknownTenant(_) => Self::NotFound(err.to_string()),
            ContextError::MissingSecret { .. } | ContextError::MissingSetting { .. } => {
                Self::Unprocessable {
                    code: "tenant_not_configured",
                    message: err.to_string(),
                }
            }
            ContextError::InvalidSettings { .. } => Self::Unprocessable {
                code: "invalid_mapping_settings",
                message: err.to_string(),
            },
            ContextError::Workday(_) => Self::Upstream {
                code: "workday_failed",
                message: err.to_string(),
            },
            ContextError::Zendesk(_) => Self::Upstream {
                code: "zendesk_failed",
                message: err.to_string(),
            },
            ContextError::Store(e) => e.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound { .. } => Self::NotFound(err.to_string()),
            StoreError::Conflict { .. } => Self::Conflict(err.to_string()),
            other => Self::Internal(other.into()),
        }
    }
}

/// What the error middleware needs to render a body.
#[derive(Debug, Clone)]
struct ErrorInfo {
    code: &'static str,
    message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let Self::Internal(cause) = &self {
            tracing::error!(error = format!("{cause:#}"), "internal error");
        }
        let mut response = status.into_response();
        response.extensions_mut().insert(ErrorInfo {
            code: self.code(),
            message: self.to_string(),
        });
        response
    }
}

/// The JSON error body.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// Inside [`ErrorBody`].
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Machine-readable reason, snake_case (e.g. `not_found`, `invalid_signature`).
    pub code: String,
    /// Human-readable explanation; never contains secrets or internals.
    pub message: String,
    /// The request id (also in the `x-request-id` response header), for support.
    pub request_id: String,
}

/// Middleware: gives every error response the JSON body, with the request id.
pub async fn render_errors(request: Request, next: Next) -> Response {
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    if let Some(info) = response.extensions().get::<ErrorInfo>().cloned() {
        return with_body(response, info.code, info.message, request_id);
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if is_json {
        return response;
    }
    // A response axum or tower made by itself: keep a short plain-text explanation (extractor rejections
    // describe the client's mistake), otherwise use the status text.
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 2048)
        .await
        .ok()
        .and_then(|b| String::from_utf8(b.to_vec()).ok());
    let message = match text.map(|t| t.trim().to_string()).filter(|t| !t.is_empty()) {
        Some(t) if parts.status != StatusCode::INTERNAL_SERVER_ERROR => t,
        _ => parts
            .status
            .canonical_reason()
            .unwrap_or("error")
            .to_lowercase(),
    };
    let code = code_for_status(parts.status);
    with_body(
        Response::from_parts(parts, Body::empty()),
        code,
        message,
        request_id,
    )
}

fn code_for_status(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::REQUEST_TIMEOUT => "timeout",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "unprocessable",
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        s if s.is_server_error() => "internal",
        _ => "error",
    }
}

fn with_body(response: Response, code: &str, message: String, request_id: String) -> Response {
    let (mut parts, _) = response.into_parts();
    let body = ErrorBody {
        error: ErrorDetail {
            code: code.to_string(),
            message,
            request_id,
        },
    };
    let bytes = serde_json::to_vec(&body)
        .unwrap_or_else(|_| b"{\"error\":{\"code\":\"internal\"}}".to_vec());
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(bytes))
}
