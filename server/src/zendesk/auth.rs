//! Zendesk authentication: API tokens (`{email}/token:{api_token}` basic auth) and OAuth2 bearer tokens.
//!
//! OAuth access tokens expire and every refresh rotates both tokens (Zendesk deletes the previous pair). The
//! rotation itself — single-flight refreshes, persisting the new pair before it is used, adopting a pair another
//! replica stored — is the shared [`RotatingSession`]'s; this module is what is Zendesk's: the token endpoint
//! (`POST /oauth/tokens`, JSON), its errors, the access-token lifetime, and the authorization-code grant used
//! once at setup (with PKCE).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use url::Url;

use super::error::ZendeskError;
pub use crate::upstream::IssuedTokens;
use crate::upstream::{RotatingSession, SessionError, TokenGrant, TokenPersistence};

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
        client: OAuthClient,
        /// Where the current token pair is persisted.
        tokens: Arc<dyn TokenPersistence>,
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
pub struct OAuthClient {
    /// The client's unique identifier.
    pub client_id: String,
    /// The client secret.
    pub client_secret: SecretString,
}

impl fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClient")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// The lifetimes asked for on every grant (`expires_in`, `refresh_token_expires_in`, both in seconds). Zendesk
/// applies and enforces them; an OAuth client created before Zendesk supported refresh tokens gets a refresh token
/// (and an expiring access token) only when they are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenLifetimes {
    /// Access token lifetime, 300 to 172,800 seconds.
    pub expires_in: u64,
    /// Refresh token lifetime, 604,800 to 7,776,000 seconds, longer than `expires_in`.
    pub refresh_token_expires_in: u64,
}

impl TokenLifetimes {
    fn add_to(self, body: &mut serde_json::Value) {
        body["expires_in"] = self.expires_in.into();
        body["refresh_token_expires_in"] = self.refresh_token_expires_in.into();
    }
}

/// The body of an authorization-code grant (`POST /oauth/tokens`).
pub(crate) fn authorization_code_body(
    client: &OAuthClient,
    code: &str,
    redirect_uri: &str,
    code_verifier: Option<&str>,
    lifetimes: TokenLifetimes,
) -> serde_json::Value {
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
    lifetimes.add_to(&mut body);
    body
}

/// The body of a refresh-token grant (`POST /oauth/tokens`).
pub(crate) fn refresh_body(
    client: &OAuthClient,
    refresh_token: &SecretString,
    lifetimes: TokenLifetimes,
) -> serde_json::Value {
    let mut body = serde_json::json!({
        "grant_type": "refresh_token",
        "refresh_token": refresh_token.expose_secret(),
        "client_id": client.client_id,
        "client_secret": client.client_secret.expose_secret(),
    });
    lifetimes.add_to(&mut body);
    body
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
/// [`authorization_url`]). Persist the pair (access and refresh token together) where the tenant's OAuth session
/// reads it.
pub async fn exchange_authorization_code(
    http: &reqwest::Client,
    base_url: &str,
    client: &OAuthClient,
    code: &str,
    redirect_uri: &str,
    code_verifier: Option<&str>,
    lifetimes: TokenLifetimes,
) -> Result<IssuedTokens, ZendeskError> {
    let body = authorization_code_body(client, code, redirect_uri, code_verifier, lifetimes);
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

/// How long an access token answered with `expires_in` seconds may be used: `expires_in` clamped to
/// [`MAX_ACCESS_TOKEN_LIFETIME`]; without `expires_in`, until Zendesk refuses it.
fn token_lifetime(expires_in: Option<u64>) -> Option<Duration> {
    expires_in.map(|s| Duration::from_secs(s).min(MAX_ACCESS_TOKEN_LIFETIME))
}

/// An account's token endpoint (`POST /oauth/tokens`) and the OAuth client that uses it.
pub struct TokenEndpoint {
    http: reqwest::Client,
    token_url: Url,
    client: OAuthClient,
    lifetimes: TokenLifetimes,
}

impl fmt::Debug for TokenEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenEndpoint")
            .field("token_url", &self.token_url.as_str())
            .field("client", &self.client)
            .field("lifetimes", &self.lifetimes)
            .finish()
    }
}

