//! The plugin lifecycle per tenant (upload → validate → dry-run → activate, rollback) and the mapping of a
//! record with the tenant's active plugin, declarative mapping and failure policy. The admin API and the CLI
//! both go through here; they pass the tenant's [`TenantMapping`] from its context (`crate::app`).
//!
//! Activation needs the tenant's Zendesk field catalog: without one, a plugin's writes cannot be checked against
//! the tenant's real fields (an empty catalog accepts any field id), so a dry-run only unlocks activation when it
//! ran against a catalog. The catalog is part of the tenant's mapping settings; `ml-connector setup` (to come)
//! reads it from Zendesk.

use std::time::Instant;

use serde::{Deserialize as _, Serialize};
use utoipa::ToSchema;

use super::catalog::FieldCatalog;
use super::host::limits::{PluginLimits, PluginManifest};
use super::host::{CallFailure, Loaded, PluginHost, UploadError, sha256_hex};
use super::input::Sample;
use super::policy::{FailurePolicy, TenantMapping};
use super::write::FieldWrite;
use crate::store::{NewPlugin, PluginRecord, Store, StoreError};
use crate::tenant::TenantId;

/// Errors of lifecycle operations.
#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    /// The upload was refused.
    #[error(transparent)]
    Upload(#[from] UploadError),
    /// The manifest (limits) was refused.
    #[error("invalid plugin manifest: {0}")]
    Manifest(String),
    /// Activation before a passing dry-run.
    #[error(
        "plugin {id} (version {version}) has not passed a dry-run; run POST .../plugins/{id}/dry-run first"
    )]
    NeedsDryRun {
        /// Plugin id.
        id: i64,
        /// Version.
        version: i64,
    },
    /// Activation without the tenant's Zendesk field catalog.
    #[error(
        "tenant {tenant} has no Zendesk field catalog yet, so a plugin's writes cannot be checked against its \
         real fields; activation waits until the tenant's setup has read the catalog from Zendesk (`ml-connector \
         setup`, coming soon) and the plugin has then passed a dry-run"
    )]
    NoFieldCatalog {
        /// The tenant.
        tenant: TenantId,
    },
    /// The stored plugin could not be loaded.
    #[error("{0}")]
    Unavailable(String),
    /// Storage.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Result of a dry-run: what the plugin would write for the sample, or why it failed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DryRun {
    /// Plugin id.
    pub plugin_id: i64,
    /// Version.
    pub version: i64,
    /// Whether the plugin produced valid writes.
    pub ok: bool,
    /// `ok`, or the failure outcome (`error`, `trap`, `deadline`, `memory_limit`, `invalid_output`, ...).
    pub outcome: String,
    /// The writes it would make (empty on failure).
    pub writes: Vec<FieldWrite>,
    /// Why it failed.
    pub message: Option<String>,
    /// Milliseconds the call took (fresh instance included).
    pub duration_ms: f64,
    /// Whether the writes were checked against the tenant's Zendesk field catalog; only such a dry-run unlocks
    /// activation.
    pub catalog_checked: bool,
    /// The limits it ran under.
    pub limits: PluginLimits,
}

/// Where the writes of a mapping came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MappingSource {
    /// The tenant's active plugin.
    Plugin,
    /// The declarative mapping (no plugin, or the plugin failed under the `fallback` policy).
    Declarative,
    /// Nothing is written.
    Nothing,
}

/// Why the plugin's writes were not used (for the audit log).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PluginFailure {
    /// Plugin id.
    pub plugin_id: i64,
    /// Version.
    pub version: i64,
    /// What happened.
    pub failure: CallFailure,
    /// The policy applied.
    pub policy: FailurePolicy,
}

/// The writes to make for one record, and how they were decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MappingResult {
    /// The writes.
    pub writes: Vec<FieldWrite>,
    /// Where they came from.
    pub source: MappingSource,
    /// Declarative rules that were skipped, with why.
    pub notes: Vec<String>,
    /// Set when a plugin ran and failed.
    pub plugin_failure: Option<PluginFailure>,
}

/// The mapping service over a store and a plugin host.
#[derive(Debug, Clone, Copy)]
pub struct MapperService<'a> {
    store: &'a Store,
    host: &'a PluginHost,
}

impl<'a> MapperService<'a> {
    /// Over `store` and `host`.
    pub fn new(store: &'a Store, host: &'a PluginHost) -> Self {
        Self { store, host }
    }

