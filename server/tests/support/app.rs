//! The real application on port 0, started by `startup::start` — the code path of `ml-connector serve` — on a
//! fresh database of each backend.

use ml_connector::app::App;
use ml_connector::config::Config;
use ml_connector::http::AppState;
use ml_connector::startup::{self, Server};
use ml_connector::store::Store;
use ml_connector::vault::{KeySource, Vault};

use super::db::{TestDb, test_config, test_dbs};

/// A running server on its own database and data directory (with the master key `serve` generates there).
pub struct TestApp {
    /// `sqlite` or `postgres`.
    pub name: &'static str,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// A client for it.
    pub client: reqwest::Client,
    server: Option<Server>,
    _db: TestDb,
    _dir: tempfile::TempDir,
}

impl TestApp {
    /// Starts the application on `db`, with the test configuration (port 0) adjusted by `tweak`.
    pub async fn spawn(db: TestDb, tweak: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = test_config(dir.path(), &db.url);
        // No enrichment workers unless a test asks: the HTTP suites look at queued events as they were stored.
        config.enrichment.workers = 0;
        tweak(&mut config);
        // As `serve` resolves it without MLC_MASTER_KEY: the key file in the data directory, created on a fresh
        // database.
        let keys = KeySource::resolve(None, &config.vault.key_file, &config.data_dir);
        let server = startup::start(config, &keys)
            .await
            .unwrap_or_else(|e| panic!("{}: the application does not start: {e}", db.name));
        Self {
            name: db.name,
            base: format!("http://{}", server.addr()),
            client: reqwest::Client::new(),
            server: Some(server),
            _db: db,
            _dir: dir,
        }
    }

    /// Its data directory (the generated master key is there).
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// What the handlers share.
    pub fn state(&self) -> &AppState {
        self.server.as_ref().expect("running").state()
    }

    /// The application (configuration, store, vault, tenant contexts).
    pub fn app(&self) -> &App {
        self.state().app()
    }

    /// Its store.
    pub fn store(&self) -> &Store {
        self.app().store()
    }

    /// Its vault.
    pub fn vault(&self) -> &Vault {
        self.app().vault()
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Stops it as SIGTERM would, waiting for in-flight requests; fails the test if it does not stop cleanly.
    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.expect("a clean shutdown");
        }
    }
}

/// The application on a fresh database of each backend (SQLite always, PostgreSQL as [`test_dbs`] says), each
/// configured by `tweak`.
pub async fn spawn_apps(tweak: impl Fn(&mut Config)) -> Vec<TestApp> {
    let mut apps = Vec::new();
    for db in test_dbs().await {
        apps.push(TestApp::spawn(db, &tweak).await);
    }
    apps
}
