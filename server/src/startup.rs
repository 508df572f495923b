//! Bringing the process up: config → store (migrations) → vault (key checked against the canary) → the
//! application → HTTP and the background tasks. `ml-connector serve` and the test harness both go through
//! [`start`], so what the tests run is what production runs.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use secrecy::SecretString;
use tokio::task::JoinHandle;

use crate::app::App;
use crate::config::{Config, ENV_MASTER_KEY};
use crate::http::{self, AppState};
use crate::store::{Store, StoreError};
use crate::vault::KeySource;

/// Where the master key comes from under `config` and the process environment.
pub fn key_source(config: &Config) -> KeySource {
    let env_key = std::env::var(ENV_MASTER_KEY).ok().map(SecretString::from);
    KeySource::resolve(env_key, &config.vault.key_file, &config.data_dir)
}

/// Opens the store (running migrations), unlocks the vault and builds the application.
pub async fn open(config: Config, keys: &KeySource) -> Result<App, StoreError> {
    let store = open_store(&config).await?;
    let vault = store.unlock_vault(keys).await?;
    Ok(App::new(config, store, vault))
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

/// Why the server did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database or the vault.
    #[error("cannot open the database and vault: {0}")]
    Store(#[from] StoreError),
    /// The listening address.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// `server.listen`.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The WebAssembly plugin host.
    #[error("cannot start the plugin host: {0}")]
    PluginHost(String),
}

/// A running server (see [`start`]).
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    state: AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

/// What `ml-connector serve` runs: opens the store and the vault, builds the application, listens on
/// `config.server.listen` (port 0: any free port, see [`Server::addr`]), and serves the HTTP API with its
/// background tasks — loading the active plugins, the metrics upkeep, and the periodic maintenance
/// (`[maintenance]`) — until [`Server::run_until`] or [`Server::shutdown`] stops it.
pub async fn start(config: Config, keys: &KeySource) -> Result<Server, StartError> {
    let listen = config.server.listen;
    let app = open(config, keys).await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| StartError::Listen {
            addr: listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Listen {
        addr: listen,
        source,
    })?;
    let metrics = crate::telemetry::metrics_handle();
    let state = AppState::new(app.clone(), metrics.clone())
        .map_err(|e| StartError::PluginHost(e.to_string()))?;
    tracing::info!(
        %addr,
        backend = app.store().backend().as_str(),
        key_id = %app.vault().key_id(),
        "ml-connector listening"
    );
    // Load every active plugin's compiled artifact now rather than on its first call.
    let (warm_store, host) = (app.store().clone(), state.plugins().clone());
    let warm = tokio::spawn(async move {
        match crate::mapper::MapperService::new(&warm_store, &host)
            .warm()
            .await
        {
            Ok(n) => tracing::info!(plugins = n, "active plugins loaded"),
            Err(e) => tracing::warn!(error = %e, "cannot load active plugins"),
        }
    });
    let upkeep = tokio::spawn(crate::telemetry::run_metrics_upkeep(metrics));
    let bridge = tokio::spawn(crate::app::invalidation::run_postgres_bridge(app.clone()));
    let maintenance = tokio::spawn(crate::app::maintenance::run(
        app.store().clone(),
        app.config().maintenance.clone(),
    ));
    let scheduler = tokio::spawn(crate::sync::scheduler::run(
        app.clone(),
        state.plugins().clone(),
    ));
    let enrichment = tokio::spawn(crate::sync::enrich::worker::run(
        app.clone(),
        state.plugins().clone(),
    ));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = state.clone();
    let task = tokio::spawn(async move {
        let result = http::serve(listener, serving, async {
            let _ = stopped.await;
        })
        .await;
        for background in [warm, upkeep, maintenance, scheduler, enrichment, bridge] {
            background.abort();
        }
        app.store().close().await;
        result
    });
    Ok(Server {
        addr,
        state,
        stop: Some(stop),
        task,
    })
}

impl Server {
    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The state its handlers share (the application, the plugin host, metrics).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `signal` resolves, then stops accepting connections and gives in-flight requests up to
    /// `grace` to finish. Returns early if the server fails.
    pub async fn run_until(
        mut self,
        signal: impl Future<Output = ()>,
        grace: Duration,
    ) -> std::io::Result<()> {
        tokio::select! {
            done = &mut self.task => return joined(done),
            () = signal => {}
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match tokio::time::timeout(grace, &mut self.task).await {
            Ok(done) => joined(done),
            Err(_) => {
                tracing::warn!(
                    grace_secs = grace.as_secs(),
                    "requests still running after the grace period; exiting"
                );
                self.task.abort();
                Ok(())
            }
        }
    }

    /// Stops accepting connections, waits for in-flight requests, and closes the store.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        joined((&mut self.task).await)
    }
}

fn joined(done: Result<std::io::Result<()>, tokio::task::JoinError>) -> std::io::Result<()> {
    done.map_err(|e| std::io::Error::other(format!("the server task failed: {e}")))?
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
