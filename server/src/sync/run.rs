//! One sync run of one tenant: take the tenant's lease, record the run, sync the organizations, refresh the
//! invoice index, record how it ended, give the lease back.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::app::{App, ContextError, TenantContext};
use crate::mapper::PluginHost;
use crate::mapper::service::LifecycleError;
use crate::store::{RunStatus, StoreError};
use crate::tenant::TenantId;
use crate::workday::{WorkdayClient, WorkdayError};
use crate::zendesk::{ZendeskClient, ZendeskError};

/// The lease every run of a tenant takes (`sync_leases.name`).
pub const LEASE_NAME: &str = "sync";

/// Who started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// `ml-connector sync`.
    Manual,
    /// `POST /admin/v1/{tenant}/sync/run`.
    Api,
    /// The scheduler in `serve`.
    Schedule,
}

impl Trigger {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::Api => "api",
            Self::Schedule => "schedule",
        }
    }
}

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Re-read every supplier (and every invoice) instead of what changed since the bookmark.
    pub full: bool,
    /// Who started it.
    pub trigger: Trigger,
    /// This process's name in leases and run rows (`hostname:pid`).
    pub holder: String,
}

/// Counts of a run (stored as the run's `stats`, shown by `sync runs` and the progress display).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunStats {
    /// What the run is doing (`suppliers`, `adjustments`, `payments`, `invoices`, `done`).
    pub phase: String,
    /// Supplier pages read.
    pub supplier_pages: u64,
    /// Total supplier pages of the walk (from `Response_Results`).
    pub supplier_pages_total: u64,
    /// Suppliers read.
    pub suppliers_read: u64,
    /// Supplier records Workday sent that could not be read.
    pub suppliers_skipped: u64,
    /// Organizations created.
    pub orgs_created: u64,
    /// Organizations updated.
    pub orgs_updated: u64,
    /// Organizations found already as desired (no write), by hash or by comparison.
    pub orgs_unchanged: u64,
    /// Writes of unknown outcome resolved by finding the organization by `external_id`.
    pub orgs_reconciled: u64,
    /// Organizations Zendesk refused.
    pub orgs_failed: u64,
    /// Organizations whose name was disambiguated.
    pub orgs_disambiguated: u64,
    /// Calls of the Zendesk upsert (each: one `show_many` and at most one `create_many`/`update_many` job).
    pub zendesk_batches: u64,
    /// Milliseconds spent waiting on Zendesk (rate limits included).
    pub zendesk_wait_ms: u64,
    /// Index pages read (adjustments, payments, invoices).
    pub index_pages: u64,
    /// Invoices indexed.
    pub invoices_indexed: u64,
    /// Indexed invoices whose position changed (or that are new).
    pub invoices_changed: u64,
    /// Invoices that left the index.
    pub invoices_removed: u64,
    /// Payments indexed.
    pub payments_indexed: u64,
    /// Adjustments indexed.
    pub adjustments_indexed: u64,
}

impl RunStats {
    /// Adds the organization counts of one batch.
    pub fn add(&mut self, d: &RunStats) {
        self.orgs_created += d.orgs_created;
        self.orgs_updated += d.orgs_updated;
        self.orgs_unchanged += d.orgs_unchanged;
        self.orgs_reconciled += d.orgs_reconciled;
        self.orgs_failed += d.orgs_failed;
        self.orgs_disambiguated += d.orgs_disambiguated;
        self.zendesk_batches += d.zendesk_batches;
        self.zendesk_wait_ms += d.zendesk_wait_ms;
    }
}

/// How a run ended.
#[derive(Debug, Clone, Serialize)]
pub struct RunOutcome {
    /// Run id (`sync_runs.id`).
    pub run_id: i64,
    /// `succeeded` or `failed`.
    pub status: RunStatus,
    /// Counts.
    pub stats: RunStats,
    /// Why it failed.
    pub error: Option<String>,
    /// Wall time.
    pub elapsed_ms: u64,
}

