//! Plugin versions per tenant (upload, dry-run results, activation, rollback) and compiled artifacts.
//!
//! Status of a version: `uploaded` (validated, never active), `active` (at most one per tenant, enforced by a
//! partial unique index), `retired` (was active, replaced by an activation), `rolled_back` (was active, left by
//! a rollback). Rollback re-activates the most recently active `retired` version.

use serde::Serialize;
use sqlx::Row as _;
use sqlx::any::AnyRow;
use utoipa::ToSchema;

use super::{QueryContext, Store, StoreError, is_unique_violation, now_ms};
use crate::tenant::TenantId;

/// Where a plugin version is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PluginStatus {
    /// Validated and stored, never active.
    Uploaded,
    /// The tenant's active version (at most one).
    Active,
    /// Was active; replaced by an activation.
    Retired,
    /// Was active; left by a rollback.
    RolledBack,
}

impl PluginStatus {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Uploaded => "uploaded",
            Self::Active => "active",
            Self::Retired => "retired",
            Self::RolledBack => "rolled_back",
        }
    }

    /// The status stored as `text`, if it is one.
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Uploaded,
            Self::Active,
            Self::Retired,
            Self::RolledBack,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

impl std::fmt::Display for PluginStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A plugin version as stored (without its bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginRecord {
    /// Id (global).
    pub id: i64,
    /// Tenant.
    pub tenant_id: TenantId,
    /// Version number within the tenant (1, 2, ...).
    pub version: i64,
    /// Name.
    pub name: String,
    /// SHA-256 of the component (hex).
    pub sha256: String,
    /// Size in bytes.
    pub size_bytes: i64,
    /// Where it is in its lifecycle.
    pub status: PluginStatus,
    /// The manifest given at upload (limits), JSON.
    pub manifest: serde_json::Value,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms of the last activation.
    pub activated_at: Option<i64>,
    /// Unix ms of the last dry-run.
    pub dry_run_at: Option<i64>,
    /// Whether the last dry-run passed.
    pub dry_run_ok: bool,
}

/// A new version to store.
#[derive(Debug)]
pub struct NewPlugin<'a> {
    /// Tenant.
    pub tenant_id: &'a TenantId,
    /// Name.
    pub name: &'a str,
    /// SHA-256 (hex).
    pub sha256: &'a str,
    /// The component.
    pub bytes: &'a [u8],
    /// Manifest JSON.
    pub manifest: &'a serde_json::Value,
}

macro_rules! select_plugins {
    ($rest:literal) => {
        concat!(
            "SELECT id, tenant_id, version, name, sha256, size_bytes, status, manifest_json, created_at, \
             activated_at, dry_run_at, dry_run_ok FROM plugins ",
            $rest
        )
    };
}

fn from_row(row: &AnyRow) -> Result<PluginRecord, StoreError> {
    let ctx = "reading a plugin";
    let corrupt = |message: String| StoreError::Corrupt {
        context: ctx,
        message,
    };
    let tenant: String = row.try_get("tenant_id").context(ctx)?;
    let manifest: String = row.try_get("manifest_json").context(ctx)?;
    Ok(PluginRecord {
        id: row.try_get("id").context(ctx)?,
        tenant_id: TenantId::parse(&tenant).map_err(|e| corrupt(e.to_string()))?,
        version: row.try_get("version").context(ctx)?,
        name: row.try_get("name").context(ctx)?,
        sha256: row.try_get("sha256").context(ctx)?,
        size_bytes: row.try_get("size_bytes").context(ctx)?,
        status: {
            let text: String = row.try_get("status").context(ctx)?;
            PluginStatus::parse(&text)
                .ok_or_else(|| corrupt(format!("unknown plugin status `{text}`")))?
        },
        manifest: serde_json::from_str(&manifest).map_err(|e| corrupt(e.to_string()))?,
        created_at: row.try_get("created_at").context(ctx)?,
        activated_at: row.try_get("activated_at").context(ctx)?,
        dry_run_at: row.try_get("dry_run_at").context(ctx)?,
        dry_run_ok: row.try_get::<i64, _>("dry_run_ok").context(ctx)? != 0,
    })
}

fn not_found(tenant: &TenantId, id: i64) -> StoreError {
    StoreError::NotFound {
        what: "plugin",
        key: format!("{tenant}/{id}"),
    }
}

