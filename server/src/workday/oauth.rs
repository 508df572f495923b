//! Workday's OAuth2 refresh-token grant at `{host}/ccx/oauth2/{tenant}/token`: the API client's id and secret as
//! HTTP basic auth, `grant_type=refresh_token` as a form.
//!
//! Caching, single-flight refreshes and the rotation of refresh tokens (persisted the moment Workday issues one,
//! adopted when another process rotated first) are the shared [`RotatingSession`]'s; this module is only what is
//! Workday's: the request, the answer, the errors and the token lifetimes.

use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;

use super::error::{WorkdayError, excerpt};
use crate::upstream::{IssuedTokens, RotatingSession, SessionError, TokenGrant};

/// Assumed lifetime of an access token answered without `expires_in`.
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(300);
/// Refresh this long before the announced expiry.
pub const EXPIRY_MARGIN: Duration = Duration::from_secs(30);
/// The longest an access token is cached, whatever `expires_in` says (a garbled or hostile answer must not
/// pin a token for years, nor overflow the clock).
const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

/// How long to cache a token answered with `expires_in` (seconds): the default without it, at most a day.
fn token_lifetime(expires_in: Option<u64>) -> Duration {
    expires_in.map_or(DEFAULT_TOKEN_LIFETIME, |s| {
        Duration::from_secs(s).min(MAX_TOKEN_LIFETIME)
    })
}

/// A tenant's Workday API client and its token endpoint.
pub struct TokenEndpoint {
    http: reqwest::Client,
    token_url: String,
    client_id: String,
    client_secret: SecretString,
}

impl std::fmt::Debug for TokenEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenEndpoint")
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// The OAuth side of a Workday client: the shared rotation session over Workday's token endpoint, its errors
/// as [`WorkdayError`]s.
#[derive(Debug)]
pub struct OAuthSession(RotatingSession<TokenEndpoint>);

impl OAuthSession {
    pub(crate) fn new(session: RotatingSession<TokenEndpoint>) -> Self {
        Self(session)
    }

    /// A valid access token: the cached one, or a new one from the refresh-token grant. A refresh token Workday
    /// rotated to is stored before the access token is returned.
    pub async fn access_token(&self) -> Result<SecretString, WorkdayError> {
        self.0.access_token().await.map_err(from_session)
    }

    /// Drops `rejected` (Workday answered 401 with it), so the next call exchanges again.
    pub async fn invalidate(&self, rejected: &SecretString) {
        self.0.invalidate(rejected).await;
    }

    /// How many rotated refresh tokens this session has stored.
    pub async fn rotations(&self) -> u32 {
        self.0.rotations().await
    }

    /// The token endpoint.
    pub fn token_url(&self) -> &str {
        self.0.grant().token_url()
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    refresh_token: Option<String>,
}

#[derive(Deserialize)]
struct TokenError {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

impl TokenEndpoint {
    pub(crate) fn new(
        http: reqwest::Client,
        base_url: &str,
        tenant: &str,
        client_id: String,
        client_secret: SecretString,
    ) -> Self {
        Self {
            http,
            token_url: format!("{base_url}/ccx/oauth2/{tenant}/token"),
            client_id,
            client_secret,
        }
    }

    /// The token endpoint.
    pub fn token_url(&self) -> &str {
        &self.token_url
    }
}

#[async_trait]
impl TokenGrant for TokenEndpoint {
    type Error = WorkdayError;
    const UPSTREAM: &'static str = "workday";
    // Workday access tokens live minutes: only the refresh token is worth keeping across restarts.
    const PERSISTS_ACCESS_TOKEN: bool = false;

    async fn refresh(&self, refresh_token: &SecretString) -> Result<IssuedTokens, WorkdayError> {
        let answer = self.exchange(refresh_token).await?;
        Ok(IssuedTokens {
            access_token: SecretString::from(answer.access_token),
            refresh_token: answer.refresh_token.map(SecretString::from),
            expires_in: answer.expires_in,
            refresh_token_expires_in: None,
            scope: None,
        })
    }

    fn is_dead_refresh_token(error: &WorkdayError) -> bool {
        matches!(error, WorkdayError::OAuth { status: Some(400 | 401), message } if message.starts_with("invalid_grant"))
    }

    fn lifetime(&self, expires_in: Option<u64>) -> Option<Duration> {
        Some(token_lifetime(expires_in))
    }
}

fn from_session(err: SessionError<WorkdayError>) -> WorkdayError {
    match err {
        SessionError::Grant(e) => e,
        SessionError::Persist(e) => WorkdayError::TokenStore(e.0),
        SessionError::NoTokens | SessionError::NoRefreshToken => {
            WorkdayError::NotConfigured("there is no Workday refresh token".into())
        }
    }
}

impl TokenEndpoint {
    async fn exchange(&self, refresh_token: &SecretString) -> Result<TokenAnswer, WorkdayError> {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose_secret()),
        ];
        let response = self
            .http
            .post(&self.token_url)
            .basic_auth(&self.client_id, Some(self.client_secret.expose_secret()))
            .form(&form)
            .send()
            .await
            .map_err(|e| WorkdayError::OAuth {
                status: None,
                message: if e.is_timeout() {
                    "the token endpoint did not answer in time".into()
                } else {
                    format!("cannot reach {}: {e}", self.token_url)
                },
            })?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| WorkdayError::OAuth {
            status: Some(status.as_u16()),
            message: format!("reading the answer: {e}"),
        })?;
        if !status.is_success() {
            let message = match serde_json::from_slice::<TokenError>(&body) {
                Ok(TokenError {
                    error: Some(error),
                    error_description,
                }) => match error_description {
                    Some(d) => format!("{error}: {d}"),
                    None => error,
                },
                _ => excerpt(&body, 200),
            };
            return Err(WorkdayError::OAuth {
                status: Some(status.as_u16()),
                message,
            });
        }
        let answer: TokenAnswer =
            serde_json::from_slice(&body).map_err(|e| WorkdayError::OAuth {
                status: Some(status.as_u16()),
                message: format!("the token answer is not the expected JSON: {e}"),
            })?;
        if answer.access_token.is_empty() {
            return Err(WorkdayError::OAuth {
                status: Some(status.as_u16()),
                message: "the token answer has an empty access_token".into(),
            });
        }
        if let Some(t) = &answer.token_type
            && !t.eq_ignore_ascii_case("bearer")
        {
            return Err(WorkdayError::OAuth {
                status: Some(status.as_u16()),
                message: format!("unexpected token_type `{t}` (expected Bearer)"),
            });
        }
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    #[test]
    fn token_lifetime_defaults_and_is_clamped_to_a_day() {
        assert_eq!(token_lifetime(None), DEFAULT_TOKEN_LIFETIME);
        assert_eq!(token_lifetime(Some(3600)), Duration::from_secs(3600));
        assert_eq!(token_lifetime(Some(u64::MAX)), MAX_TOKEN_LIFETIME);
        assert_eq!(token_lifetime(Some(86_401)), MAX_TOKEN_LIFETIME);
        // Whatever Workday says, the expiry is representable.
        assert!(
            Instant::now()
                .checked_add(token_lifetime(Some(u64::MAX)))
                .is_some()
        );
    }
}
