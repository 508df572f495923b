//! Zendesk authentication: API tokens (`{email}/token:{api_token}` basic auth) and OAuth2 bearer tokens.
//!
//! OAuth access tokens expire and every refresh rotates both tokens (Zendesk deletes the previous pair), so:
//! - refreshes are single-flight: concurrent callers wait for the one refresh in progress and then use its
//!   result, so one refresh token is never presented twice by this process;
//! - the new pair is persisted atomically through a [`TokenStore`] before it is used ([`StoreTokenStore`] seals
//!   both in one transaction), so a restart picks up the current pair;
//! - before refreshing, the stored pair is re-read: another replica may already have rotated it, in which case
//!   its pair is adopted instead of presenting a refresh token that is no longer valid.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use tokio::time::Instant;
use url::Url;

use super::error::ZendeskError;
use crate::store::Store;
use crate::tenant::{SecretName, TenantId};
use crate::vault::Vault;

/// How a client authenticates.
pub enum Credentials {
    /// API token of an agent.
    ApiToken {
        /// The agent's e-mail.
        email: String,
        /// The API token.
        token: SecretString,
    },
    /// OAuth2 with refresh-token rotation.
    OAuth {
        /// The OAuth client.
        client: OauthClient,
        /// Where the current token pair lives.
        tokens: Arc<dyn TokenStore>,
    },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ApiToken { email, .. } => f
                .debug_struct("ApiToken")
                .field("email", email)
                .finish_non_exhaustive(),
            Self::OAuth { client, tokens } => f
                .debug_struct("OAuth")
                .field("client_id", &client.client_id)
                .field("tokens", tokens)
                .finish(),
        }
    }
}

/// A Zendesk OAuth client (registered in Admin Center → Apps and integrations → APIs → OAuth clients).
#[derive(Clone)]
pub struct OauthClient {
    /// The client's unique identifier.
    pub client_id: String,
    /// The client secret.
    pub client_secret: SecretString,
}

impl fmt::Debug for OauthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OauthClient")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// The stored token pair (either may be missing: a legacy token has no refresh token; a pair whose access
/// token was lost can still be refreshed).
#[derive(Clone)]
pub struct StoredTokens {
    /// Current access token.
    pub access_token: Option<SecretString>,
    /// Current refresh token.
    pub refresh_token: Option<SecretString>,
}

impl fmt::Debug for StoredTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredTokens")
            .field("has_access_token", &self.access_token.is_some())
            .field("has_refresh_token", &self.refresh_token.is_some())
            .finish()
    }
}

/// Where an OAuth token pair is persisted. `save` must replace both tokens atomically.
#[async_trait]
pub trait TokenStore: Send + Sync + fmt::Debug {
    /// The current pair, if any.
    async fn load(&self) -> Result<Option<StoredTokens>, ZendeskError>;
    /// Replaces the pair (both or neither).
    async fn save(
        &self,
        access_token: &SecretString,
        refresh_token: &SecretString,
    ) -> Result<(), ZendeskError>;
}

/// The real [`TokenStore`]: the tenant's sealed `zendesk-oauth-access-token` and `zendesk-oauth-refresh-token`.
pub struct StoreTokenStore {
    store: Store,
    vault: Arc<Vault>,
    tenant: TenantId,
}

impl StoreTokenStore {
    /// Tokens of `tenant` in `store`, sealed by `vault`.
    pub fn new(store: Store, vault: Arc<Vault>, tenant: TenantId) -> Self {
        Self {
            store,
            vault,
            tenant,
        }
    }
}

