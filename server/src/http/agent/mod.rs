//! The agent API: what the Zendesk sidebar app calls while an agent waits (docs/api.md "Agent API"), under
//! `/api/v1/{tenant}/...`, authenticated with the Zendesk-signed JWT ([`super::jwt::AgentTenant`]):
//!
//! - `GET invoices/{number}` — an invoice with its PO, payments and credit memos;
//! - `GET suppliers/{supplier_id}` — a supplier with its open and overdue totals and recent invoices;
//! - `GET search?q=` — invoice number prefixes and supplier names, from the index;
//! - `GET tickets/{ticket_id}/context` — the supplier and the invoices a ticket's text references;
//! - `POST tickets/{ticket_id}/attach` — write an invoice's mapped fields on the ticket now.
//!
//! Reads go through the tenant's [`crate::lookup::LookupCache`]; `?refresh=true` bypasses it for the objects of
//! that answer. A Workday failure with a cached value answers it marked `stale`; with nothing cached, `502
//! workday_unavailable` (`504 workday_timeout`).

pub mod views;

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::future::join_all;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::error::{ApiError, ErrorBody};
use super::jwt::AgentTenant;
use super::state::AppState;
use crate::app::TenantContext;
use crate::lookup::InvoiceDetails;
use crate::lookup::agent::{Found, LookupError, Lookups};
use crate::mapper::FieldWrite;
use crate::mapper::service::MappingSource;
use crate::sync::enrich::EnrichError;
use crate::sync::enrich::ticket::attach_invoice;
use crate::workday::WorkdayError;
use views::{InvoiceView, SupplierView};

impl From<LookupError> for ApiError {
    fn from(err: LookupError) -> Self {
        match err {
            LookupError::InvoiceNotFound(message) => Self::NotFoundWith {
                code: "invoice_not_found",
                message,
            },
            LookupError::SupplierNotFound(message) => Self::NotFoundWith {
                code: "supplier_not_found",
                message,
            },
            LookupError::Ambiguous(message) => Self::ConflictWith {
                code: "ambiguous_invoice_number",
                message,
            },
            LookupError::Workday(e @ WorkdayError::Timeout { .. }) => Self::GatewayTimeout {
                code: "workday_timeout",
                message: format!("Workday did not answer in time: {e}"),
            },
            LookupError::Workday(e) => Self::Upstream {
                code: "workday_unavailable",
                message: format!("Workday could not be read and nothing is cached: {e}"),
            },
            LookupError::Context(e) => e.into(),
            LookupError::Store(e) => e.into(),
        }
    }
}

/// `?refresh=true`.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct RefreshParams {
    /// Bypass the cache for the objects of this answer.
    #[serde(default)]
    pub refresh: bool,
    /// When several suppliers' invoices have this number: the supplier's.
    #[serde(default)]
    pub supplier_id: Option<String>,
}

/// `?q=&limit=`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct SearchParams {
    /// An invoice number prefix (either number) or words of a supplier's name; at least 2 characters.
    pub q: String,
    /// At most this many of each (default 10, at most 50).
    pub limit: Option<u32>,
}

/// What the ticket says about itself.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct ContextParams {
    /// Ticket subject.
    pub subject: Option<String>,
    /// Ticket description (first comment).
    pub description: Option<String>,
    /// The ticket organization's `external_id` (= `Supplier_ID` for organizations the sync made).
    pub organization_external_id: Option<String>,
    /// The requester's e-mail.
    pub requester_email: Option<String>,
    /// Bypass the cache for the supplier and every invoice of the answer.
    #[serde(default)]
    pub refresh: bool,
}

/// `GET suppliers/{id}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SupplierAnswer {
    /// The supplier.
    pub supplier: SupplierView,
    /// Its most recent invoices.
    pub recent_invoices: Vec<InvoiceView>,
    /// The oldest `as_of` of the parts.
    pub as_of: String,
    /// Whether any part is stale.
    pub stale: bool,
}

