//! A tenant's context: its settings read and checked once, and the clients, mapping and limits built from them.

use std::fmt;
use std::sync::Arc;

use secrecy::SecretString;
use tokio::sync::OnceCell;

use super::App;
use super::tokens::SealedTokens;
use crate::mapper::policy::TenantMapping;
use crate::store::{StoreError, TenantVersion};
use crate::tenant::{SecretName, Tenant, TenantId, TenantSettings, ZendeskAuthMode};
use crate::upstream::TokenPersistence;
use crate::vault::Vault;
use crate::workday::{
    Credentials as WorkdayCredentials, WorkdayClient, WorkdayConfig, WorkdayError,
};
use crate::zendesk::{
    ClientOptions, Credentials as ZendeskCredentials, OAuthClient, ZendeskClient, ZendeskConfig,
    ZendeskError,
};

/// A tenant setting that must be set for something to work. Callers turn it into their own hint (a command-line
/// option, an admin API field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenantSetting {
    /// `workday.base_url`.
    WorkdayUrl,
    /// `workday.tenant`.
    WorkdayTenant,
    /// `workday.username`.
    WorkdayUser,
    /// `zendesk.email` (API-token auth).
    ZendeskEmail,
    /// `zendesk.oauth_client_id` (OAuth).
    ZendeskOAuthClientId,
}

impl fmt::Display for TenantSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::WorkdayUrl => "the Workday URL",
            Self::WorkdayTenant => "the Workday tenant name",
            Self::WorkdayUser => "the Workday integration user",
            Self::ZendeskEmail => "the Zendesk agent e-mail (API-token auth)",
            Self::ZendeskOAuthClientId => "the Zendesk OAuth client id",
        })
    }
}

/// Why a tenant's context, or a part of it, cannot be had. Carries what is missing, never how to fix it on a
/// command line: the CLI and the HTTP layer add their own hints.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    /// No such tenant.
    #[error("tenant `{0}` does not exist")]
    UnknownTenant(TenantId),
    /// A secret the tenant needs is not stored.
    #[error("tenant {tenant}: secret {secret} is not set")]
    MissingSecret {
        /// The tenant.
        tenant: TenantId,
        /// The secret.
        secret: SecretName,
    },
    /// A setting the tenant needs is empty.
    #[error("tenant {tenant}: {setting} is not set")]
    MissingSetting {
        /// The tenant.
        tenant: TenantId,
        /// The setting.
        setting: TenantSetting,
    },
    /// The tenant's mapping settings do not hold together (a rule names an unknown source or misfits its field).
    #[error("tenant {tenant}: the mapping settings are invalid: {message}")]
    InvalidSettings {
        /// The tenant.
        tenant: TenantId,
        /// What is wrong, naming the rule.
        message: String,
    },
    /// The Workday client cannot be built (e.g. a malformed URL).
    #[error(transparent)]
    Workday(WorkdayError),
    /// The Zendesk client cannot be built, or a Zendesk call failed.
    #[error(transparent)]
    Zendesk(ZendeskError),
    /// Storage.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for ContextError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound {
                what: "tenant",
                key,
            } => match TenantId::parse(&key) {
                Ok(id) => Self::UnknownTenant(id),
                Err(_) => Self::Store(StoreError::NotFound {
                    what: "tenant",
                    key,
                }),
            },
            other => Self::Store(other),
        }
    }
}

impl ContextError {
    /// A short snake_case code, for API errors, logs and `check` lines.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownTenant(_) => "unknown_tenant",
            Self::MissingSecret { .. } => "missing_credentials",
            Self::MissingSetting { .. } => "missing_setting",
            Self::InvalidSettings { .. } => "invalid_mapping_settings",
            Self::Workday(e) => e.kind(),
            Self::Zendesk(e) => e.code(),
            Self::Store(_) => "store",
        }
    }
}

/// The limits a tenant's work runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TenantLimits {
    /// Requests per minute the Zendesk client paces itself at (the tenant's plan, else `zendesk.default_rate_limit_rpm`).
    pub zendesk_requests_per_minute: u32,
    /// Ticket updates per minute (Zendesk's Update Ticket limit, `zendesk.ticket_update_rpm`).
    pub zendesk_ticket_updates_per_minute: u32,
}