    /// Validates, compiles and stores a new version (status `uploaded`), with its compiled artifact.
    pub async fn upload(
        &self,
        tenant: &TenantId,
        bytes: Vec<u8>,
        manifest: &PluginManifest,
    ) -> Result<PluginRecord, LifecycleError> {
        self.store.tenant(tenant).await?;
        manifest
            .limits(self.host.config())
            .map_err(LifecycleError::Manifest)?;
        let bytes: std::sync::Arc<[u8]> = bytes.into();
        let compiled = self.host.compile(bytes.clone()).await?;
        let manifest_json = serde_json::to_value(manifest).unwrap_or_default();
        let sha256 = compiled.loaded.sha256.clone();
        let record = self
            .store
            .create_plugin(&NewPlugin {
                tenant_id: tenant,
                name: &manifest.display_name(),
                sha256: &sha256,
                bytes: &bytes,
                manifest: &manifest_json,
            })
            .await?;
        let mac = self.host.seal(&sha256, &compiled.artifact);
        self.store
            .put_plugin_artifact(&sha256, self.host.fingerprint(), &compiled.artifact, &mac)
            .await?;
        tracing::info!(
            tenant = %tenant, plugin_id = record.id, version = record.version, sha256 = %sha256,
            compile_ms = compiled.compile_time.as_millis() as u64, "plugin uploaded"
        );
        Ok(record)
    }

    /// A tenant's versions, newest first.
    pub async fn list(&self, tenant: &TenantId) -> Result<Vec<PluginRecord>, LifecycleError> {
        self.store.tenant(tenant).await?;
        Ok(self.store.plugins(tenant).await?)
    }

    /// The limits a stored version runs under.
    pub fn limits(&self, record: &PluginRecord) -> Result<PluginLimits, LifecycleError> {
        let manifest = PluginManifest::deserialize(&record.manifest)
            .map_err(|e| LifecycleError::Manifest(format!("stored manifest: {e}")))?;
        // A manifest accepted under an older, looser configuration is clamped, never trusted.
        manifest
            .limits(self.host.config())
            .or_else(|_| PluginManifest::default().limits(self.host.config()))
            .map_err(LifecycleError::Manifest)
    }

    /// The runnable plugin of a version: from this process's cache, else the stored artifact (MAC-verified),
    /// else compiled again from the stored component (and the artifact stored for next time).
    pub async fn load(&self, record: &PluginRecord) -> Result<Loaded, LifecycleError> {
        if let Some(loaded) = self.host.cached(&record.sha256) {
            return Ok(loaded);
        }
        let engine = self.host.fingerprint();
        if let Some((artifact, mac)) = self.store.plugin_artifact(&record.sha256, engine).await? {
            match self.host.load_artifact(&record.sha256, artifact, mac).await {
                Ok(loaded) => return Ok(loaded),
                Err(why) => {
                    tracing::warn!(sha256 = %record.sha256, reason = %why, "stored plugin artifact refused; recompiling");
                    self.store
                        .delete_plugin_artifact(&record.sha256, engine)
                        .await?;
                }
            }
        }
        let bytes = self
            .store
            .plugin_bytes(&record.tenant_id, record.id)
            .await?;
        if sha256_hex(&bytes) != record.sha256 {
            return Err(LifecycleError::Unavailable(format!(
                "plugin {} is corrupt: its bytes do not match the recorded SHA-256",
                record.id
            )));
        }
        let compiled = self
            .host
            .compile(bytes.into())
            .await
            .map_err(|e| LifecycleError::Unavailable(e.to_string()))?;
        let mac = self.host.seal(&record.sha256, &compiled.artifact);
        self.store
            .put_plugin_artifact(&record.sha256, engine, &compiled.artifact, &mac)
            .await?;
        Ok(compiled.loaded)
    }

    /// Loads every tenant's active plugin into memory (start-up), logging the ones that fail.
    pub async fn warm(&self) -> Result<usize, LifecycleError> {
        let mut loaded = 0;
        for record in self.store.active_plugins().await? {
            match self.load(&record).await {
                Ok(_) => loaded += 1,
                Err(e) => {
                    tracing::warn!(tenant = %record.tenant_id, plugin_id = record.id, error = %e, "cannot load active plugin")
                }
            }
        }
        Ok(loaded)
    }

    async fn run(
        &self,
        record: &PluginRecord,
        limits: PluginLimits,
        catalog: &FieldCatalog,
        sample: &Sample,
    ) -> Result<Vec<FieldWrite>, CallFailure> {
        let loaded = self
            .load(record)
            .await
            .map_err(|e| CallFailure::Unavailable(e.to_string()))?;
        let writes = self.host.call(&loaded, limits, sample).await?;
        catalog
            .validate_writes(sample.subject(), &writes)
            .map_err(|p| CallFailure::InvalidOutput(p.to_string()))?;
        Ok(writes)
    }

