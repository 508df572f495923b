//! Admin API of the sync engine, authenticated with the tenant's admin key:
//!
//! - `POST /admin/v1/{tenant}/sync/run` `{"full": false}` (body optional) — start a run now (in the
//!   background); 202 with its id, 409 `sync_running` when a run of the tenant is going on (in any replica);
//! - `GET  /admin/v1/{tenant}/sync/runs[?limit=]` — the run history, newest first;
//! - `GET  /admin/v1/{tenant}/audit?since=&object=&limit=` — the audit trail of writes to Zendesk, newest first.

use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::auth::AdminTenant;
use super::error::{ApiError, ErrorBody};
use super::state::AppState;
use crate::store::{AuditQuery, AuditRecord, RunStatus, SyncRunRecord};
use crate::sync::run::{LEASE_NAME, holder_name};
use crate::sync::{RunOptions, RunStats, SyncError, Trigger, run_sync};

fn instant(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// A run, as the admin API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncRun {
    /// Run id.
    pub id: i64,
    /// `schedule`, `manual` (CLI) or `api`.
    pub trigger: String,
    /// Whether everything was re-read.
    pub full: bool,
    /// `running`, `succeeded`, `failed`, `abandoned` (its process stopped).
    pub status: RunStatus,
    /// RFC 3339.
    pub started_at: String,
    /// RFC 3339, once finished.
    pub finished_at: Option<String>,
    /// Counts.
    pub stats: SyncRunStats,
    /// Why it failed.
    pub error: Option<String>,
}

/// A run's counts.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncRunStats {
    /// Workday pages read (suppliers and index).
    pub pages: u64,
    /// Suppliers read.
    pub suppliers_read: u64,
    /// Organizations created.
    pub created: u64,
    /// Organizations updated.
    pub updated: u64,
    /// Organizations already as desired (no write).
    pub unchanged: u64,
    /// Writes of unknown outcome resolved by finding the organization.
    pub reconciled: u64,
    /// Organizations Zendesk refused.
    pub failed: u64,
    /// Invoices in the index after the run's reads.
    pub invoices_indexed: u64,
    /// Milliseconds spent waiting on Zendesk, rate-limit waits included.
    pub zendesk_wait_ms: u64,
}

impl From<SyncRunRecord> for SyncRun {
    fn from(r: SyncRunRecord) -> Self {
        let s: RunStats = serde_json::from_value(r.stats).unwrap_or_default();
        Self {
            id: r.id,
            trigger: r.trigger,
            full: r.kind == "full",
            status: r.status,
            started_at: instant(r.started_at),
            finished_at: r.finished_at.map(instant),
            stats: SyncRunStats {
                pages: s.supplier_pages + s.index_pages,
                suppliers_read: s.suppliers_read,
                created: s.orgs_created,
                updated: s.orgs_updated,
                unchanged: s.orgs_unchanged,
                reconciled: s.orgs_reconciled,
                failed: s.orgs_failed,
                invoices_indexed: s.invoices_indexed,
                zendesk_wait_ms: s.zendesk_wait_ms,
            },
            error: r.error,
        }
    }
}

/// Where an audited record was read in Workday.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkdaySourceView {
    /// Service (`Resource_Management`).
    pub service: String,
    /// Operation (`Get_Suppliers`).
    pub operation: String,
    /// Version (`v46.1`).
    pub version: String,
    /// Page.
    pub page: Option<i64>,
    /// `As_Of_Entry_DateTime` of the read.
    pub as_of: Option<String>,
}

/// One audit entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    /// Increasing id.
    pub id: i64,
    /// RFC 3339.
    pub at: String,
    /// `supplier`, `invoice`, ...
    pub workday_object_type: String,
    /// Workday ID.
    pub workday_object_id: String,
    /// Where it was read.
    pub workday_source: WorkdaySourceView,
    /// `organization:{id}`, `organization:external_id:{id}`, `ticket:{id}`.
    pub zendesk_target: String,
    /// SHA-256 of what was written.
    pub content_hash: String,
    /// `created`, `updated`, `reconciled`, `failed`, `pending`, `interrupted`.
    pub outcome: String,
    /// More about it.
    pub detail: Option<String>,
    /// The sync run that wrote it.
    pub run_id: Option<i64>,
}