/// A supplier found by search.
#[derive(Debug, Serialize, ToSchema)]
pub struct SupplierHit {
    /// `Supplier_ID`.
    pub supplier_id: String,
    /// Name.
    pub name: String,
    /// Status.
    pub status: String,
}

/// `GET search`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchAnswer {
    /// The query.
    pub query: String,
    /// Invoices whose number starts with it (from the index: the last sync's position, no payments).
    pub invoices: Vec<InvoiceView>,
    /// Suppliers whose name contains it.
    pub suppliers: Vec<SupplierHit>,
}

/// `GET tickets/{id}/context`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContextAnswer {
    /// The ticket.
    pub ticket_id: u64,
    /// The supplier, when one was recognised.
    pub supplier: Option<SupplierView>,
    /// How: `organization`, `invoice`, or null.
    pub supplier_match: Option<String>,
    /// The invoices the ticket's text quotes, in the order quoted.
    pub referenced_invoices: Vec<InvoiceView>,
    /// The supplier's recent invoices not already listed.
    pub recent_invoices: Vec<InvoiceView>,
    /// Quoted numbers that name no invoice.
    pub unresolved_references: Vec<String>,
    /// The oldest `as_of` of the parts.
    pub as_of: Option<String>,
    /// Whether any part is stale.
    pub stale: bool,
}

/// `POST tickets/{id}/attach` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachRequest {
    /// The invoice: the number a supplier quotes, Workday's number, or its reference ID.
    pub invoice: String,
}

/// `POST tickets/{id}/attach` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachAnswer {
    /// The ticket.
    pub ticket_id: u64,
    /// The invoice attached.
    pub invoice: InvoiceView,
    /// Where the writes came from.
    pub source: MappingSource,
    /// The writes sent (those that differed from the ticket).
    pub written: Vec<FieldWrite>,
    /// Whether the ticket already held exactly those values (nothing was sent).
    pub unchanged: bool,
}

struct Agent {
    ctx: Arc<TenantContext>,
    state: AppState,
}

impl Agent {
    fn new(state: &AppState, ctx: Arc<TenantContext>) -> Self {
        Self {
            ctx,
            state: state.clone(),
        }
    }

    fn lookups(&self) -> Lookups<'_> {
        Lookups {
            ctx: &self.ctx,
            store: self.state.store(),
            cache: self.state.lookups(),
        }
    }

    async fn supplier_name(&self, d: &InvoiceDetails) -> Result<Option<String>, ApiError> {
        Ok(match d.invoice.supplier.id.as_deref() {
            Some(s) => self.lookups().supplier_name(s).await?,
            None => None,
        })
    }

    async fn invoice_view(&self, found: &Found<InvoiceDetails>) -> Result<InvoiceView, ApiError> {
        let name = self.supplier_name(&found.value).await?;
        Ok(InvoiceView::of(&found.value, name, found.stale.clone()))
    }

    /// The invoices under these index keys, read (through the cache) concurrently; ones Workday no longer has
    /// are left out.
    async fn invoices(&self, keys: &[String], refresh: bool) -> Result<Vec<InvoiceView>, ApiError> {
        let lookups = self.lookups();
        let reads = join_all(keys.iter().map(|k| lookups.invoice_by_key(k, refresh))).await;
        let mut out = Vec::new();
        for read in reads {
            if let Some(found) = read? {
                out.push(self.invoice_view(&found).await?);
            }
        }
        Ok(out)
    }

    async fn supplier_view(
        &self,
        supplier_id: &str,
        refresh: bool,
    ) -> Result<SupplierView, ApiError> {
        let found = self.lookups().supplier(supplier_id, refresh).await?;
        let store = self.state.store();
        let totals = store.supplier_totals(self.ctx.id(), supplier_id).await?;
        let indexed = store.indexed_supplier(self.ctx.id(), supplier_id).await?;
        Ok(SupplierView::of(
            &found.value.record,
            found.value.source.as_of,
            &totals,
            indexed.as_ref(),
            found.stale,
        ))
    }
}

