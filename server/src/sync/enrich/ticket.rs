//! One enrichment event, start to end: read the ticket, find the invoice it quotes, read it fresh from Workday,
//! map it, and write what differs in one ticket update.

use sha2::{Digest as _, Sha256};

use crate::app::{App, ContextError};
use crate::lookup::references::ReferencePatterns;
use crate::lookup::resolve::{Resolution, resolve};
use crate::lookup::{InvoiceDetails, fetch_invoice};
use crate::mapper::{FieldTarget, FieldValue, MapperService, PluginHost, Sample, TicketContext};
use crate::store::audit::outcome;
use crate::store::{NewAuditRow, StoreError};
use crate::tenant::TenantId;
use crate::workday::WorkdayError;
use crate::zendesk::ZendeskError;
use crate::zendesk::organizations::same_value;
use crate::zendesk::tickets::{CustomFieldValue, Ticket, TicketUpdate};

/// Audit outcome of a quoted number that names no invoice.
pub const NOT_FOUND: &str = "not_found";

/// What one event came to. Every variant is final: the event is done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The ticket quotes no number.
    NoReference,
    /// It quotes numbers, none of which names an invoice (recorded: audit `not_found`).
    NotFound {
        /// The quoted numbers (the first few).
        quoted: Vec<String>,
    },
    /// The ticket already holds every mapped value: nothing written.
    Unchanged {
        /// The invoice's index key.
        invoice: String,
    },
    /// Fields written.
    Updated {
        /// The invoice's index key.
        invoice: String,
        /// Custom fields written.
        fields: usize,
    },
    /// The tenant's mapping writes nothing to tickets.
    NothingMapped {
        /// The invoice's index key.
        invoice: String,
    },
    /// The ticket is closed (Zendesk refuses updates) or no longer exists (recorded when closed).
    TicketUnwritable {
        /// Why.
        reason: String,
    },
}

impl Outcome {
    /// The metrics label.
    pub fn label(&self) -> &'static str {
        match self {
            Self::NoReference => "no_reference",
            Self::NotFound { .. } => "not_found",
            Self::Unchanged { .. } => "unchanged",
            Self::Updated { .. } => "updated",
            Self::NothingMapped { .. } => "nothing_mapped",
            Self::TicketUnwritable { .. } => "ticket_unwritable",
        }
    }
}

/// Why an event was not done.
#[derive(Debug, thiserror::Error)]
pub enum EnrichError {
    /// Worth another attempt later (an upstream or the store failed, a credential is missing).
    #[error("{0}")]
    Retry(String),
    /// No retry can fix it (a mapped field was deleted in Zendesk, a value its field refuses, the tenant is
    /// gone): dead-lettered at once, to be requeued once fixed.
    #[error("{0}")]
    Permanent(String),
}

impl From<StoreError> for EnrichError {
    fn from(e: StoreError) -> Self {
        Self::Retry(format!("storage: {e}"))
    }
}

impl From<ContextError> for EnrichError {
    fn from(e: ContextError) -> Self {
        match e {
            ContextError::UnknownTenant(_) | ContextError::InvalidSettings { .. } => {
                Self::Permanent(e.to_string())
            }
            other => Self::Retry(other.to_string()),
        }
    }
}

fn workday_error(e: WorkdayError) -> EnrichError {
    if e.is_retryable() {
        EnrichError::Retry(format!("Workday: {e}"))
    } else {
        // Credentials, permissions and validation faults may be fixed by an admin: retried until the attempts
        // are used up, then dead-lettered with this message.
        EnrichError::Retry(format!("Workday (not retryable as is): {e}"))
    }
}

fn zendesk_error(e: ZendeskError) -> EnrichError {
    match e {
        ZendeskError::FieldValue { .. }
        | ZendeskError::FieldTypeMismatch { .. }
        | ZendeskError::InvalidInput(_) => {
            EnrichError::Permanent(format!("the mapping does not fit the ticket fields: {e}"))
        }
        ZendeskError::Validation { status: 422, .. } => {
            EnrichError::Permanent(format!("Zendesk refused the update: {e}"))
        }
        other => EnrichError::Retry(format!("Zendesk: {other}")),
    }
}