impl fmt::Debug for StoreTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreTokenStore")
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl TokenStore for StoreTokenStore {
    async fn load(&self) -> Result<Option<StoredTokens>, ZendeskError> {
        // One read: a rotation in between must not pair the old access token with the new refresh token.
        let mut pair = self
            .store
            .secrets(
                &self.vault,
                &self.tenant,
                &[
                    SecretName::ZendeskOauthAccessToken,
                    SecretName::ZendeskOauthRefreshToken,
                ],
            )
            .await?
            .into_iter();
        let (access, refresh) = (pair.next().flatten(), pair.next().flatten());
        Ok(
            (access.is_some() || refresh.is_some()).then_some(StoredTokens {
                access_token: access,
                refresh_token: refresh,
            }),
        )
    }

    async fn save(
        &self,
        access_token: &SecretString,
        refresh_token: &SecretString,
    ) -> Result<(), ZendeskError> {
        self.store
            .put_secrets(
                &self.vault,
                &self.tenant,
                &[
                    (SecretName::ZendeskOauthAccessToken, access_token),
                    (SecretName::ZendeskOauthRefreshToken, refresh_token),
                ],
            )
            .await?;
        Ok(())
    }
}

/// An in-memory [`TokenStore`] (tools and tests that have no database).
#[derive(Default)]
pub struct MemoryTokenStore {
    tokens: std::sync::Mutex<Option<StoredTokens>>,
}

impl MemoryTokenStore {
    /// Starts with `tokens`.
    pub fn new(tokens: Option<StoredTokens>) -> Self {
        Self {
            tokens: std::sync::Mutex::new(tokens),
        }
    }
}

impl fmt::Debug for MemoryTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryTokenStore").finish_non_exhaustive()
    }
}

#[async_trait]
impl TokenStore for MemoryTokenStore {
    async fn load(&self) -> Result<Option<StoredTokens>, ZendeskError> {
        Ok(self
            .tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone())
    }

    async fn save(
        &self,
        access_token: &SecretString,
        refresh_token: &SecretString,
    ) -> Result<(), ZendeskError> {
        *self.tokens.lock().unwrap_or_else(|e| e.into_inner()) = Some(StoredTokens {
            access_token: Some(access_token.clone()),
            refresh_token: Some(refresh_token.clone()),
        });
        Ok(())
    }
}

/// A token pair issued by `POST /oauth/tokens`.
pub struct IssuedTokens {
    /// Bearer token.
    pub access_token: SecretString,
    /// Refresh token (single use).
    pub refresh_token: Option<SecretString>,
    /// Seconds until the access token expires (absent: it does not expire).
    pub expires_in: Option<u64>,
    /// Seconds until the refresh token expires.
    pub refresh_token_expires_in: Option<u64>,
    /// Granted scopes.
    pub scope: Option<String>,
}

impl fmt::Debug for IssuedTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedTokens")
            .field("expires_in", &self.expires_in)
            .field("refresh_token_expires_in", &self.refresh_token_expires_in)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// The token endpoint's answer. Not `Debug`: it holds tokens in clear.
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    refresh_token_expires_in: Option<u64>,
    #[serde(default)]
    scope: Option<String>,
}

#[derive(Deserialize, Default)]
struct OauthErrorBody {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

/// `https://{subdomain}.zendesk.com/oauth/authorizations/new?...`: where an administrator approves the client.
/// `code_challenge` is the PKCE S256 challenge, when used.
pub fn authorization_url(
    base_url: &str,
    client_id: &str,
    redirect_uri: &str,
    scope: &str,
    state: &str,
    code_challenge: Option<&str>,
) -> Result<Url, ZendeskError> {
    let mut url = Url::parse(base_url)
        .and_then(|b| b.join("/oauth/authorizations/new"))
        .map_err(|e| ZendeskError::InvalidInput(format!("base URL `{base_url}`: {e}")))?;
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", scope)
            .append_pair("state", state);
        if let Some(challenge) = code_challenge {
            q.append_pair("code_challenge", challenge)
                .append_pair("code_challenge_method", "S256");
        }
    }
    Ok(url)
}

/// A PKCE (RFC 7636, S256) pair for the authorization code grant: the verifier stays with ml-connector until
/// the code is exchanged; the challenge goes in the approval URL (`code_challenge`,
/// `code_challenge_method=S256`).
pub struct Pkce {
    /// 43 characters of BASE64URL over 32 random bytes.
    pub verifier: SecretString,
    /// BASE64URL(SHA-256(verifier)), unpadded.
    pub challenge: String,
}

