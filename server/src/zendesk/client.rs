//! The HTTP client: one per tenant, sharing its rate limiter and OAuth session between clones.
//!
//! Every request waits for the limiter, carries the tenant's credentials, feeds the answer's rate-limit headers
//! back to the limiter and maps the status to a typed [`ZendeskError`]. Retries are bounded
//! (`[zendesk.retry]`, exponential backoff with jitter, `Retry-After` obeyed):
//! - a 429, or a connection that could not be opened, is retried for every request (nothing was processed);
//! - 5xx, timeouts and dropped connections are retried only for idempotent requests (GET, PUT). A create that
//!   fails that way is left to its caller, which reconciles by `external_id` before creating again.

use std::sync::Arc;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable as _};
use bytes::Bytes;
use reqwest::Method;
use secrecy::{ExposeSecret as _, SecretString};
use serde::de::DeserializeOwned;
use url::Url;

use super::auth::{Credentials, OAuthSession, TokenEndpoint, basic_header};
use super::config::ZendeskConfig;
use super::error::ZendeskError;
use super::limiter::{Endpoint, RateLimitInfo, RateLimiter, retry_after};

/// How a request may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Repeating it changes nothing (GET, PUT of the same values).
    Idempotent,
    /// Repeating it after it was processed would do it twice (POST create): retried only when it certainly
    /// was not processed (429, connection refused).
    NotIdempotent,
}

/// One request to the API.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub method: Method,
    /// Relative to `/api/v2/` (`organizations/show_many`), or an absolute URL on the same host (`next_page`).
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Option<serde_json::Value>,
    pub retry: Retry,
    /// The endpoint limit it counts against besides the plan's.
    pub endpoint: Endpoint,
}

impl Call {
    pub fn get(path: impl Into<String>) -> Self {
        Self {
            method: Method::GET,
            path: path.into(),
            query: Vec::new(),
            body: None,
            retry: Retry::Idempotent,
            endpoint: Endpoint::General,
        }
    }

    pub fn post(path: impl Into<String>, body: serde_json::Value) -> Self {
        Self {
            method: Method::POST,
            path: path.into(),
            query: Vec::new(),
            body: Some(body),
            retry: Retry::NotIdempotent,
            endpoint: Endpoint::General,
        }
    }

    pub fn put(path: impl Into<String>, body: serde_json::Value) -> Self {
        Self {
            method: Method::PUT,
            path: path.into(),
            query: Vec::new(),
            body: Some(body),
            retry: Retry::Idempotent,
            endpoint: Endpoint::General,
        }
    }

    /// Counts the request against `endpoint`'s own limit too.
    pub fn endpoint(mut self, endpoint: Endpoint) -> Self {
        self.endpoint = endpoint;
        self
    }

    pub fn query(mut self, key: &str, value: impl Into<String>) -> Self {
        self.query.push((key.to_string(), value.into()));
        self
    }

    fn label(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// A successful answer.
#[derive(Debug)]
pub(crate) struct Reply {
    pub body: Bytes,
    pub rate: RateLimitInfo,
}

/// Where a client connects and how it authenticates.
#[derive(Debug)]
pub struct ClientOptions {
    /// `https://{subdomain}.zendesk.com` (or the simulator / a proxy).
    pub base_url: String,
    /// The plan's requests per minute (0: `zendesk.default_rate_limit_rpm`).
    pub rate_limit_rpm: u32,
    /// Credentials.
    pub credentials: Credentials,
}

enum Auth {
    ApiToken(SecretString),
    OAuth(Box<OAuthSession>),
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    api: Url,
    auth: Auth,
    limiter: RateLimiter,
    config: ZendeskConfig,
    pub(crate) field_cache: moka::future::Cache<u64, super::tickets::TicketField>,
}

/// A Zendesk API client for one account. Cheap to clone; clones share the limiter and the OAuth session, so
/// keep one per tenant.
#[derive(Clone)]
pub struct ZendeskClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ZendeskClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZendeskClient")
            .field("base", &self.inner.base.as_str())
            .field("rpm", &self.inner.limiter.rpm())
            .finish_non_exhaustive()
    }
}

