//! Errors at the Workday boundary: one enum, every variant naming the operation it happened in.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

/// One `Validation_Error` of a `Client.validationError` fault.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ValidationError {
    /// `Message`.
    pub message: String,
    /// `Detail_Message`.
    pub detail_message: Option<String>,
    /// `Xpath` of the offending request element.
    pub xpath: Option<String>,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(d) = self
            .detail_message
            .as_deref()
            .filter(|d| *d != self.message)
        {
            write!(f, " ({d})")?;
        }
        if let Some(x) = &self.xpath {
            write!(f, " at {x}")?;
        }
        Ok(())
    }
}

/// A SOAP 1.1 fault as Workday sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SoapFault {
    /// `faultcode` without its prefix, e.g. `Client.validationError`.
    pub code: String,
    /// `faultstring`.
    pub message: String,
    /// `Validation_Fault/Validation_Error` entries.
    pub validation_errors: Vec<ValidationError>,
    /// `Processing_Fault/Detail_Message`.
    pub detail: Option<String>,
}

/// What went wrong talking to Workday.
#[derive(Debug, thiserror::Error)]
pub enum WorkdayError {
    /// `Client.authenticationError` (wrong user, password or tenant). Never retried.
    #[error("Workday rejected the credentials on {operation}: {message}")]
    Authentication {
        /// Operation.
        operation: String,
        /// `faultstring`.
        message: String,
    },
    /// `Client.validationError`: the request was refused. Never retried.
    #[error("Workday refused the {operation} request: {message}{}", list_errors(.errors))]
    Validation {
        /// Operation.
        operation: String,
        /// `faultstring`.
        message: String,
        /// Each `Validation_Error`.
        errors: Vec<ValidationError>,
    },
    /// `Server.processingError` (or another server fault), after the retries.
    #[error("Workday could not process {operation}: {message}{}", .detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Processing {
        /// Operation.
        operation: String,
        /// `faultstring`.
        message: String,
        /// `Processing_Fault/Detail_Message`.
        detail: Option<String>,
    },
    /// Another `Client.*` fault. Never retried.
    #[error("Workday fault {code} on {operation}: {message}")]
    ClientFault {
        /// Operation.
        operation: String,
        /// `faultcode` without prefix.
        code: String,
        /// `faultstring`.
        message: String,
    },
    /// An HTTP status without a SOAP fault (429, 5xx, 4xx), after the retries for the retryable ones.
    #[error("Workday answered HTTP {status} to {operation}{}", if .body_excerpt.is_empty() { String::new() } else { format!(": {}", .body_excerpt) })]
    Http {
        /// Operation.
        operation: String,
        /// HTTP status code.
        status: u16,
        /// The start of the body, for diagnosis.
        body_excerpt: String,
    },
    /// The body is not the XML/JSON expected.
    #[error("malformed Workday response to {operation} at byte {offset}: {message}")]
    Malformed {
        /// Operation.
        operation: String,
        /// Byte offset in the body where decoding failed.
        offset: u64,
        /// What was wrong.
        message: String,
    },
    /// No answer in time.
    #[error("Workday did not answer {operation} within {}s", .after.as_secs_f32())]
    Timeout {
        /// Operation.
        operation: String,
        /// The configured limit.
        after: Duration,
    },
    /// Connection refused, reset or dropped mid-body.
    #[error("cannot reach Workday for {operation}: {message}")]
    Transport {
        /// Operation.
        operation: String,
        /// The cause.
        message: String,
    },
    /// The OAuth2 refresh-token grant failed.
    #[error("Workday OAuth token exchange failed{}: {message}", .status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    OAuth {
        /// HTTP status, when the endpoint answered.
        status: Option<u16>,
        /// The `error`/`error_description` Workday sent, or the cause.
        message: String,
    },
    /// The tenant's Workday settings or credentials are incomplete or invalid.
    #[error("Workday is not configured for this tenant: {0}")]
    NotConfigured(String),
    /// A request the client refuses to send (e.g. `Count` above 999).
    #[error("invalid Workday request: {0}")]
    InvalidRequest(String),
    /// The refresh token Workday rotated to could not be stored (or the stored one could not be read).
    #[error("the Workday refresh token store failed: {0}")]
    TokenStore(String),
}

fn list_errors(errors: &[ValidationError]) -> String {
    if errors.is_empty() {
        return String::new();
    }
    let items: Vec<String> = errors.iter().map(ToString::to_string).collect();
    format!(" [{}]", items.join("; "))
}

