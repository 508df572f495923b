//! Admin API for mapping plugins: `/admin/v1/{tenant}/plugins...`, authenticated with the tenant's admin key.
//!
//! - `POST   /admin/v1/{tenant}/plugins` — upload a component (raw bytes, `application/wasm`), optional limits as
//!   query parameters (`name`, `deadline_ms`, `memory_limit_bytes`, `max_writes`, `max_output_bytes`);
//!   validated and compiled at once; 201 with the new version, 413/422 with a clear message otherwise;
//! - `GET    /admin/v1/{tenant}/plugins` — every version, newest first, and the active one;
//! - `POST   /admin/v1/{tenant}/plugins/{id}/dry-run` — run a version on a sample (`{"invoice": ..., "ticket":
//!   ...}` or `{"supplier": ...}`) and see the writes it would make; writes nothing to Zendesk;
//! - `POST   /admin/v1/{tenant}/plugins/{id}/activate` — make a version that passed a dry-run against the
//!   tenant's field catalog active (409 without a catalog, or without such a dry-run);
//! - `POST   /admin/v1/{tenant}/plugins/rollback` — re-activate the previously active version.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::routing::post;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use super::auth::AdminTenant;
use super::error::{ApiError, ErrorBody};
use super::state::AppState;
use crate::mapper::host::UploadError;
use crate::mapper::host::limits::{PluginLimits, PluginManifest};
use crate::mapper::input::Sample;
use crate::mapper::service::{DryRun, LifecycleError, MapperService};
use crate::mapper::write::{FieldTarget, FieldValue, FieldWrite};
use crate::store::{PluginRecord, PluginStatus};

/// Routes of this module; uploads get their own body limit (`plugins.max_upload_bytes`).
pub fn router(max_upload_bytes: usize) -> Router<AppState> {
    Router::new()
        .route(
            "/admin/v1/{tenant}/plugins",
            post(upload)
                .layer(DefaultBodyLimit::max(max_upload_bytes))
                .get(list),
        )
        .route("/admin/v1/{tenant}/plugins/rollback", post(rollback))
        .route("/admin/v1/{tenant}/plugins/{id}/activate", post(activate))
        .route("/admin/v1/{tenant}/plugins/{id}/dry-run", post(dry_run))
}

/// This module's part of the OpenAPI document.
#[derive(Debug, OpenApi)]
#[openapi(
    paths(upload, list, activate, dry_run, rollback),
    components(schemas(PluginVersion, PluginStatus, PluginList, DryRun, PluginLimits, FieldWrite, FieldTarget, FieldValue, Sample)),
    tags((name = "plugins", description = "WebAssembly field-mapping plugins (admin key)"))
)]
pub struct ApiDoc;

/// A plugin version, as the admin API shows it (the stored component's bytes are not).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PluginVersion {
    /// Id (global).
    pub id: i64,
    /// Tenant.
    pub tenant_id: String,
    /// Version number within the tenant (1, 2, ...).
    pub version: i64,
    /// Name.
    pub name: String,
    /// SHA-256 of the component (hex).
    pub sha256: String,
    /// Size in bytes.
    pub size_bytes: i64,
    /// `uploaded`, `active`, `retired` or `rolled_back`.
    pub status: PluginStatus,
    /// The manifest given at upload (limits).
    #[schema(value_type = Object)]
    pub manifest: serde_json::Value,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms of the last activation.
    pub activated_at: Option<i64>,
    /// Unix ms of the last dry-run.
    pub dry_run_at: Option<i64>,
    /// Whether the last dry-run passed against the tenant's field catalog (what activation needs).
    pub dry_run_ok: bool,
}

impl From<PluginRecord> for PluginVersion {
    fn from(r: PluginRecord) -> Self {
        Self {
            id: r.id,
            tenant_id: r.tenant_id.to_string(),
            version: r.version,
            name: r.name,
            sha256: r.sha256,
            size_bytes: r.size_bytes,
            status: r.status,
            manifest: r.manifest,
            created_at: r.created_at,
            activated_at: r.activated_at,
            dry_run_at: r.dry_run_at,
            dry_run_ok: r.dry_run_ok,
        }
    }
}

/// The versions of a tenant's plugin.
#[derive(Debug, Serialize, ToSchema)]
pub struct PluginList {
    /// Every version, newest first.
    pub plugins: Vec<PluginVersion>,
    /// Id of the active version, if any.
    pub active_id: Option<i64>,
}

impl From<LifecycleError> for ApiError {
    fn from(err: LifecycleError) -> Self {
        match err {
            LifecycleError::Upload(UploadError::TooLarge { .. }) => {
                Self::PayloadTooLarge(err.to_string())
            }
            LifecycleError::Upload(UploadError::Invalid(m)) => Self::Unprocessable {
                code: "invalid_plugin",
                message: m,
            },
            LifecycleError::Upload(UploadError::Host(m)) | LifecycleError::Unavailable(m) => {
                Self::Unavailable {
                    code: "plugins_unavailable",
                    message: m,
                }
            }
            LifecycleError::Manifest(_) => Self::bad_request("invalid_manifest", err.to_string()),
            LifecycleError::NeedsDryRun { .. } | LifecycleError::NoFieldCatalog { .. } => {
                Self::Conflict(err.to_string())
            }
            LifecycleError::Store(e) => e.into(),
        }
    }
}