/// Maps a reqwest failure; `sent` is false only when no connection could be made.
pub(crate) fn transport_error(what: &str, e: reqwest::Error) -> ZendeskError {
    let sent = !e.is_connect();
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "connection dropped"
    };
    let cause = std::error::Error::source(&e)
        .map(|s| format!(": {s}"))
        .unwrap_or_default();
    ZendeskError::Transport {
        message: format!("{what}: {kind}{cause}"),
        sent,
    }
}

fn normalized_base(base_url: &str) -> Result<Url, ZendeskError> {
    let trimmed = base_url.trim().trim_end_matches('/');
    let url = Url::parse(&format!("{trimmed}/"))
        .map_err(|e| ZendeskError::InvalidInput(format!("Zendesk base URL `{base_url}`: {e}")))?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        return Err(ZendeskError::InvalidInput(format!(
            "Zendesk base URL `{base_url}` must be http(s)://host"
        )));
    }
    Ok(url)
}

impl ZendeskClient {
    /// A client with explicit options.
    pub fn new(options: ClientOptions, config: &ZendeskConfig) -> Result<Self, ZendeskError> {
        let base = normalized_base(&options.base_url)?;
        let api = base
            .join("api/v2/")
            .map_err(|e| ZendeskError::InvalidInput(e.to_string()))?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(config.connect_timeout_secs))
            .timeout(Duration::from_secs(config.request_timeout_secs))
            .user_agent(concat!("ml-connector/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ZendeskError::InvalidInput(format!("HTTP client: {e}")))?;
        let auth = match options.credentials {
            Credentials::ApiToken { email, token } => {
                if email.trim().is_empty() {
                    return Err(ZendeskError::MissingCredentials(
                        "API-token auth needs the agent's e-mail".into(),
                    ));
                }
                Auth::ApiToken(basic_header(email.trim(), &token))
            }
            Credentials::OAuth { client, tokens } => Auth::OAuth(Box::new(
                OAuthSession::new(
                    TokenEndpoint::new(
                        http.clone(),
                        base.as_str(),
                        client,
                        config.token_lifetimes(),
                    )?,
                    tokens,
                    None,
                    Duration::from_secs(config.oauth_refresh_leeway_secs),
                )
                .with_expiry_warning(Duration::from_secs(
                    config.oauth_refresh_expiry_warning_days * 86_400,
                )),
            )),
        };
        let rpm = if options.rate_limit_rpm == 0 {
            config.default_rate_limit_rpm
        } else {
            options.rate_limit_rpm
        };
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                base,
                api,
                auth,
                limiter: RateLimiter::new(rpm, config.rate_limit_burst)
                    .with_ticket_update_rpm(config.ticket_update_rpm)
                    .with_organization_update_rpm(config.organization_update_rpm)
                    .with_max_hold(Duration::from_secs(config.max_retry_after_secs)),
                config: config.clone(),
                field_cache: moka::future::Cache::builder()
                    .max_capacity(10_000)
                    .time_to_live(Duration::from_secs(config.ticket_field_cache_secs))
                    .build(),
            }),
        })
    }

    /// The account's base URL.
    pub fn base_url(&self) -> &str {
        self.inner.base.as_str().trim_end_matches('/')
    }

    /// The tenant's limiter (shared by every clone).
    pub fn limiter(&self) -> &RateLimiter {
        &self.inner.limiter
    }

    pub(crate) fn config(&self) -> &ZendeskConfig {
        &self.inner.config
    }

    pub(crate) fn field_cache(&self) -> &moka::future::Cache<u64, super::tickets::TicketField> {
        &self.inner.field_cache
    }

    fn url(&self, call: &Call) -> Result<Url, ZendeskError> {
        let mut url = if call.path.starts_with("http://") || call.path.starts_with("https://") {
            let url = Url::parse(&call.path).map_err(|e| ZendeskError::Decode {
                context: "following a page link".into(),
                message: e.to_string(),
            })?;
            // Only follow links to the same account: credentials must not leave it.
            if url.origin() != self.inner.base.origin() {
                return Err(ZendeskError::Decode {
                    context: "following a page link".into(),
                    message: format!("link to another host: {}", url.host_str().unwrap_or("?")),
                });
            }
            url
        } else {
            self.inner
                .api
                .join(call.path.trim_start_matches('/'))
                .map_err(|e| ZendeskError::InvalidInput(format!("path {}: {e}", call.path)))?
        };
        if !call.query.is_empty() {
            url.query_pairs_mut().extend_pairs(call.query.iter());
        }
        Ok(url)
    }

    /// OAuth: when the refresh token expires, when Zendesk said; `None` with an API token.
    pub async fn oauth_refresh_expires_at(
        &self,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>, ZendeskError> {
        match &self.inner.auth {
            Auth::ApiToken(_) => Ok(None),
            Auth::OAuth(session) => session
                .refresh_expires_at()
                .await
                .map_err(ZendeskError::from_session),
        }
    }

    /// The `Authorization` header value, and the OAuth access token in it (to forget it if Zendesk refuses it).
    async fn authorization(&self) -> Result<(SecretString, Option<SecretString>), ZendeskError> {
        match &self.inner.auth {
            Auth::ApiToken(header) => Ok((header.clone(), None)),
            Auth::OAuth(session) => {
                let token = session
                    .access_token()
                    .await
                    .map_err(ZendeskError::from_session)?;
                let header = SecretString::from(format!("Bearer {}", token.expose_secret()));
                Ok((header, Some(token)))
            }
        }
    }

    /// Sends one request and feeds its rate-limit headers to the limiter; returns the response with them.
    async fn send_once(
        &self,
        call: &Call,
        url: &Url,
        authorization: &SecretString,
    ) -> Result<(reqwest::Response, RateLimitInfo), ZendeskError> {
        self.inner.limiter.acquire_for(call.endpoint).await;
        let mut request = self
            .inner
            .http
            .request(call.method.clone(), url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .header(
                reqwest::header::AUTHORIZATION,
                authorization.expose_secret(),
            );
        if let Some(body) = &call.body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| transport_error(&call.label(), e))?;
        let rate = RateLimitInfo::from_headers(response.headers());
        self.inner.limiter.observe(&rate);
        Ok((response, rate))
    }

    /// One attempt: limiter, credentials (one OAuth refresh on a 401), status → error.
    async fn attempt(&self, call: &Call) -> Result<Reply, ZendeskError> {
        let url = self.url(call)?;
        let (authorization, token) = self.authorization().await?;
        let (mut response, mut rate) = self.send_once(call, &url, &authorization).await?;
        if response.status() == reqwest::StatusCode::UNAUTHORIZED
            && let (Auth::OAuth(session), Some(token)) = (&self.inner.auth, token)
        {
            // Refused: refresh once (unless a concurrent caller already has) and try again.
            session.invalidate(&token).await;
            let (authorization, _) = self.authorization().await?;
            (response, rate) = self.send_once(call, &url, &authorization).await?;
        }
        let status = response.status();
        // Only a failure needs a header beyond the rate-limit ones.
        let wait = (!status.is_success())
            .then(|| retry_after(response.headers()))
            .flatten();
        let body = response
            .bytes()
            .await
            .map_err(|e| transport_error(&call.label(), e))?;
        if status.is_success() {
            return Ok(Reply { body, rate });
        }
        Err(self.status_error(call, status.as_u16(), wait, &rate, &body))
    }

    /// The error for a failed answer; `wait` is its `Retry-After`, `rate` its rate-limit headers.
    fn status_error(
        &self,
        call: &Call,
        status: u16,
        wait: Option<Duration>,
        rate: &RateLimitInfo,
        body: &[u8],
    ) -> ZendeskError {
        let json: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        let text = |key: &str| json.get(key).and_then(|v| v.as_str()).map(str::to_string);
        let message = text("description")
            .or_else(|| text("error_description"))
            .or_else(|| text("error"))
            .unwrap_or_else(|| {
                reqwest::StatusCode::from_u16(status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("error")
                    .to_string()
            });
        match status {
            429 => {
                let limiter = &self.inner.limiter;
                // The plan's limit answers with `Retry-After` and an exhausted account budget: every request of
                // the tenant waits. An endpoint limit (Update Ticket's) answers without `Retry-After`, or with
                // it while the account still has budget (`X-Rate-Limit-Remaining` > 0): only requests to that
                // endpoint wait.
                let account_wide = wait.is_some()
                    && (call.endpoint == Endpoint::General
                        || rate.remaining.is_none_or(|r| r == 0));
                // `Retry-After` is waited at most `max_retry_after_secs` (a longer one fails the call instead of
                // being waited out); without one, a bounded default.
                let wait = wait.unwrap_or_else(|| {
                    Duration::from_secs(self.inner.config.default_retry_after_secs)
                        .min(limiter.max_hold())
                });
                if account_wide {
                    limiter.hold_for(wait);
                } else {
                    limiter.hold_endpoint(call.endpoint, wait);
                }
                metrics::counter!("mlc_zendesk_rate_limited_total").increment(1);
                ZendeskError::RateLimited { retry_after: wait }
            }
            401 => ZendeskError::Unauthorized {
                message: text("error_description")
                    .or_else(|| text("error"))
                    .unwrap_or(message),
            },
            403 => ZendeskError::Forbidden { message },
            404 => ZendeskError::NotFound {
                what: format!("{} ({})", call.path, message),
            },
            400 | 422 => {
                let details = json.get("details").cloned().unwrap_or_default();
                ZendeskError::Validation {
                    status,
                    error: text("error").unwrap_or_else(|| "InvalidValue".into()),
                    description: describe_details(&message, &details),
                    details,
                }
            }
            _ => {
                if status == 503
                    && let Some(wait) = wait
                {
                    self.inner.limiter.hold_for(wait);
                }
                ZendeskError::Upstream { status, message }
            }
        }
    }

    /// The delays between retries (`[zendesk.retry]`): exponential from `initial_delay_ms` to `max_delay_ms`, with
    /// jitter, unbounded in number (callers bound it).
    pub(crate) fn backoff(&self) -> ExponentialBuilder {
        self.inner.config.retry.delays()
    }

    /// Sends `call` with the bounded retry policy.
    pub(crate) async fn call(&self, call: Call) -> Result<Reply, ZendeskError> {
        self.call_then(call, Ok).await
    }

    /// Sends `call` and applies `read` to the answer, both under the retry policy (an unreadable answer to an
    /// idempotent request is retried like a dropped connection).
    async fn call_then<T>(
        &self,
        call: Call,
        read: impl Fn(Reply) -> Result<T, ZendeskError>,
    ) -> Result<T, ZendeskError> {
        let max_wait = Duration::from_secs(self.inner.config.max_retry_after_secs);
        let backoff = self
            .backoff()
            .with_max_times(self.inner.config.retry.max_retries as usize);
        let idempotent = call.retry == Retry::Idempotent;
        let label = call.label();
        (|| async { read(self.attempt(&call).await?) })
            .retry(backoff)
            .sleep(tokio::time::sleep)
            .when(|e: &ZendeskError| match e {
                ZendeskError::RateLimited { retry_after } => *retry_after <= max_wait,
                e if e.is_rejected_before_processing() => true,
                ZendeskError::Upstream { status, .. } if *status == 409 => idempotent,
                e => idempotent && e.is_ambiguous(),
            })
            .adjust(|e, planned| match e {
                // Wait what Zendesk asked, but only while retries remain.
                ZendeskError::RateLimited { retry_after } => planned.map(|_| *retry_after),
                _ => planned,
            })
            .notify(|e, wait| {
                tracing::warn!(
                    request = %label,
                    error = %e,
                    retry_in_ms = wait.as_millis() as u64,
                    "Zendesk request failed; retrying"
                );
            })
            .await
    }

    /// Sends `call` and decodes the JSON answer.
    pub(crate) async fn call_json<T: DeserializeOwned>(
        &self,
        call: Call,
    ) -> Result<T, ZendeskError> {
        let label = call.label();
        self.call_then(call, |reply| decode(&label, &reply.body))
            .await
    }
}

/// Decodes a JSON body, naming the call in the error.
pub(crate) fn decode<T: DeserializeOwned>(context: &str, body: &[u8]) -> Result<T, ZendeskError> {
    serde_json::from_slice(body).map_err(|e| ZendeskError::Decode {
        context: context.to_string(),
        message: e.to_string(),
    })
}

/// `description` plus the `details` map flattened (`name: Name: has already been taken`).
fn describe_details(message: &str, details: &serde_json::Value) -> String {
    let Some(map) = details.as_object() else {
        return message.to_string();
    };
    let mut parts = Vec::new();
    for (field, errors) in map {
        let list: Vec<&serde_json::Value> = match errors {
            serde_json::Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        for e in list {
            let text = e
                .get("description")
                .and_then(|d| d.as_str())
                .map(str::to_string)
                .unwrap_or_else(|| e.to_string());
            parts.push(format!("{field}: {text}"));
        }
    }
    if parts.is_empty() {
        message.to_string()
    } else {
        format!("{message} ({})", parts.join("; "))
    }
}