/// Why a run could not run, or stopped.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// Another process runs this tenant's sync.
    #[error("a sync of tenant {tenant} is already running (held by {holder})")]
    Busy {
        /// The tenant.
        tenant: TenantId,
        /// Who holds the lease.
        holder: String,
    },
    /// The lease was lost during the run (the database was unreachable longer than the lease).
    #[error("the sync lease was lost during the run; another process may have taken over")]
    LeaseLost,
    /// The tenant cannot be used.
    #[error(transparent)]
    Context(#[from] ContextError),
    /// Reading Workday failed.
    #[error("reading Workday failed: {0}")]
    Workday(#[from] WorkdayError),
    /// Writing Zendesk failed.
    #[error("writing Zendesk failed: {0}")]
    Zendesk(#[from] ZendeskError),
    /// The mapping failed.
    #[error("mapping failed: {0}")]
    Mapping(#[from] LifecycleError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A record could not be kept in the index.
    #[error("cannot index a record: {0}")]
    Encode(String),
}

impl SyncError {
    /// Stable snake_case code (API bodies, metrics).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Busy { .. } => "sync_running",
            Self::LeaseLost => "lease_lost",
            Self::Context(e) => e.code(),
            Self::Workday(_) => "workday_failed",
            Self::Zendesk(_) => "zendesk_failed",
            Self::Mapping(_) => "mapping_failed",
            Self::Store(_) => "store_failed",
            Self::Encode(_) => "index_failed",
        }
    }
}

/// Called with the counts as the run goes (the CLI's progress display).
pub type ProgressFn = dyn Fn(&RunStats) + Send + Sync;

/// What the parts of a run share.
pub(crate) struct RunCx<'a> {
    pub app: &'a App,
    pub ctx: Arc<TenantContext>,
    pub host: &'a PluginHost,
    pub workday: WorkdayClient,
    pub zendesk: ZendeskClient,
    pub run_id: i64,
    pub full: bool,
    pub stats: RunStats,
    pub lease_lost: Arc<AtomicBool>,
    pub progress: Option<&'a ProgressFn>,
    last_saved: Instant,
}

impl RunCx<'_> {
    pub fn tenant(&self) -> &TenantId {
        self.ctx.id()
    }

    /// Stops the run when the lease was lost: another replica may have taken over.
    pub fn check_lease(&self) -> Result<(), SyncError> {
        if self.lease_lost.load(Ordering::SeqCst) {
            return Err(SyncError::LeaseLost);
        }
        Ok(())
    }

    /// Reports progress; saves the counts to the run row at most every two seconds.
    pub async fn progress(&mut self) -> Result<(), SyncError> {
        if let Some(p) = self.progress {
            p(&self.stats);
        }
        if self.last_saved.elapsed() >= Duration::from_secs(2) {
            self.last_saved = Instant::now();
            let stats = serde_json::to_value(&self.stats).unwrap_or_default();
            self.app
                .store()
                .update_sync_run(self.run_id, &stats)
                .await?;
        }
        Ok(())
    }
}