impl Store {
    /// Stores a new version (the next number for the tenant).
    pub async fn create_plugin(&self, new: &NewPlugin<'_>) -> Result<PluginRecord, StoreError> {
        let manifest = serde_json::to_string(new.manifest).map_err(|e| StoreError::Corrupt {
            context: "writing a plugin manifest",
            message: e.to_string(),
        })?;
        // Two uploads at once may pick the same number; the unique (tenant, version) makes one retry.
        for _ in 0..5 {
            let next: i64 = sqlx::query_scalar(
                "SELECT COALESCE(MAX(version), 0) + 1 FROM plugins WHERE tenant_id = $1",
            )
            .bind(new.tenant_id.as_str())
            .fetch_one(self.pool())
            .await
            .context("numbering a plugin")?;
            let inserted = sqlx::query(
                "INSERT INTO plugins (tenant_id, version, name, sha256, size_bytes, bytes, status, manifest_json, \
                 created_at) VALUES ($1, $2, $3, $4, $5, $6, 'uploaded', $7, $8) RETURNING id",
            )
            .bind(new.tenant_id.as_str())
            .bind(next)
            .bind(new.name)
            .bind(new.sha256)
            .bind(new.bytes.len() as i64)
            .bind(new.bytes)
            .bind(&manifest)
            .bind(now_ms())
            .fetch_one(self.pool())
            .await;
            match inserted {
                Ok(row) => {
                    let id: i64 = row.try_get("id").context("storing a plugin")?;
                    return self.plugin(new.tenant_id, id).await;
                }
                Err(e) if is_unique_violation(&e) => continue,
                Err(e) if matches!(&e, sqlx::Error::Database(db) if db.message().contains("FOREIGN KEY") || db.code().as_deref() == Some("23503")) =>
                {
                    return Err(StoreError::NotFound {
                        what: "tenant",
                        key: new.tenant_id.to_string(),
                    });
                }
                Err(e) => return Err(e).context("storing a plugin"),
            }
        }
        Err(StoreError::Conflict {
            what: "plugin version",
            key: new.tenant_id.to_string(),
        })
    }

    /// Every version of a tenant's plugins, newest first.
    pub async fn plugins(&self, tenant: &TenantId) -> Result<Vec<PluginRecord>, StoreError> {
        let rows = sqlx::query(select_plugins!(
            "WHERE tenant_id = $1 ORDER BY version DESC"
        ))
        .bind(tenant.as_str())
        .fetch_all(self.pool())
        .await
        .context("listing plugins")?;
        rows.iter().map(from_row).collect()
    }

    /// One version of a tenant's plugin.
    pub async fn plugin(&self, tenant: &TenantId, id: i64) -> Result<PluginRecord, StoreError> {
        let row = sqlx::query(select_plugins!("WHERE tenant_id = $1 AND id = $2"))
            .bind(tenant.as_str())
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .context("reading a plugin")?;
        row.as_ref()
            .map(from_row)
            .unwrap_or_else(|| Err(not_found(tenant, id)))
    }

    /// The component bytes of a version.
    pub async fn plugin_bytes(&self, tenant: &TenantId, id: i64) -> Result<Vec<u8>, StoreError> {
        sqlx::query_scalar("SELECT bytes FROM plugins WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .context("reading plugin bytes")?
            .ok_or_else(|| not_found(tenant, id))
    }

    /// The tenant's active version, if any.
    pub async fn active_plugin(
        &self,
        tenant: &TenantId,
    ) -> Result<Option<PluginRecord>, StoreError> {
        let row = sqlx::query(select_plugins!(
            "WHERE tenant_id = $1 AND status = 'active'"
        ))
        .bind(tenant.as_str())
        .fetch_optional(self.pool())
        .await
        .context("reading the active plugin")?;
        row.as_ref().map(from_row).transpose()
    }

    /// Every tenant's active version (start-up warming).
    pub async fn active_plugins(&self) -> Result<Vec<PluginRecord>, StoreError> {
        let rows = sqlx::query(select_plugins!(
            "WHERE status = 'active' ORDER BY tenant_id"
        ))
        .fetch_all(self.pool())
        .await
        .context("listing active plugins")?;
        rows.iter().map(from_row).collect()
    }

    /// Records a dry-run result.
    pub async fn record_dry_run(
        &self,
        tenant: &TenantId,
        id: i64,
        ok: bool,
        result: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE plugins SET dry_run_at = $3, dry_run_ok = $4, dry_run_json = $5 WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_str())
        .bind(id)
        .bind(now_ms())
        .bind(i64::from(ok))
        .bind(result.to_string())
        .execute(self.pool())
        .await
        .context("recording a dry-run")?;
        if done.rows_affected() == 0 {
            return Err(not_found(tenant, id));
        }
        Ok(())
    }

