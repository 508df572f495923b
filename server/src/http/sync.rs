//! Admin API of the sync engine, authenticated with the tenant's admin key:
//!
//! - `POST /admin/v1/{tenant}/sync/run[?full=true]` — start a run now (in the background); 202 with its id,
//!   409 `sync_running` when a run of the tenant is going on (in any replica);
//! - `GET  /admin/v1/{tenant}/sync/runs[?limit=]` — the run history, newest first;
//! - `GET  /admin/v1/{tenant}/audit?since=&object=&limit=` — the audit trail of writes to Zendesk, newest first.

use std::time::Duration;

use axum::Json;
use axum::Router;
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
use crate::sync::{RunOptions, SyncError, Trigger, run_sync};

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
    components(schemas(RunStarted, RunList, SyncRunRecord, RunStatus, AuditList, AuditRecord)),
    tags((name = "sync", description = "Supplier → organization sync, its runs and audit trail (admin key)"))
)]
pub struct ApiDoc;

/// `POST sync/run` options.
#[derive(Debug, Deserialize, IntoParams)]
pub struct RunParams {
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
    pub runs: Vec<SyncRunRecord>,
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
    pub rows: Vec<AuditRecord>,
}

/// Start a sync run of the tenant now.
#[utoipa::path(post, path = "/admin/v1/{tenant}/sync/run", tag = "sync",
    params(("tenant" = String, Path, description = "Tenant id"), RunParams),
    security(("admin_key" = [])),
    responses((status = 202, body = RunStarted), (status = 401, body = ErrorBody),
        (status = 409, description = "a run of the tenant is going on", body = ErrorBody),
        (status = 422, description = "the tenant is not configured", body = ErrorBody)))]
pub async fn start_run(
    State(state): State<AppState>,
    AdminTenant(tenant): AdminTenant,
    Query(params): Query<RunParams>,
) -> Result<(StatusCode, Json<RunStarted>), ApiError> {
    let app = state.app().clone();
    // Fail early on what would stop the run at once.
    let ctx = app.tenant(&tenant).await?;
    ctx.workday().await?;
    ctx.zendesk().await?;
    if let Some((holder, _)) = app.store().lease_holder(&tenant, LEASE_NAME).await? {
        return Err(ApiError::Conflict(format!(
            "a sync of tenant {tenant} is already running (held by {holder})"
        )));
    }
    let holder = holder_name();
    let options = RunOptions {
        full: params.full,
        trigger: Trigger::Api,
        holder: holder.clone(),
    };
    let (host, id) = (state.plugins().clone(), tenant.clone());
    let (started_tx, started_rx) = tokio::sync::oneshot::channel::<Result<(), String>>();
    tokio::spawn(async move {
        let result = run_sync(&app, &host, &id, &options, None).await;
        match result {
            Ok(_) => {
                let _ = started_tx.send(Ok(()));
            }
            Err(e @ SyncError::Busy { .. }) => {
                let _ = started_tx.send(Err(e.to_string()));
            }
            Err(e) => {
                tracing::warn!(tenant = %id, error = %e, "sync run did not start");
                let _ = started_tx.send(Err(e.to_string()));
            }
        }
    });
    // Answer with the run's id once it is recorded (it is, at once, unless the run could not start).
    let store = state.store().clone();
    let mut finished = Box::pin(started_rx);
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
        tokio::select! {
            done = &mut finished => {
                if let Ok(Err(message)) = done {
                    return Err(ApiError::Conflict(message));
                }
            }
            () = tokio::time::sleep(Duration::from_millis(20)) => {}
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
    Ok(Json(RunList { runs }))
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
    Ok(Json(AuditList { rows }))
}
