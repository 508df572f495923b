//! One `Store` API over SQLite (embedded default) and PostgreSQL (scale-out).
//!
//! Both backends go through sqlx's `Any` driver with the same SQL: `$N` placeholders (SQLite accepts them),
//! `BIGINT`/`INTEGER` for numbers and unix-millisecond timestamps, `TEXT` for JSON, `BLOB`/`BYTEA` for bytes.
//! Where the dialects differ (row locking), the query is chosen by [`Backend`]. Migrations live in
//! `server/migrations/{sqlite,postgres}` and run at start-up.

pub mod audit;
pub mod index;
mod plugins;
mod queue;
mod secrets;
pub mod sync;
mod tenants;
mod vault_meta;

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor as _};

use crate::config::{StoreConfig, redact_url};
use crate::vault::VaultError;

pub use audit::{AuditQuery, AuditRecord, AuditResolution, NewAuditRow};
pub use index::{IndexedDocument, IndexedInvoice, IndexedSupplier, SupplierTotals};
pub use plugins::{NewPlugin, PluginRecord, PluginStatus};
pub use queue::{
    ClaimRequest, Enqueued, FailOutcome, NewQueuedEvent, QueueCounts, QueueStatus, QueuedEvent,
};
pub use secrets::SecretInfo;
pub use sync::{OrgLink, RunStatus, SyncRunRecord};
pub use tenants::{TenantUpdate, TenantVersion};
pub use vault_meta::{RotationReport, pending_key_path};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file (one process).
    Sqlite,
    /// PostgreSQL (any number of replicas).
    Postgres,
}

impl Backend {
    /// Picks the backend from a database URL.
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl(redact_url(url)))
        }
    }

    /// Lower-case name, for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// Errors at the storage boundary.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL `{0}`: use sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
    #[error("cannot open database {url}: {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error while {context}: {source}")]
    Query {
        context: &'static str,
        source: sqlx::Error,
    },
    #[error("{what} `{key}` does not exist")]
    NotFound { what: &'static str, key: String },
    #[error("{what} `{key}` already exists")]
    Conflict { what: &'static str, key: String },
    #[error("stored data is invalid ({context}): {message}")]
    Corrupt {
        context: &'static str,
        message: String,
    },
    #[error(transparent)]
    Vault(#[from] VaultError),
}

/// Adds a description of what was being done to a sqlx error.
pub(crate) trait QueryContext<T> {
    fn context(self, context: &'static str) -> Result<T, StoreError>;
}

impl<T> QueryContext<T> for Result<T, sqlx::Error> {
    fn context(self, context: &'static str) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::Query { context, source })
    }
}

/// Whether a sqlx error is a unique-constraint violation (both backends).
pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Current time in unix milliseconds.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The storage handle. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl Store {
    /// Connects, prepares the database (WAL for SQLite) and runs the migrations.
    pub async fn open(url: &str, config: &StoreConfig) -> Result<Self, StoreError> {
        install_default_drivers();
        let backend = Backend::from_url(url)?;
        if backend == Backend::Sqlite {
            ensure_sqlite_parent_dir(url);
        }
        let shown = redact_url(url);
        let mut options = AnyPoolOptions::new()
            .max_connections(config.max_connections)
            .acquire_timeout(Duration::from_secs(config.acquire_timeout_secs));
        if backend == Backend::Sqlite {
            options = options.after_connect(|conn, _meta| {
                Box::pin(async move {
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                                  PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
                    )
                    .await?;
                    Ok(())
                })
            });
        }
        let pool = options
            .connect(url)
            .await
            .map_err(|source| StoreError::Connect { url: shown, source })?;
        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&pool).await?;
        tracing::debug!(backend = backend.as_str(), "store ready");
        Ok(Self { pool, backend })
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The connection pool, for modules that own their own queries.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A transaction that will write. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`): a deferred
    /// transaction that reads first fails with `SQLITE_BUSY_SNAPSHOT` when another connection commits before
    /// its first write, which `busy_timeout` does not retry. On PostgreSQL it is a plain `BEGIN`; callers lock
    /// rows explicitly where order matters.
    pub(crate) async fn begin_write(
        &self,
        context: &'static str,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        let begin = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        };
        begin.context(context)
    }

    /// A round trip to the database (readiness).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .context("checking the connection")?;
        Ok(())
    }

    /// PostgreSQL: a `LISTEN`/`NOTIFY` channel named `prefix` plus a digest of the database and schema, so that
    /// processes on another schema of the same server (tests, other installations) do not hear each other.
    pub async fn notify_channel(&self, prefix: &str) -> Result<String, StoreError> {
        let place: String =
            sqlx::query_scalar("SELECT current_database() || '.' || current_schema()")
                .fetch_one(&self.pool)
                .await
                .context("naming the notification channel")?;
        let digest = <sha2::Sha256 as sha2::Digest>::digest(place.as_bytes());
        Ok(format!("{prefix}_{}", &hex::encode(digest)[..16]))
    }

    /// PostgreSQL: `NOTIFY channel, payload`.
    pub async fn notify(&self, channel: &str, payload: &str) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(channel)
            .bind(payload)
            .execute(&self.pool)
            .await
            .context("notifying the other replicas")?;
        Ok(())
    }

    /// Closes every connection (graceful shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn ensure_sqlite_parent_dir(url: &str) {
    let path = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return;
    }
    if let Some(dir) = std::path::Path::new(path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        let _ = std::fs::create_dir_all(dir);
    }
}