/// Upload a plugin version (a WebAssembly component of world `ml-connector:mapper/mapper@1.0.0`).
#[utoipa::path(post, path = "/admin/v1/{tenant}/plugins", tag = "plugins",
    params(("tenant" = String, Path, description = "Tenant id (Zendesk subdomain)"), PluginManifest),
    request_body(content = Vec<u8>, content_type = "application/wasm", description = "The component (.wasm)"),
    security(("admin_key" = [])),
    responses(
        (status = 201, body = PluginVersion, description = "Validated, compiled and stored (status `uploaded`)"),
        (status = 400, body = ErrorBody, description = "Invalid manifest"),
        (status = 401, body = ErrorBody),
        (status = 413, body = ErrorBody, description = "Larger than plugins.max_upload_bytes"),
        (status = 422, body = ErrorBody, description = "Not a component of the mapper world (code invalid_plugin)"),
    ))]
pub async fn upload(
    State(state): State<AppState>,
    AdminTenant(tenant): AdminTenant,
    Query(manifest): Query<PluginManifest>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<PluginVersion>), ApiError> {
    let host = state.plugins();
    let limit = host.config().max_upload_bytes;
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge(format!(
                "the upload is larger than {limit} bytes, the most a plugin may be (plugins.max_upload_bytes)"
            ))
        } else {
            ApiError::bad_request("invalid_body", rejection.body_text())
        }
    })?;
    let record = MapperService::new(state.store(), host)
        .upload(&tenant, Vec::from(body), &manifest)
        .await?;
    Ok((StatusCode::CREATED, Json(record.into())))
}

/// List a tenant's plugin versions.
#[utoipa::path(get, path = "/admin/v1/{tenant}/plugins", tag = "plugins",
    params(("tenant" = String, Path, description = "Tenant id")),
    security(("admin_key" = [])),
    responses((status = 200, body = PluginList), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    AdminTenant(tenant): AdminTenant,
) -> Result<Json<PluginList>, ApiError> {
    let plugins = MapperService::new(state.store(), state.plugins())
        .list(&tenant)
        .await?;
    let active_id = plugins
        .iter()
        .find(|p| p.status == PluginStatus::Active)
        .map(|p| p.id);
    let plugins = plugins.into_iter().map(PluginVersion::from).collect();
    Ok(Json(PluginList { plugins, active_id }))
}

/// Activate a version that passed a dry-run.
#[utoipa::path(post, path = "/admin/v1/{tenant}/plugins/{id}/activate", tag = "plugins",
    params(("tenant" = String, Path, description = "Tenant id"), ("id" = i64, Path, description = "Plugin id")),
    security(("admin_key" = [])),
    responses(
        (status = 200, body = PluginVersion),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "No field catalog, or no passing dry-run against it yet"),
    ))]
pub async fn activate(
    State(state): State<AppState>,
    AdminTenant(tenant): AdminTenant,
    Path(path): Path<(String, i64)>,
) -> Result<Json<PluginVersion>, ApiError> {
    let ctx = state.app().tenant(&tenant).await?;
    let record = MapperService::new(state.store(), state.plugins())
        .activate(&tenant, ctx.mapping(), path.1)
        .await?;
    Ok(Json(record.into()))
}

/// Run a version on a sample supplier or invoice and return the writes it would make (nothing is written).
#[utoipa::path(post, path = "/admin/v1/{tenant}/plugins/{id}/dry-run", tag = "plugins",
    params(("tenant" = String, Path, description = "Tenant id"), ("id" = i64, Path, description = "Plugin id")),
    request_body(content = Sample, content_type = "application/json"),
    security(("admin_key" = [])),
    responses(
        (status = 200, body = DryRun, description = "The plugin ran; `ok` says whether its output is usable"),
        (status = 400, body = ErrorBody, description = "Invalid sample"),
        (status = 404, body = ErrorBody),
    ))]
pub async fn dry_run(
    State(state): State<AppState>,
    AdminTenant(tenant): AdminTenant,
    Path(path): Path<(String, i64)>,
    body: Bytes,
) -> Result<Json<DryRun>, ApiError> {
    let sample = Sample::from_json(&body)
        .map_err(|e| ApiError::bad_request("invalid_sample", e.to_string()))?;
    let ctx = state.app().tenant(&tenant).await?;
    let result = MapperService::new(state.store(), state.plugins())
        .dry_run(&tenant, ctx.mapping(), path.1, &sample)
        .await?;
    Ok(Json(result))
}

/// Re-activate the previously active version.
#[utoipa::path(post, path = "/admin/v1/{tenant}/plugins/rollback", tag = "plugins",
    params(("tenant" = String, Path, description = "Tenant id")),
    security(("admin_key" = [])),
    responses((status = 200, body = PluginVersion), (status = 404, body = ErrorBody, description = "Nothing to roll back to")))]
pub async fn rollback(
    State(state): State<AppState>,
    AdminTenant(tenant): AdminTenant,
) -> Result<Json<PluginVersion>, ApiError> {
    let record = MapperService::new(state.store(), state.plugins())
        .rollback(&tenant)
        .await?;
    Ok(Json(record.into()))
}
