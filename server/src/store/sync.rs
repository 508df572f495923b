//! Sync bookkeeping: bookmarks (`sync_state`), per-tenant leases (`sync_leases`), run history (`sync_runs`) and
//! the supplier ↔ organization links with the hash of what was last written (`org_links`).
//!
//! A lease is a row `(tenant, name) → holder until expires_at`. Taking it is one upsert that only overwrites a
//! row held by the same holder or expired, so of N replicas exactly one gets it; a holder that dies stops
//! renewing and another takes over once the lease expires.

use std::collections::HashMap;
use std::time::Duration;

use sqlx::Row as _;
use sqlx::any::AnyRow;

use super::audit::{AuditResolution, resolve_audit_rows};
use super::{QueryContext, Store, StoreError, now_ms};
use crate::tenant::TenantId;

/// `$start, $start+1, ...` (`n` placeholders), for `IN (...)` lists and multi-row inserts.
pub(crate) fn placeholders(start: usize, n: usize) -> String {
    (start..start + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How a run ended (or that it has not).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Still going (or its process died; see `finished_at`).
    Running,
    /// Finished without error.
    Succeeded,
    /// Finished with an error (`error`).
    Failed,
    /// Abandoned: its process died while it ran, and a later run took over.
    Abandoned,
}

impl RunStatus {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Abandoned => "abandoned",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [
            Self::Running,
            Self::Succeeded,
            Self::Failed,
            Self::Abandoned,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// One row of the run history.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct SyncRunRecord {
    /// Run id.
    pub id: i64,
    /// Tenant.
    #[schema(value_type = String)]
    pub tenant_id: TenantId,
    /// `incremental` or `full`.
    pub kind: String,
    /// `manual` (CLI), `api` (admin API) or `schedule`.
    pub trigger: String,
    /// Where it is.
    pub status: RunStatus,
    /// Unix ms.
    pub started_at: i64,
    /// Unix ms, once finished.
    pub finished_at: Option<i64>,
    /// Counts (JSON object: pages read, organizations created/updated/unchanged, invoices indexed, ...).
    #[schema(value_type = Object)]
    pub stats: serde_json::Value,
    /// Why it failed.
    pub error: Option<String>,
    /// The process that ran it.
    pub holder: Option<String>,
}

/// A supplier's organization and the hash of what was last written to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgLink {
    /// Workday `Supplier_ID`.
    pub supplier_id: String,
    /// Zendesk organization id.
    pub organization_id: i64,
    /// The organization's name in Zendesk (disambiguated when it collided).
    pub org_name: String,
    /// Hash of the organization content last written (or found equal).
    pub content_hash: String,
}

fn run_from_row(row: &AnyRow) -> Result<SyncRunRecord, StoreError> {
    const CTX: &str = "reading a sync run";
    let tenant: String = row.try_get("tenant_id").context(CTX)?;
    let status: String = row.try_get("status").context(CTX)?;
    let stats: String = row.try_get("stats_json").context(CTX)?;
    Ok(SyncRunRecord {
        id: row.try_get("id").context(CTX)?,
        tenant_id: TenantId::parse(&tenant).map_err(|e| StoreError::Corrupt {
            context: CTX,
            message: e.to_string(),
        })?,
        kind: row.try_get("kind").context(CTX)?,
        trigger: row.try_get("trigger_kind").context(CTX)?,
        status: RunStatus::parse(&status).ok_or_else(|| StoreError::Corrupt {
            context: CTX,
            message: format!("unknown run status `{status}`"),
        })?,
        started_at: row.try_get("started_at").context(CTX)?,
        finished_at: row.try_get("finished_at").context(CTX)?,
        stats: serde_json::from_str(&stats).unwrap_or(serde_json::Value::Null),
        error: row.try_get("error").context(CTX)?,
        holder: row.try_get("holder").context(CTX)?,
    })
}

const RUN_COLUMNS: &str =
    "id, tenant_id, kind, trigger_kind, status, started_at, finished_at, stats_json, error, holder";

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Store {
    /// The bookmark of a stream (`suppliers`, `schedule_slot`, ...).
    pub async fn sync_cursor(
        &self,
        tenant: &TenantId,
        stream: &str,
    ) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar("SELECT cursor FROM sync_state WHERE tenant_id = $1 AND stream = $2")
            .bind(tenant.as_str())
            .bind(stream)
            .fetch_optional(self.pool())
            .await
            .context("reading a sync bookmark")
    }

    /// Sets the bookmark of a stream.
    pub async fn set_sync_cursor(
        &self,
        tenant: &TenantId,
        stream: &str,
        cursor: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sync_state (tenant_id, stream, cursor, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant_id, stream) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
        )
        .bind(tenant.as_str())
        .bind(stream)
        .bind(cursor)
        .bind(now_ms())
        .execute(self.pool())
        .await
        .context("writing a sync bookmark")?;
        Ok(())
    }

    /// Takes (or renews) lease `name` of a tenant for `holder`, for `ttl`. True when `holder` now holds it:
    /// the lease was free, expired, or already its own.
    pub async fn try_lease(
        &self,
        tenant: &TenantId,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let now = now_ms();
        let got: Option<String> = sqlx::query_scalar(
            "INSERT INTO sync_leases (tenant_id, name, holder, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant_id, name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE sync_leases.holder = excluded.holder OR sync_leases.expires_at <= $5 RETURNING holder",
        )
        .bind(tenant.as_str())
        .bind(name)
        .bind(holder)
        .bind(now.saturating_add(ms(ttl)))
        .bind(now)
        .fetch_optional(self.pool())
        .await
        .context("taking a sync lease")?;
        Ok(got.as_deref() == Some(holder))
    }

    /// Gives a lease back (only if `holder` holds it).
    pub async fn release_lease(
        &self,
        tenant: &TenantId,
        name: &str,
        holder: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sync_leases WHERE tenant_id = $1 AND name = $2 AND holder = $3")
            .bind(tenant.as_str())
            .bind(name)
            .bind(holder)
            .execute(self.pool())
            .await
            .context("releasing a sync lease")?;
        Ok(())
    }

    /// Who holds a lease, and until when (unix ms), if anyone does and it has not expired.
    pub async fn lease_holder(
        &self,
        tenant: &TenantId,
        name: &str,
    ) -> Result<Option<(String, i64)>, StoreError> {
        let row = sqlx::query(
            "SELECT holder, expires_at FROM sync_leases WHERE tenant_id = $1 AND name = $2 AND expires_at > $3",
        )
        .bind(tenant.as_str())
        .bind(name)
        .bind(now_ms())
        .fetch_optional(self.pool())
        .await
        .context("reading a sync lease")?;
        row.map(|r| {
            Ok((
                r.try_get("holder").context("reading a sync lease")?,
                r.try_get("expires_at").context("reading a sync lease")?,
            ))
        })
        .transpose()
    }

    /// Records the start of a run; runs of the tenant still marked running (their process died) are marked
    /// abandoned, since the caller holds the tenant's lease.
    pub async fn start_sync_run(
        &self,
        tenant: &TenantId,
        kind: &str,
        trigger: &str,
        holder: &str,
    ) -> Result<i64, StoreError> {
        let now = now_ms();
        sqlx::query(
            "UPDATE sync_runs SET status = 'abandoned', finished_at = $2, \
             error = COALESCE(error, 'the process running it stopped') WHERE tenant_id = $1 AND status = 'running'",
        )
        .bind(tenant.as_str())
        .bind(now)
        .execute(self.pool())
        .await
        .context("closing abandoned sync runs")?;
        sqlx::query(
            "UPDATE audit_log SET outcome = 'interrupted', detail = 'the process stopped before Zendesk answered' \
             WHERE tenant_id = $1 AND outcome = 'pending' AND run_id IN \
             (SELECT id FROM sync_runs WHERE tenant_id = $1 AND status = 'abandoned')",
        )
        .bind(tenant.as_str())
        .execute(self.pool())
        .await
        .context("closing abandoned sync runs")?;
        sqlx::query_scalar(
            "INSERT INTO sync_runs (tenant_id, kind, status, started_at, stats_json, trigger_kind, holder) \
             VALUES ($1, $2, 'running', $3, '{}', $4, $5) RETURNING id",
        )
        .bind(tenant.as_str())
        .bind(kind)
        .bind(now)
        .bind(trigger)
        .bind(holder)
        .fetch_one(self.pool())
        .await
        .context("recording a sync run")
    }

    /// Saves a run's progress (its counts so far).
    pub async fn update_sync_run(
        &self,
        id: i64,
        stats: &serde_json::Value,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE sync_runs SET stats_json = $2 WHERE id = $1")
            .bind(id)
            .bind(stats.to_string())
            .execute(self.pool())
            .await
            .context("saving sync progress")?;
        Ok(())
    }

    /// Records the end of a run.
    pub async fn finish_sync_run(
        &self,
        id: i64,
        status: RunStatus,
        stats: &serde_json::Value,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE sync_runs SET status = $2, finished_at = $3, stats_json = $4, error = $5 WHERE id = $1",
        )
        .bind(id)
        .bind(status.as_str())
        .bind(now_ms())
        .bind(stats.to_string())
        .bind(error.map(|e| e.chars().take(2000).collect::<String>()))
        .execute(self.pool())
        .await
        .context("finishing a sync run")?;
        Ok(())
    }

    /// A tenant's runs, newest first.
    pub async fn sync_runs(
        &self,
        tenant: &TenantId,
        limit: u32,
    ) -> Result<Vec<SyncRunRecord>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {RUN_COLUMNS} FROM sync_runs WHERE tenant_id = $1 ORDER BY started_at DESC, id DESC LIMIT $2"
        )))
        .bind(tenant.as_str())
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .context("listing sync runs")?;
        rows.iter().map(run_from_row).collect()
    }

    /// One run.
    pub async fn sync_run(&self, id: i64) -> Result<Option<SyncRunRecord>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {RUN_COLUMNS} FROM sync_runs WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await
        .context("reading a sync run")?;
        row.as_ref().map(run_from_row).transpose()
    }

    /// The links of these suppliers (those that have one), by `Supplier_ID`. One query.
    pub async fn org_links(
        &self,
        tenant: &TenantId,
        supplier_ids: &[String],
    ) -> Result<HashMap<String, OrgLink>, StoreError> {
        let mut out = HashMap::with_capacity(supplier_ids.len());
        for chunk in supplier_ids.chunks(500) {
            let sql = format!(
                "SELECT supplier_id, organization_id, org_name, content_hash FROM org_links \
                 WHERE tenant_id = $1 AND supplier_id IN ({})",
                placeholders(2, chunk.len())
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tenant.as_str());
            for id in chunk {
                q = q.bind(id);
            }
            for row in q
                .fetch_all(self.pool())
                .await
                .context("reading organization links")?
            {
                let link = OrgLink {
                    supplier_id: row
                        .try_get("supplier_id")
                        .context("reading organization links")?,
                    organization_id: row
                        .try_get("organization_id")
                        .context("reading organization links")?,
                    org_name: row
                        .try_get("org_name")
                        .context("reading organization links")?,
                    content_hash: row
                        .try_get("content_hash")
                        .context("reading organization links")?,
                };
                out.insert(link.supplier_id.clone(), link);
            }
        }
        Ok(out)
    }

    /// Number of organization links of a tenant.
    pub async fn org_link_count(&self, tenant: &TenantId) -> Result<i64, StoreError> {
        sqlx::query_scalar("SELECT COUNT(*) FROM org_links WHERE tenant_id = $1")
            .bind(tenant.as_str())
            .fetch_one(self.pool())
            .await
            .context("counting organization links")
    }

    /// Saves the outcome of one batch of organization writes, atomically: the links (with their new hashes)
    /// and the resolution of the batch's pending audit rows. A crash before this commit leaves the links as they were, so the next
    /// run compares again (and finds the organizations by `external_id` in Zendesk: no duplicate).
    pub async fn record_org_batch(
        &self,
        tenant: &TenantId,
        links: &[OrgLink],
        audit: &[AuditResolution],
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write("recording organization writes").await?;
        let now = now_ms();
        for link in links {
            // An organization id now linked to another supplier (merged in Zendesk, say) is released first.
            sqlx::query(
                "DELETE FROM org_links WHERE tenant_id = $1 AND organization_id = $2 AND supplier_id <> $3",
            )
            .bind(tenant.as_str())
            .bind(link.organization_id)
            .bind(&link.supplier_id)
            .execute(&mut *tx)
            .await
            .context("recording organization writes")?;
            sqlx::query(
                "INSERT INTO org_links (tenant_id, supplier_id, organization_id, org_name, content_hash, synced_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, supplier_id) DO UPDATE SET \
                 organization_id = excluded.organization_id, org_name = excluded.org_name, \
                 content_hash = excluded.content_hash, synced_at = excluded.synced_at",
            )
            .bind(tenant.as_str())
            .bind(&link.supplier_id)
            .bind(link.organization_id)
            .bind(&link.org_name)
            .bind(&link.content_hash)
            .bind(now)
            .execute(&mut *tx)
            .await
            .context("recording organization writes")?;
        }
        resolve_audit_rows(&mut tx, audit).await?;
        tx.commit().await.context("recording organization writes")?;
        Ok(())
    }
}
