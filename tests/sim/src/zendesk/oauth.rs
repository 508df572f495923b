//! OAuth2 as Zendesk runs it: authorization codes, `POST /oauth/tokens` with the `authorization_code` and
//! `refresh_token` grants, expiring access tokens, and refresh tokens that rotate on every refresh (a refresh
//! deletes the previous access and refresh tokens, so a refresh token works once).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Value, json};
use sha2::Digest as _;

use super::Shared;
use std::sync::Arc;

/// `now + ttl`, saturating at a hundred years (a token request may ask for any lifetime).
fn later(now: Instant, ttl: Duration) -> Instant {
    let cap = Duration::from_secs(100 * 365 * 24 * 3600);
    now.checked_add(ttl.min(cap)).unwrap_or(now)
}

/// RFC 7636: a verifier is 43 to 128 characters of `A-Z a-z 0-9 - . _ ~`.
fn valid_verifier(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

fn token() -> String {
    let a: u128 = rand::random();
    let b: u128 = rand::random();
    format!("{a:032x}{b:032x}")
}

#[derive(Debug, Clone)]
struct CodeGrant {
    client_id: String,
    redirect_uri: String,
    scope: String,
    user_id: u64,
    code_challenge: Option<String>,
    expires: Instant,
}

/// A live access token.
#[derive(Debug, Clone)]
pub(crate) struct AccessToken {
    pub user_id: u64,
    pub expires: Instant,
}

#[derive(Debug, Clone)]
struct RefreshToken {
    client_id: String,
    user_id: u64,
    scope: String,
    access_token: String,
    expires: Instant,
}

/// One call of the token endpoint, for tests that assert how often (and with what) the client refreshed.
#[derive(Debug, Clone)]
pub struct TokenGrant {
    /// When it arrived.
    pub at: Instant,
    /// `authorization_code` or `refresh_token` (or whatever was sent).
    pub grant_type: String,
    /// The refresh token presented, for refresh grants.
    pub refresh_token: Option<String>,
    /// HTTP status answered.
    pub status: u16,
    /// The refresh token issued, when the grant succeeded.
    pub issued_refresh_token: Option<String>,
    /// Whether a PKCE `code_verifier` came with it.
    pub code_verifier_presented: bool,
    /// `expires_in` as sent, if it was.
    pub expires_in: Option<String>,
    /// `refresh_token_expires_in` as sent, if it was.
    pub refresh_token_expires_in: Option<String>,
}

/// Every OAuth artefact of the account.
#[derive(Debug, Default)]
pub(crate) struct OauthRegistry {
    codes: HashMap<String, CodeGrant>,
    access: HashMap<String, AccessToken>,
    refresh: HashMap<String, RefreshToken>,
    pub grants: Vec<TokenGrant>,
}

/// A token pair as issued.
#[derive(Debug, Clone)]
pub struct IssuedTokens {
    /// Bearer token for API calls.
    pub access_token: String,
    /// Single-use refresh token.
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

impl OauthRegistry {
    pub(crate) fn access_token(&self, presented: &str) -> Option<&AccessToken> {
        self.access.get(presented)
    }

    pub(crate) fn new_code(
        &mut self,
        client_id: &str,
        redirect_uri: &str,
        scope: &str,
        user_id: u64,
        code_challenge: Option<String>,
    ) -> String {
        let code = token();
        self.codes.insert(
            code.clone(),
            CodeGrant {
                client_id: client_id.into(),
                redirect_uri: redirect_uri.into(),
                scope: scope.into(),
                user_id,
                code_challenge,
                expires: Instant::now() + Duration::from_secs(120),
            },
        );
        code
    }

    pub(crate) fn issue(
        &mut self,
        client_id: &str,
        user_id: u64,
        scope: &str,
        access_ttl: Duration,
        refresh_ttl: Duration,
    ) -> IssuedTokens {
        let access = token();
        let refresh = token();
        let now = Instant::now();
        self.access.insert(
            access.clone(),
            AccessToken {
                user_id,
                expires: later(now, access_ttl),
            },
        );
        self.refresh.insert(
            refresh.clone(),
            RefreshToken {
                client_id: client_id.into(),
                user_id,
                scope: scope.into(),
                access_token: access.clone(),
                expires: later(now, refresh_ttl),
            },
        );
        IssuedTokens {
            access_token: access,
            refresh_token: refresh,
            expires_in: access_ttl.as_secs(),
        }
    }

    /// An access token that never expires, with no refresh token (what a legacy client gets).
    pub(crate) fn issue_everlasting(&mut self, user_id: u64) -> String {
        let access = token();
        self.access.insert(
            access.clone(),
            AccessToken {
                user_id,
                expires: later(Instant::now(), Duration::from_secs(100 * 365 * 86_400)),
            },
        );
        access
    }

    /// Makes every access token expired (refresh tokens stay valid).
    pub(crate) fn expire_access_tokens(&mut self) {
        let past = Instant::now() - Duration::from_millis(1);
        for t in self.access.values_mut() {
            t.expires = past;
        }
    }
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

fn invalid_grant() -> Response {
    oauth_error(
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI \
         used in the authorization request, or was issued to another client.",
    )
}

/// Parameters of the token endpoint, from a JSON or form body.
fn params(headers: &HeaderMap, body: &[u8]) -> HashMap<String, String> {
    let form = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    if form {
        return url::form_urlencoded::parse(body).into_owned().collect();
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => map
            .into_iter()
            .map(|(k, v)| {
                let s = match v {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                (k, s)
            })
            .collect(),
        _ => HashMap::new(),
    }
}

/// `POST /oauth/tokens`.
pub(crate) async fn token_endpoint(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let p = params(&headers, &body);
    let grant_type = p.get("grant_type").cloned().unwrap_or_default();
    let presented_refresh = p.get("refresh_token").cloned();
    let (response, status, issued) = grant(&shared, &p, &grant_type);
    shared
        .oauth
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .grants
        .push(TokenGrant {
            at: Instant::now(),
            grant_type,
            refresh_token: if p.get("grant_type").map(String::as_str) == Some("refresh_token") {
                presented_refresh
            } else {
                None
            },
            status,
            issued_refresh_token: issued,
            code_verifier_presented: p.contains_key("code_verifier"),
            expires_in: p.get("expires_in").cloned(),
            refresh_token_expires_in: p.get("refresh_token_expires_in").cloned(),
        });
    response
}

fn grant(
    shared: &Shared,
    p: &HashMap<String, String>,
    grant_type: &str,
) -> (Response, u16, Option<String>) {
    let client_id = p.get("client_id").cloned().unwrap_or_default();
    let Some(client) = shared
        .config
        .oauth_clients
        .iter()
        .find(|c| c.identifier == client_id && Some(&c.secret) == p.get("client_secret"))
    else {
        return (
            oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "Client authentication failed due to unknown client, no client authentication included, or \
                 unsupported authentication method.",
            ),
            401,
            None,
        );
    };
    // Lifetimes the request may set: `expires_in` 5 minutes to 48 hours, `refresh_token_expires_in` 7 to 90 days
    // and longer than the access token's.
    let lifetimes = match requested_lifetimes(p) {
        Ok(l) => l,
        Err(description) => {
            return (
                oauth_error(StatusCode::BAD_REQUEST, "invalid_request", &description),
                400,
                None,
            );
        }
    };
    // A client from before refresh tokens, asked for no expiry: a token that never expires, and no refresh token.
    let never_expires = client.legacy && lifetimes.0.is_none();
    let access_ttl = lifetimes.0.unwrap_or(shared.config.access_token_ttl);
    let refresh_ttl = lifetimes.1.unwrap_or(shared.config.refresh_token_ttl);
    let mut reg = shared.oauth.lock().unwrap_or_else(|e| e.into_inner());
    let now = Instant::now();
    let issued = match grant_type {
        "authorization_code" => {
            let code = p.get("code").cloned().unwrap_or_default();
            let Some(g) = reg.codes.remove(&code) else {
                return (invalid_grant(), 400, None);
            };
            // PKCE (S256): BASE64URL(SHA256(code_verifier)) must equal the challenge of the authorization.
            let verifier_ok = match &g.code_challenge {
                None => true,
                Some(challenge) => p.get("code_verifier").is_some_and(|v| {
                    valid_verifier(v)
                        && base64::engine::general_purpose::URL_SAFE_NO_PAD
                            .encode(sha2::Sha256::digest(v.as_bytes()))
                            == *challenge
                }),
            };
            if g.client_id != client_id
                || g.expires < now
                || p.get("redirect_uri").is_some_and(|r| *r != g.redirect_uri)
                || !verifier_ok
            {
                return (invalid_grant(), 400, None);
            }
            let scope = p.get("scope").cloned().unwrap_or(g.scope);
            if never_expires {
                let access = reg.issue_everlasting(g.user_id);
                let body = json!({
                    "access_token": access,
                    "token_type": "bearer",
                    "scope": scope,
                });
                return ((StatusCode::OK, Json(body)).into_response(), 200, None);
            }
            reg.issue(&client_id, g.user_id, &scope, access_ttl, refresh_ttl)
        }
        "refresh_token" => {
            let presented = p.get("refresh_token").cloned().unwrap_or_default();
            // Single use: the presented token is deleted whatever happens next.
            let Some(old) = reg.refresh.remove(&presented) else {
                return (invalid_grant(), 400, None);
            };
            if old.client_id != client_id || old.expires < now {
                return (invalid_grant(), 400, None);
            }
            // A successful refresh deletes the previous access token too.
            reg.access.remove(&old.access_token);
            let scope = p.get("scope").cloned().unwrap_or(old.scope);
            reg.issue(&client_id, old.user_id, &scope, access_ttl, refresh_ttl)
        }
        _ => {
            return (
                oauth_error(
                    StatusCode::BAD_REQUEST,
                    "unsupported_grant_type",
                    "The authorization grant type is not supported by the authorization server.",
                ),
                400,
                None,
            );
        }
    };
    let scope = reg
        .refresh
        .get(&issued.refresh_token)
        .map(|r| r.scope.clone())
        .unwrap_or_default();
    let body = json!({
        "access_token": issued.access_token,
        "refresh_token": issued.refresh_token,
        "token_type": "bearer",
        "scope": scope,
        "expires_in": shared.config.reported_expires_in.unwrap_or(access_ttl.as_secs()),
        "refresh_token_expires_in": refresh_ttl.as_secs(),
    });
    (
        (StatusCode::OK, Json(body)).into_response(),
        200,
        Some(issued.refresh_token),
    )
}

/// The `expires_in` and `refresh_token_expires_in` of a token request, checked against the ranges Zendesk
/// accepts; `Err` is the `error_description` of a 400 `invalid_request`.
fn requested_lifetimes(
    p: &HashMap<String, String>,
) -> Result<(Option<Duration>, Option<Duration>), String> {
    let seconds =
        |key: &str, range: std::ops::RangeInclusive<u64>| -> Result<Option<u64>, String> {
            let Some(raw) = p.get(key) else {
                return Ok(None);
            };
            match raw.trim().parse::<u64>() {
                Ok(s) if range.contains(&s) => Ok(Some(s)),
                _ => Err(format!(
                    "{key} must be an integer number of seconds between {} and {}",
                    range.start(),
                    range.end()
                )),
            }
        };
    let access = seconds("expires_in", 300..=172_800)?;
    let refresh = seconds("refresh_token_expires_in", 604_800..=7_776_000)?;
    if let (Some(a), Some(r)) = (access, refresh)
        && r <= a
    {
        return Err("refresh_token_expires_in must be greater than expires_in".into());
    }
    Ok((
        access.map(Duration::from_secs),
        refresh.map(Duration::from_secs),
    ))
}

/// `GET /oauth/authorizations/new`: the consent screen, auto-approved by the first agent; redirects to
/// `redirect_uri?code=...&state=...`.
pub(crate) async fn authorize(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let client_id = q.get("client_id").cloned().unwrap_or_default();
    let redirect_uri = q.get("redirect_uri").cloned().unwrap_or_default();
    if q.get("response_type").map(String::as_str) != Some("code")
        || !shared
            .config
            .oauth_clients
            .iter()
            .any(|c| c.identifier == client_id)
        || redirect_uri.is_empty()
    {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_request", "error_description": "unknown client or bad request"})),
        )
            .into_response();
    }
    // PKCE: a challenge needs `code_challenge_method=S256` (the method Zendesk supports) and the shape of a
    // BASE64URL-encoded SHA-256 digest (43 characters).
    let challenge = q.get("code_challenge").cloned();
    if let Some(c) = &challenge {
        let method_ok = q.get("code_challenge_method").map(String::as_str) == Some("S256");
        let shape_ok = c.len() == 43
            && c.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !method_ok || !shape_ok {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": "invalid_request", "error_description": "code_challenge must be a S256 challenge with code_challenge_method=S256"})),
            )
                .into_response();
        }
    }
    let user_id = shared.config.agents.first().map_or(1, |a| a.id);
    let code = shared
        .oauth
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .new_code(
            &client_id,
            &redirect_uri,
            q.get("scope").map_or("read", String::as_str),
            user_id,
            challenge,
        );
    let mut target = match url::Url::parse(&redirect_uri) {
        Ok(u) => u,
        Err(_) => return (StatusCode::BAD_REQUEST, "bad redirect_uri").into_response(),
    };
    target.query_pairs_mut().append_pair("code", &code);
    if let Some(state) = q.get("state") {
        target.query_pairs_mut().append_pair("state", state);
    }
    (StatusCode::FOUND, [("location", target.as_str())], "").into_response()
}
