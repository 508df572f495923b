//! The audit trail: one row per write to Zendesk (organization or ticket), with where the data came from in
//! Workday and what was written.

use sqlx::Row as _;
use sqlx::any::AnyRow;

use super::{QueryContext, Store, StoreError, now_ms};
use crate::tenant::TenantId;

/// What a write did (the `outcome` column).
pub mod outcome {
    /// An organization or ticket was created.
    pub const CREATED: &str = "created";
    /// It was updated.
    pub const UPDATED: &str = "updated";
    /// A write whose result was unknown was reconciled: the object was found by its `external_id`.
    pub const RECONCILED: &str = "reconciled";
    /// Zendesk refused the write.
    pub const FAILED: &str = "failed";
    /// Written before the request to Zendesk, and resolved to one of the above when it answers.
    pub const PENDING: &str = "pending";
    /// A pending write whose process stopped before Zendesk answered: it may or may not have happened (the
    /// next run finds the organization by `external_id` either way).
    pub const INTERRUPTED: &str = "interrupted";
}

/// One audit row to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditRow {
    /// `supplier`, `invoice`, ...
    pub object_type: String,
    /// Workday ID of the object (`Supplier_ID`, ...).
    pub object_id: String,
    /// Workday service read (`Resource_Management`).
    pub service: String,
    /// Operation (`Get_Suppliers`).
    pub operation: String,
    /// API version (`v46.1`).
    pub version: String,
    /// Page the record was on.
    pub page: Option<i64>,
    /// `As_Of_Entry_DateTime` of the read (RFC 3339).
    pub as_of: Option<String>,
    /// What was written in Zendesk (`organization:123`, `organization:external_id:S-1`, `ticket:42`).
    pub target: String,
    /// Hash of the content written.
    pub content_hash: String,
    /// [`outcome`].
    pub outcome: String,
    /// More about it (an error, a disambiguated name).
    pub detail: Option<String>,
    /// The sync run that wrote it.
    pub run_id: Option<i64>,
}

/// A stored audit row.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct AuditRecord {
    /// Row id (increasing).
    pub id: i64,
    /// Unix ms.
    pub at: i64,
    /// `supplier`, `invoice`, ...
    pub object_type: String,
    /// Workday ID.
    pub object_id: String,
    /// Workday service.
    pub service: String,
    /// Workday operation.
    pub operation: String,
    /// Workday API version.
    pub version: String,
    /// Page of the read.
    pub page: Option<i64>,
    /// As-of of the read.
    pub as_of: Option<String>,
    /// Zendesk target.
    pub target: String,
    /// Content hash.
    pub content_hash: String,
    /// Outcome.
    pub outcome: String,
    /// Detail.
    pub detail: Option<String>,
    /// Sync run.
    pub run_id: Option<i64>,
}

/// Which audit rows to read.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// At or after (unix ms).
    pub since: Option<i64>,
    /// Only this object type (`supplier`), or `type:id` for one object (`supplier:S-000001`).
    pub object: Option<String>,
    /// Only this run.
    pub run_id: Option<i64>,
    /// At most this many (newest first).
    pub limit: u32,
}

fn from_row(row: &AnyRow) -> Result<AuditRecord, StoreError> {
    const CTX: &str = "reading an audit row";
    Ok(AuditRecord {
        id: row.try_get("id").context(CTX)?,
        at: row.try_get("at").context(CTX)?,
        object_type: row.try_get("workday_object_type").context(CTX)?,
        object_id: row.try_get("workday_object_id").context(CTX)?,
        service: row.try_get("workday_service").context(CTX)?,
        operation: row.try_get("workday_operation").context(CTX)?,
        version: row.try_get("workday_version").context(CTX)?,
        page: row.try_get("workday_page").context(CTX)?,
        as_of: row.try_get("workday_as_of").context(CTX)?,
        target: row.try_get("zendesk_target").context(CTX)?,
        content_hash: row.try_get("content_hash").context(CTX)?,
        outcome: row.try_get("outcome").context(CTX)?,
        detail: row.try_get("detail").context(CTX)?,
        run_id: row.try_get("run_id").context(CTX)?,
    })
}

/// Inserts audit rows inside a transaction and returns their ids (the caller commits them with what they describe).
pub(crate) async fn insert_audit_rows(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    tenant: &TenantId,
    rows: &[NewAuditRow],
) -> Result<Vec<i64>, StoreError> {
    let now = now_ms();
    let mut ids = Vec::with_capacity(rows.len());
    for r in rows {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO audit_log (tenant_id, at, workday_object_type, workday_object_id, workday_service, \
             workday_operation, workday_version, workday_page, workday_as_of, zendesk_target, content_hash, \
             outcome, detail, run_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
             RETURNING id",
        )
        .bind(tenant.as_str())
        .bind(now)
        .bind(&r.object_type)
        .bind(&r.object_id)
        .bind(&r.service)
        .bind(&r.operation)
        .bind(&r.version)
        .bind(r.page)
        .bind(r.as_of.as_deref())
        .bind(&r.target)
        .bind(&r.content_hash)
        .bind(&r.outcome)
        .bind(r.detail.as_deref())
        .bind(r.run_id)
        .fetch_one(&mut **tx)
        .await
        .context("writing audit rows")?;
        ids.push(id);
    }
    Ok(ids)
}

