//! What every handler can reach.

use std::sync::Arc;
use std::time::Instant;

use metrics_exporter_prometheus::PrometheusHandle;

use crate::config::Config;
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
    config: Config,
    store: Store,
    vault: Arc<Vault>,
    metrics: PrometheusHandle,
    started: Instant,
    /// The WebAssembly plugin host.
    plugins: PluginHost,
}

impl AppState {
    /// Bundles the parts and builds the plugin host (from `config.plugins`, its artifacts keyed by `vault`);
    /// fails when the host cannot be built, so the process does not serve without it.
    pub fn new(
        config: Config,
        store: Store,
        vault: Vault,
        metrics: PrometheusHandle,
    ) -> Result<Self, UploadError> {
        let plugins = PluginHost::new(&config.plugins, crate::mapper::host::artifact_key(&vault))?;
        Ok(Self {
            inner: Arc::new(Inner {
                plugins,
                config,
                store,
                vault: Arc::new(vault),
                metrics,
                started: Instant::now(),
            }),
        })
    }

    /// Process configuration.
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

    /// A shared handle on the vault, for long-lived users (e.g. a Zendesk client's OAuth token store).
    pub fn vault_handle(&self) -> Arc<Vault> {
        self.inner.vault.clone()
    }

    /// Prometheus renderer.
    pub fn metrics(&self) -> &PrometheusHandle {
        &self.inner.metrics
    }

    /// The plugin host.
    pub fn plugins(&self) -> &PluginHost {
        &self.inner.plugins
    }

    /// When the process started serving.
    pub fn started(&self) -> Instant {
        self.inner.started
    }
}
