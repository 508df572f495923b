//! Suppliers → Zendesk organizations.
//!
//! Each supplier becomes an organization keyed by `external_id` = `Supplier_ID`: its name (disambiguated by
//! the Zendesk client when another organization has it), `domain_names` from its contacts' e-mail domains
//! (free-mail domains left out), `details` (the address in effect), `notes` (Workday status), the tag
//! `workday_supplier`, and the organization fields and tags of the tenant's mapping (declarative, else its
//! active plugin). Inactive suppliers are updated, never deleted.
//!
//! A hash of that content is kept per supplier (`org_links`): a supplier whose hash is unchanged costs no
//! Zendesk request at all. The others are upserted in batches of 100 (`show_many`, then `create_many` /
//! `update_many` jobs), and each batch's links and audit rows are committed together once Zendesk answered.

use std::collections::{BTreeSet, HashSet};

use chrono::{SubsecRound as _, Utc};
use futures::{StreamExt as _, TryStreamExt as _, stream};
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};

use super::run::{RunCx, RunStats, SyncError};
use crate::app::App;
use crate::app::invalidation::{Changed, ChangedKind};
use crate::mapper::{FieldTarget, FieldValue, MapperService, Sample, Supplier as MappedSupplier};
use crate::store::audit::outcome;
use crate::store::{AuditResolution, IndexedSupplier, NewAuditRow, OrgLink, now_ms};
use crate::tenant::TenantId;
use crate::workday::WorkdaySource;
use crate::workday::model::{Supplier, SupplierStatus};
use crate::workday::request::{SupplierCriteria, SupplierQuery};
use crate::zendesk::ZendeskClient;
use crate::zendesk::organizations::{MAX_BATCH, OrgAction, OrganizationInput};

type BatchFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<RunStats, SyncError>> + Send + 'a>>;

/// The tag every synced organization carries.
pub const SUPPLIER_TAG: &str = "workday_supplier";

/// The `sync_state` stream of the supplier bookmark.
pub const SUPPLIERS_STREAM: &str = "suppliers";

/// The e-mail domains of `emails` that may become an organization's `domain_names`: lower-cased, sorted,
/// without duplicates and without the `free_mail` domains.
pub fn domain_names<'a>(
    emails: impl IntoIterator<Item = &'a String>,
    free_mail: &HashSet<String>,
) -> Vec<String> {
    let domains: BTreeSet<String> = emails
        .into_iter()
        .filter_map(|e| {
            e.trim()
                .rsplit_once('@')
                .map(|(_, d)| d.trim().to_lowercase())
        })
        .filter(|d| !d.is_empty() && d.contains('.') && !free_mail.contains(d))
        .collect();
    domains.into_iter().collect()
}

fn status_text(s: &SupplierStatus) -> String {
    match s {
        SupplierStatus::Active => "Active".into(),
        SupplierStatus::Inactive => "Inactive".into(),
        SupplierStatus::Other(o) => o.clone(),
        SupplierStatus::Unknown => "Unknown".into(),
    }
}

/// A field write's value as Zendesk takes it.
fn json_value(v: &FieldValue) -> Value {
    match v {
        FieldValue::Text(s)
        | FieldValue::Decimal(s)
        | FieldValue::Date(s)
        | FieldValue::DropdownOption(s) => json!(s),
        FieldValue::Checkbox(b) => json!(b),
        FieldValue::Clear => Value::Null,
    }
}

