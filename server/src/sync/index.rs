//! The invoice and payment index.
//!
//! Each run reads, page by page: the adjustments (credit and debit memos) and payments dated in the window
//! (`invoice_window_days`, by date), then the invoices dated in the window; a full run or the first one reads
//! every invoice and keeps those in the window or not fully paid. Invoices already indexed, not fully paid and
//! older than the window are read again by reference ID (100 per request), so they stay answerable until paid.
//!
//! An invoice's position (credits, paid, due, status) is [`InvoicePosition::of`] over its supplier's stored
//! adjustments and payments, loaded for a whole page of invoices in one query: the cost is per page, not per
//! supplier, and memory holds one page at a time. What the run did not read leaves the index at the end.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, SubsecRound as _, Utc};
use futures::TryStreamExt as _;

use super::run::{RunCx, SyncError};
use crate::app::invalidation::{Changed, ChangedKind};
use crate::payables::InvoicePosition;
use crate::store::{IndexedDocument, IndexedInvoice, now_ms};
use crate::workday::model::{Payment, SupplierInvoice, SupplierInvoiceAdjustment};
use crate::workday::request::{
    AdjustmentCriteria, AdjustmentQuery, IdLookup, InvoiceCriteria, InvoiceQuery, PaymentCriteria,
    PaymentQuery,
};

/// The `sync_state` stream that says the index was filled once.
pub const INVOICES_STREAM: &str = "invoices";

/// Invoices read again by reference per request.
const REFRESH_BATCH: usize = 100;

fn date(d: Option<NaiveDate>) -> Option<String> {
    d.map(|d| d.to_string())
}

fn encode<T: serde::Serialize>(record: &T) -> Result<String, SyncError> {
    serde_json::to_string(record).map_err(|e| SyncError::Encode(e.to_string()))
}

/// The index key of an invoice: its reference ID, else its WID.
fn invoice_key(i: &SupplierInvoice) -> Option<String> {
    i.reference_id
        .clone()
        .or_else(|| i.wid.clone())
        .filter(|k| !k.trim().is_empty())
}