fn oldest<'a>(as_of: impl Iterator<Item = &'a str>) -> Option<String> {
    as_of.filter(|s| !s.is_empty()).min().map(str::to_string)
}

#[utoipa::path(get, path = "/api/v1/{tenant}/invoices/{number}", tag = "agent",
    params(("tenant" = String, Path, description = "Tenant id"),
        ("number" = String, Path, description = "The supplier's invoice number, Workday's, or the reference ID"),
        RefreshParams),
    security(("agent_jwt" = [])),
    responses((status = 200, body = InvoiceView), (status = 401, body = ErrorBody),
        (status = 404, description = "invoice_not_found", body = ErrorBody),
        (status = 409, description = "ambiguous_invoice_number", body = ErrorBody),
        (status = 502, description = "workday_unavailable", body = ErrorBody)))]
pub async fn get_invoice(
    State(state): State<AppState>,
    AgentTenant(_tenant, ctx): AgentTenant,
    Path(path): Path<(String, String)>,
    Query(params): Query<RefreshParams>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse as _;
    let number = path.1;
    let agent = Agent::new(&state, ctx);
    let found = agent
        .lookups()
        .invoice_by_number(&number, params.supplier_id.as_deref(), params.refresh)
        .await?;
    let json = [(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    )];
    // A fresh answer is rendered once per cache entry (the hot path of the sidebar); a stale one each time.
    if found.stale.is_none()
        && let Some(bytes) = found.rendered.get()
    {
        return Ok((json, axum::body::Bytes::from_owner(bytes.clone())).into_response());
    }
    let view = agent.invoice_view(&found).await?;
    let bytes: Arc<[u8]> = serde_json::to_vec(&view)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("rendering an invoice: {e}")))?
        .into();
    if found.stale.is_none() {
        let _ = found.rendered.set(bytes.clone());
    }
    Ok((json, axum::body::Bytes::from_owner(bytes)).into_response())
}

#[utoipa::path(get, path = "/api/v1/{tenant}/suppliers/{supplier_id}", tag = "agent",
    params(("tenant" = String, Path, description = "Tenant id"),
        ("supplier_id" = String, Path, description = "Supplier_ID"), RefreshParams),
    security(("agent_jwt" = [])),
    responses((status = 200, body = SupplierAnswer), (status = 401, body = ErrorBody),
        (status = 404, description = "supplier_not_found", body = ErrorBody),
        (status = 502, description = "workday_unavailable", body = ErrorBody)))]
pub async fn get_supplier(
    State(state): State<AppState>,
    AgentTenant(tenant, ctx): AgentTenant,
    Path(path): Path<(String, String)>,
    Query(params): Query<RefreshParams>,
) -> Result<Json<SupplierAnswer>, ApiError> {
    let supplier_id = path.1;
    let agent = Agent::new(&state, ctx);
    let supplier = agent.supplier_view(&supplier_id, params.refresh).await?;
    let keys: Vec<String> = state
        .store()
        .recent_invoices(
            &tenant,
            &supplier.supplier_id,
            state.config().agent.recent_invoices,
        )
        .await?
        .into_iter()
        .map(|i| i.invoice_key)
        .collect();
    let recent_invoices = agent.invoices(&keys, params.refresh).await?;
    let stale = supplier.stale || recent_invoices.iter().any(|i| i.stale);
    let as_of = oldest(
        std::iter::once(supplier.as_of.as_str())
            .chain(recent_invoices.iter().map(|i| i.as_of.as_str())),
    )
    .unwrap_or_default();
    Ok(Json(SupplierAnswer {
        supplier,
        recent_invoices,
        as_of,
        stale,
    }))
}

