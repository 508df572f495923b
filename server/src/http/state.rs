//! What every handler can reach.

use std::sync::Arc;
use std::time::Instant;

use metrics_exporter_prometheus::PrometheusHandle;

use crate::app::App;
use crate::config::Config;
use crate::lookup::LookupCache;
use crate::lookup::references::ReferencePatterns;
use crate::mapper::PluginHost;
use crate::mapper::host::UploadError;
use crate::store::Store;
use crate::vault::Vault;

/// Shared application state. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    app: App,
    metrics: PrometheusHandle,
    started: Instant,
    /// The WebAssembly plugin host.
    plugins: PluginHost,
    /// The agent API's cache of Workday reads.
    lookups: Arc<LookupCache>,
    /// The patterns that find invoice and PO numbers in a ticket's text (`enrichment.*_patterns`).
    patterns: ReferencePatterns,
    /// Tenant contexts the agent API checked within `agent.tenant_recheck_ms`.
    recent: moka::future::Cache<crate::tenant::TenantId, Arc<crate::app::TenantContext>>,
}

impl AppState {
    /// Bundles the application and the metrics renderer, and builds the plugin host (from `config.plugins`, its
    /// artifacts keyed by the vault); fails when the host cannot be built, so the process does not serve without
    /// it.
    pub fn new(app: App, metrics: PrometheusHandle) -> Result<Self, UploadError> {
        let plugins = PluginHost::new(
            &app.config().plugins,
            crate::mapper::host::artifact_key(app.vault()),
        )?;
        let lookups = Arc::new(LookupCache::new(&app.config().agent));
        LookupCache::follow_invalidations(&lookups, &app);
        // Checked when the configuration was loaded; a failure here would be a bug, not a user's mistake.
        let patterns = app
            .config()
            .enrichment
            .patterns()
            .map_err(|e| UploadError::Host(format!("enrichment patterns: {e}")))?;
        let recent = moka::future::Cache::builder()
            .max_capacity(10_000)
            .time_to_live(std::time::Duration::from_millis(
                app.config().agent.tenant_recheck_ms.max(1),
            ))
            .build();
        Ok(Self {
            inner: Arc::new(Inner {
                plugins,
                lookups,
                recent,
                patterns,
                app,
                metrics,
                started: Instant::now(),
            }),
        })
    }

    /// The application: configuration, storage, vault and the tenants' contexts.
    pub fn app(&self) -> &App {
        &self.inner.app
    }

    /// Process configuration.
    pub fn config(&self) -> &Config {
        self.inner.app.config()
    }

    /// Storage.
    pub fn store(&self) -> &Store {
        self.inner.app.store()
    }

    /// The unlocked vault.
    pub fn vault(&self) -> &Vault {
        self.inner.app.vault()
    }

    /// Prometheus renderer.
    pub fn metrics(&self) -> &PrometheusHandle {
        &self.inner.metrics
    }

    /// The plugin host.
    pub fn plugins(&self) -> &PluginHost {
        &self.inner.plugins
    }

    /// The agent API's cache.
    pub fn lookups(&self) -> &LookupCache {
        &self.inner.lookups
    }

    /// Tenant `id`'s context for an agent request: the one checked within `agent.tenant_recheck_ms`, else
    /// [`App::tenant`] (which checks the tenant's row and secrets for changes).
    pub async fn recent_tenant(
        &self,
        id: &crate::tenant::TenantId,
    ) -> Result<Arc<crate::app::TenantContext>, crate::app::ContextError> {
        if self.config().agent.tenant_recheck_ms > 0
            && let Some(ctx) = self.inner.recent.get(id).await
        {
            return Ok(ctx);
        }
        let ctx = self.app().tenant(id).await?;
        self.inner.recent.insert(id.clone(), ctx.clone()).await;
        Ok(ctx)
    }

    /// The patterns that find invoice and PO numbers in a text.
    pub fn patterns(&self) -> &ReferencePatterns {
        &self.inner.patterns
    }

    /// When the process started serving.
    pub fn started(&self) -> Instant {
        self.inner.started
    }
}
