//! The one error type of the Zendesk boundary. Messages never carry credentials or tokens.

use std::time::Duration;

/// What can go wrong talking to Zendesk.
#[derive(Debug, thiserror::Error)]
pub enum ZendeskError {
    /// 429 (or a `Retry-After` longer than configured): try again after `retry_after`.
    #[error("Zendesk rate limit reached; retry after {}s", retry_after.as_secs())]
    RateLimited {
        /// How long Zendesk asked to wait.
        retry_after: Duration,
    },
    /// 401: the credentials (API token, OAuth token) were not accepted.
    #[error("Zendesk did not accept the credentials: {message}")]
    Unauthorized {
        /// Zendesk's explanation.
        message: String,
    },
    /// 403: authenticated, but the user or token may not do this.
    #[error("Zendesk refused the request: {message}")]
    Forbidden {
        /// Zendesk's explanation.
        message: String,
    },
    /// 404.
    #[error("Zendesk has no {what}")]
    NotFound {
        /// What was looked for, e.g. `ticket 42`.
        what: String,
    },
    /// 400 / 422: Zendesk rejected the content. `details` is Zendesk's field → errors map, when it sent one.
    #[error("Zendesk rejected the request ({status} {error}): {description}")]
    Validation {
        /// HTTP status.
        status: u16,
        /// Zendesk's error code, e.g. `RecordInvalid`.
        error: String,
        /// Zendesk's description (with the details flattened in).
        description: String,
        /// The `details` object, or null.
        details: serde_json::Value,
    },
    /// 422 on a ticket update because the ticket is closed (`Status: closed prevents ticket update`): closed
    /// tickets cannot be changed, so this is final and never retried.
    #[error("Zendesk ticket {ticket_id} is closed and cannot be updated")]
    TicketClosed {
        /// The ticket.
        ticket_id: u64,
    },
    /// Any other HTTP failure (5xx after the retries, unexpected statuses).
    #[error("Zendesk answered {status}: {message}")]
    Upstream {
        /// HTTP status.
        status: u16,
        /// Zendesk's explanation or the status text.
        message: String,
    },
    /// The connection failed. `sent` says whether the request may have reached Zendesk (so a write may have
    /// been applied).
    #[error("cannot reach Zendesk: {message}")]
    Transport {
        /// What failed.
        message: String,
        /// Whether the request may have been received.
        sent: bool,
    },
    /// The answer was not the JSON expected.
    #[error("Zendesk sent an answer that cannot be read ({context}): {message}")]
    Decode {
        /// Which call.
        context: String,
        /// What was wrong.
        message: String,
    },
    /// A bulk job was still running after the configured number of polls (or never became visible).
    #[error("Zendesk job {id} was still {status} after {polls} polls")]
    JobTimeout {
        /// Job id.
        id: String,
        /// Last status seen.
        status: String,
        /// Polls made.
        polls: u32,
    },
    /// The OAuth token endpoint refused a grant. `reauthorize` means the refresh token is gone (revoked, expired
    /// or already used) and an administrator must run the authorization again.
    #[error("Zendesk OAuth: {message}")]
    OAuth {
        /// What happened (Zendesk's `error` / `error_description`).
        message: String,
        /// Whether a new authorization is needed.
        reauthorize: bool,
    },
    /// A secret the tenant's auth mode needs is not stored.
    #[error("missing Zendesk credentials: {0}")]
    MissingCredentials(String),
    /// The caller passed something Zendesk would reject (checked before sending).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A value does not fit the ticket or organization field it targets.
    #[error("field {field}: {reason}")]
    FieldValue {
        /// Field id or key.
        field: String,
        /// Why the value does not fit.
        reason: String,
    },
    /// An organization field with this key exists with another type.
    #[error("organization field `{key}` exists with type `{actual}`, not `{expected}`")]
    FieldTypeMismatch {
        /// Field key.
        key: String,
        /// Type asked for.
        expected: String,
        /// Type in Zendesk.
        actual: String,
    },
    /// The OAuth tokens could not be read, or rotated ones could not be stored (they are kept in memory and stored
    /// before the next use).
    #[error("the Zendesk OAuth token store failed: {0}")]
    TokenStore(String),
}

impl ZendeskError {
    /// A short snake_case code for logs, metrics and API errors.
    pub fn code(&self) -> &'static str {
        match self {
            Self::RateLimited { .. } => "rate_limited",
            Self::Unauthorized { .. } => "unauthorized",
            Self::Forbidden { .. } => "forbidden",
            Self::NotFound { .. } => "not_found",
            Self::Validation { .. } => "validation",
            Self::TicketClosed { .. } => "ticket_closed",
            Self::Upstream { .. } => "upstream",
            Self::Transport { .. } => "transport",
            Self::Decode { .. } => "decode",
            Self::JobTimeout { .. } => "job_timeout",
            Self::OAuth { .. } => "oauth",
            Self::MissingCredentials(_) => "missing_credentials",
            Self::InvalidInput(_) => "invalid_input",
            Self::FieldValue { .. } => "field_value",
            Self::FieldTypeMismatch { .. } => "field_type_mismatch",
            Self::TokenStore(_) => "token_store",
        }
    }

    /// Whether the failure leaves it open if a write was applied (the request may have reached Zendesk and
    /// the answer was lost): such writes are reconciled before being retried.
    pub fn is_ambiguous(&self) -> bool {
        match self {
            Self::Transport { sent, .. } => *sent,
            Self::Upstream { status, .. } => *status >= 500,
            Self::Decode { .. } => true,
            _ => false,
        }
    }

    /// Whether the request certainly did not take effect and can be sent again as it is.
    pub fn is_rejected_before_processing(&self) -> bool {
        match self {
            Self::RateLimited { .. } => true,
            Self::Transport { sent, .. } => !*sent,
            _ => false,
        }
    }
}
