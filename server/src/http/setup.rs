//! Admin API of setup and the mapping, authenticated with the tenant's admin key (the same code as
//! `ml-connector setup` and `ml-connector mapping`):
//!
//! - `POST /admin/v1/{tenant}/setup[?dry_run=true]` — provision the tenant's Zendesk (fields, webhook, trigger,
//!   default mapping); the report lists what was found, created or changed (with `dry_run`, would be);
//! - `GET  /admin/v1/{tenant}/mapping` — the rules and the plugin failure policy;
//! - `PUT  /admin/v1/{tenant}/mapping` — replace them (JSON, or TOML with `Content-Type: application/toml`),
//!   checked against the account's fields read now; a refused mapping changes nothing (422 `invalid_mapping`,
//!   the message names the rule and the field);
//! - `POST /admin/v1/{tenant}/mapping/preview` `{"invoice": "NUMBER"}` or `{"supplier": "ID"}` — the writes the
//!   mapping would make for that record, read from Workday now; nothing is written.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::auth::AdminTenant;
use super::error::{ApiError, ErrorBody};
use super::state::AppState;
use crate::app::setup::{self, MappingFile, SetupError, SetupReport};
use crate::lookup::{MappingPreview, PreviewError, PreviewSubject, preview_mapping};

impl From<SetupError> for ApiError {
    fn from(err: SetupError) -> Self {
        let code = err.code();
        match err {
            SetupError::Context(e) => e.into(),
            SetupError::Store(e) => e.into(),
            SetupError::Probe(_) | SetupError::Zendesk(_) => Self::Upstream {
                code,
                message: err.to_string(),
            },
            SetupError::FieldTypeMismatch { .. } => Self::ConflictWith {
                code,
                message: err.to_string(),
            },
            SetupError::NoPublicUrl | SetupError::Mapping(_) => Self::Unprocessable {
                code,
                message: err.to_string(),
            },
        }
    }
}

impl From<PreviewError> for ApiError {
    fn from(err: PreviewError) -> Self {
        match err {
            PreviewError::NotFound(m) => Self::NotFound(m),
            PreviewError::Ambiguous(message) => Self::ConflictWith {
                code: "ambiguous_invoice_number",
                message,
            },
            PreviewError::Context(e) => e.into(),
            PreviewError::Store(e) => e.into(),
            PreviewError::Workday(_) => Self::Upstream {
                code: "workday_failed",
                message: err.to_string(),
            },
            PreviewError::Mapping(_) => Self::Unprocessable {
                code: "mapping_failed",
                message: err.to_string(),
            },
        }
    }
}

/// `?dry_run=true` (or the same in a JSON body).
#[derive(Debug, Deserialize, IntoParams, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetupParams {
    /// Only report what would be found, created or changed.
    #[serde(default)]
    pub dry_run: bool,
}

/// The record to preview: exactly one of the two.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    /// An invoice: the number a customer quotes, Workday's invoice number, or its reference ID / WID.
    pub invoice: Option<String>,
    /// A supplier, by `Supplier_ID`.
    pub supplier: Option<String>,
}

#[utoipa::path(post, path = "/admin/v1/{tenant}/setup", tag = "setup",
    params(("tenant" = String, Path, description = "Tenant id"), SetupParams),
    request_body(content = Option<SetupParams>, description = "`{\"dry_run\": true}` (or the query parameter)"),
    security(("admin_key" = [])),
    responses((status = 200, body = SetupReport), (status = 401, body = ErrorBody),
        (status = 409, description = "a standard field exists with another type", body = ErrorBody),
        (status = 422, description = "the tenant or server.public_url is not configured", body = ErrorBody),
        (status = 502, description = "an upstream failed its check", body = ErrorBody)))]
pub async fn run_setup(
    State(state): State<AppState>,
    AdminTenant(tenant): AdminTenant,
    Query(params): Query<SetupParams>,
    body: Bytes,
) -> Result<Json<SetupReport>, ApiError> {
    // `?dry_run=true`, or `{"dry_run": true}`; the body is optional.
    let dry_run = if body.iter().all(u8::is_ascii_whitespace) {
        params.dry_run
    } else {
        let body: SetupParams = serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_request("invalid_body", format!("invalid JSON body: {e}"))
        })?;
        params.dry_run || body.dry_run
    };
    let app = state.app();
    let ctx = app.tenant(&tenant).await?;
    Ok(Json(setup::run_setup(app, &ctx, dry_run).await?))
}