    /// Runs a version against a sample without writing anything, and records the result. The writes are checked
    /// against the tenant's field catalog (`mapping`); a dry-run that passes without one does not unlock
    /// activation.
    pub async fn dry_run(
        &self,
        tenant: &TenantId,
        mapping: &TenantMapping,
        id: i64,
        sample: &Sample,
    ) -> Result<DryRun, LifecycleError> {
        let record = self.store.plugin(tenant, id).await?;
        let no_catalog = FieldCatalog::default();
        let catalog = mapping.catalog();
        let limits = self.limits(&record)?;
        let started = Instant::now();
        let result = self
            .run(&record, limits, catalog.unwrap_or(&no_catalog), sample)
            .await;
        let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        let dry = match result {
            Ok(writes) => DryRun {
                plugin_id: record.id,
                version: record.version,
                ok: true,
                outcome: "ok".into(),
                writes,
                message: None,
                duration_ms,
                catalog_checked: catalog.is_some(),
                limits,
            },
            Err(f) => DryRun {
                plugin_id: record.id,
                version: record.version,
                ok: false,
                outcome: f.outcome().into(),
                writes: Vec::new(),
                message: Some(f.to_string()),
                duration_ms,
                catalog_checked: catalog.is_some(),
                limits,
            },
        };
        let summary = serde_json::json!({ "outcome": dry.outcome, "message": dry.message, "writes": dry.writes.len() });
        self.store
            .record_dry_run(tenant, id, dry.ok && dry.catalog_checked, &summary)
            .await?;
        Ok(dry)
    }

    /// Activates a version that passed a dry-run against the tenant's field catalog (`mapping`).
    pub async fn activate(
        &self,
        tenant: &TenantId,
        mapping: &TenantMapping,
        id: i64,
    ) -> Result<PluginRecord, LifecycleError> {
        let record = self.store.plugin(tenant, id).await?;
        if mapping.catalog().is_none() {
            return Err(LifecycleError::NoFieldCatalog {
                tenant: tenant.clone(),
            });
        }
        if !record.dry_run_ok {
            return Err(LifecycleError::NeedsDryRun {
                id,
                version: record.version,
            });
        }
        let active = self.store.activate_plugin(tenant, id).await?;
        tracing::info!(tenant = %tenant, plugin_id = id, version = active.version, "plugin activated");
        Ok(active)
    }

    /// Re-activates the previously active version.
    pub async fn rollback(&self, tenant: &TenantId) -> Result<PluginRecord, LifecycleError> {
        self.store.tenant(tenant).await?;
        let active = self.store.rollback_plugin(tenant).await?;
        tracing::info!(tenant = %tenant, plugin_id = active.id, version = active.version, "plugin rolled back");
        Ok(active)
    }

    /// Maps a record for a tenant: its active plugin if any, with the failure policy, else its declarative
    /// mapping (`mapping`, from the tenant's context). The result says where the writes came from and, when the
    /// plugin failed, why.
    pub async fn map(
        &self,
        tenant: &TenantId,
        mapping: &TenantMapping,
        sample: &Sample,
    ) -> Result<MappingResult, LifecycleError> {
        let declarative = |notes: &mut Vec<String>| -> Vec<FieldWrite> {
            let Some(config) = &mapping.declarative else {
                return Vec::new();
            };
            let mapped = match sample {
                Sample::Supplier { supplier } => config.map_supplier(supplier),
                Sample::Invoice { invoice, ticket } => config.map_invoice(invoice, ticket),
            };
            notes.extend(mapped.notes);
            mapped.writes
        };
        let mut notes = Vec::new();
        let Some(record) = self.store.active_plugin(tenant).await? else {
            let writes = declarative(&mut notes);
            let source = if mapping.declarative.is_some() {
                MappingSource::Declarative
            } else {
                MappingSource::Nothing
            };
            return Ok(MappingResult {
                writes,
                source,
                notes,
                plugin_failure: None,
            });
        };
        let no_catalog = FieldCatalog::default();
        let catalog = mapping
            .declarative
            .as_ref()
            .map_or(&no_catalog, |m| &m.catalog);
        let result = match self.limits(&record) {
            Ok(limits) => self.run(&record, limits, catalog, sample).await,
            Err(e) => Err(CallFailure::Unavailable(e.to_string())),
        };
        match result {
            Ok(writes) => Ok(MappingResult {
                writes,
                source: MappingSource::Plugin,
                notes,
                plugin_failure: None,
            }),
            Err(failure) => {
                tracing::warn!(tenant = %tenant, plugin_id = record.id, outcome = failure.outcome(), error = %failure, "plugin failed");
                let policy = mapping.failure_policy;
                let (writes, source) = match policy {
                    FailurePolicy::Fallback if mapping.declarative.is_some() => {
                        (declarative(&mut notes), MappingSource::Declarative)
                    }
                    _ => (Vec::new(), MappingSource::Nothing),
                };
                Ok(MappingResult {
                    writes,
                    source,
                    notes,
                    plugin_failure: Some(PluginFailure {
                        plugin_id: record.id,
                        version: record.version,
                        failure,
                        policy,
                    }),
                })
            }
        }
    }
}