#[utoipa::path(get, path = "/api/v1/{tenant}/search", tag = "agent",
    params(("tenant" = String, Path, description = "Tenant id"), SearchParams),
    security(("agent_jwt" = [])),
    responses((status = 200, body = SearchAnswer), (status = 400, description = "query_too_short", body = ErrorBody),
        (status = 401, body = ErrorBody)))]
pub async fn search(
    State(state): State<AppState>,
    AgentTenant(tenant, _ctx): AgentTenant,
    Query(params): Query<SearchParams>,
) -> Result<Json<SearchAnswer>, ApiError> {
    let q = params.q.trim().to_string();
    if q.chars().count() < 2 {
        return Err(ApiError::bad_request(
            "query_too_short",
            "search for at least 2 characters",
        ));
    }
    let limit = params.limit.unwrap_or(10).clamp(1, 50);
    let store = state.store();
    let found = store.invoices_by_prefix(&tenant, &q, limit).await?;
    let mut invoices = Vec::with_capacity(found.len());
    for i in &found {
        let name = store
            .indexed_supplier(&tenant, &i.supplier_id)
            .await?
            .map(|s| s.name);
        invoices.push(InvoiceView::of_index(i, name));
    }
    let suppliers = store
        .search_suppliers(&tenant, &q, limit)
        .await?
        .into_iter()
        .map(|s| SupplierHit {
            supplier_id: s.supplier_id,
            name: s.name,
            status: s.status.to_lowercase(),
        })
        .collect();
    Ok(Json(SearchAnswer {
        query: q,
        invoices,
        suppliers,
    }))
}

#[utoipa::path(get, path = "/api/v1/{tenant}/tickets/{ticket_id}/context", tag = "agent",
    params(("tenant" = String, Path, description = "Tenant id"), ("ticket_id" = u64, Path, description = "Ticket"),
        ContextParams),
    security(("agent_jwt" = [])),
    responses((status = 200, body = ContextAnswer), (status = 401, body = ErrorBody),
        (status = 502, description = "workday_unavailable", body = ErrorBody)))]
pub async fn ticket_context(
    State(state): State<AppState>,
    AgentTenant(tenant, ctx): AgentTenant,
    Path(path): Path<(String, u64)>,
    Query(params): Query<ContextParams>,
) -> Result<Json<ContextAnswer>, ApiError> {
    let ticket_id = path.1;
    let agent = Agent::new(&state, ctx);
    let store = state.store();
    // The supplier: the ticket's organization (its external_id is the Supplier_ID), if the index knows it.
    let mut supplier_id = None;
    let mut supplier_match = None;
    if let Some(ext) = params
        .organization_external_id
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
        && store.indexed_supplier(&tenant, ext).await?.is_some()
    {
        supplier_id = Some(ext.to_string());
        supplier_match = Some("organization".to_string());
    }
    let texts = [
        params.subject.as_deref().unwrap_or_default(),
        params.description.as_deref().unwrap_or_default(),
    ];
    let (referenced, unresolved) = agent
        .lookups()
        .referenced(state.patterns(), &texts, supplier_id.as_deref())
        .await?;
    if supplier_id.is_none()
        && let Some(first) = referenced.first()
    {
        supplier_id = Some(first.supplier_id.clone());
        supplier_match = Some("invoice".to_string());
    }
    let referenced_keys: Vec<String> = referenced.iter().map(|i| i.invoice_key.clone()).collect();
    let referenced_invoices = agent.invoices(&referenced_keys, params.refresh).await?;
    let (supplier, recent_invoices) = match &supplier_id {
        Some(id) => {
            let supplier = match agent.supplier_view(id, params.refresh).await {
                Ok(s) => Some(s),
                Err(ApiError::NotFoundWith { .. }) => None,
                Err(e) => return Err(e),
            };
            let keys: Vec<String> = store
                .recent_invoices(&tenant, id, state.config().agent.recent_invoices)
                .await?
                .into_iter()
                .map(|i| i.invoice_key)
                .filter(|k| !referenced_keys.contains(k))
                .collect();
            (supplier, agent.invoices(&keys, params.refresh).await?)
        }
        None => (None, Vec::new()),
    };
    let stale = supplier.as_ref().is_some_and(|s| s.stale)
        || referenced_invoices
            .iter()
            .chain(&recent_invoices)
            .any(|i| i.stale);
    let as_of = oldest(
        supplier.iter().map(|s| s.as_of.as_str()).chain(
            referenced_invoices
                .iter()
                .chain(&recent_invoices)
                .map(|i| i.as_of.as_str()),
        ),
    );
    Ok(Json(ContextAnswer {
        ticket_id,
        supplier,
        supplier_match,
        referenced_invoices,
        recent_invoices,
        unresolved_references: unresolved,
        as_of,
        stale,
    }))
}