/// The organization a supplier should be, and the hash of that content.
pub fn desired_organization(
    supplier: &Supplier,
    mapped: &MappedSupplier,
    writes: &[crate::mapper::FieldWrite],
    free_mail: &HashSet<String>,
) -> (OrganizationInput, String) {
    let mut tags: BTreeSet<String> = BTreeSet::from([SUPPLIER_TAG.to_string()]);
    let mut fields = Map::new();
    for w in writes {
        match &w.target {
            FieldTarget::OrganizationField { key } => {
                fields.insert(key.clone(), json_value(&w.value));
            }
            FieldTarget::Tag { name } => match w.value {
                FieldValue::Checkbox(false) | FieldValue::Clear => {
                    tags.remove(name);
                }
                _ => {
                    tags.insert(name.clone());
                }
            },
            // A supplier mapping has no ticket to write to (the mapper refuses such writes).
            FieldTarget::TicketField { .. } => {}
        }
    }
    let status = status_text(&supplier.status);
    let input = OrganizationInput {
        name: supplier.name.trim().to_string(),
        external_id: supplier.supplier_id.trim().to_string(),
        details: Some(mapped.address.clone().unwrap_or_default()),
        notes: Some(format!(
            "Workday supplier {} · status: {status} · kept in sync by ml-connector",
            supplier.supplier_id
        )),
        tags: Some(tags.into_iter().collect()),
        domain_names: Some(domain_names(&supplier.contacts.emails, free_mail)),
        organization_fields: fields,
    };
    let hash = content_hash(&input);
    (input, hash)
}