impl WorkdayError {
    /// Whether this is Workday's answer to a reference it does not know: a validation fault whose every error
    /// is "Invalid ID value" (how a request for one record by an ID that does not exist is refused).
    pub fn is_unknown_reference(&self) -> bool {
        match self {
            Self::Validation { errors, .. } => {
                !errors.is_empty()
                    && errors.iter().all(|e| {
                        e.message.contains("Invalid ID value")
                            || e.message.contains("is not a valid ID value")
                    })
            }
            _ => false,
        }
    }

    /// Whether a later attempt may succeed: throttling, server errors and faults, timeouts, broken connections.
    /// Authentication and validation faults, other client faults and malformed bodies are final.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Http { status, .. } => matches!(status, 429 | 500 | 502 | 503 | 504),
            Self::Processing { .. } | Self::Timeout { .. } | Self::Transport { .. } => true,
            Self::OAuth { status, .. } => {
                status.is_none_or(|s| matches!(s, 429 | 500 | 502 | 503 | 504))
            }
            Self::Authentication { .. }
            | Self::Validation { .. }
            | Self::ClientFault { .. }
            | Self::Malformed { .. }
            | Self::NotConfigured(_)
            | Self::InvalidRequest(_)
            | Self::TokenStore(_) => false,
        }
    }

    /// A short snake_case kind, for metrics and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Authentication { .. } => "authentication",
            Self::Validation { .. } => "validation",
            Self::Processing { .. } => "processing",
            Self::ClientFault { .. } => "client_fault",
            Self::Http { .. } => "http",
            Self::Malformed { .. } => "malformed",
            Self::Timeout { .. } => "timeout",
            Self::Transport { .. } => "transport",
            Self::OAuth { .. } => "oauth",
            Self::NotConfigured(_) => "not_configured",
            Self::InvalidRequest(_) => "invalid_request",
            Self::TokenStore(_) => "token_store",
        }
    }

    /// The typed error for a fault received on `operation`.
    pub fn from_fault(operation: &str, fault: SoapFault) -> Self {
        let operation = operation.to_string();
        let code = fault.code.as_str();
        if code.eq_ignore_ascii_case("Client.authenticationError") {
            Self::Authentication {
                operation,
                message: fault.message,
            }
        } else if code.eq_ignore_ascii_case("Client.validationError") {
            Self::Validation {
                operation,
                message: fault.message,
                errors: fault.validation_errors,
            }
        } else if code.starts_with("Server") {
            Self::Processing {
                operation,
                message: fault.message,
                detail: fault.detail,
            }
        } else {
            Self::ClientFault {
                operation,
                code: fault.code,
                message: fault.message,
            }
        }
    }
}

/// The first `max` characters of a body, on one line, for error messages.
pub(crate) fn excerpt(body: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(max * 4)]);
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect();
    one_line.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_map_to_kinds_and_retryability() {
        let fault = |code: &str| SoapFault {
            code: code.into(),
            message: "m".into(),
            ..Default::default()
        };
        let auth = WorkdayError::from_fault("Get_Suppliers", fault("Client.authenticationError"));
        assert_eq!(auth.kind(), "authentication");
        assert!(!auth.is_retryable());
        let val = WorkdayError::from_fault("Get_Suppliers", fault("Client.validationError"));
        assert!(!val.is_retryable());
        let proc = WorkdayError::from_fault("Get_Suppliers", fault("Server.processingError"));
        assert_eq!(proc.kind(), "processing");
        assert!(proc.is_retryable());
        let http = |status| WorkdayError::Http {
            operation: "x".into(),
            status,
            body_excerpt: String::new(),
        };
        assert!(http(429).is_retryable() && http(503).is_retryable() && http(500).is_retryable());
        assert!(!http(404).is_retryable() && !http(401).is_retryable());
    }

    #[test]
    fn validation_message_lists_each_error() {
        let e = WorkdayError::Validation {
            operation: "Get_Suppliers".into(),
            message: "Validation error occurred.".into(),
            errors: vec![ValidationError {
                message: "Count too large".into(),
                detail_message: Some("Count must be at most 999".into()),
                xpath: Some("/Get_Suppliers_Request/Response_Filter/Count".into()),
            }],
        };
        let s = e.to_string();
        assert!(
            s.contains("Count must be at most 999") && s.contains("Response_Filter/Count"),
            "{s}"
        );
    }
}
