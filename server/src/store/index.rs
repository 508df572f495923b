//! The local index of Workday data the sync keeps: suppliers, recent and not fully paid invoices with their
//! position, and the payments and adjustments those positions come from.
//!
//! Workday cannot find an invoice by the number a supplier quotes (no such criterion), so lookups by number or
//! prefix come here; details are then read fresh from Workday by reference ID. Amounts are decimal text.

use sqlx::Row as _;
use sqlx::any::AnyRow;

use super::sync::placeholders;
use super::{QueryContext, Store, StoreError, now_ms};
use crate::tenant::TenantId;

/// Rows per multi-row statement.
const ROWS_PER_STATEMENT: usize = 100;

/// A supplier as last read.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct IndexedSupplier {
    /// `Supplier_ID`.
    pub supplier_id: String,
    /// Name in Workday.
    pub name: String,
    /// Workday status (`Active`, `Inactive`, ...).
    pub status: String,
    /// Default currency.
    pub currency: Option<String>,
    /// Its Zendesk organization, once synced.
    pub organization_id: Option<i64>,
    /// Unix ms of the last read.
    pub updated_at: i64,
}

/// An indexed invoice and its position.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct IndexedInvoice {
    /// The key the index uses: the `Supplier_Invoice_ID` reference ID, else the WID.
    pub invoice_key: String,
    /// Workday ID.
    pub wid: Option<String>,
    /// `Supplier_Invoice_ID` (reference ID).
    pub reference_id: Option<String>,
    /// Workday's own invoice number.
    pub invoice_number: Option<String>,
    /// The supplier's invoice number (`Suppliers_Invoice_Number`), what customers quote.
    pub supplier_invoice_number: Option<String>,
    /// `Supplier_ID`.
    pub supplier_id: String,
    /// Currency.
    pub currency: Option<String>,
    /// `YYYY-MM-DD`.
    pub invoice_date: Option<String>,
    /// `YYYY-MM-DD`.
    pub due_date: Option<String>,
    /// Total (decimal).
    pub amount: String,
    /// Credits of credit memos (decimal).
    pub credits: String,
    /// Debits of debit memos (decimal).
    pub debits: String,
    /// Paid (decimal).
    pub paid: String,
    /// Still due (decimal).
    pub due: String,
    /// `paid`, `partially_paid`, `unpaid`, `overdue`.
    pub payment_status: String,
    /// Workday document status (`Approved`, ...).
    pub document_status: String,
    /// Days past the due date, when overdue.
    pub days_overdue: Option<i64>,
    /// Date of the last payment.
    pub last_payment_date: Option<String>,
    /// Purchase order number.
    pub po_number: Option<String>,
    /// Unix ms of the last read.
    pub updated_at: i64,
}

/// A payment or an invoice adjustment, kept for computing positions (and answering about payments).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedDocument {
    /// `payment` or `adjustment`.
    pub kind: String,
    /// Reference ID or WID.
    pub doc_key: String,
    /// Its number (payment reference number, adjustment number).
    pub number: Option<String>,
    /// Supplier (payee).
    pub supplier_id: String,
    /// `YYYY-MM-DD`.
    pub doc_date: Option<String>,
    /// Decimal.
    pub amount: Option<String>,
    /// Currency.
    pub currency: Option<String>,
    /// Its status.
    pub status: String,
    /// The Workday record (the client's model as JSON).
    pub record_json: String,
}

/// What a supplier owes in one currency (from the index).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct SupplierTotals {
    /// Currency (empty when the invoices had none).
    pub currency: String,
    /// Invoices with something due.
    pub open_count: i64,
    /// Sum due on them (decimal).
    pub open_amount: String,
    /// Of those, past their due date.
    pub overdue_count: i64,
    /// Sum due on the overdue ones (decimal).
    pub overdue_amount: String,
}

enum Val<'a> {
    Text(Option<&'a str>),
    Int(Option<i64>),
}

