//! The application layer: where the parts of the product are put together for a tenant.
//!
//! The upstream clients (`workday`, `zendesk`) are pure adapters — configuration and credentials in, typed
//! results out — and never read the database, the vault or the command line. This layer does: it reads a tenant's
//! settings and sealed secrets and assembles its clients, mapping and limits into a [`TenantContext`]. The command
//! line (`cli`), the HTTP layer (`http`) and background work (maintenance now; sync and enrichment next) start
//! from here. See `docs/architecture.md` for who may call whom.
//!
//! - [`App`]: configuration, storage, the unlocked vault, and the tenants' contexts (cached).
//! - [`TenantContext`]: one tenant's typed settings, mapping, limits, and Workday and Zendesk clients.
//! - [`tokens`]: OAuth tokens sealed in the database, for the clients' rotation sessions.
//! - [`probe`]: `ml-connector check --tenant`: one cheap call per upstream.
//! - [`maintenance`]: periodic housekeeping of the database while `serve` runs.

pub mod context;
pub mod invalidation;
pub mod maintenance;
pub mod probe;
pub mod setup;
pub mod tokens;

use std::fmt;
use std::sync::Arc;

pub use context::{ContextError, TenantContext, TenantLimits, TenantSetting};

use crate::config::Config;
use crate::store::Store;
use crate::tenant::TenantId;
use crate::vault::Vault;

/// How many tenants' contexts a process keeps.
const CONTEXT_CACHE_CAPACITY: u64 = 10_000;

/// The long-lived parts of the application: configuration, storage, the unlocked vault, and the tenants'
/// contexts. Cheap to clone; build one per process (the server, a CLI command, a worker) and share it.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    store: Store,
    vault: Arc<Vault>,
    contexts: moka::future::Cache<TenantId, Arc<TenantContext>>,
    changes: tokio::sync::broadcast::Sender<invalidation::Changed>,
    /// Changes other processes made, relayed by [`invalidation::run_postgres_bridge`].
    remote_changes: tokio::sync::broadcast::Sender<invalidation::Changed>,
    queue_signal: Arc<tokio::sync::Notify>,
}

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App")
            .field("backend", &self.inner.store.backend())
            .field("key_id", &self.inner.vault.key_id())
            .finish_non_exhaustive()
    }
}

impl App {
    /// Bundles the configuration, an open store and the vault it was unlocked with.
    pub fn new(config: Config, store: Store, vault: Vault) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                store,
                vault: Arc::new(vault),
                contexts: moka::future::Cache::builder()
                    .max_capacity(CONTEXT_CACHE_CAPACITY)
                    .build(),
                changes: tokio::sync::broadcast::channel(invalidation::CAPACITY).0,
                remote_changes: tokio::sync::broadcast::channel(invalidation::CAPACITY).0,
                queue_signal: Arc::new(tokio::sync::Notify::new()),
            }),
        }
    }

    /// The process configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Storage.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The unlocked vault.
    pub fn vault(&self) -> &Vault {
        &self.inner.vault
    }

    /// A shared handle on the vault, for long-lived users (a client's token persistence).
    pub fn vault_handle(&self) -> Arc<Vault> {
        self.inner.vault.clone()
    }

    /// Tenant `id`'s context. The same context (and so the same clients, rate limiter and OAuth sessions) is
    /// handed out while the tenant's row and secrets are unchanged; a change to either, by this process or
    /// another, is seen at the next call (one cheap query checks it), and a new context is resolved.
    pub async fn tenant(&self, id: &TenantId) -> Result<Arc<TenantContext>, context::ContextError> {
        let version = self
            .store()
            .tenant_version(id)
            .await?
            .ok_or_else(|| ContextError::UnknownTenant(id.clone()))?;
        if let Some(cached) = self.inner.contexts.get(id).await
            && cached.version == version
        {
            return Ok(cached);
        }
        let fresh = Arc::new(TenantContext::resolve(self, id).await?);
        self.inner.contexts.insert(id.clone(), fresh.clone()).await;
        Ok(fresh)
    }

    /// Changes to indexed objects (suppliers, invoices) made by this process's syncs, for caches to drop.
    pub fn invalidations(&self) -> tokio::sync::broadcast::Receiver<invalidation::Changed> {
        self.inner.changes.subscribe()
    }

    /// Changes to indexed objects made by other processes on the same PostgreSQL database (relayed with
    /// `LISTEN`/`NOTIFY`), for caches to drop.
    pub fn remote_invalidations(&self) -> tokio::sync::broadcast::Receiver<invalidation::Changed> {
        self.inner.remote_changes.subscribe()
    }

    /// Relays a change another process announced.
    pub fn announce_remote(&self, change: invalidation::Changed) {
        let _ = self.inner.remote_changes.send(change);
    }

    /// Announces a change to the subscribers of [`Self::invalidations`] (none listening is fine).
    pub fn invalidate(&self, change: invalidation::Changed) {
        let _ = self.inner.changes.send(change);
    }

    /// Wakes this process's idle enrichment workers: signalled when a webhook event was queued.
    pub fn queue_signal(&self) -> Arc<tokio::sync::Notify> {
        self.inner.queue_signal.clone()
    }

    /// Drops tenant `id`'s cached context (after it was removed, say).
    pub async fn forget(&self, id: &TenantId) {
        self.inner.contexts.invalidate(id).await;
    }
}