/// Everything a piece of work for one tenant needs, assembled in one place: the tenant, its settings (read and
/// checked once), its mapping and limits, and — built on first use, then shared by every user of the context —
/// its Workday and Zendesk clients (with their OAuth sessions and the Zendesk rate limiter).
///
/// Get one from [`App::tenant`] (cached per tenant while its settings and secrets are unchanged, for request
/// handlers and background workers alike) or [`TenantContext::resolve`] (always fresh). Resolving reads one row:
/// no secret is opened and no upstream is called until a client is asked for.
pub struct TenantContext {
    tenant: Tenant,
    mapping: TenantMapping,
    limits: TenantLimits,
    pub(super) version: TenantVersion,
    store: crate::store::Store,
    vault: Arc<Vault>,
    workday_config: WorkdayConfig,
    zendesk_config: ZendeskConfig,
    workday: OnceCell<WorkdayClient>,
    zendesk: OnceCell<ZendeskClient>,
    /// `jwt-shared-secret`, opened once per context (a new context is resolved when a secret changes).
    jwt_secret: OnceCell<Option<SecretString>>,
}

impl fmt::Debug for TenantContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TenantContext")
            .field("tenant", &self.tenant.id)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl TenantContext {
    /// Reads tenant `id` and checks its settings (no secret is opened).
    pub async fn resolve(app: &App, id: &TenantId) -> Result<Self, ContextError> {
        let store = app.store();
        let version = store
            .tenant_version(id)
            .await?
            .ok_or_else(|| ContextError::UnknownTenant(id.clone()))?;
        let tenant = store.tenant(id).await?;
        let config = app.config();
        let mapping = TenantMapping::from_settings(&tenant.settings, config.plugins.failure_policy)
            .map_err(|message| ContextError::InvalidSettings {
                tenant: id.clone(),
                message,
            })?;
        let limits = TenantLimits {
            zendesk_requests_per_minute: match tenant.zendesk.rate_limit_rpm {
                0 => config.zendesk.default_rate_limit_rpm,
                rpm => rpm,
            },
            zendesk_ticket_updates_per_minute: config.zendesk.ticket_update_rpm,
        };
        Ok(Self {
            tenant,
            mapping,
            limits,
            version,
            store: store.clone(),
            vault: app.vault_handle(),
            workday_config: config.workday.clone(),
            zendesk_config: config.zendesk.clone(),
            workday: OnceCell::new(),
            zendesk: OnceCell::new(),
            jwt_secret: OnceCell::new(),
        })
    }

    /// The tenant id.
    pub fn id(&self) -> &TenantId {
        &self.tenant.id
    }

    /// The tenant as stored (name, Workday and Zendesk connection settings).
    pub fn tenant(&self) -> &Tenant {
        &self.tenant
    }

    /// The tenant's own settings.
    pub fn settings(&self) -> &TenantSettings {
        &self.tenant.settings
    }

    /// The tenant's mapping: its checked declarative rules, field catalog and plugin failure policy.
    pub fn mapping(&self) -> &TenantMapping {
        &self.mapping
    }

    /// The limits the tenant's work runs under.
    pub fn limits(&self) -> &TenantLimits {
        &self.limits
    }

    /// The process's `[workday]` configuration the tenant's client is built with.
    pub fn workday_config(&self) -> &WorkdayConfig {
        &self.workday_config
    }

    /// The process's `[zendesk]` configuration the tenant's client is built with.
    pub fn zendesk_config(&self) -> &ZendeskConfig {
        &self.zendesk_config
    }

    /// One of the tenant's secrets, opened.
    pub async fn secret(&self, name: SecretName) -> Result<Option<SecretString>, ContextError> {
        Ok(self
            .store
            .secret(&self.vault, &self.tenant.id, name)
            .await?)
    }

    /// The shared secret of the sidebar app's JWTs (`jwt-shared-secret`), if set; opened once per context.
    pub async fn jwt_secret(&self) -> Result<Option<SecretString>, ContextError> {
        self.jwt_secret
            .get_or_try_init(|| self.secret(SecretName::JwtSharedSecret))
            .await
            .cloned()
    }

    async fn required_secret(&self, name: SecretName) -> Result<SecretString, ContextError> {
        self.secret(name)
            .await?
            .ok_or_else(|| ContextError::MissingSecret {
                tenant: self.tenant.id.clone(),
                secret: name,
            })
    }

    fn required_setting(&self, setting: TenantSetting, value: &str) -> Result<(), ContextError> {
        if value.trim().is_empty() {
            return Err(ContextError::MissingSetting {
                tenant: self.tenant.id.clone(),
                setting,
            });
        }
        Ok(())
    }

    /// The tenant's Workday client, built on first use and shared by every user of this context.
    pub async fn workday(&self) -> Result<WorkdayClient, ContextError> {
        self.workday
            .get_or_try_init(|| self.workday_with(&self.workday_config))
            .await
            .cloned()
    }

    /// A Workday client of its own for this tenant, configured with `config` (e.g. without retries, for a
    /// probe). A refresh token Workday rotates to is sealed as `workday-refresh-token` the moment it is issued.
    pub async fn workday_with(
        &self,
        config: &WorkdayConfig,
    ) -> Result<WorkdayClient, ContextError> {
        let t = &self.tenant;
        let password = self.required_secret(SecretName::WorkdayPassword).await?;
        let oauth = if t.workday.oauth_client_id.trim().is_empty() {
            None
        } else {
            let tokens: Arc<dyn TokenPersistence> = Arc::new(SealedTokens::workday(
                self.store.clone(),
                self.vault.clone(),
                t.id.clone(),
            ));
            Some((
                self.required_secret(SecretName::WorkdayClientSecret)
                    .await?,
                self.required_secret(SecretName::WorkdayRefreshToken)
                    .await?,
                tokens,
            ))
        };
        self.required_setting(TenantSetting::WorkdayUrl, &t.workday.base_url)?;
        self.required_setting(TenantSetting::WorkdayTenant, &t.workday.tenant)?;
        self.required_setting(TenantSetting::WorkdayUser, &t.workday.username)?;
        let credentials = WorkdayCredentials::from_settings(&t.workday, password, oauth);
        WorkdayClient::new(config, credentials).map_err(ContextError::Workday)
    }

    /// The tenant's Zendesk client, built on first use and shared by every user of this context (so that its
    /// rate limiter and OAuth session are the tenant's, not a caller's).
    pub async fn zendesk(&self) -> Result<ZendeskClient, ContextError> {
        self.zendesk
            .get_or_try_init(|| self.zendesk_with(&self.zendesk_config))
            .await
            .cloned()
    }

    /// A Zendesk client of its own for this tenant (its own limiter), configured with `config`. OAuth tokens are
    /// read from, and rotated into, the tenant's sealed `zendesk-oauth-*` secrets.
    pub async fn zendesk_with(
        &self,
        config: &ZendeskConfig,
    ) -> Result<ZendeskClient, ContextError> {
        let t = &self.tenant;
        let credentials = match t.zendesk.auth {
            ZendeskAuthMode::ApiToken => {
                let token = self.required_secret(SecretName::ZendeskApiToken).await?;
                self.required_setting(TenantSetting::ZendeskEmail, &t.zendesk.email)?;
                ZendeskCredentials::ApiToken {
                    email: t.zendesk.email.trim().to_string(),
                    token,
                }
            }
            ZendeskAuthMode::Oauth => {
                self.required_setting(
                    TenantSetting::ZendeskOAuthClientId,
                    &t.zendesk.oauth_client_id,
                )?;
                let secret = self
                    .required_secret(SecretName::ZendeskOauthClientSecret)
                    .await?;
                ZendeskCredentials::OAuth {
                    client: OAuthClient {
                        client_id: t.zendesk.oauth_client_id.trim().to_string(),
                        client_secret: secret,
                    },
                    tokens: Arc::new(SealedTokens::zendesk(
                        self.store.clone(),
                        self.vault.clone(),
                        t.id.clone(),
                    )),
                }
            }
        };
        ZendeskClient::new(
            ClientOptions {
                base_url: t.zendesk.effective_base_url(&t.id),
                rate_limit_rpm: t.zendesk.rate_limit_rpm,
                credentials,
            },
            config,
        )
        .map_err(ContextError::Zendesk)
    }
}
