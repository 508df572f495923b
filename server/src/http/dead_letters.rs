//! Admin API of the enrichment queue's dead letters, authenticated with the tenant's admin key:
//!
//! - `GET  /admin/v1/{tenant}/dead-letters[?limit=]` — events that were given up on, newest first, each with
//!   its last error;
//! - `POST /admin/v1/{tenant}/dead-letters/{id}/requeue` — back in the queue with its attempts reset (404
//!   `not_found` when the tenant has no such dead letter).

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::auth::AdminTenant;
use super::error::{ApiError, ErrorBody};
use super::state::AppState;
use crate::store::QueuedEvent;

fn instant(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// One dead letter.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetter {
    /// Queue id (what `requeue` takes).
    pub id: i64,
    /// The webhook event's id.
    pub event_id: String,
    /// The webhook event's type (`trigger` for a trigger-connected webhook).
    pub event_type: String,
    /// The ticket.
    pub ticket_id: i64,
    /// Claims made.
    pub attempts: i64,
    /// Why it was given up on.
    pub last_error: Option<String>,
    /// When the webhook was received (RFC 3339).
    pub created_at: String,
    /// When it was dead-lettered (RFC 3339).
    pub updated_at: String,
}

impl From<QueuedEvent> for DeadLetter {
    fn from(e: QueuedEvent) -> Self {
        Self {
            id: e.id,
            event_id: e.event_id,
            event_type: e.event_type,
            ticket_id: e.ticket_id,
            attempts: e.attempts,
            last_error: e.last_error,
            created_at: instant(e.created_at),
            updated_at: instant(e.updated_at),
        }
    }
}

/// The list.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetterList {
    /// Newest first.
    pub dead_letters: Vec<DeadLetter>,
}

/// A requeued event.
#[derive(Debug, Serialize, ToSchema)]
pub struct Requeued {
    /// Queue id.
    pub id: i64,
    /// `queued`.
    pub status: &'static str,
}

/// `GET dead-letters` options.
#[derive(Debug, Deserialize, IntoParams)]
pub struct DeadLetterParams {
    /// At most this many (default 100, at most 1000).
    pub limit: Option<u32>,
}

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/v1/{tenant}/dead-letters", get(list))
        .route(
            "/admin/v1/{tenant}/dead-letters/{id}/requeue",
            post(requeue),
        )
}

/// This module's part of the OpenAPI document.
#[derive(Debug, OpenApi)]
#[openapi(
    paths(list, requeue),
    components(schemas(DeadLetter, DeadLetterList, Requeued)),
    tags((name = "enrichment", description = "The enrichment queue's dead letters (admin key)"))
)]
pub struct ApiDoc;

/// The tenant's dead letters, newest first.
#[utoipa::path(get, path = "/admin/v1/{tenant}/dead-letters", tag = "enrichment",
    params(("tenant" = String, Path, description = "Tenant id"), DeadLetterParams),
    security(("admin_key" = [])),
    responses((status = 200, body = DeadLetterList), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    AdminTenant(tenant): AdminTenant,
    Query(params): Query<DeadLetterParams>,
) -> Result<Json<DeadLetterList>, ApiError> {
    let limit = params.limit.unwrap_or(100).clamp(1, 1000);
    let rows = state.store().dead_letters(&tenant, limit).await?;
    Ok(Json(DeadLetterList {
        dead_letters: rows.into_iter().map(DeadLetter::from).collect(),
    }))
}

/// Puts a dead letter back in the queue (attempts reset).
#[utoipa::path(post, path = "/admin/v1/{tenant}/dead-letters/{id}/requeue", tag = "enrichment",
    params(("tenant" = String, Path, description = "Tenant id"), ("id" = i64, Path, description = "Queue id")),
    security(("admin_key" = [])),
    responses((status = 200, body = Requeued), (status = 401, body = ErrorBody),
        (status = 404, description = "no such dead letter", body = ErrorBody)))]
pub async fn requeue(
    State(state): State<AppState>,
    AdminTenant(tenant): AdminTenant,
    Path(path): Path<(String, i64)>,
) -> Result<Json<Requeued>, ApiError> {
    let id = path.1;
    if !state.store().requeue_dead_letter(&tenant, id).await? {
        return Err(ApiError::NotFound(format!(
            "tenant {tenant} has no dead letter {id}"
        )));
    }
    state.app().queue_signal().notify_waiters();
    tracing::info!(tenant = %tenant, queue_id = id, "dead letter requeued");
    Ok(Json(Requeued {
        id,
        status: "queued",
    }))
}
