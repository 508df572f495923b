//! What every handler can reach.

use std::sync::Arc;
use std::time::Instant;

use metrics_exporter_prometheus::PrometheusHandle;

use crate::config::Config;
use crate::mapper::PluginHost;
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
    /// The WebAssembly plugin host, or why it could not be built (plugin endpoints then answer 503).
    plugins: Result<PluginHost, String>,
}

impl AppState {
    /// Bundles the parts.
    pub fn new(config: Config, store: Store, vault: Vault, metrics: PrometheusHandle) -> Self {
        let plugins = PluginHost::new(&config.plugins, crate::mapper::host::artifact_key(&vault))
            .map_err(|e| e.to_string());
        Self {
            inner: Arc::new(Inner {
                plugins,
                config,
                store,
                vault: Arc::new(vault),
                metrics,
                started: Instant::now(),
            }),
        }
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

    /// The plugin host, or why it is unavailable.
    pub fn plugins(&self) -> Result<&PluginHost, &str> {
        self.inner.plugins.as_ref().map_err(String::as_str)
    }

    /// When the process started serving.
    pub fn started(&self) -> Instant {
        self.inner.started
    }
}