/// SHA-256 of the organization's content (canonical JSON: object keys sorted).
pub fn content_hash(input: &OrganizationInput) -> String {
    let canonical = json!({
        "name": input.name,
        "external_id": input.external_id,
        "details": input.details,
        "notes": input.notes,
        "tags": input.tags,
        "domain_names": input.domain_names,
        "organization_fields": input.organization_fields,
    });
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

fn audit_row(
    supplier_id: &str,
    source: &WorkdaySource,
    target: String,
    hash: &str,
    outcome: &str,
    detail: Option<String>,
    run_id: i64,
) -> NewAuditRow {
    NewAuditRow {
        object_type: "supplier".into(),
        object_id: supplier_id.to_string(),
        service: source.service.clone(),
        operation: source.operation.clone(),
        version: source.version.clone(),
        page: Some(i64::from(source.page)),
        as_of: Some(source.as_of.to_rfc3339()),
        target,
        content_hash: hash.to_string(),
        outcome: outcome.to_string(),
        detail,
        run_id: Some(run_id),
    }
}

/// Reads the suppliers changed since the bookmark (all of them on a full run or the first run) and brings
/// their organizations up to date. The bookmark advances only when every supplier was written.
pub(crate) async fn sync_organizations(cx: &mut RunCx<'_>) -> Result<(), SyncError> {
    let tenant = cx.tenant().clone();
    let store = cx.app.store().clone();
    let config = cx.app.config().sync.clone();
    let free_mail: HashSet<String> = config
        .free_mail_domains
        .iter()
        .map(|d| d.trim().to_lowercase())
        .collect();
    cx.stats.phase = "suppliers".into();
    let as_of = Utc::now().trunc_subsecs(3);
    let bookmark = if cx.full {
        None
    } else {
        store
            .sync_cursor(&tenant, SUPPLIERS_STREAM)
            .await?
            .and_then(|c| chrono::DateTime::parse_from_rfc3339(&c).ok())
            .map(|d| d.with_timezone(&Utc))
    };
    let query = match bookmark {
        Some(since) => SupplierQuery::Criteria(SupplierCriteria {
            updated_from: Some(
                since - chrono::Duration::seconds(i64::try_from(config.overlap_secs).unwrap_or(0)),
            ),
            // No upper bound: Workday sends dates to the second, and the walk is pinned to `as_of` anyway.
            updated_to: None,
            status: None,
        }),
        None => SupplierQuery::all(),
    };
    let today = as_of.date_naive();
    let mapper = MapperService::new(cx.app.store(), cx.host);
    let mut pages = cx.workday.walk_pages_as_of(query, as_of);
    let mut failures = 0u64;
    while let Some(page) = pages.try_next().await? {
        cx.check_lease()?;
        cx.stats.supplier_pages += 1;
        cx.stats.supplier_pages_total = u64::from(page.info.total_pages.max(1));
        cx.stats.suppliers_skipped += page.skipped.len() as u64;
        cx.stats.suppliers_read += page.records.len() as u64;
        let source = page.source.clone();
        let suppliers = page.records;
        let now = now_ms();
        store
            .upsert_indexed_suppliers(
                &tenant,
                &suppliers
                    .iter()
                    .map(|s| IndexedSupplier {
                        supplier_id: s.supplier_id.clone(),
                        name: s.name.clone(),
                        status: status_text(&s.status),
                        currency: s.currency.clone(),
                        organization_id: None,
                        updated_at: now,
                    })
                    .collect::<Vec<_>>(),
            )
            .await?;
        // The desired organizations of the page, and which of them differ from what was last written.
        let ids: Vec<String> = suppliers.iter().map(|s| s.supplier_id.clone()).collect();
        let links = store.org_links(&tenant, &ids).await?;
        let mut changed: Vec<(OrganizationInput, String)> = Vec::new();
        let mut seen = HashSet::new();
        for s in &suppliers {
            if !seen.insert(s.supplier_id.trim().to_lowercase()) {
                continue; // the same supplier twice on a page: the first one wins
            }
            let mapped = MappedSupplier::from_workday(s, today);
            let result = mapper
                .map(
                    &tenant,
                    cx.ctx.mapping(),
                    &Sample::Supplier {
                        supplier: mapped.clone(),
                    },
                )
                .await?;
            let (input, hash) = desired_organization(s, &mapped, &result.writes, &free_mail);
            match links.get(&s.supplier_id) {
                Some(link) if link.content_hash == hash => cx.stats.orgs_unchanged += 1,
                _ => changed.push((input, hash)),
            }
        }
        // Batches go out a few at a time: Zendesk runs them as jobs, and waiting for one job at a time would
        // leave the rate limit unused. The shared limiter keeps the requests within the plan.
        cx.check_lease()?;
        let (app, zendesk, run_id) = (cx.app, cx.zendesk.clone(), cx.run_id);
        // Boxed as `dyn Future + Send`: the futures borrow the page, and spelling out the type keeps the
        // whole run `Send` (a closure over the chunks would not be, for any lifetime).
        let mut writes: Vec<BatchFuture<'_>> = Vec::new();
        for batch in changed.chunks(MAX_BATCH) {
            writes.push(Box::pin(write_batch(
                app, &zendesk, &tenant, run_id, &source, batch,
            )));
        }
        let results: Vec<Result<RunStats, SyncError>> = stream::iter(writes)
            .buffer_unordered(config.zendesk_concurrency.max(1))
            .collect()
            .await;
        for delta in results {
            let delta = delta?;
            failures += delta.orgs_failed;
            cx.stats.add(&delta);
        }
        cx.progress().await?;
    }
    if failures == 0 {
        store
            .set_sync_cursor(&tenant, SUPPLIERS_STREAM, &as_of.to_rfc3339())
            .await?;
    } else {
        tracing::warn!(tenant = %tenant, failures, "some organizations were not written; the bookmark stays, so the next run tries them again");
    }
    Ok(())
}

/// Upserts one batch (≤ 100) and commits its links and audit rows. Returns its counts.
async fn write_batch(
    app: &App,
    zendesk: &ZendeskClient,
    tenant: &TenantId,
    run_id: i64,
    source: &WorkdaySource,
    batch: &[(OrganizationInput, String)],
) -> Result<RunStats, SyncError> {
    let tenant = tenant.clone();
    let mut delta = RunStats::default();
    let inputs: Vec<OrganizationInput> = batch.iter().map(|(i, _)| i.clone()).collect();
    // Write-ahead: a pending audit row per organization before the request, resolved when Zendesk answered.
    let pending: Vec<NewAuditRow> = batch
        .iter()
        .map(|(input, hash)| {
            audit_row(
                &input.external_id,
                source,
                format!("organization:external_id:{}", input.external_id),
                hash,
                outcome::PENDING,
                None,
                run_id,
            )
        })
        .collect();
    let ids = app.store().append_audit(&tenant, &pending).await?;
    let started = std::time::Instant::now();
    let writes = match zendesk.upsert_organizations(&inputs).await {
        Ok(w) => w,
        Err(e) => {
            // The batch failed as a whole (after the client's retries): whether any of it happened is unknown.
            let failed: Vec<AuditResolution> = ids
                .iter()
                .zip(&pending)
                .map(|(id, row)| AuditResolution {
                    id: *id,
                    row: Some(NewAuditRow {
                        outcome: outcome::INTERRUPTED.into(),
                        detail: Some(format!("the batch failed: {e}")),
                        ..row.clone()
                    }),
                })
                .collect();
            let _ = app.store().record_org_batch(&tenant, &[], &failed).await;
            return Err(e.into());
        }
    };
    delta.zendesk_batches += 1;
    delta.zendesk_wait_ms += u64::try_from(started.elapsed().as_millis()).unwrap_or(0);
    let mut links = Vec::with_capacity(writes.len());
    let mut audit = Vec::with_capacity(writes.len());
    for w in &writes {
        let (input, hash) = &batch[w.index];
        match &w.outcome {
            Ok(org) => {
                let id = i64::try_from(org.id).unwrap_or(i64::MAX);
                links.push(OrgLink {
                    supplier_id: input.external_id.clone(),
                    organization_id: id,
                    org_name: org.name.clone(),
                    content_hash: hash.clone(),
                });
                if org.disambiguated && org.action == OrgAction::Created {
                    delta.orgs_disambiguated += 1;
                }
                let detail = org
                    .disambiguated
                    .then(|| format!("name in Zendesk: {}", org.name));
                let outcome = match org.action {
                    OrgAction::Created => {
                        delta.orgs_created += 1;
                        outcome::CREATED
                    }
                    OrgAction::Updated => {
                        delta.orgs_updated += 1;
                        outcome::UPDATED
                    }
                    OrgAction::Reconciled => {
                        delta.orgs_reconciled += 1;
                        outcome::RECONCILED
                    }
                    OrgAction::Unchanged => {
                        // Already as desired in Zendesk (state was lost, or only the hash's inputs moved):
                        // no write, no audit row; the link records the hash.
                        delta.orgs_unchanged += 1;
                        audit.push(AuditResolution {
                            id: ids[w.index],
                            row: None,
                        });
                        continue;
                    }
                };
                let row = Some(audit_row(
                    &input.external_id,
                    source,
                    format!("organization:{}", org.id),
                    hash,
                    outcome,
                    detail,
                    run_id,
                ));
                audit.push(AuditResolution {
                    id: ids[w.index],
                    row,
                });
                app.invalidate(Changed {
                    tenant: tenant.clone(),
                    kind: ChangedKind::Supplier,
                    id: input.external_id.clone(),
                });
            }
            Err(failure) => {
                delta.orgs_failed += 1;
                tracing::warn!(tenant = %tenant, supplier = %input.external_id, error = %failure.error, details = %failure.details, "organization not written");
                audit.push(AuditResolution {
                    id: ids[w.index],
                    row: Some(audit_row(
                        &input.external_id,
                        source,
                        format!("organization:external_id:{}", input.external_id),
                        hash,
                        outcome::FAILED,
                        Some(format!("{}: {}", failure.error, failure.details)),
                        run_id,
                    )),
                });
            }
        }
    }
    app.store()
        .record_org_batch(&tenant, &links, &audit)
        .await?;
    Ok(delta)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_skip_free_mail_and_dedupe() {
        let free: HashSet<String> = ["gmail.com".to_string()].into();
        let emails = vec![
            "ap@Acme.example".to_string(),
            "x@gmail.com".to_string(),
            "billing@acme.example".to_string(),
            "broken".to_string(),
            "a@b.org".to_string(),
        ];
        assert_eq!(
            domain_names(&emails, &free),
            vec!["acme.example".to_string(), "b.org".to_string()]
        );
    }

    #[test]
    fn hash_changes_with_content_only() {
        let input = OrganizationInput {
            name: "Acme".into(),
            external_id: "S-1".into(),
            details: None,
            notes: None,
            tags: Some(vec![SUPPLIER_TAG.into()]),
            domain_names: Some(vec!["acme.example".into()]),
            organization_fields: Map::new(),
        };
        let h = content_hash(&input);
        assert_eq!(h, content_hash(&input.clone()));
        let mut other = input.clone();
        other.name = "Acme Ltd".into();
        assert_ne!(h, content_hash(&other));
    }
}