    /// Makes `id` the tenant's active version; the previous active one becomes `retired`. Atomic.
    pub async fn activate_plugin(
        &self,
        tenant: &TenantId,
        id: i64,
    ) -> Result<PluginRecord, StoreError> {
        self.switch_active(tenant, id, PluginStatus::Retired).await
    }

    /// Re-activates the most recently active `retired` version; the current one becomes `rolled_back`.
    pub async fn rollback_plugin(&self, tenant: &TenantId) -> Result<PluginRecord, StoreError> {
        let previous: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM plugins WHERE tenant_id = $1 AND status = 'retired' \
             ORDER BY activated_at DESC, version DESC LIMIT 1",
        )
        .bind(tenant.as_str())
        .fetch_optional(self.pool())
        .await
        .context("finding the previous plugin")?;
        let Some(previous) = previous else {
            return Err(StoreError::NotFound {
                what: "previously active plugin of tenant",
                key: tenant.to_string(),
            });
        };
        self.switch_active(tenant, previous, PluginStatus::RolledBack)
            .await
    }

    async fn switch_active(
        &self,
        tenant: &TenantId,
        id: i64,
        old_status: PluginStatus,
    ) -> Result<PluginRecord, StoreError> {
        let ctx = "activating a plugin";
        let mut tx = self.begin_write(ctx).await?;
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT id FROM plugins WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.as_str())
                .bind(id)
                .fetch_optional(&mut *tx)
                .await
                .context(ctx)?;
        if exists.is_none() {
            return Err(not_found(tenant, id));
        }
        sqlx::query("UPDATE plugins SET status = $3 WHERE tenant_id = $1 AND status = 'active' AND id <> $2")
            .bind(tenant.as_str())
            .bind(id)
            .bind(old_status.as_str())
            .execute(&mut *tx)
            .await
            .context(ctx)?;
        let done = sqlx::query("UPDATE plugins SET status = 'active', activated_at = $3 WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(id)
            .bind(now_ms())
            .execute(&mut *tx)
            .await;
        match done {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::Conflict {
                    what: "concurrent plugin activation for tenant",
                    key: tenant.to_string(),
                });
            }
            Err(e) => return Err(e).context(ctx),
        }
        tx.commit().await.context(ctx)?;
        self.plugin(tenant, id).await
    }

    /// Stores a compiled artifact and its MAC (first writer wins; identical content either way).
    pub async fn put_plugin_artifact(
        &self,
        sha256: &str,
        engine: &str,
        artifact: &[u8],
        mac: &[u8],
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "INSERT INTO plugin_artifacts (sha256, engine, artifact, mac, size_bytes, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(sha256)
        .bind(engine)
        .bind(artifact)
        .bind(mac)
        .bind(artifact.len() as i64)
        .bind(now_ms())
        .execute(self.pool())
        .await;
        match done {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => Ok(()),
            Err(e) => Err(e).context("storing a compiled plugin"),
        }
    }

    /// A compiled artifact and its MAC, if stored for this engine.
    pub async fn plugin_artifact(
        &self,
        sha256: &str,
        engine: &str,
    ) -> Result<Option<(Vec<u8>, Vec<u8>)>, StoreError> {
        let row = sqlx::query(
            "SELECT artifact, mac FROM plugin_artifacts WHERE sha256 = $1 AND engine = $2",
        )
        .bind(sha256)
        .bind(engine)
        .fetch_optional(self.pool())
        .await
        .context("reading a compiled plugin")?;
        row.map(|r| -> Result<_, StoreError> {
            Ok((
                r.try_get("artifact").context("reading a compiled plugin")?,
                r.try_get("mac").context("reading a compiled plugin")?,
            ))
        })
        .transpose()
    }

    /// Deletes a stored artifact (one that failed to load, so it is rebuilt).
    pub async fn delete_plugin_artifact(
        &self,
        sha256: &str,
        engine: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM plugin_artifacts WHERE sha256 = $1 AND engine = $2")
            .bind(sha256)
            .bind(engine)
            .execute(self.pool())
            .await
            .context("deleting a compiled plugin")?;
        Ok(())
    }
}