impl From<AuditRecord> for AuditEntry {
    fn from(r: AuditRecord) -> Self {
        Self {
            id: r.id,
            at: instant(r.at),
            workday_object_type: r.object_type,
            workday_object_id: r.object_id,
            workday_source: WorkdaySourceView {
                service: r.service,
                operation: r.operation,
                version: r.version,
                page: r.page,
                as_of: r.as_of,
            },
            zendesk_target: r.target,
            content_hash: r.content_hash,
            outcome: r.outcome,
            detail: r.detail,
            run_id: r.run_id,
        }
    }
}

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/v1/{tenant}/sync/run", post(start_run))
        .route("/admin/v1/{tenant}/sync/runs", get(list_runs))
        .route("/admin/v1/{tenant}/audit", get(audit))
}

/// This module's part of the OpenAPI document.
#[derive(Debug, OpenApi)]
#[openapi(
    paths(start_run, list_runs, audit),
    components(schemas(RunRequest, RunStarted, RunList, SyncRun, SyncRunStats, RunStatus, AuditList, AuditEntry, WorkdaySourceView)),
    tags((name = "sync", description = "Supplier → organization sync, its runs and audit trail (admin key)"))
)]
pub struct ApiDoc;

/// `POST sync/run` body (optional).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    /// Re-read everything instead of what changed since the last run.
    #[serde(default)]
    pub full: bool,
}

/// A started run.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunStarted {
    /// Its id (see `sync/runs`), when it was recorded within the answer's wait.
    pub run_id: Option<i64>,
    /// `running`.
    pub status: RunStatus,
}

/// Run history.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunList {
    /// Newest first.
    pub runs: Vec<SyncRun>,
}

/// `GET sync/runs` options.
#[derive(Debug, Deserialize, IntoParams)]
pub struct RunsParams {
    /// At most this many (default 20, at most 500).
    pub limit: Option<u32>,
}

/// `GET audit` options.
#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditParams {
    /// Only rows at or after: unix milliseconds, or RFC 3339.
    pub since: Option<String>,
    /// Only this Workday object type (`supplier`), or one object (`supplier:S-000042`).
    pub object: Option<String>,
    /// Only this sync run.
    pub run: Option<i64>,
    /// At most this many (default 100, at most 10000).
    pub limit: Option<u32>,
}

/// Audit rows.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditList {
    /// Newest first.
    pub entries: Vec<AuditEntry>,
}

/// Start a sync run of the tenant now.
#[utoipa::path(post, path = "/admin/v1/{tenant}/sync/run", tag = "sync",
    params(("tenant" = String, Path, description = "Tenant id")),
    request_body(content = Option<RunRequest>, description = "`{\"full\": true}` re-reads everything"),
    security(("admin_key" = [])),
    responses((status = 202, body = RunStarted), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 409, description = "a run of the tenant is going on", body = ErrorBody),
        (status = 422, description = "the tenant is not configured", body = ErrorBody)))]