impl fmt::Debug for Pkce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkce")
            .field("challenge", &self.challenge)
            .finish_non_exhaustive()
    }
}

impl Pkce {
    /// A fresh pair.
    pub fn generate() -> Self {
        let verifier =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        Self {
            challenge: pkce_challenge(&verifier),
            verifier: SecretString::from(verifier),
        }
    }
}

/// The S256 challenge of `verifier`: BASE64URL(SHA-256(verifier)) without padding.
pub fn pkce_challenge(verifier: &str) -> String {
    use sha2::Digest as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()))
}

fn token_url(base_url: &str) -> Result<Url, ZendeskError> {
    Url::parse(base_url)
        .and_then(|b| b.join("/oauth/tokens"))
        .map_err(|e| ZendeskError::InvalidInput(format!("base URL `{base_url}`: {e}")))
}

async fn token_request(
    http: &reqwest::Client,
    url: &Url,
    body: serde_json::Value,
) -> Result<IssuedTokens, ZendeskError> {
    let response = http
        .post(url.clone())
        .json(&body)
        .send()
        .await
        .map_err(|e| super::client::transport_error("POST /oauth/tokens", e))?;
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| super::client::transport_error("reading the token answer", e))?;
    if status.is_success() {
        let parsed: TokenResponse =
            serde_json::from_slice(&bytes).map_err(|e| ZendeskError::Decode {
                context: "POST /oauth/tokens".into(),
                message: e.to_string(),
            })?;
        return Ok(IssuedTokens {
            access_token: SecretString::from(parsed.access_token),
            refresh_token: parsed.refresh_token.map(SecretString::from),
            expires_in: parsed.expires_in,
            refresh_token_expires_in: parsed.refresh_token_expires_in,
            scope: parsed.scope,
        });
    }
    let err: OauthErrorBody = serde_json::from_slice(&bytes).unwrap_or_default();
    let code = err.error.unwrap_or_else(|| status.as_u16().to_string());
    let message = match err.error_description {
        Some(d) => format!("{code}: {d}"),
        None => code.clone(),
    };
    if status.as_u16() == 429 || status.is_server_error() {
        return Err(ZendeskError::Upstream {
            status: status.as_u16(),
            message: format!("token endpoint: {message}"),
        });
    }
    Err(ZendeskError::OAuth {
        reauthorize: matches!(code.as_str(), "invalid_grant" | "invalid_client"),
        message,
    })
}

/// Exchanges an authorization code for a token pair (setup, after the administrator approved the client at
/// [`authorization_url`]). Store the result with `store.put_secrets` (access and refresh token together).
pub async fn exchange_authorization_code(
    http: &reqwest::Client,
    base_url: &str,
    client: &OauthClient,
    code: &str,
    redirect_uri: &str,
    code_verifier: Option<&str>,
) -> Result<IssuedTokens, ZendeskError> {
    let mut body = serde_json::json!({
        "grant_type": "authorization_code",
        "code": code,
        "client_id": client.client_id,
        "client_secret": client.client_secret.expose_secret(),
        "redirect_uri": redirect_uri,
    });
    if let Some(v) = code_verifier {
        body["code_verifier"] = serde_json::Value::String(v.to_string());
    }
    token_request(http, &token_url(base_url)?, body).await
}

/// The header value of API-token auth: `Basic base64({email}/token:{token})`.
pub(crate) fn basic_header(email: &str, token: &SecretString) -> SecretString {
    let raw = format!("{email}/token:{}", token.expose_secret());
    SecretString::from(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    ))
}

/// Zendesk's longest access-token lifetime (48 hours); a longer `expires_in` is taken as this.
pub const MAX_ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(48 * 3600);

