//! Admin authentication: `Authorization: Bearer {admin key}` for `/admin/v1/{tenant}/...`.
//!
//! The key is checked against the tenant's stored hash. An unknown tenant and a wrong key get the same answer,
//! so the endpoint does not reveal which tenants exist.

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::header;
use axum::http::request::Parts;

use super::error::ApiError;
use super::state::AppState;
use crate::tenant::{AdminKey, TenantId};

/// A request authenticated with the admin key of the tenant named in its path.
#[derive(Debug, Clone)]
pub struct AdminTenant(pub TenantId);

impl FromRequestParts<AppState> for AdminTenant {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let tenant = path_tenant(parts, state).await?;
        let presented = bearer(parts)?;
        let stored = state.store().admin_key_hash(&tenant).await?;
        match stored {
            Some(hash) if AdminKey::verify(presented, &hash) => Ok(Self(tenant)),
            _ => Err(ApiError::unauthorized(
                "invalid_credentials",
                "the admin key is not valid for this tenant",
            )),
        }
    }
}

/// The `{tenant}` of a request's path (400 `invalid_tenant` when it is not a tenant id).
pub async fn path_tenant(parts: &mut Parts, state: &AppState) -> Result<TenantId, ApiError> {
    let params = RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(|_| ApiError::internal(anyhow::anyhow!("tenant route without path parameters")))?;
    let raw = params
        .iter()
        .find(|(name, _)| *name == "tenant")
        .map(|(_, value)| value.to_string())
        .ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!(
                "tenant route without a {{tenant}} parameter"
            ))
        })?;
    TenantId::parse(&raw).map_err(|e| ApiError::bad_request("invalid_tenant", e.to_string()))
}

/// The bearer token of a request, or a 401 that says what is wrong with the header.
pub fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let value = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
        ApiError::unauthorized(
            "missing_credentials",
            "an Authorization: Bearer header is required",
        )
    })?;
    let value = value.to_str().map_err(|_| {
        ApiError::unauthorized(
            "invalid_credentials",
            "the Authorization header is not valid text",
        )
    })?;
    let (scheme, token) = value.split_once(' ').ok_or_else(|| {
        ApiError::unauthorized(
            "invalid_credentials",
            "expected `Authorization: Bearer TOKEN`",
        )
    })?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::unauthorized(
            "invalid_credentials",
            "expected `Authorization: Bearer TOKEN`",
        ));
    }
    Ok(token.trim())
}