pub async fn start_run(
    State(state): State<AppState>,
    AdminTenant(tenant): AdminTenant,
    body: Bytes,
) -> Result<(StatusCode, Json<RunStarted>), ApiError> {
    let params: RunRequest = if body.iter().all(u8::is_ascii_whitespace) {
        RunRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request("invalid_body", format!("invalid JSON body: {e}")))?
    };
    let app = state.app().clone();
    // Fail early on what would stop the run at once.
    let ctx = app.tenant(&tenant).await?;
    ctx.workday().await?;
    ctx.zendesk().await?;
    if let Some((holder, _)) = app.store().lease_holder(&tenant, LEASE_NAME).await? {
        return Err(ApiError::ConflictWith {
            code: "sync_running",
            message: format!("a sync of tenant {tenant} is already running (held by {holder})"),
        });
    }
    let holder = holder_name();
    let options = RunOptions {
        full: params.full,
        trigger: Trigger::Api,
        holder: holder.clone(),
    };
    let (host, id) = (state.plugins().clone(), tenant.clone());
    // What ended the run before it was recorded: (whether another run held the lease, why).
    let (started_tx, started_rx) = tokio::sync::oneshot::channel::<Result<(), (bool, String)>>();
    tokio::spawn(async move {
        let result = run_sync(&app, &host, &id, &options, None).await;
        match result {
            Ok(_) => {
                let _ = started_tx.send(Ok(()));
            }
            Err(e @ SyncError::Busy { .. }) => {
                let _ = started_tx.send(Err((true, e.to_string())));
            }
            Err(e) => {
                tracing::warn!(tenant = %id, error = %e, "sync run did not start");
                let _ = started_tx.send(Err((false, e.to_string())));
            }
        }
    });
    // Answer with the run's id once it is recorded (it is, at once, unless the run could not start).
    let store = state.store().clone();
    let mut finished = Some(started_rx);
    for _ in 0..50 {
        if let Some(run) = store
            .sync_runs(&tenant, 5)
            .await?
            .into_iter()
            .find(|r| r.holder.as_deref() == Some(holder.as_str()))
        {
            return Ok((
                StatusCode::ACCEPTED,
                Json(RunStarted {
                    run_id: Some(run.id),
                    status: run.status,
                }),
            ));
        }
        match finished.as_mut() {
            Some(rx) => {
                tokio::select! {
                    done = rx => {
                        finished = None;
                        match done {
                            Ok(Err((true, message))) => {
                                return Err(ApiError::ConflictWith { code: "sync_running", message });
                            }
                            Ok(Err((false, message))) => {
                                return Err(ApiError::internal(anyhow::anyhow!(message)));
                            }
                            _ => {}
                        }
                    }
                    () = tokio::time::sleep(Duration::from_millis(20)) => {}
                }
            }
            None => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(RunStarted {
            run_id: None,
            status: RunStatus::Running,
        }),
    ))
}

/// The tenant's sync runs, newest first.
#[utoipa::path(get, path = "/admin/v1/{tenant}/sync/runs", tag = "sync",
    params(("tenant" = String, Path, description = "Tenant id"), RunsParams),
    security(("admin_key" = [])),
    responses((status = 200, body = RunList), (status = 401, body = ErrorBody)))]
pub async fn list_runs(
    State(state): State<AppState>,
    AdminTenant(tenant): AdminTenant,
    Query(params): Query<RunsParams>,
) -> Result<Json<RunList>, ApiError> {
    let limit = params.limit.unwrap_or(20).clamp(1, 500);
    let runs = state.store().sync_runs(&tenant, limit).await?;
    Ok(Json(RunList {
        runs: runs.into_iter().map(SyncRun::from).collect(),
    }))
}

fn parse_since(text: &str) -> Result<i64, ApiError> {
    if let Ok(ms) = text.trim().parse::<i64>() {
        return Ok(ms);
    }
    chrono::DateTime::parse_from_rfc3339(text.trim())
        .map(|d| d.timestamp_millis())
        .map_err(|_| {
            ApiError::bad_request(
                "invalid_since",
                format!("`since` must be unix milliseconds or RFC 3339, not `{text}`"),
            )
        })
}

/// The tenant's audit trail of writes to Zendesk, newest first.
#[utoipa::path(get, path = "/admin/v1/{tenant}/audit", tag = "sync",
    params(("tenant" = String, Path, description = "Tenant id"), AuditParams),
    security(("admin_key" = [])),
    responses((status = 200, body = AuditList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn audit(
    State(state): State<AppState>,
    AdminTenant(tenant): AdminTenant,
    Query(params): Query<AuditParams>,
) -> Result<Json<AuditList>, ApiError> {
    let query = AuditQuery {
        since: params.since.as_deref().map(parse_since).transpose()?,
        object: params.object.filter(|o| !o.trim().is_empty()),
        run_id: params.run,
        limit: params.limit.unwrap_or(100).clamp(1, 10_000),
    };
    let rows = state.store().audit_rows(&tenant, &query).await?;
    Ok(Json(AuditList {
        entries: rows.into_iter().map(AuditEntry::from).collect(),
    }))
}