/// The JSON value a mapped write puts in a custom field.
fn json_value(value: &FieldValue) -> serde_json::Value {
    match value {
        FieldValue::Text(s)
        | FieldValue::Decimal(s)
        | FieldValue::Date(s)
        | FieldValue::DropdownOption(s) => serde_json::Value::String(s.clone()),
        FieldValue::Checkbox(b) => serde_json::Value::Bool(*b),
        FieldValue::Clear => serde_json::Value::Null,
    }
}

/// The summary the optional internal note carries.
fn note(details: &InvoiceDetails) -> String {
    let i = &details.invoice;
    let p = &details.position;
    let currency = i.currency.clone().unwrap_or_default();
    let mut lines = vec![
        format!("Workday invoice {}", details.number()),
        format!("Amount: {} {currency}", p.amount.normalize()),
        format!("Amount due: {} {currency}", p.due.normalize()),
        format!(
            "Due date: {}",
            i.due_date.map_or_else(|| "none".into(), |d| d.to_string())
        ),
        format!(
            "Payment status: {}",
            crate::lookup::invoice::status_title(p.status)
        ),
    ];
    if let Some(po) = &i.po_number {
        lines.push(format!("PO: {po}"));
    }
    lines.push(format!(
        "As of {} (ml-connector)",
        details.as_of.format("%Y-%m-%d %H:%M UTC")
    ));
    lines.join("\n")
}

