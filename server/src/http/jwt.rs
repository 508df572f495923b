//! Agent authentication: `Authorization: Bearer {jwt}` for `/api/v1/{tenant}/...`.
//!
//! The token is the one Zendesk's app proxy signs for the sidebar app (ZAF `client.request({jwt: {algorithm:
//! 'HS256', secret_key: '{{setting.shared_secret}}', expiry}})`) with the tenant's `jwt-shared-secret`. The
//! tenant comes from the path and is proven by the signature; no claim is trusted beyond "this came through that
//! tenant's Zendesk". HS256 only (no `none`, no RS/HS confusion); `exp` required; a lifetime longer than
//! `agent.jwt_max_lifetime_secs` is refused; `nbf` and `iat` honoured, with `agent.jwt_leeway_secs` of clock skew.
//! Every refusal is a 401 with a reason code and nothing more, counted in `mlc_agent_auth_refusals_total`.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use secrecy::ExposeSecret as _;
use serde::Deserialize;

use super::error::ApiError;
use super::state::AppState;
use crate::tenant::TenantId;

/// A request authenticated with a JWT signed with the shared secret of the tenant named in its path, with that
/// tenant's context.
#[derive(Debug, Clone)]
pub struct AgentTenant(pub TenantId, pub std::sync::Arc<crate::app::TenantContext>);

#[derive(Debug, Deserialize)]
struct Claims {
    exp: i64,
    #[serde(default)]
    iat: Option<i64>,
}

fn refuse(code: &'static str, message: &'static str) -> ApiError {
    metrics::counter!("mlc_agent_auth_refusals_total", "reason" => code).increment(1);
    ApiError::unauthorized(code, message)
}

/// The `alg` a token's header declares, when the header is readable JSON.
fn declared_algorithm(token: &str) -> Option<String> {
    use base64::Engine as _;
    let head = token.split('.').next()?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(head.trim_end_matches('='))
        .ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    value.get("alg")?.as_str().map(str::to_string)
}

const BAD_SIGNATURE: &str = "the token is not signed with this tenant's shared secret";

impl FromRequestParts<AppState> for AgentTenant {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let tenant = super::auth::path_tenant(parts, state).await?;
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                refuse(
                    "missing_token",
                    "an Authorization: Bearer header with the app's token is required",
                )
            })?;
        let header = jsonwebtoken::decode_header(token).map_err(|_| {
            if declared_algorithm(token).is_some() {
                // `none`, or an algorithm this library does not even name.
                refuse("unsupported_algorithm", "only HS256 tokens are accepted")
            } else {
                refuse("malformed_token", "the token is not a JWT")
            }
        })?;
        if header.alg != Algorithm::HS256 {
            return Err(refuse(
                "unsupported_algorithm",
                "only HS256 tokens are accepted",
            ));
        }
        // An unknown tenant, or one without a shared secret, is refused like a wrong signature: the answer does
        // not tell which tenants exist.
        let ctx = match state.recent_tenant(&tenant).await {
            Ok(ctx) => ctx,
            Err(crate::app::ContextError::UnknownTenant(_)) => {
                return Err(refuse("invalid_signature", BAD_SIGNATURE));
            }
            Err(e) => return Err(e.into()),
        };
        let Some(secret) = ctx.jwt_secret().await.ok().flatten() else {
            return Err(refuse("invalid_signature", BAD_SIGNATURE));
        };
        let agent = &state.config().agent;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = agent.jwt_leeway_secs;
        validation.validate_nbf = true;
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp"]);
        let key = DecodingKey::from_secret(secret.expose_secret().as_bytes())
            .map_err(|_| refuse("invalid_signature", BAD_SIGNATURE))?;
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => refuse("token_expired", "the token has expired"),
                ErrorKind::ImmatureSignature => {
                    refuse("token_not_yet_valid", "the token is not valid yet")
                }
                ErrorKind::InvalidSignature => refuse("invalid_signature", BAD_SIGNATURE),
                ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
                    refuse("unsupported_algorithm", "only HS256 tokens are accepted")
                }
                _ => refuse(
                    "malformed_token",
                    "the token is malformed or lacks a required claim (exp)",
                ),
            })?
            .claims;
        let now = chrono::Utc::now().timestamp();
        let leeway = i64::try_from(agent.jwt_leeway_secs).unwrap_or(0);
        let max = i64::try_from(agent.jwt_max_lifetime_secs).unwrap_or(i64::MAX);
        if let Some(iat) = claims.iat
            && iat > now.saturating_add(leeway)
        {
            return Err(refuse(
                "token_not_yet_valid",
                "the token was issued in the future",
            ));
        }
        let issued = claims.iat.unwrap_or(now);
        if claims.exp.saturating_sub(issued) > max.saturating_add(leeway) {
            return Err(refuse(
                "token_lifetime_too_long",
                "the token's lifetime is longer than this server accepts",
            ));
        }
        Ok(Self(tenant, ctx))
    }
}