fn is_wid(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The index row of an invoice with its position on `today`.
pub fn indexed_invoice(
    invoice: &SupplierInvoice,
    key: String,
    adjustments: &[SupplierInvoiceAdjustment],
    payments: &[Payment],
    today: NaiveDate,
) -> IndexedInvoice {
    let p = InvoicePosition::of(invoice, adjustments, payments, today);
    IndexedInvoice {
        invoice_key: key,
        wid: invoice.wid.clone(),
        reference_id: invoice.reference_id.clone(),
        invoice_number: invoice.invoice_number.clone(),
        supplier_invoice_number: invoice.supplier_invoice_number.clone(),
        supplier_id: invoice.supplier.id.clone().unwrap_or_default(),
        currency: invoice.currency.clone(),
        invoice_date: date(invoice.invoice_date),
        due_date: date(invoice.due_date),
        amount: p.amount.normalize().to_string(),
        credits: p.credits.normalize().to_string(),
        debits: p.debits.normalize().to_string(),
        paid: p.paid.normalize().to_string(),
        due: p.due.normalize().to_string(),
        payment_status: serde_json::to_value(p.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        document_status: String::from(invoice.document_status.clone()),
        days_overdue: p.days_overdue.map(i64::from),
        last_payment_date: date(p.last_payment_date),
        po_number: invoice.po_number.clone(),
        updated_at: now_ms(),
    }
}

/// Refreshes the tenant's index (see the module documentation).
pub(crate) async fn refresh_index(cx: &mut RunCx<'_>) -> Result<(), SyncError> {
    let tenant = cx.tenant().clone();
    let store = cx.app.store().clone();
    let days = cx
        .ctx
        .settings()
        .sync
        .as_ref()
        .and_then(|s| s.invoice_window_days)
        .unwrap_or(cx.app.config().sync.invoice_window_days);
    let as_of = Utc::now().trunc_subsecs(3);
    let today = as_of.date_naive();
    let from = today - chrono::Duration::days(i64::from(days));
    let first = cx.full || store.sync_cursor(&tenant, INVOICES_STREAM).await?.is_none();
    let run_id = cx.run_id;

    // Adjustments and payments: all of them on a first or full run (older invoices still open need theirs),
    // else those dated in the window.
    cx.stats.phase = "adjustments".into();
    let mut pages = cx.workday.walk_pages_as_of(
        AdjustmentQuery::Criteria(AdjustmentCriteria {
            date_from: (!first).then_some(from),
            ..Default::default()
        }),
        as_of,
    );
    while let Some(page) = pages.try_next().await? {
        cx.check_lease()?;
        let mut docs = Vec::with_capacity(page.records.len());
        for a in &page.records {
            let (Some(key), Some(supplier)) = (
                a.reference_id.clone().or_else(|| a.wid.clone()),
                a.supplier.id.clone(),
            ) else {
                continue;
            };
            docs.push(IndexedDocument {
                kind: "adjustment".into(),
                doc_key: key,
                number: a.adjustment_number.clone(),
                supplier_id: supplier,
                doc_date: date(a.adjustment_date),
                amount: a.control_amount.map(|d| d.normalize().to_string()),
                currency: a.currency.clone(),
                status: String::from(a.document_status.clone()),
                record_json: encode(a)?,
            });
        }
        store
            .upsert_indexed_documents(&tenant, run_id, &docs)
            .await?;
        cx.stats.adjustments_indexed += docs.len() as u64;
        cx.stats.index_pages += 1;
        cx.progress().await?;
    }

    cx.stats.phase = "payments".into();
    let mut pages = cx.workday.walk_pages_as_of(
        PaymentQuery::Criteria(PaymentCriteria {
            payment_date_from: (!first).then_some(from),
            ..Default::default()
        }),
        as_of,
    );
    while let Some(page) = pages.try_next().await? {
        cx.check_lease()?;
        let mut docs = Vec::with_capacity(page.records.len());
        for p in &page.records {
            let (Some(key), Some(supplier)) = (
                p.wid.clone().or_else(|| p.reference_id.clone()),
                p.payee.id.clone(),
            ) else {
                continue;
            };
            docs.push(IndexedDocument {
                kind: "payment".into(),
                doc_key: key,
                number: p.reference_number.clone(),
                supplier_id: supplier,
                doc_date: date(p.payment_date),
                amount: p.amount.map(|d| d.normalize().to_string()),
                currency: p.currency.clone(),
                status: String::from(p.status.clone()),
                record_json: encode(p)?,
            });
        }
        store
            .upsert_indexed_documents(&tenant, run_id, &docs)
            .await?;
        cx.stats.payments_indexed += docs.len() as u64;
        cx.stats.index_pages += 1;
        cx.progress().await?;
    }

    cx.stats.phase = "invoices".into();
    let query = InvoiceQuery::Criteria(InvoiceCriteria {
        invoice_date_from: (!first).then_some(from),
        ..Default::default()
    });
    let mut pages = cx.workday.walk_pages_as_of(query, as_of);
    while let Some(page) = pages.try_next().await? {
        cx.check_lease()?;
        index_invoices(cx, page.records, today, Some(from)).await?;
        cx.stats.index_pages += 1;
        cx.progress().await?;
    }

    // Open invoices indexed earlier and now older than the window: read again by reference.
    let stale = store.unseen_open_invoice_keys(&tenant, run_id).await?;
    let (wids, refs): (Vec<String>, Vec<String>) = stale.into_iter().partition(|k| is_wid(k));
    for (id_type, keys) in [("Supplier_Invoice_Reference_ID", refs), ("WID", wids)] {
        for chunk in keys.chunks(REFRESH_BATCH) {
            cx.check_lease()?;
            let query = InvoiceQuery::ByReference(IdLookup::new(id_type, chunk.iter().cloned()));
            let mut pages = cx.workday.walk_pages_as_of(query, as_of);
            while let Some(page) = pages.try_next().await? {
                index_invoices(cx, page.records, today, None).await?;
                cx.stats.index_pages += 1;
            }
            cx.progress().await?;
        }
    }

    // What this run did not read is gone from Workday, or paid and out of the window.
    let removed = store
        .prune_index(&tenant, run_id, &from.to_string())
        .await?;
    cx.stats.invoices_removed += removed.len() as u64;
    for key in removed {
        cx.app.invalidate(Changed {
            tenant: tenant.clone(),
            kind: ChangedKind::Invoice,
            id: key,
        });
    }
    store
        .set_sync_cursor(&tenant, INVOICES_STREAM, &as_of.to_rfc3339())
        .await?;
    Ok(())
}

/// Computes and stores the positions of one page of invoices. With `window_from`, an invoice older than the
/// window is kept only when something is still due on it.
async fn index_invoices(
    cx: &mut RunCx<'_>,
    invoices: Vec<SupplierInvoice>,
    today: NaiveDate,
    window_from: Option<NaiveDate>,
) -> Result<(), SyncError> {
    let tenant = cx.tenant().clone();
    let store = cx.app.store().clone();
    let suppliers: Vec<String> = invoices
        .iter()
        .filter_map(|i| i.supplier.id.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    // The page's suppliers' adjustments and payments, in one query.
    let mut adjustments: HashMap<String, Vec<SupplierInvoiceAdjustment>> = HashMap::new();
    let mut payments: HashMap<String, Vec<Payment>> = HashMap::new();
    for (kind, json) in store.indexed_documents_of(&tenant, &suppliers).await? {
        let bad = |e: serde_json::Error| SyncError::Encode(format!("stored {kind}: {e}"));
        if kind == "payment" {
            let p: Payment = serde_json::from_str(&json).map_err(bad)?;
            payments
                .entry(p.payee.id.clone().unwrap_or_default())
                .or_default()
                .push(p);
        } else {
            let a: SupplierInvoiceAdjustment = serde_json::from_str(&json).map_err(bad)?;
            adjustments
                .entry(a.supplier.id.clone().unwrap_or_default())
                .or_default()
                .push(a);
        }
    }
    let mut rows = Vec::with_capacity(invoices.len());
    for invoice in &invoices {
        let (Some(key), Some(supplier)) = (invoice_key(invoice), invoice.supplier.id.as_deref())
        else {
            continue;
        };
        let row = indexed_invoice(
            invoice,
            key,
            adjustments.get(supplier).map_or(&[], Vec::as_slice),
            payments.get(supplier).map_or(&[], Vec::as_slice),
            today,
        );
        let old_and_paid = window_from
            .is_some_and(|from| invoice.invoice_date.is_some_and(|d| d < from))
            && row.payment_status == "paid";
        if !old_and_paid {
            rows.push(row);
        }
    }
    let keys: Vec<String> = rows.iter().map(|r| r.invoice_key.clone()).collect();
    let before = store.indexed_invoices_by_keys(&tenant, &keys).await?;
    store
        .upsert_indexed_invoices(&tenant, cx.run_id, &rows)
        .await?;
    cx.stats.invoices_indexed += rows.len() as u64;
    for row in rows {
        let changed = before.get(&row.invoice_key).is_none_or(|old| {
            IndexedInvoice {
                updated_at: row.updated_at,
                ..old.clone()
            } != row
        });
        if changed {
            cx.stats.invoices_changed += 1;
            cx.app.invalidate(Changed {
                tenant: tenant.clone(),
                kind: ChangedKind::Invoice,
                id: row.invoice_key,
            });
        }
    }
    Ok(())
}
