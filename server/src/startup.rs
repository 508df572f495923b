//! Bringing the process up: config → store (migrations) → vault (key checked against the canary) → HTTP.

use secrecy::SecretString;

use crate::config::{Config, ENV_MASTER_KEY};
use crate::http::{self, AppState};
use crate::store::{Store, StoreError};
use crate::vault::{KeySource, Vault};

/// The long-lived services every command needs.
#[derive(Debug)]
pub struct Services {
    /// Storage.
    pub store: Store,
    /// The unlocked vault.
    pub vault: Vault,
}

/// Where the master key comes from under `config` and the process environment.
pub fn key_source(config: &Config) -> KeySource {
    let env_key = std::env::var(ENV_MASTER_KEY).ok().map(SecretString::from);
    KeySource::resolve(env_key, &config.vault.key_file, &config.data_dir)
}

/// Opens the store (running migrations) and unlocks the vault.
pub async fn open(config: &Config, keys: &KeySource) -> Result<Services, StoreError> {
    let store = open_store(config).await?;
    let vault = store.unlock_vault(keys).await?;
    Ok(Services { store, vault })
}

/// Opens the store only (creating the data directory for the embedded default).
pub async fn open_store(config: &Config) -> Result<Store, StoreError> {
    if config.database_url.trim().is_empty() {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| StoreError::Corrupt {
            context: "creating the data directory",
            message: format!("{}: {e}", config.data_dir.display()),
        })?;
    }
    Store::open(&config.effective_database_url(), &config.store).await
}

/// Serves HTTP on `listener` until `shutdown` resolves.
pub async fn serve(
    config: Config,
    services: Services,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let store = services.store.clone();
    let metrics = crate::telemetry::metrics_handle();
    let state = AppState::new(config, services.store, services.vault, metrics.clone())
        .map_err(|e| std::io::Error::other(format!("cannot start the plugin host: {e}")))?;
    let host = state.plugins().clone();
    // Load every active plugin's compiled artifact now rather than on its first call.
    let warm_store = store.clone();
    tokio::spawn(async move {
        match crate::mapper::MapperService::new(&warm_store, &host)
            .warm()
            .await
        {
            Ok(n) => tracing::info!(plugins = n, "active plugins loaded"),
            Err(e) => tracing::warn!(error = %e, "cannot load active plugins"),
        }
    });
    let upkeep = tokio::spawn(crate::telemetry::run_metrics_upkeep(metrics));
    let result = http::serve(listener, state, shutdown).await;
    upkeep.abort();
    store.close().await;
    result
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; draining in-flight requests");
}