/// Runs one sync of `tenant` now, under the tenant's lease (fails with [`SyncError::Busy`] if another process
/// holds it). The run is recorded in `sync_runs` whatever happens after it started; a failure after that is
/// reported in the [`RunOutcome`] (status `failed`), not as an `Err`.
pub async fn run_sync(
    app: &App,
    host: &PluginHost,
    tenant: &TenantId,
    options: &RunOptions,
    progress: Option<&ProgressFn>,
) -> Result<RunOutcome, SyncError> {
    let store = app.store();
    let config = &app.config().sync;
    let lease_ttl = Duration::from_secs(config.lease_secs);
    let ctx = app.tenant(tenant).await?;
    if !store
        .try_lease(tenant, LEASE_NAME, &options.holder, lease_ttl)
        .await?
    {
        let holder = store
            .lease_holder(tenant, LEASE_NAME)
            .await?
            .map_or_else(|| "another process".to_string(), |(h, _)| h);
        return Err(SyncError::Busy {
            tenant: tenant.clone(),
            holder,
        });
    }
    let kind = if options.full { "full" } else { "incremental" };
    let run_id = match store
        .start_sync_run(tenant, kind, options.trigger.as_str(), &options.holder)
        .await
    {
        Ok(id) => id,
        Err(e) => {
            let _ = store
                .release_lease(tenant, LEASE_NAME, &options.holder)
                .await;
            return Err(e.into());
        }
    };
    let started = Instant::now();
    tracing::info!(tenant = %tenant, run_id, kind, trigger = options.trigger.as_str(), "sync started");

    // Renew the lease while the run goes; a failed renewal past the lease's end stops the run.
    let lease_lost = Arc::new(AtomicBool::new(false));
    let renewer = {
        let (store, tenant, holder, lost) = (
            store.clone(),
            tenant.clone(),
            options.holder.clone(),
            lease_lost.clone(),
        );
        tokio::spawn(async move {
            let mut last_ok = Instant::now();
            loop {
                tokio::time::sleep(lease_ttl / 3).await;
                match store
                    .try_lease(&tenant, LEASE_NAME, &holder, lease_ttl)
                    .await
                {
                    Ok(true) => last_ok = Instant::now(),
                    Ok(false) => {
                        lost.store(true, Ordering::SeqCst);
                        return;
                    }
                    Err(e) => {
                        tracing::warn!(tenant = %tenant, error = %e, "cannot renew the sync lease");
                        if last_ok.elapsed() >= lease_ttl {
                            lost.store(true, Ordering::SeqCst);
                            return;
                        }
                    }
                }
            }
        })
    };

    let result = async {
        let workday = ctx.workday().await.map_err(SyncError::from)?;
        let zendesk = ctx.zendesk().await.map_err(SyncError::from)?;
        let mut cx = RunCx {
            app,
            ctx: ctx.clone(),
            host,
            workday,
            zendesk,
            run_id,
            full: options.full,
            stats: RunStats::default(),
            lease_lost: lease_lost.clone(),
            progress,
            last_saved: Instant::now(),
        };
        let outcome = async {
            super::organizations::sync_organizations(&mut cx).await?;
            super::index::refresh_index(&mut cx).await?;
            Ok::<_, SyncError>(())
        }
        .await;
        Ok::<_, SyncError>((cx.stats, outcome))
    };
    let (mut stats, outcome) = match result.await {
        Ok((stats, outcome)) => (stats, outcome),
        Err(e) => (RunStats::default(), Err(e)),
    };
    renewer.abort();
    stats.phase = "done".into();
    let (status, error) = match &outcome {
        Ok(()) => (RunStatus::Succeeded, None),
        Err(e) => (RunStatus::Failed, Some(e.to_string())),
    };
    let stats_json = serde_json::to_value(&stats).unwrap_or_default();
    let finished = store
        .finish_sync_run(run_id, status, &stats_json, error.as_deref())
        .await;
    if !lease_lost.load(Ordering::SeqCst) {
        let _ = store
            .release_lease(tenant, LEASE_NAME, &options.holder)
            .await;
    }
    finished?;
    let elapsed = started.elapsed();
    record_metrics(tenant, status, &stats, elapsed);
    match &error {
        None => {
            tracing::info!(tenant = %tenant, run_id, elapsed_ms = elapsed.as_millis() as u64, created = stats.orgs_created, updated = stats.orgs_updated, unchanged = stats.orgs_unchanged, invoices = stats.invoices_indexed, "sync finished")
        }
        Some(e) => tracing::warn!(tenant = %tenant, run_id, error = %e, "sync failed"),
    }
    Ok(RunOutcome {
        run_id,
        status,
        stats,
        error,
        elapsed_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
    })
}

fn record_metrics(tenant: &TenantId, status: RunStatus, stats: &RunStats, elapsed: Duration) {
    let t = tenant.as_str().to_string();
    metrics::counter!("sync_runs_total", "tenant" => t.clone(), "status" => status.as_str())
        .increment(1);
    metrics::histogram!("sync_run_seconds", "tenant" => t.clone()).record(elapsed.as_secs_f64());
    for (action, n) in [
        ("created", stats.orgs_created),
        ("updated", stats.orgs_updated),
        ("reconciled", stats.orgs_reconciled),
        ("failed", stats.orgs_failed),
    ] {
        metrics::counter!("sync_objects_written_total", "tenant" => t.clone(), "object" => "organization", "action" => action)
            .increment(n);
    }
    metrics::counter!("sync_objects_written_total", "tenant" => t.clone(), "object" => "invoice_index", "action" => "changed")
        .increment(stats.invoices_changed);
}

/// This process's name in leases: `hostname:pid` (with a random suffix: two processes in one container).
pub fn holder_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    format!(
        "{host}:{}:{}",
        std::process::id(),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}
