//! Where a tenant's Workday refresh token lives.
//!
//! A Workday API client may be set up to rotate refresh tokens: every refresh-token grant answers a new one
//! and the old one stops working. The OAuth session ([`super::oauth::OAuthSession`]) therefore persists a
//! rotated token through a [`RefreshTokenStore`] the moment Workday issues it (before the access token is
//! handed out), and re-reads the stored one before each grant, in case another process (the server, a
//! `check` run) rotated it meanwhile. [`StoreRefreshTokens`] seals it in the tenant's secrets;
//! [`MemoryRefreshTokens`] keeps it in memory (tests, tools without a database).

use std::fmt;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use secrecy::SecretString;

use super::error::WorkdayError;
use crate::store::Store;
use crate::tenant::{SecretName, TenantId};
use crate::vault::Vault;

/// Persistence of one tenant's Workday refresh token.
#[async_trait]
pub trait RefreshTokenStore: Send + Sync + fmt::Debug {
    /// The refresh token stored now, if any.
    async fn load(&self) -> Result<Option<SecretString>, WorkdayError>;
    /// Replaces the stored refresh token with the one Workday just rotated to.
    async fn save(&self, refresh_token: &SecretString) -> Result<(), WorkdayError>;
}

/// The tenant's sealed `workday-refresh-token` secret.
pub struct StoreRefreshTokens {
    store: Store,
    vault: Arc<Vault>,
    tenant: TenantId,
}

impl StoreRefreshTokens {
    /// The refresh token of `tenant` in `store`, sealed by `vault`.
    pub fn new(store: Store, vault: Arc<Vault>, tenant: TenantId) -> Self {
        Self {
            store,
            vault,
            tenant,
        }
    }
}

impl fmt::Debug for StoreRefreshTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreRefreshTokens")
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl RefreshTokenStore for StoreRefreshTokens {
    async fn load(&self) -> Result<Option<SecretString>, WorkdayError> {
        self.store
            .secret(&self.vault, &self.tenant, SecretName::WorkdayRefreshToken)
            .await
            .map_err(|e| WorkdayError::TokenStore(e.to_string()))
    }

    async fn save(&self, refresh_token: &SecretString) -> Result<(), WorkdayError> {
        self.store
            .put_secret(
                &self.vault,
                &self.tenant,
                SecretName::WorkdayRefreshToken,
                refresh_token,
            )
            .await
            .map_err(|e| WorkdayError::TokenStore(e.to_string()))
    }
}

/// A refresh token kept in memory.
#[derive(Default)]
pub struct MemoryRefreshTokens {
    token: Mutex<Option<SecretString>>,
}

impl MemoryRefreshTokens {
    /// Starts with `token`.
    pub fn new(token: Option<SecretString>) -> Self {
        Self {
            token: Mutex::new(token),
        }
    }

    /// The token held now.
    pub fn current(&self) -> Option<SecretString> {
        self.token
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl fmt::Debug for MemoryRefreshTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryRefreshTokens")
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl RefreshTokenStore for MemoryRefreshTokens {
    async fn load(&self) -> Result<Option<SecretString>, WorkdayError> {
        Ok(self.current())
    }

    async fn save(&self, refresh_token: &SecretString) -> Result<(), WorkdayError> {
        *self
            .token
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(refresh_token.clone());
        Ok(())
    }
}
