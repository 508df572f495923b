//! Fresh databases on every backend.

use ml_connector::config::{Config, StoreConfig};
use ml_connector::store::Store;
use sqlx::Connection as _;

/// A fresh, empty database of one backend.
pub struct TestDb {
    pub name: &'static str,
    pub url: String,
    /// The SQLite file, when the backend is SQLite.
    pub sqlite_path: Option<std::path::PathBuf>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// The same database for a second process (a replica); the first keeps ownership of any files.
    pub fn shared(&self) -> TestDb {
        TestDb {
            name: self.name,
            url: self.url.clone(),
            sqlite_path: self.sqlite_path.clone(),
            _dir: None,
        }
    }

    pub async fn store(&self) -> Store {
        Store::open(&self.url, &StoreConfig::default())
            .await
            .expect("open store")
    }
}

/// SQLite always; PostgreSQL when `TEST_POSTGRES_URL` is set (required when `TEST_REQUIRE_POSTGRES` or `CI`
/// is set, so that CI can never pass by skipping it).
pub async fn test_dbs() -> Vec<TestDb> {
    let mut dbs = vec![sqlite_db()];
    match std::env::var("TEST_POSTGRES_URL") {
        Ok(url) => dbs.push(postgres_db(&url).await),
        Err(_) => {
            let required = std::env::var_os("TEST_REQUIRE_POSTGRES").is_some()
                || std::env::var_os("CI").is_some();
            assert!(
                !required,
                "TEST_POSTGRES_URL is not set; run the tests with scripts/test"
            );
            eprintln!(
                "note: TEST_POSTGRES_URL not set; PostgreSQL cases skipped (scripts/test sets it up)"
            );
        }
    }
    dbs
}

pub fn sqlite_db() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test.db");
    TestDb {
        name: "sqlite",
        url: format!("sqlite://{}?mode=rwc", path.display()),
        sqlite_path: Some(path),
        _dir: Some(dir),
    }
}

/// A fresh, empty PostgreSQL namespace on the test server: a new schema, which every connection of the URL
/// returned uses as its `search_path`. The store names no schema, so for it (migrations included) this is a fresh
/// database — at a tenth of the cost of `CREATE DATABASE`, which copies a template and checkpoints.
pub async fn postgres_db(server_url: &str) -> TestDb {
    sqlx::any::install_default_drivers();
    let schema = format!("mlc_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::AnyConnection::connect(server_url)
        .await
        .expect("connect to TEST_POSTGRES_URL");
    // Safe: the name is generated above, not input.
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&mut conn)
        .await
        .expect("create the test schema");
    conn.close().await.ok();
    let mut url = url::Url::parse(server_url).unwrap();
    url.query_pairs_mut()
        .append_pair("options", &format!("-c search_path={schema}"));
    TestDb {
        name: "postgres",
        url: url.to_string(),
        sqlite_path: None,
        _dir: None,
    }
}

/// A config for tests: data in `dir`, database `url`, listening on port 0.
pub fn test_config(dir: &std::path::Path, url: &str) -> Config {
    let mut config = Config {
        data_dir: dir.to_path_buf(),
        database_url: url.to_string(),
        ..Default::default()
    };
    config.server.listen = "127.0.0.1:0".parse().unwrap();
    config
}