/// When an access token issued now with `expires_in` seconds expires: `expires_in` is clamped to
/// [`MAX_ACCESS_TOKEN_LIFETIME`] and the addition is checked, so no answer of Zendesk's can panic here.
fn expiry_from_now(expires_in: u64) -> Option<Instant> {
    let lifetime = Duration::from_secs(expires_in).min(MAX_ACCESS_TOKEN_LIFETIME);
    Instant::now().checked_add(lifetime)
}

struct Current {
    access: Option<SecretString>,
    refresh: Option<SecretString>,
    expires_at: Option<Instant>,
}

#[derive(Default)]
struct SessionState {
    current: Option<Current>,
    /// Bumped whenever the access token changes; a caller that got a 401 with generation N refreshes only if
    /// no one has replaced the token since.
    generation: u64,
    /// A rotated pair that could not be persisted yet.
    unsaved: bool,
}

/// The OAuth side of a client: current tokens, single-flight refresh, persistence.
pub(crate) struct OauthSession {
    http: reqwest::Client,
    token_url: Url,
    client: OauthClient,
    store: Arc<dyn TokenStore>,
    leeway: Duration,
    state: tokio::sync::Mutex<SessionState>,
}

impl fmt::Debug for OauthSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OauthSession")
            .field("client", &self.client)
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

fn same(a: &Option<SecretString>, b: &Option<SecretString>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.expose_secret() == b.expose_secret(),
        (None, None) => true,
        _ => false,
    }
}

impl OauthSession {
    pub(crate) fn new(
        http: reqwest::Client,
        base_url: &str,
        client: OauthClient,
        store: Arc<dyn TokenStore>,
        leeway: Duration,
    ) -> Result<Self, ZendeskError> {
        Ok(Self {
            http,
            token_url: token_url(base_url)?,
            client,
            store,
            leeway,
            state: tokio::sync::Mutex::new(SessionState::default()),
        })
    }

    /// The bearer header value and the token generation it belongs to; refreshes first when the access token
    /// is missing or about to expire.
    pub(crate) async fn bearer(&self) -> Result<(SecretString, u64), ZendeskError> {
        let mut st = self.state.lock().await;
        self.persist_pending(&mut st).await;
        if st.current.is_none() {
            let stored = self.store.load().await?.ok_or_else(|| {
                ZendeskError::MissingCredentials(
                    "no OAuth tokens are stored (zendesk-oauth-access-token / zendesk-oauth-refresh-token); \
                     run the authorization (ml-connector tenant zendesk-oauth)"
                        .into(),
                )
            })?;
            st.current = Some(Current {
                access: stored.access_token,
                refresh: stored.refresh_token,
                expires_at: None,
            });
            st.generation += 1;
        }
        let needs_refresh = st.current.as_ref().is_some_and(|c| {
            c.access.is_none()
                || c.expires_at.is_some_and(|e| {
                    // An absurd leeway cannot be added to now: refresh rather than panic.
                    Instant::now()
                        .checked_add(self.leeway)
                        .is_none_or(|soon| e <= soon)
                })
        });
        if needs_refresh {
            self.refresh_locked(&mut st).await?;
        }
        let access = st
            .current
            .as_ref()
            .and_then(|c| c.access.clone())
            .ok_or_else(|| ZendeskError::MissingCredentials("no OAuth access token".into()))?;
        Ok((
            SecretString::from(format!("Bearer {}", access.expose_secret())),
            st.generation,
        ))
    }

    /// After a 401 with a token of `generation`: refresh, unless someone already replaced that token.
    pub(crate) async fn refresh_after_rejection(
        &self,
        generation: u64,
    ) -> Result<(), ZendeskError> {
        let mut st = self.state.lock().await;
        if st.generation != generation {
            return Ok(());
        }
        self.refresh_locked(&mut st).await
    }

    async fn persist_pending(&self, st: &mut SessionState) {
        if !st.unsaved {
            return;
        }
        if let Some(Current {
            access: Some(a),
            refresh: Some(r),
            ..
        }) = &st.current
        {
            match self.store.save(a, r).await {
                Ok(()) => st.unsaved = false,
                Err(e) => {
                    tracing::error!(error = %e, "still cannot persist the rotated Zendesk OAuth tokens")
                }
            }
        }
    }