impl TokenEndpoint {
    pub(crate) fn new(
        http: reqwest::Client,
        base_url: &str,
        client: OAuthClient,
        lifetimes: TokenLifetimes,
    ) -> Result<Self, ZendeskError> {
        Ok(Self {
            http,
            token_url: token_url(base_url)?,
            client,
            lifetimes,
        })
    }
}

/// The OAuth side of a Zendesk client.
pub type OAuthSession = RotatingSession<TokenEndpoint>;

#[async_trait]
impl TokenGrant for TokenEndpoint {
    type Error = ZendeskError;
    const UPSTREAM: &'static str = "zendesk";
    // Zendesk access tokens live hours: a restart reuses the stored one rather than refreshing.
    const PERSISTS_ACCESS_TOKEN: bool = true;

    async fn refresh(&self, refresh_token: &SecretString) -> Result<IssuedTokens, ZendeskError> {
        let body = refresh_body(&self.client, refresh_token, self.lifetimes);
        token_request(&self.http, &self.token_url, body).await
    }

    fn is_dead_refresh_token(error: &ZendeskError) -> bool {
        matches!(
            error,
            ZendeskError::OAuth {
                reauthorize: true,
                ..
            }
        )
    }

    fn lifetime(&self, expires_in: Option<u64>) -> Option<Duration> {
        token_lifetime(expires_in)
    }
}

impl ZendeskError {
    /// The error of a failed [`OAuthSession::access_token`].
    pub(crate) fn from_session(err: SessionError<ZendeskError>) -> Self {
        match err {
            SessionError::Grant(Self::OAuth {
                message,
                reauthorize: true,
            }) => Self::OAuth {
                message: format!(
                    "{message}; the refresh token is no longer valid: an administrator must authorize \
                     ml-connector again"
                ),
                reauthorize: true,
            },
            SessionError::Grant(e) => e,
            SessionError::Persist(e) => Self::TokenStore(e.0),
            SessionError::NoTokens => Self::MissingCredentials(
                "no OAuth tokens are stored (zendesk-oauth-access-token / zendesk-oauth-refresh-token): \
                 the OAuth authorization has not been done"
                    .into(),
            ),
            SessionError::NoRefreshToken => Self::OAuth {
                message: "the access token was rejected or expired and there is no refresh token".into(),
                reauthorize: true,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> serde_json::Value {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/zendesk")
            .join(name);
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
    }

    fn client() -> OAuthClient {
        OAuthClient {
            client_id: "ml_connector".into(),
            client_secret: SecretString::from(
                "3d5bf1e5c0d0f0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d",
            ),
        }
    }

    const LIFETIMES: TokenLifetimes = TokenLifetimes {
        expires_in: 7200,
        refresh_token_expires_in: 7_776_000,
    };

    #[test]
    fn the_grant_bodies_are_the_documented_ones() {
        assert_eq!(
            authorization_code_body(
                &client(),
                "7xqwtlf3rrdj8uyeb1yf",
                "https://ml-connector.example/oauth/callback",
                Some("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
                LIFETIMES,
            ),
            fixture("oauth_authorization_code_grant.json")
        );
        assert_eq!(
            refresh_body(
                &client(),
                &SecretString::from("31048ba4d7c601302f3173f243da835f"),
                LIFETIMES
            ),
            fixture("oauth_refresh_token_grant.json")
        );
        // Numbers, not strings: the lifetimes are JSON integers.
        let body = refresh_body(&client(), &SecretString::from("r"), LIFETIMES);
        assert!(body["expires_in"].is_u64() && body["refresh_token_expires_in"].is_u64());
    }

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
            let lifetime = token_lifetime(Some(expires_in)).unwrap();
            assert!(lifetime <= MAX_ACCESS_TOKEN_LIFETIME, "{expires_in}");
            assert!(std::time::Instant::now().checked_add(lifetime).is_some());
        }
        assert_eq!(token_lifetime(Some(1800)), Some(Duration::from_secs(1800)));
        assert_eq!(token_lifetime(None), None, "used until Zendesk refuses it");
    }
}