/// `INSERT INTO table (columns) VALUES (...), (...) ON CONFLICT (key) DO UPDATE SET every other column`.
async fn upsert_rows(
    store: &Store,
    table: &str,
    columns: &[&str],
    key: &[&str],
    rows: Vec<Vec<Val<'_>>>,
    context: &'static str,
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let updates = columns
        .iter()
        .filter(|c| !key.contains(c))
        .map(|c| format!("{c} = excluded.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut tx = store.begin_write(context).await?;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Val<'_>>> = rows.by_ref().take(ROWS_PER_STATEMENT).collect();
        let values = (0..chunk.len())
            .map(|i| format!("({})", placeholders(1 + i * columns.len(), columns.len())))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES {values} ON CONFLICT ({}) DO UPDATE SET {updates}",
            columns.join(", "),
            key.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in chunk {
            for v in row {
                q = match v {
                    Val::Text(t) => q.bind(t.map(str::to_string)),
                    Val::Int(i) => q.bind(i),
                };
            }
        }
        q.execute(&mut *tx).await.context(context)?;
    }
    tx.commit().await.context(context)?;
    Ok(())
}

/// Lower-cased, trimmed: the key of number and name lookups.
pub fn fold(s: &str) -> String {
    s.trim().to_lowercase()
}

/// A `LIKE` pattern that matches `prefix` literally at the start.
fn like_prefix(prefix: &str) -> String {
    let mut out = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

const INVOICE_COLUMNS: &[&str] = &[
    "tenant_id",
    "invoice_key",
    "wid",
    "reference_id",
    "invoice_number",
    "invoice_number_fold",
    "supplier_invoice_number",
    "supplier_number_fold",
    "supplier_id",
    "currency",
    "invoice_date",
    "due_date",
    "amount",
    "credits",
    "debits",
    "paid",
    "due",
    "payment_status",
    "document_status",
    "days_overdue",
    "last_payment_date",
    "po_number",
    "seen_run",
    "updated_at",
];

const INVOICE_SELECT: &str = "SELECT invoice_key, wid, reference_id, invoice_number, supplier_invoice_number, \
     supplier_id, currency, invoice_date, due_date, amount, credits, debits, paid, due, payment_status, \
     document_status, days_overdue, last_payment_date, po_number, updated_at FROM invoice_index";

fn invoice_from_row(row: &AnyRow) -> Result<IndexedInvoice, StoreError> {
    const CTX: &str = "reading an indexed invoice";
    Ok(IndexedInvoice {
        invoice_key: row.try_get("invoice_key").context(CTX)?,
        wid: row.try_get("wid").context(CTX)?,
        reference_id: row.try_get("reference_id").context(CTX)?,
        invoice_number: row.try_get("invoice_number").context(CTX)?,
        supplier_invoice_number: row.try_get("supplier_invoice_number").context(CTX)?,
        supplier_id: row.try_get("supplier_id").context(CTX)?,
        currency: row.try_get("currency").context(CTX)?,
        invoice_date: row.try_get("invoice_date").context(CTX)?,
        due_date: row.try_get("due_date").context(CTX)?,
        amount: row.try_get("amount").context(CTX)?,
        credits: row.try_get("credits").context(CTX)?,
        debits: row.try_get("debits").context(CTX)?,
        paid: row.try_get("paid").context(CTX)?,
        due: row.try_get("due").context(CTX)?,
        payment_status: row.try_get("payment_status").context(CTX)?,
        document_status: row.try_get("document_status").context(CTX)?,
        days_overdue: row.try_get("days_overdue").context(CTX)?,
        last_payment_date: row.try_get("last_payment_date").context(CTX)?,
        po_number: row.try_get("po_number").context(CTX)?,
        updated_at: row.try_get("updated_at").context(CTX)?,
    })
}

const SUPPLIER_SELECT: &str = "SELECT s.supplier_id, s.name, s.status, s.currency, s.updated_at, \
     l.organization_id FROM supplier_index s LEFT JOIN org_links l \
     ON l.tenant_id = s.tenant_id AND l.supplier_id = s.supplier_id";

fn supplier_from_row(row: &AnyRow) -> Result<IndexedSupplier, StoreError> {
    const CTX: &str = "reading an indexed supplier";
    Ok(IndexedSupplier {
        supplier_id: row.try_get("supplier_id").context(CTX)?,
        name: row.try_get("name").context(CTX)?,
        status: row.try_get("status").context(CTX)?,
        currency: row.try_get("currency").context(CTX)?,
        organization_id: row.try_get("organization_id").context(CTX)?,
        updated_at: row.try_get("updated_at").context(CTX)?,
    })
}

impl Store {
    /// Saves suppliers as read (one statement per 100).
    pub async fn upsert_indexed_suppliers(
        &self,
        tenant: &TenantId,
        suppliers: &[IndexedSupplier],
    ) -> Result<(), StoreError> {
        let folded: Vec<String> = suppliers.iter().map(|s| fold(&s.name)).collect();
        let rows = suppliers
            .iter()
            .zip(&folded)
            .map(|(s, f)| {
                vec![
                    Val::Text(Some(tenant.as_str())),
                    Val::Text(Some(&s.supplier_id)),
                    Val::Text(Some(&s.name)),
                    Val::Text(Some(f)),
                    Val::Text(Some(&s.status)),
                    Val::Text(s.currency.as_deref()),
                    Val::Int(Some(s.updated_at)),
                ]
            })
            .collect();
        upsert_rows(
            self,
            "supplier_index",
            &[
                "tenant_id",
                "supplier_id",
                "name",
                "name_fold",
                "status",
                "currency",
                "updated_at",
            ],
            &["tenant_id", "supplier_id"],
            rows,
            "indexing suppliers",
        )
        .await
    }

    /// Saves invoices and their positions, marking them seen by run `run_id`.
    pub async fn upsert_indexed_invoices(
        &self,
        tenant: &TenantId,
        run_id: i64,
        invoices: &[IndexedInvoice],
    ) -> Result<(), StoreError> {
        let folds: Vec<(Option<String>, Option<String>)> = invoices
            .iter()
            .map(|i| {
                (
                    i.invoice_number.as_deref().map(fold),
                    i.supplier_invoice_number.as_deref().map(fold),
                )
            })
            .collect();
        let rows = invoices
            .iter()
            .zip(&folds)
            .map(|(i, (nf, sf))| {
                vec![
                    Val::Text(Some(tenant.as_str())),
                    Val::Text(Some(&i.invoice_key)),
                    Val::Text(i.wid.as_deref()),
                    Val::Text(i.reference_id.as_deref()),
                    Val::Text(i.invoice_number.as_deref()),
                    Val::Text(nf.as_deref()),
                    Val::Text(i.supplier_invoice_number.as_deref()),
                    Val::Text(sf.as_deref()),
                    Val::Text(Some(&i.supplier_id)),
                    Val::Text(i.currency.as_deref()),
                    Val::Text(i.invoice_date.as_deref()),
                    Val::Text(i.due_date.as_deref()),
                    Val::Text(Some(&i.amount)),
                    Val::Text(Some(&i.credits)),
                    Val::Text(Some(&i.debits)),
                    Val::Text(Some(&i.paid)),
                    Val::Text(Some(&i.due)),
                    Val::Text(Some(&i.payment_status)),
                    Val::Text(Some(&i.document_status)),
                    Val::Int(i.days_overdue),
                    Val::Text(i.last_payment_date.as_deref()),
                    Val::Text(i.po_number.as_deref()),
                    Val::Int(Some(run_id)),
                    Val::Int(Some(i.updated_at)),
                ]
            })
            .collect();
        upsert_rows(
            self,
            "invoice_index",
            INVOICE_COLUMNS,
            &["tenant_id", "invoice_key"],
            rows,
            "indexing invoices",
        )
        .await
    }

    /// Saves payments and adjustments, marking them seen by run `run_id`.
    pub async fn upsert_indexed_documents(
        &self,
        tenant: &TenantId,
        run_id: i64,
        documents: &[IndexedDocument],
    ) -> Result<(), StoreError> {
        let now = now_ms();
        let rows = documents
            .iter()
            .map(|d| {
                vec![
                    Val::Text(Some(tenant.as_str())),
                    Val::Text(Some(&d.kind)),
                    Val::Text(Some(&d.doc_key)),
                    Val::Text(d.number.as_deref()),
                    Val::Text(Some(&d.supplier_id)),
                    Val::Text(d.doc_date.as_deref()),
                    Val::Text(d.amount.as_deref()),
                    Val::Text(d.currency.as_deref()),
                    Val::Text(Some(&d.status)),
                    Val::Text(Some(&d.record_json)),
                    Val::Int(Some(run_id)),
                    Val::Int(Some(now)),
                ]
            })
            .collect();
        upsert_rows(
            self,
            "document_index",
            &[
                "tenant_id",
                "kind",
                "doc_key",
                "number",
                "supplier_id",
                "doc_date",
                "amount",
                "currency",
                "status",
                "record_json",
                "seen_run",
                "updated_at",
            ],
            &["tenant_id", "kind", "doc_key"],
            rows,
            "indexing payments and adjustments",
        )
        .await
    }

    /// The stored payments and adjustments of these suppliers: `(kind, record_json)`, one query per 500
    /// suppliers.
    pub async fn indexed_documents_of(
        &self,
        tenant: &TenantId,
        supplier_ids: &[String],
    ) -> Result<Vec<(String, String)>, StoreError> {
        let mut out = Vec::new();
        for chunk in supplier_ids.chunks(500) {
            let sql = format!(
                "SELECT kind, record_json FROM document_index WHERE tenant_id = $1 AND supplier_id IN ({})",
                placeholders(2, chunk.len())
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tenant.as_str());
            for id in chunk {
                q = q.bind(id);
            }
            for row in q
                .fetch_all(self.pool())
                .await
                .context("reading indexed payments and adjustments")?
            {
                out.push((
                    row.try_get("kind").context("reading indexed documents")?,
                    row.try_get("record_json")
                        .context("reading indexed documents")?,
                ));
            }
        }
        Ok(out)
    }

    /// Keys of indexed invoices that are not fully paid and that run `run_id` has not read (older than its
    /// window): the sync reads them again by reference, so an old unpaid invoice stays answerable.
    pub async fn unseen_open_invoice_keys(
        &self,
        tenant: &TenantId,
        run_id: i64,
    ) -> Result<Vec<String>, StoreError> {
        sqlx::query_scalar(
            "SELECT invoice_key FROM invoice_index WHERE tenant_id = $1 AND seen_run <> $2 \
             AND payment_status <> 'paid' ORDER BY invoice_key",
        )
        .bind(tenant.as_str())
        .bind(run_id)
        .fetch_all(self.pool())
        .await
        .context("listing open invoices to refresh")
    }

    /// Removes what run `run_id` did not read: invoices (paid and out of the window, or gone from Workday), and
    /// payments and adjustments, except those older than the window (`window_from`, `YYYY-MM-DD`) of a
    /// supplier that still has an open invoice (its position needs them). Returns the invoice keys removed.
    pub async fn prune_index(
        &self,
        tenant: &TenantId,
        run_id: i64,
        window_from: &str,
    ) -> Result<Vec<String>, StoreError> {
        let mut tx = self.begin_write("pruning the index").await?;
        let removed: Vec<String> = sqlx::query_scalar(
            "DELETE FROM invoice_index WHERE tenant_id = $1 AND seen_run <> $2 RETURNING invoice_key",
        )
        .bind(tenant.as_str())
        .bind(run_id)
        .fetch_all(&mut *tx)
        .await
        .context("pruning the index")?;
        sqlx::query(
            "DELETE FROM document_index WHERE tenant_id = $1 AND seen_run <> $2 AND NOT (doc_date < $3 \
             AND supplier_id IN (SELECT supplier_id FROM invoice_index WHERE tenant_id = $1 \
             AND payment_status <> 'paid'))",
        )
        .bind(tenant.as_str())
        .bind(run_id)
        .bind(window_from)
        .execute(&mut *tx)
        .await
        .context("pruning the index")?;
        tx.commit().await.context("pruning the index")?;
        Ok(removed)
    }

    /// Indexed invoices by key (those that exist), one query per 500 keys.
    pub async fn indexed_invoices_by_keys(
        &self,
        tenant: &TenantId,
        keys: &[String],
    ) -> Result<std::collections::HashMap<String, IndexedInvoice>, StoreError> {
        let mut out = std::collections::HashMap::with_capacity(keys.len());
        for chunk in keys.chunks(500) {
            let sql = format!(
                "{INVOICE_SELECT} WHERE tenant_id = $1 AND invoice_key IN ({})",
                placeholders(2, chunk.len())
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tenant.as_str());
            for k in chunk {
                q = q.bind(k);
            }
            for row in q
                .fetch_all(self.pool())
                .await
                .context("reading indexed invoices")?
            {
                let inv = invoice_from_row(&row)?;
                out.insert(inv.invoice_key.clone(), inv);
            }
        }
        Ok(out)
    }

    /// Invoices whose supplier's number or Workday number is exactly `number` (case-insensitively).
    pub async fn invoices_by_number(
        &self,
        tenant: &TenantId,
        number: &str,
    ) -> Result<Vec<IndexedInvoice>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{INVOICE_SELECT} WHERE tenant_id = $1 AND (supplier_number_fold = $2 OR invoice_number_fold = $2) \
             ORDER BY invoice_date DESC, invoice_key LIMIT 50"
        )))
        .bind(tenant.as_str())
        .bind(fold(number))
        .fetch_all(self.pool())
        .await
        .context("finding invoices by number")?;
        rows.iter().map(invoice_from_row).collect()
    }

    /// Invoices whose supplier's number or Workday number starts with `prefix` (case-insensitively), at most
    /// `limit`, newest first.
    pub async fn invoices_by_prefix(
        &self,
        tenant: &TenantId,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<IndexedInvoice>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{INVOICE_SELECT} WHERE tenant_id = $1 AND (supplier_number_fold LIKE $2 ESCAPE '\\' \
             OR invoice_number_fold LIKE $2 ESCAPE '\\') ORDER BY invoice_date DESC, invoice_key LIMIT $3"
        )))
        .bind(tenant.as_str())
        .bind(like_prefix(&fold(prefix)))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .context("finding invoices by prefix")?;
        rows.iter().map(invoice_from_row).collect()
    }

    /// One indexed invoice by its key (reference ID or WID).
    pub async fn indexed_invoice(
        &self,
        tenant: &TenantId,
        invoice_key: &str,
    ) -> Result<Option<IndexedInvoice>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{INVOICE_SELECT} WHERE tenant_id = $1 AND (invoice_key = $2 OR wid = $2)"
        )))
        .bind(tenant.as_str())
        .bind(invoice_key)
        .fetch_optional(self.pool())
        .await
        .context("reading an indexed invoice")?;
        row.as_ref().map(invoice_from_row).transpose()
    }

    /// A supplier's most recent invoices (by invoice date).
    pub async fn recent_invoices(
        &self,
        tenant: &TenantId,
        supplier_id: &str,
        limit: u32,
    ) -> Result<Vec<IndexedInvoice>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{INVOICE_SELECT} WHERE tenant_id = $1 AND supplier_id = $2 \
             ORDER BY invoice_date DESC, invoice_key LIMIT $3"
        )))
        .bind(tenant.as_str())
        .bind(supplier_id)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .context("listing a supplier's invoices")?;
        rows.iter().map(invoice_from_row).collect()
    }

    /// What a supplier owes, per currency: open and overdue counts and sums (decimal arithmetic, not SQL
    /// floats).
    pub async fn supplier_totals(
        &self,
        tenant: &TenantId,
        supplier_id: &str,
    ) -> Result<Vec<SupplierTotals>, StoreError> {
        use rust_decimal::Decimal;
        use std::collections::BTreeMap;
        use std::str::FromStr as _;
        let rows = sqlx::query(
            "SELECT currency, due, payment_status FROM invoice_index WHERE tenant_id = $1 AND supplier_id = $2 \
             AND payment_status <> 'paid'",
        )
        .bind(tenant.as_str())
        .bind(supplier_id)
        .fetch_all(self.pool())
        .await
        .context("summing a supplier's invoices")?;
        let mut totals: BTreeMap<String, (i64, Decimal, i64, Decimal)> = BTreeMap::new();
        for row in rows {
            let currency: Option<String> = row.try_get("currency").context("summing invoices")?;
            let due: String = row.try_get("due").context("summing invoices")?;
            let status: String = row.try_get("payment_status").context("summing invoices")?;
            let due = Decimal::from_str(&due).map_err(|e| StoreError::Corrupt {
                context: "summing invoices",
                message: format!("amount `{due}`: {e}"),
            })?;
            let t = totals.entry(currency.unwrap_or_default()).or_default();
            t.0 += 1;
            t.1 += due;
            if status == "overdue" {
                t.2 += 1;
                t.3 += due;
            }
        }
        Ok(totals
            .into_iter()
            .map(|(currency, (oc, oa, dc, da))| SupplierTotals {
                currency,
                open_count: oc,
                open_amount: oa.normalize().to_string(),
                overdue_count: dc,
                overdue_amount: da.normalize().to_string(),
            })
            .collect())
    }

    /// Suppliers whose name contains `query` or whose `Supplier_ID` is `query` (case-insensitively), by name.
    pub async fn search_suppliers(
        &self,
        tenant: &TenantId,
        query: &str,
        limit: u32,
    ) -> Result<Vec<IndexedSupplier>, StoreError> {
        let q = fold(query);
        let pattern = format!("%{}", like_prefix(&q));
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SUPPLIER_SELECT} WHERE s.tenant_id = $1 AND (s.name_fold LIKE $2 ESCAPE '\\' \
             OR LOWER(s.supplier_id) = $3) ORDER BY s.name_fold, s.supplier_id LIMIT $4"
        )))
        .bind(tenant.as_str())
        .bind(pattern)
        .bind(q)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .context("searching suppliers")?;
        rows.iter().map(supplier_from_row).collect()
    }

    /// One indexed supplier.
    pub async fn indexed_supplier(
        &self,
        tenant: &TenantId,
        supplier_id: &str,
    ) -> Result<Option<IndexedSupplier>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SUPPLIER_SELECT} WHERE s.tenant_id = $1 AND s.supplier_id = $2"
        )))
        .bind(tenant.as_str())
        .bind(supplier_id)
        .fetch_optional(self.pool())
        .await
        .context("reading an indexed supplier")?;
        row.as_ref().map(supplier_from_row).transpose()
    }

    /// The supplier linked to Zendesk organization `organization_id` (the organization the sync created or
    /// found for it), if any.
    pub async fn supplier_of_organization(
        &self,
        tenant: &TenantId,
        organization_id: i64,
    ) -> Result<Option<IndexedSupplier>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SUPPLIER_SELECT} WHERE s.tenant_id = $1 AND l.organization_id = $2"
        )))
        .bind(tenant.as_str())
        .bind(organization_id)
        .fetch_optional(self.pool())
        .await
        .context("finding the supplier of an organization")?;
        row.as_ref().map(supplier_from_row).transpose()
    }

    /// Invoices whose purchase order number is `po_number` (case-insensitively), newest first, at most 50.
    pub async fn invoices_by_po(
        &self,
        tenant: &TenantId,
        po_number: &str,
    ) -> Result<Vec<IndexedInvoice>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{INVOICE_SELECT} WHERE tenant_id = $1 AND LOWER(po_number) = $2 \
             ORDER BY invoice_date DESC, invoice_key LIMIT 50"
        )))
        .bind(tenant.as_str())
        .bind(fold(po_number))
        .fetch_all(self.pool())
        .await
        .context("finding invoices by purchase order")?;
        rows.iter().map(invoice_from_row).collect()
    }

    /// Number of indexed invoices of a tenant.
    pub async fn indexed_invoice_count(&self, tenant: &TenantId) -> Result<i64, StoreError> {
        sqlx::query_scalar("SELECT COUNT(*) FROM invoice_index WHERE tenant_id = $1")
            .bind(tenant.as_str())
            .fetch_one(self.pool())
            .await
            .context("counting indexed invoices")
    }
}