#[utoipa::path(get, path = "/admin/v1/{tenant}/mapping", tag = "setup",
    params(("tenant" = String, Path, description = "Tenant id")),
    security(("admin_key" = [])),
    responses((status = 200, description = "`supplier` and `invoice` rules, `plugin_failure_policy`",
        body = serde_json::Value), (status = 401, body = ErrorBody)))]
pub async fn get_mapping(
    State(state): State<AppState>,
    AdminTenant(tenant): AdminTenant,
) -> Result<Json<serde_json::Value>, ApiError> {
    let ctx = state.app().tenant(&tenant).await?;
    Ok(Json(MappingFile::to_json(ctx.settings())))
}

#[utoipa::path(put, path = "/admin/v1/{tenant}/mapping", tag = "setup",
    params(("tenant" = String, Path, description = "Tenant id")),
    request_body(content = serde_json::Value,
        description = "`{\"supplier\": [...], \"invoice\": [...], \"plugin_failure_policy\": \"fallback\"}`, or the TOML form with `Content-Type: application/toml`"),
    security(("admin_key" = [])),
    responses((status = 200, description = "the stored mapping", body = serde_json::Value),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 422, description = "refused: the message names the rule and the field", body = ErrorBody)))]
pub async fn put_mapping(
    State(state): State<AppState>,
    AdminTenant(tenant): AdminTenant,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    let toml = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.contains("toml"));
    let file = if toml {
        let text = std::str::from_utf8(&body)
            .map_err(|_| ApiError::bad_request("invalid_body", "the TOML body is not UTF-8"))?;
        MappingFile::from_toml(text)?
    } else {
        let value: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_request("invalid_body", format!("invalid JSON body: {e}"))
        })?;
        MappingFile::from_json(value)?
    };
    let app = state.app();
    let ctx = app.tenant(&tenant).await?;
    setup::set_mapping(app, &ctx, &file).await?;
    let ctx = app.tenant(&tenant).await?;
    Ok(Json(MappingFile::to_json(ctx.settings())))
}

#[utoipa::path(post, path = "/admin/v1/{tenant}/mapping/preview", tag = "setup",
    params(("tenant" = String, Path, description = "Tenant id")),
    request_body = PreviewRequest,
    security(("admin_key" = [])),
    responses((status = 200, body = MappingPreview), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, description = "no such record", body = ErrorBody),
        (status = 409, description = "the number belongs to several suppliers' invoices", body = ErrorBody),
        (status = 502, description = "Workday failed", body = ErrorBody)))]
pub async fn preview(
    State(state): State<AppState>,
    AdminTenant(tenant): AdminTenant,
    body: Bytes,
) -> Result<Json<MappingPreview>, ApiError> {
    let request: PreviewRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request("invalid_body", format!("invalid JSON body: {e}")))?;
    let subject = match (request.invoice, request.supplier) {
        (Some(number), None) if !number.trim().is_empty() => PreviewSubject::Invoice(number),
        (None, Some(id)) if !id.trim().is_empty() => PreviewSubject::Supplier(id),
        _ => {
            return Err(ApiError::bad_request(
                "invalid_body",
                "give exactly one of `invoice` (a number) and `supplier` (a Supplier_ID)",
            ));
        }
    };
    let ctx = state.app().tenant(&tenant).await?;
    let preview = preview_mapping(&ctx, state.store(), state.plugins(), &subject).await?;
    Ok(Json(preview))
}

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/v1/{tenant}/setup", post(run_setup))
        .route(
            "/admin/v1/{tenant}/mapping",
            get(get_mapping).put(put_mapping),
        )
        .route("/admin/v1/{tenant}/mapping/preview", post(preview))
}

/// This module's part of the OpenAPI document.
#[derive(Debug, OpenApi)]
#[openapi(
    paths(run_setup, get_mapping, put_mapping, preview),
    components(schemas(SetupParams, SetupReport, setup::SetupStep, setup::Outcome, PreviewRequest, MappingPreview)),
    tags((name = "setup", description = "Provisioning the tenant's Zendesk, and its field mapping (admin key)"))
)]
pub struct ApiDoc;
