//! Where a tenant's OAuth tokens are persisted: sealed in the database, as the tenant's secrets.
//!
//! The upstream clients rotate tokens through [`crate::upstream::RotatingSession`], which persists them through a
//! [`TokenPersistence`]; this is the real one. Both tokens of a pair are written in one transaction and read in
//! one query, so a rotation is never seen half done.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use secrecy::{ExposeSecret as _, SecretString};

use crate::store::Store;
use crate::tenant::{SecretName, TenantId};
use crate::upstream::{PersistError, TokenPair, TokenPersistence};
use crate::vault::Vault;

/// A tenant's tokens for one upstream, sealed in the database.
pub struct SealedTokens {
    store: Store,
    vault: Arc<Vault>,
    tenant: TenantId,
    /// Where the access token goes (`None`: access tokens are not kept).
    access: Option<SecretName>,
    refresh: SecretName,
    /// Where the refresh token's expiry goes (`None`: not kept).
    refresh_expiry: Option<SecretName>,
}

impl SealedTokens {
    /// The Workday API client's refresh token (`workday-refresh-token`).
    pub fn workday(store: Store, vault: Arc<Vault>, tenant: TenantId) -> Self {
        Self {
            store,
            vault,
            tenant,
            access: None,
            refresh: SecretName::WorkdayRefreshToken,
            refresh_expiry: None,
        }
    }

    /// The Zendesk OAuth pair (`zendesk-oauth-access-token`, `zendesk-oauth-refresh-token`) and the refresh
    /// token's expiry (`zendesk-oauth-refresh-expires-at`).
    pub fn zendesk(store: Store, vault: Arc<Vault>, tenant: TenantId) -> Self {
        Self {
            store,
            vault,
            tenant,
            access: Some(SecretName::ZendeskOauthAccessToken),
            refresh: SecretName::ZendeskOauthRefreshToken,
            refresh_expiry: Some(SecretName::ZendeskOauthRefreshExpiresAt),
        }
    }
}

impl fmt::Debug for SealedTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedTokens")
            .field("tenant", &self.tenant)
            .field("refresh", &self.refresh)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl TokenPersistence for SealedTokens {
    async fn load(&self) -> Result<Option<TokenPair>, PersistError> {
        let names: Vec<SecretName> = self
            .access
            .into_iter()
            .chain([self.refresh])
            .chain(self.refresh_expiry)
            .collect();
        // One read: a rotation in between must not pair an old access token with a new refresh token.
        let mut values = self
            .store
            .secrets(&self.vault, &self.tenant, &names)
            .await
            .map_err(|e| PersistError(e.to_string()))?
            .into_iter();
        let access = if self.access.is_some() {
            values.next().flatten()
        } else {
            None
        };
        let refresh = values.next().flatten();
        // An unreadable expiry is an unknown one: the tokens still work.
        let refresh_expires_at = values.next().flatten().and_then(|at| {
            chrono::DateTime::parse_from_rfc3339(at.expose_secret())
                .ok()
                .map(|at| at.with_timezone(&chrono::Utc))
        });
        Ok(
            (access.is_some() || refresh.is_some()).then_some(TokenPair {
                access_token: access,
                refresh_token: refresh,
                refresh_expires_at,
            }),
        )
    }

    async fn save(&self, tokens: &TokenPair) -> Result<(), PersistError> {
        let mut pairs = Vec::with_capacity(3);
        if let (Some(name), Some(token)) = (self.access, &tokens.access_token) {
            pairs.push((name, token));
        }
        if let Some(token) = &tokens.refresh_token {
            pairs.push((self.refresh, token));
        }
        // The expiry travels with its refresh token; an unknown one is written empty (it must not outlive the
        // token it was about).
        let expiry = SecretString::from(
            tokens
                .refresh_expires_at
                .map(|at| at.to_rfc3339())
                .unwrap_or_default(),
        );
        if let (Some(name), Some(_)) = (self.refresh_expiry, &tokens.refresh_token) {
            pairs.push((name, &expiry));
        }
        self.store
            .put_secrets(&self.vault, &self.tenant, &pairs)
            .await
            .map_err(|e| PersistError(e.to_string()))
    }
}