fn hash(update: &TicketUpdate) -> String {
    let canonical = serde_json::json!({
        "custom_fields": update.custom_fields,
        "add": update.additional_tags,
        "remove": update.remove_tags,
    });
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

fn audit_row(
    key: &str,
    details: Option<&InvoiceDetails>,
    ticket_id: u64,
    content_hash: String,
    result: &str,
    detail: String,
) -> NewAuditRow {
    let source = details.map(|d| d.source.clone());
    NewAuditRow {
        object_type: "invoice".into(),
        object_id: key.to_string(),
        service: source
            .as_ref()
            .map_or_else(String::new, |s| s.service.clone()),
        operation: source
            .as_ref()
            .map_or_else(String::new, |s| s.operation.clone()),
        version: source
            .as_ref()
            .map_or_else(String::new, |s| s.version.clone()),
        page: None,
        as_of: source.as_ref().map(|s| s.as_of.to_rfc3339()),
        target: format!("ticket:{ticket_id}"),
        content_hash,
        outcome: result.to_string(),
        detail: Some(detail),
        run_id: None,
    }
}

/// What the mapping writes, as one ticket update, minus what the ticket already holds. Custom field values
/// are first checked against their fields (in the form Zendesk stores), then compared as typed values.
async fn changes(
    zendesk: &crate::zendesk::ZendeskClient,
    ticket: &Ticket,
    writes: &[crate::mapper::FieldWrite],
) -> Result<(TicketUpdate, usize), EnrichError> {
    let mut wanted = Vec::new();
    let mut update = TicketUpdate::default();
    for w in writes {
        match &w.target {
            FieldTarget::TicketField { id } => wanted.push(CustomFieldValue {
                id: *id,
                value: json_value(&w.value),
            }),
            FieldTarget::Tag { name } => {
                let has = ticket.tags.iter().any(|t| t == name);
                match w.value {
                    FieldValue::Checkbox(true) if !has => update.additional_tags.push(name.clone()),
                    FieldValue::Checkbox(false) | FieldValue::Clear if has => {
                        update.remove_tags.push(name.clone())
                    }
                    _ => {}
                }
            }
            FieldTarget::OrganizationField { .. } => {}
        }
    }
    let mapped = wanted.len() + update.additional_tags.len() + update.remove_tags.len();
    let checked = zendesk
        .check_custom_fields(&wanted)
        .await
        .map_err(zendesk_error)?;
    for value in checked {
        let field = zendesk
            .ticket_field(value.id)
            .await
            .map_err(zendesk_error)?;
        let kind = match field.field_type {
            crate::zendesk::fields::ReportedType::Custom(t) => Some(t),
            crate::zendesk::fields::ReportedType::Other(_) => None,
        };
        if !same_value(kind, ticket.custom_field(value.id), &value.value) {
            update.custom_fields.push(value);
        }
    }
    Ok((update, mapped))
}

/// What the tenant's mapping (rules, then plugin) writes for `details` on `ticket`.
async fn map_for_ticket(
    store: &crate::store::Store,
    host: &PluginHost,
    ctx: &crate::app::TenantContext,
    ticket: &Ticket,
    ticket_id: u64,
    details: &InvoiceDetails,
) -> Result<crate::mapper::MappingResult, EnrichError> {
    let tenant = ctx.id();
    let supplier_name = match details.invoice.supplier.id.as_deref() {
        Some(s) => store.indexed_supplier(tenant, s).await?.map(|s| s.name),
        None => None,
    };
    let sample = Sample::Invoice {
        invoice: details.to_mapper(supplier_name.as_deref()),
        ticket: TicketContext {
            ticket_id,
            subject: ticket.subject.clone(),
            organization_id: ticket.organization_id,
            requester_email: None,
            tags: ticket.tags.clone(),
            brand_id: None,
        },
    };
    MapperService::new(store, host)
        .map(tenant, ctx.mapping(), &sample)
        .await
        .map_err(|e| EnrichError::Retry(format!("mapping: {e}")))
}

/// Processes one event for `ticket_id` of `tenant` (see the module documentation).
pub async fn enrich_ticket(
    app: &App,
    host: &PluginHost,
    patterns: &ReferencePatterns,
    tenant: &TenantId,
    ticket_id: u64,
) -> Result<Outcome, EnrichError> {
    let ctx = app.tenant(tenant).await?;
    let store = app.store();
    let zendesk = ctx.zendesk().await?;
    let ticket = match zendesk.ticket(ticket_id).await {
        Ok(t) => t,
        Err(ZendeskError::NotFound { .. }) => {
            return Ok(Outcome::TicketUnwritable {
                reason: format!("ticket {ticket_id} no longer exists"),
            });
        }
        Err(e) => return Err(zendesk_error(e)),
    };
    let quoted = patterns.find(&[
        ticket.subject.as_deref().unwrap_or_default(),
        ticket.description.as_deref().unwrap_or_default(),
    ]);
    if quoted.is_empty() {
        return Ok(Outcome::NoReference);
    }
    let supplier = match ticket.organization_id {
        Some(org) => store
            .supplier_of_organization(tenant, i64::try_from(org).unwrap_or(i64::MAX))
            .await?
            .map(|s| s.supplier_id),
        None => None,
    };
    let Resolution {
        chosen,
        others,
        ambiguous,
    } = resolve(store, tenant, &quoted, supplier.as_deref()).await?;
    let Some((indexed, quoted_as, matched_by)) = chosen else {
        let mut listed: Vec<String> = quoted.invoices.iter().take(10).cloned().collect();
        listed.extend(quoted.purchase_orders.iter().take(5).cloned());
        let detail = if ambiguous.is_empty() {
            format!("no invoice in the index matches {}", listed.join(", "))
        } else {
            format!(
                "no invoice in the index matches {}; several suppliers have {}",
                listed.join(", "),
                ambiguous.join(", ")
            )
        };
        store
            .append_audit(
                tenant,
                &[audit_row(
                    &listed.first().cloned().unwrap_or_default(),
                    None,
                    ticket_id,
                    String::new(),
                    NOT_FOUND,
                    detail,
                )],
            )
            .await?;
        return Ok(Outcome::NotFound { quoted: listed });
    };
    let key = indexed.invoice_key.clone();
    let workday = ctx.workday().await?;
    let Some(details) = fetch_invoice(&workday, &key).await.map_err(workday_error)? else {
        store
            .append_audit(
                tenant,
                &[audit_row(
                    &key,
                    None,
                    ticket_id,
                    String::new(),
                    NOT_FOUND,
                    format!("`{quoted_as}` is in the index as {key}, which Workday no longer has"),
                )],
            )
            .await?;
        return Ok(Outcome::NotFound {
            quoted: vec![quoted_as],
        });
    };
    let mapped = map_for_ticket(store, host, &ctx, &ticket, ticket_id, &details).await?;
    if let Some(failure) = &mapped.plugin_failure {
        tracing::warn!(tenant = %tenant, ticket_id, plugin_id = failure.plugin_id, error = %failure.failure, "plugin failed while enriching");
    }
    let (mut update, mapped_count) = changes(&zendesk, &ticket, &mapped.writes).await?;
    if mapped_count == 0 {
        return Ok(Outcome::NothingMapped { invoice: key });
    }
    if update.is_empty() {
        return Ok(Outcome::Unchanged { invoice: key });
    }
    let wants_note = ctx
        .settings()
        .enrichment
        .as_ref()
        .and_then(|e| e.internal_note)
        .unwrap_or(false);
    if wants_note {
        update.internal_note = Some(note(&details));
    }
    let content_hash = hash(&update);
    let mut detail = format!(
        "`{quoted_as}` ({}) → {} field(s)",
        matched_by.as_str(),
        update.custom_fields.len()
    );
    if !others.is_empty() {
        detail.push_str(&format!(
            "; also quoted, not written: {}",
            others.join(", ")
        ));
    }
    match zendesk.update_ticket(ticket_id, &update).await {
        Ok(_) => {}
        Err(ZendeskError::TicketClosed { .. }) => {
            let reason = format!("ticket {ticket_id} is closed; Zendesk refuses updates");
            store
                .append_audit(
                    tenant,
                    &[audit_row(
                        &key,
                        Some(&details),
                        ticket_id,
                        content_hash,
                        outcome::FAILED,
                        reason.clone(),
                    )],
                )
                .await?;
            return Ok(Outcome::TicketUnwritable { reason });
        }
        Err(e) => return Err(zendesk_error(e)),
    }
    store
        .append_audit(
            tenant,
            &[audit_row(
                &key,
                Some(&details),
                ticket_id,
                content_hash,
                outcome::UPDATED,
                detail,
            )],
        )
        .await?;
    Ok(Outcome::Updated {
        invoice: key,
        fields: update.custom_fields.len(),
    })
}

/// What [`attach_invoice`] did.
#[derive(Debug, Clone)]
pub struct Attached {
    /// Where the writes came from.
    pub source: crate::mapper::service::MappingSource,
    /// The writes sent (only those that differed from what the ticket held).
    pub written: Vec<crate::mapper::FieldWrite>,
    /// Whether the ticket already held every mapped value (nothing was sent).
    pub unchanged: bool,
}

/// An agent attaches `details` to ticket `ticket_id` (the sidebar's "attach"): the invoice is mapped through the
/// tenant's mapping or plugin and the fields that differ are written now, in one update, audited like an
/// enrichment. Errors are the enrichment's: a mapping that does not fit the fields is permanent.
pub async fn attach_invoice(
    app: &App,
    host: &PluginHost,
    tenant: &TenantId,
    ticket_id: u64,
    details: &InvoiceDetails,
) -> Result<Attached, EnrichError> {
    let ctx = app.tenant(tenant).await?;
    let store = app.store();
    let zendesk = ctx.zendesk().await?;
    let ticket = zendesk.ticket(ticket_id).await.map_err(zendesk_error)?;
    let mapped = map_for_ticket(store, host, &ctx, &ticket, ticket_id, details).await?;
    let (update, _) = changes(&zendesk, &ticket, &mapped.writes).await?;
    let key = details
        .invoice
        .reference_id
        .clone()
        .or_else(|| details.invoice.wid.clone())
        .unwrap_or_default();
    if update.is_empty() {
        return Ok(Attached {
            source: mapped.source,
            written: Vec::new(),
            unchanged: true,
        });
    }
    let sent: std::collections::HashSet<u64> = update.custom_fields.iter().map(|c| c.id).collect();
    let written: Vec<crate::mapper::FieldWrite> = mapped
        .writes
        .iter()
        .filter(|w| match &w.target {
            FieldTarget::TicketField { id } => sent.contains(id),
            FieldTarget::Tag { name } => {
                update.additional_tags.contains(name) || update.remove_tags.contains(name)
            }
            FieldTarget::OrganizationField { .. } => false,
        })
        .cloned()
        .collect();
    let content_hash = hash(&update);
    zendesk
        .update_ticket(ticket_id, &update)
        .await
        .map_err(zendesk_error)?;
    store
        .append_audit(
            tenant,
            &[audit_row(
                &key,
                Some(details),
                ticket_id,
                content_hash,
                outcome::UPDATED,
                format!(
                    "attached by an agent → {} field(s)",
                    update.custom_fields.len()
                ),
            )],
        )
        .await?;
    Ok(Attached {
        source: mapped.source,
        written,
        unchanged: false,
    })
}
