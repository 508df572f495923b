//! What a tenant's mapping would write for one real Workday record, read now: `mapping preview` and
//! `POST /admin/v1/{tenant}/mapping/preview`. Nothing is written, to Zendesk or to the store.

use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::invoice::fetch_invoice;
use crate::app::{ContextError, TenantContext};
use crate::mapper::input::Supplier as MappedSupplier;
use crate::mapper::service::LifecycleError;
use crate::mapper::{
    FieldTarget, FieldValue, MapperService, MappingResult, PluginHost, Sample, TicketContext,
};
use crate::store::{Store, StoreError};
use crate::workday::WorkdayError;

/// The record to preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum PreviewSubject {
    /// An invoice: the number a customer quotes (the supplier's invoice number), Workday's invoice number, or
    /// its `Supplier_Invoice_ID` / WID.
    Invoice(String),
    /// A supplier by `Supplier_ID`.
    Supplier(String),
}

/// What the mapping would write.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MappingPreview {
    /// `invoice` or `supplier`.
    pub kind: &'static str,
    /// The record's Workday key (`Supplier_Invoice_ID` or WID; `Supplier_ID`).
    pub workday_key: String,
    /// A one-line description of the record (number, supplier, amount...).
    pub record: String,
    /// The writes, where they came from, skipped rules, and a plugin failure if one happened.
    #[serde(flatten)]
    pub result: MappingResult,
}

/// Why there is no preview.
#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    /// No such record.
    #[error("{0}")]
    NotFound(String),
    /// The number matches invoices of several suppliers.
    #[error("{0}")]
    Ambiguous(String),
    /// The tenant's clients or mapping could not be assembled.
    #[error(transparent)]
    Context(#[from] ContextError),
    /// Workday failed.
    #[error("Workday: {0}")]
    Workday(#[from] WorkdayError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The mapping could not run (e.g. the active plugin cannot be loaded).
    #[error("mapping: {0}")]
    Mapping(#[from] LifecycleError),
}

/// The writes the tenant's mapping (declarative rules, then the active plugin) would make for `subject`, from
/// Workday data read now.
pub async fn preview_mapping(
    ctx: &TenantContext,
    store: &Store,
    host: &PluginHost,
    subject: &PreviewSubject,
) -> Result<MappingPreview, PreviewError> {
    let tenant = ctx.id();
    let workday = ctx.workday().await?;
    let (kind, workday_key, record, sample) = match subject {
        PreviewSubject::Invoice(number) => {
            let number = number.trim();
            let indexed = store.invoices_by_number(tenant, number).await?;
            let key = match indexed.as_slice() {
                [] => number.to_string(), // a Supplier_Invoice_ID or WID, or not synced yet
                [one] => one.invoice_key.clone(),
                several => {
                    let mut suppliers: Vec<&str> =
                        several.iter().map(|i| i.supplier_id.as_str()).collect();
                    suppliers.dedup();
                    return Err(PreviewError::Ambiguous(format!(
                        "invoice number {number} belongs to several invoices (suppliers {}); give the Workday \
                         reference ID instead ({})",
                        suppliers.join(", "),
                        several
                            .iter()
                            .map(|i| i.invoice_key.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
            };
            let details = fetch_invoice(&workday, &key).await?.ok_or_else(|| {
                PreviewError::NotFound(format!(
                    "no invoice {number} in the index or in Workday (run `sync` if it is new)"
                ))
            })?;
            let supplier_name = match details.invoice.supplier.id.as_deref() {
                Some(s) => store.indexed_supplier(tenant, s).await?.map(|s| s.name),
                None => None,
            };
            let mapped = details.to_mapper(supplier_name.as_deref());
            let record = format!(
                "invoice {} of supplier {} ({} {}, due {}, {})",
                mapped.number,
                mapped.supplier_id,
                mapped.total.amount,
                mapped.total.currency,
                mapped.due_date.as_deref().unwrap_or("-"),
                mapped.payment_status
            );
            let sample = Sample::Invoice {
                invoice: mapped,
                ticket: TicketContext::default(),
            };
            ("invoice", key, record, sample)
        }
        PreviewSubject::Supplier(id) => {
            let id = id.trim();
            let supplier = workday
                .supplier(id)
                .await?
                .ok_or_else(|| PreviewError::NotFound(format!("Workday has no supplier {id}")))?
                .record;
            let mapped = MappedSupplier::from_workday(&supplier, Utc::now().date_naive());
            let record = format!(
                "supplier {} ({}, {})",
                mapped.id, mapped.name, mapped.status
            );
            (
                "supplier",
                id.to_string(),
                record,
                Sample::Supplier { supplier: mapped },
            )
        }
    };
    let result = MapperService::new(store, host)
        .map(tenant, ctx.mapping(), &sample)
        .await?;
    Ok(MappingPreview {
        kind,
        workday_key,
        record,
        result,
    })
}

impl MappingPreview {
    /// The writes, one line each: `ticket field 360000103 (Workday invoice amount) = decimal 1190.00`.
    pub fn lines(&self, ctx: &TenantContext) -> Vec<String> {
        let titles: std::collections::HashMap<u64, &str> = ctx
            .mapping()
            .catalog()
            .map(|c| {
                c.ticket_fields
                    .iter()
                    .map(|f| (f.id, f.title.as_str()))
                    .collect()
            })
            .unwrap_or_default();
        self.result
            .writes
            .iter()
            .map(|w| {
                let target = match &w.target {
                    FieldTarget::TicketField { id } => match titles.get(id) {
                        Some(title) => format!("ticket field {id} ({title})"),
                        None => format!("ticket field {id}"),
                    },
                    FieldTarget::OrganizationField { key } => format!("organization field {key}"),
                    FieldTarget::Tag { name } => format!("tag {name}"),
                };
                let value = match &w.value {
                    FieldValue::Text(t) => format!("text {t:?}"),
                    FieldValue::Decimal(d) => format!("decimal {d}"),
                    FieldValue::Date(d) => format!("date {d}"),
                    FieldValue::Checkbox(b) => format!("checkbox {b}"),
                    FieldValue::DropdownOption(o) => format!("option {o}"),
                    FieldValue::Clear => "cleared".to_string(),
                };
                format!("{target} = {value}")
            })
            .collect()
    }
}