    async fn refresh_locked(&self, st: &mut SessionState) -> Result<(), ZendeskError> {
        // Another process may have rotated the pair: adopt the stored one rather than refreshing with ours.
        if !st.unsaved
            && let Some(stored) = self.store.load().await?
            && let Some(cur) = &st.current
            && stored.refresh_token.is_some()
            && !same(&stored.refresh_token, &cur.refresh)
        {
            st.current = Some(Current {
                access: stored.access_token,
                refresh: stored.refresh_token,
                expires_at: None,
            });
            st.generation += 1;
            if st.current.as_ref().is_some_and(|c| c.access.is_some()) {
                return Ok(());
            }
        }
        let refresh = st
            .current
            .as_ref()
            .and_then(|c| c.refresh.clone())
            .ok_or_else(|| ZendeskError::OAuth {
                message: "the access token was rejected or expired and there is no refresh token"
                    .into(),
                reauthorize: true,
            })?;
        let body = serde_json::json!({
            "grant_type": "refresh_token",
            "refresh_token": refresh.expose_secret(),
            "client_id": self.client.client_id,
            "client_secret": self.client.client_secret.expose_secret(),
        });
        let issued = match token_request(&self.http, &self.token_url, body).await {
            Ok(issued) => issued,
            Err(ZendeskError::OAuth {
                reauthorize: true,
                message,
            }) => {
                // Lost a race with another replica? Its pair is in the store now.
                if let Some(stored) = self.store.load().await?
                    && !same(&stored.refresh_token, &Some(refresh))
                    && stored.access_token.is_some()
                {
                    st.current = Some(Current {
                        access: stored.access_token,
                        refresh: stored.refresh_token,
                        expires_at: None,
                    });
                    st.generation += 1;
                    return Ok(());
                }
                return Err(ZendeskError::OAuth {
                    message: format!(
                        "{message}; the refresh token is no longer valid: run the authorization again \
                         (ml-connector tenant zendesk-oauth)"
                    ),
                    reauthorize: true,
                });
            }
            Err(e) => return Err(e),
        };
        let new_refresh = issued.refresh_token.clone().or(Some(refresh));
        // The old pair is already dead at Zendesk: persist the new one first, before anything else can fail,
        // and before anyone uses it.
        if let Some(r) = &new_refresh
            && let Err(e) = self.store.save(&issued.access_token, r).await
        {
            st.unsaved = true;
            tracing::error!(error = %e, "cannot persist the rotated Zendesk OAuth tokens; will retry");
        }
        st.current = Some(Current {
            access: Some(issued.access_token.clone()),
            refresh: new_refresh,
            expires_at: issued.expires_in.and_then(expiry_from_now),
        });
        st.generation += 1;
        metrics::counter!("mlc_zendesk_oauth_refreshes_total").increment(1);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_follows_rfc_7636() {
        // RFC 7636, appendix B.
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let a = Pkce::generate();
        let b = Pkce::generate();
        let v = a.verifier.expose_secret();
        assert_eq!(v.len(), 43);
        assert!(
            v.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_eq!(a.challenge, pkce_challenge(v));
        assert_ne!(v, b.verifier.expose_secret());
        assert!(!format!("{a:?}").contains(v));
    }

    #[test]
    fn any_expires_in_gives_a_bounded_expiry() {
        for expires_in in [0, 1800, 48 * 3600, 10_000_000, u64::MAX] {
            let at = expiry_from_now(expires_in).unwrap();
            assert!(
                at <= Instant::now() + MAX_ACCESS_TOKEN_LIFETIME,
                "{expires_in}"
            );
        }
        let soon = expiry_from_now(1800).unwrap() - Instant::now();
        assert!(soon > Duration::from_secs(1790) && soon <= Duration::from_secs(1800));
    }
}