#[utoipa::path(post, path = "/api/v1/{tenant}/tickets/{ticket_id}/attach", tag = "agent",
    params(("tenant" = String, Path, description = "Tenant id"), ("ticket_id" = u64, Path, description = "Ticket")),
    request_body = AttachRequest,
    security(("agent_jwt" = [])),
    responses((status = 200, body = AttachAnswer), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, description = "invoice_not_found", body = ErrorBody),
        (status = 422, description = "the mapping does not fit the ticket's fields", body = ErrorBody),
        (status = 502, description = "Workday or Zendesk failed", body = ErrorBody)))]
pub async fn attach(
    State(state): State<AppState>,
    AgentTenant(tenant, ctx): AgentTenant,
    Path(path): Path<(String, u64)>,
    body: axum::body::Bytes,
) -> Result<Json<AttachAnswer>, ApiError> {
    let ticket_id = path.1;
    let request: AttachRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request("invalid_body", format!("invalid JSON body: {e}")))?;
    let agent = Agent::new(&state, ctx);
    // Fresh: what is written on the ticket must be what Workday says now.
    let found = agent
        .lookups()
        .invoice_by_number(&request.invoice, None, true)
        .await?;
    if let Some(reason) = &found.stale {
        return Err(ApiError::Upstream {
            code: "workday_unavailable",
            message: format!("Workday could not be read, so nothing was written: {reason}"),
        });
    }
    let attached = attach_invoice(
        state.app(),
        state.plugins(),
        &tenant,
        ticket_id,
        &found.value,
    )
    .await
    .map_err(|e| match e {
        EnrichError::Permanent(message) => ApiError::Unprocessable {
            code: "mapping_does_not_fit",
            message,
        },
        EnrichError::Retry(message) => ApiError::Upstream {
            code: "write_failed",
            message,
        },
    })?;
    Ok(Json(AttachAnswer {
        ticket_id,
        invoice: agent.invoice_view(&found).await?,
        source: attached.source,
        written: attached.written,
        unchanged: attached.unchanged,
    }))
}

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/{tenant}/invoices/{number}", get(get_invoice))
        .route(
            "/api/v1/{tenant}/suppliers/{supplier_id}",
            get(get_supplier),
        )
        .route("/api/v1/{tenant}/search", get(search))
        .route(
            "/api/v1/{tenant}/tickets/{ticket_id}/context",
            get(ticket_context),
        )
        .route("/api/v1/{tenant}/tickets/{ticket_id}/attach", post(attach))
}

/// This module's part of the OpenAPI document.
#[derive(Debug, OpenApi)]
#[openapi(
    paths(get_invoice, get_supplier, search, ticket_context, attach),
    components(schemas(InvoiceView, SupplierView, views::SupplierRef, views::PurchaseOrderView,
        views::PaymentView, views::AdjustmentView, views::ContactView, views::TotalsView, SupplierAnswer,
        SupplierHit, SearchAnswer, ContextAnswer, AttachRequest, AttachAnswer)),
    tags((name = "agent", description = "What the Zendesk sidebar app reads (Zendesk-signed JWT)"))
)]
pub struct ApiDoc;