/// How a pending audit row ends: resolved to the write's outcome, or dropped (nothing was written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditResolution {
    /// The pending row.
    pub id: i64,
    /// Its final form; `None` deletes it (the object was already as desired: no write happened).
    pub row: Option<NewAuditRow>,
}

/// Applies resolutions inside a transaction.
pub(crate) async fn resolve_audit_rows(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    resolutions: &[AuditResolution],
) -> Result<(), StoreError> {
    let now = now_ms();
    for r in resolutions {
        match &r.row {
            Some(row) => {
                sqlx::query(
                    "UPDATE audit_log SET at = $2, zendesk_target = $3, content_hash = $4, outcome = $5, \
                     detail = $6 WHERE id = $1",
                )
                .bind(r.id)
                .bind(now)
                .bind(&row.target)
                .bind(&row.content_hash)
                .bind(&row.outcome)
                .bind(row.detail.as_deref())
                .execute(&mut **tx)
                .await
                .context("resolving audit rows")?;
            }
            None => {
                sqlx::query("DELETE FROM audit_log WHERE id = $1")
                    .bind(r.id)
                    .execute(&mut **tx)
                    .await
                    .context("resolving audit rows")?;
            }
        }
    }
    Ok(())
}

impl Store {
    /// Writes audit rows (outside any other change); returns their ids. Rows written with outcome
    /// [`outcome::PENDING`] before a request to Zendesk are resolved when it answers (see
    /// [`Store::record_org_batch`]), so a crash in between leaves a trace of the attempted write.
    pub async fn append_audit(
        &self,
        tenant: &TenantId,
        rows: &[NewAuditRow],
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.begin_write("writing audit rows").await?;
        let ids = insert_audit_rows(&mut tx, tenant, rows).await?;
        tx.commit().await.context("writing audit rows")?;
        Ok(ids)
    }

    /// A tenant's audit rows, newest first.
    pub async fn audit_rows(
        &self,
        tenant: &TenantId,
        query: &AuditQuery,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let mut sql = String::from(
            "SELECT id, at, workday_object_type, workday_object_id, workday_service, workday_operation, \
             workday_version, workday_page, workday_as_of, zendesk_target, content_hash, outcome, detail, run_id \
             FROM audit_log WHERE tenant_id = $1",
        );
        let mut binds: Vec<Bind> = Vec::new();
        let mut n = 1;
        let mut push = |sql: &mut String, cond: &str, b: Bind| {
            n += 1;
            sql.push_str(&cond.replace('?', &format!("${n}")));
            binds.push(b);
        };
        if let Some(since) = query.since {
            push(&mut sql, " AND at >= ?", Bind::Int(since));
        }
        if let Some(run) = query.run_id {
            push(&mut sql, " AND run_id = ?", Bind::Int(run));
        }
        if let Some(object) = &query.object {
            match object.split_once(':') {
                Some((kind, id)) => {
                    push(
                        &mut sql,
                        " AND workday_object_type = ?",
                        Bind::Text(kind.to_string()),
                    );
                    push(
                        &mut sql,
                        " AND workday_object_id = ?",
                        Bind::Text(id.to_string()),
                    );
                }
                None => push(
                    &mut sql,
                    " AND workday_object_type = ?",
                    Bind::Text(object.clone()),
                ),
            }
        }
        push(
            &mut sql,
            " ORDER BY id DESC LIMIT ?",
            Bind::Int(i64::from(query.limit)),
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tenant.as_str());
        for b in binds {
            q = match b {
                Bind::Int(i) => q.bind(i),
                Bind::Text(s) => q.bind(s),
            };
        }
        let rows = q
            .fetch_all(self.pool())
            .await
            .context("reading audit rows")?;
        rows.iter().map(from_row).collect()
    }

    /// Audit rows of a tenant by outcome (for checks and tests): `(outcome, count)`.
    pub async fn audit_counts(&self, tenant: &TenantId) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT outcome, COUNT(*) AS n FROM audit_log WHERE tenant_id = $1 GROUP BY outcome ORDER BY outcome",
        )
        .bind(tenant.as_str())
        .fetch_all(self.pool())
        .await
        .context("counting audit rows")?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("outcome").context("counting audit rows")?,
                    r.try_get("n").context("counting audit rows")?,
                ))
            })
            .collect()
    }
}

enum Bind {
    Int(i64),
    Text(String),
}
