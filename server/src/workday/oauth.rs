//! OAuth2 refresh-token grant at `{host}/ccx/oauth2/{tenant}/token`, with the access token cached until it
//! expires (or until Workday answers 401, which drops it once).
//!
//! When the API client rotates refresh tokens, the grant answers a new one and the old one dies: the session
//! persists it through its [`RefreshTokenStore`] before handing out the access token (a failed save is
//! retried before the next use and reported as [`WorkdayError::TokenStore`]), and re-reads the stored
//! token before each grant in case another process rotated it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use tokio::sync::Mutex;

use super::client::OAuthCredentials;
use super::error::{WorkdayError, excerpt};
use super::tokens::RefreshTokenStore;

/// Assumed lifetime of an access token answered without `expires_in`.
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(300);
/// Refresh this long before the announced expiry.
const EXPIRY_MARGIN: Duration = Duration::from_secs(30);
/// The longest an access token is cached, whatever `expires_in` says (a garbled or hostile answer must not
/// pin a token for years, nor overflow the clock).
const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

/// How long to cache a token answered with `expires_in` (seconds): the default without it, at most a day.
fn token_lifetime(expires_in: Option<u64>) -> Duration {
    expires_in.map_or(DEFAULT_TOKEN_LIFETIME, |s| {
        Duration::from_secs(s).min(MAX_TOKEN_LIFETIME)
    })
}

/// The token endpoint and the cached access token of one tenant's API client.
#[derive(Debug)]
pub struct OAuthSession {
    token_url: String,
    client_id: String,
    client_secret: SecretString,
    refresh_tokens: Arc<dyn RefreshTokenStore>,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    refresh_token: SecretString,
    /// Workday rotated to `refresh_token` and saving it failed: save before anything else.
    unsaved: bool,
    /// Rotations persisted by this session.
    rotations: u32,
    cached: Option<Cached>,
}

#[derive(Debug)]
struct Cached {
    token: SecretString,
    expires_at: Instant,
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

impl OAuthSession {
    pub(crate) fn new(base_url: &str, tenant: &str, creds: OAuthCredentials) -> Self {
        Self {
            token_url: format!("{base_url}/ccx/oauth2/{tenant}/token"),
            client_id: creds.client_id,
            client_secret: creds.client_secret,
            refresh_tokens: creds.refresh_tokens,
            state: Mutex::new(State {
                refresh_token: creds.refresh_token,
                unsaved: false,
                rotations: 0,
                cached: None,
            }),
        }
    }

    /// The token endpoint.
    pub fn token_url(&self) -> &str {
        &self.token_url
    }

    /// A valid access token: the cached one, or a new one from the refresh-token grant. A refresh token
    /// Workday rotated to is stored before the access token is returned.
    pub async fn access_token(&self, http: &reqwest::Client) -> Result<SecretString, WorkdayError> {
        let mut state = self.state.lock().await;
        if state.unsaved {
            self.persist(&mut state).await?;
        }
        if let Some(c) = &state.cached
            && Instant::now()
                .checked_add(EXPIRY_MARGIN)
                .is_some_and(|soon| soon < c.expires_at)
        {
            return Ok(c.token.clone());
        }
        // Another process may have rotated the token since this session read it: the stored one is current.
        match self.refresh_tokens.load().await {
            Ok(Some(stored)) if stored.expose_secret() != state.refresh_token.expose_secret() => {
                state.refresh_token = stored;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(
                error = %e,
                "cannot re-read the stored Workday refresh token; using the one in memory"
            ),
        }
        let answer = self.exchange(http, &state.refresh_token).await?;
        let lifetime = token_lifetime(answer.expires_in);
        let token = SecretString::from(answer.access_token);
        let now = Instant::now();
        state.cached = Some(Cached {
            token: token.clone(),
            // Without a representable expiry the token is used once and not cached.
            expires_at: now.checked_add(lifetime).unwrap_or(now),
        });
        if let Some(new_refresh) = answer.refresh_token.filter(|r| !r.is_empty())
            && new_refresh != *state.refresh_token.expose_secret()
        {
            // The old token is dead from now on: keep the new one in memory whatever happens, and store it.
            state.refresh_token = SecretString::from(new_refresh);
            state.unsaved = true;
            self.persist(&mut state).await?;
        }
        Ok(token)
    }

    async fn persist(&self, state: &mut State) -> Result<(), WorkdayError> {
        match self.refresh_tokens.save(&state.refresh_token).await {
            Ok(()) => {
                state.unsaved = false;
                state.rotations += 1;
                tracing::info!("Workday rotated the refresh token; the new one is stored");
                Ok(())
            }
            Err(e) => {
                tracing::error!(error = %e, "Workday rotated the refresh token and storing it failed");
                Err(e)
            }
        }
    }

    /// Drops `rejected` from the cache (Workday answered 401 with it), so the next call exchanges again.
    pub async fn invalidate(&self, rejected: &SecretString) {
        let mut state = self.state.lock().await;
        if state
            .cached
            .as_ref()
            .is_some_and(|c| c.token.expose_secret() == rejected.expose_secret())
        {
            state.cached = None;
        }
    }

    /// How many rotated refresh tokens this session has stored.
    pub async fn rotations(&self) -> u32 {
        self.state.lock().await.rotations
    }

    async fn exchange(
        &self,
        http: &reqwest::Client,
        refresh_token: &SecretString,
    ) -> Result<TokenAnswer, WorkdayError> {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose_secret()),
        ];
        let response = http
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
