//! Tenant rows.

use sqlx::Row as _;
use sqlx::any::AnyRow;

use super::{Backend, QueryContext, Store, StoreError, is_unique_violation, now_ms};
use crate::tenant::{Tenant, TenantId, TenantSettings, WorkdaySettings, ZendeskSettings};

/// Changes to a tenant's non-secret settings; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct TenantUpdate {
    /// Display name.
    pub name: Option<String>,
    /// Workday side (replaces the whole block).
    pub workday: Option<WorkdaySettings>,
    /// Zendesk side (replaces the whole block).
    pub zendesk: Option<ZendeskSettings>,
    /// The tenant's own settings (replaces them all; keys this version does not know are kept only if
    /// `settings.other` still holds them).
    pub settings: Option<TenantSettings>,
}

/// What a tenant's cached context depends on: its row and its secrets. Any change to either changes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TenantVersion {
    /// The row's `updated_at`.
    pub updated_at: i64,
    /// The latest `updated_at` of its secrets (0 without any).
    pub secrets_updated_at: i64,
    /// How many secrets it has (a deletion changes it).
    pub secrets: i64,
}

/// `SELECT` of every tenant column, followed by the rest of the query (a literal, so sqlx sees static SQL).
macro_rules! select_tenants {
    ($rest:literal) => {
        concat!(
            "SELECT id, name, workday_json, zendesk_json, settings_json, admin_key_hash IS NOT NULL AS has_key, \
             created_at, updated_at FROM tenants ",
            $rest
        )
    };
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("settings serialize to JSON")
}

fn from_row(row: &AnyRow) -> Result<Tenant, StoreError> {
    let corrupt = |message: String| StoreError::Corrupt {
        context: "reading a tenant",
        message,
    };
    let id: String = row.try_get("id").context("reading a tenant")?;
    let json =
        |col: &str| -> Result<String, StoreError> { row.try_get(col).context("reading a tenant") };
    // `IS NOT NULL` is an integer in SQLite and a boolean in PostgreSQL.
    let has_key = row
        .try_get::<bool, _>("has_key")
        .or_else(|_| row.try_get::<i64, _>("has_key").map(|v| v != 0))
        .context("reading a tenant")?;
    Ok(Tenant {
        id: TenantId::parse(&id).map_err(|e| corrupt(e.to_string()))?,
        name: row.try_get("name").context("reading a tenant")?,
        workday: serde_json::from_str(&json("workday_json")?)
            .map_err(|e| corrupt(e.to_string()))?,
        zendesk: serde_json::from_str(&json("zendesk_json")?)
            .map_err(|e| corrupt(e.to_string()))?,
        settings: serde_json::from_str::<serde_json::Value>(&json("settings_json")?)
            .map_err(|e| corrupt(e.to_string()))
            .and_then(|v| TenantSettings::from_json(&v).map_err(corrupt))?,
        has_admin_key: has_key,
        created_at: row.try_get("created_at").context("reading a tenant")?,
        updated_at: row.try_get("updated_at").context("reading a tenant")?,
    })
}

impl Store {
    /// Creates a tenant; fails with `Conflict` if the id is taken.
    pub async fn create_tenant(
        &self,
        id: &TenantId,
        name: &str,
        workday: &WorkdaySettings,
        zendesk: &ZendeskSettings,
    ) -> Result<Tenant, StoreError> {
        let now = now_ms();
        let result = sqlx::query(
            "INSERT INTO tenants (id, name, workday_json, zendesk_json, settings_json, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, '{}', $5, $5)",
        )
        .bind(id.as_str())
        .bind(name)
        .bind(to_json(workday))
        .bind(to_json(zendesk))
        .bind(now)
        .execute(self.pool())
        .await;
        match result {
            Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict {
                what: "tenant",
                key: id.to_string(),
            }),
            other => {
                other.context("creating a tenant")?;
                self.tenant(id).await
            }
        }
    }

    /// Applies `update` to an existing tenant (see [`Store::modify_tenant`]).
    pub async fn update_tenant(
        &self,
        id: &TenantId,
        update: TenantUpdate,
    ) -> Result<Tenant, StoreError> {
        self.modify_tenant(id, |current| {
            if let Some(name) = update.name {
                current.name = name;
            }
            if let Some(w) = update.workday {
                current.workday = w;
            }
            if let Some(z) = update.zendesk {
                current.zendesk = z;
            }
            if let Some(s) = update.settings {
                current.settings = s;
            }
            Ok::<_, StoreError>(())
        })
        .await
    }

    /// Read-modify-write of a tenant's name, Workday and Zendesk settings and settings object, atomically:
    /// `change` sees the current row inside one write transaction (the row locked with `FOR UPDATE` on
    /// PostgreSQL; SQLite's `BEGIN IMMEDIATE` serialises writers), so a concurrent change is never lost. When
    /// `change` fails, nothing is written and its error is returned. Changes to other fields (id, admin key,
    /// times) are not stored.
    pub async fn modify_tenant<E>(
        &self,
        id: &TenantId,
        change: impl FnOnce(&mut Tenant) -> Result<(), E>,
    ) -> Result<Tenant, E>
    where
        E: From<StoreError>,
    {
        const CTX: &str = "updating a tenant";
        let mut tx = self.begin_write(CTX).await?;
        let select = match self.backend() {
            Backend::Sqlite => select_tenants!("WHERE id = $1"),
            Backend::Postgres => select_tenants!("WHERE id = $1 FOR UPDATE"),
        };
        let row = sqlx::query(select)
            .bind(id.as_str())
            .fetch_optional(&mut *tx)
            .await
            .context(CTX)?;
        let Some(row) = row else {
            return Err(StoreError::NotFound {
                what: "tenant",
                key: id.to_string(),
            }
            .into());
        };
        let mut tenant = from_row(&row)?;
        change(&mut tenant)?;
        let now = now_ms();
        sqlx::query(
            "UPDATE tenants SET name = $2, workday_json = $3, zendesk_json = $4, settings_json = $5, \
             updated_at = $6 WHERE id = $1",
        )
        .bind(id.as_str())
        .bind(&tenant.name)
        .bind(to_json(&tenant.workday))
        .bind(to_json(&tenant.zendesk))
        .bind(to_json(&tenant.settings))
        .bind(now)
        .execute(&mut *tx)
        .await
        .context(CTX)?;
        tx.commit().await.context(CTX)?;
        tenant.updated_at = now;
        Ok(tenant)
    }

    /// What tenant `id`'s context depends on (see [`TenantVersion`]), or `None` when there is no such tenant.
    pub async fn tenant_version(&self, id: &TenantId) -> Result<Option<TenantVersion>, StoreError> {
        const CTX: &str = "reading a tenant's version";
        let row = sqlx::query(
            "SELECT t.updated_at AS updated_at, \
             (SELECT COALESCE(MAX(c.updated_at), 0) FROM credentials c WHERE c.tenant_id = t.id) AS secrets_at, \
             (SELECT COUNT(*) FROM credentials c WHERE c.tenant_id = t.id) AS secrets \
             FROM tenants t WHERE t.id = $1",
        )
        .bind(id.as_str())
        .fetch_optional(self.pool())
        .await
        .context(CTX)?;
        row.map(|row| {
            Ok(TenantVersion {
                updated_at: row.try_get("updated_at").context(CTX)?,
                secrets_updated_at: row.try_get("secrets_at").context(CTX)?,
                secrets: row.try_get("secrets").context(CTX)?,
            })
        })
        .transpose()
    }

    /// One tenant, or `NotFound`.
    pub async fn tenant(&self, id: &TenantId) -> Result<Tenant, StoreError> {
        let row = sqlx::query(select_tenants!("WHERE id = $1"))
            .bind(id.as_str())
            .fetch_optional(self.pool())
            .await
            .context("reading a tenant")?;
        match row {
            Some(row) => from_row(&row),
            None => Err(StoreError::NotFound {
                what: "tenant",
                key: id.to_string(),
            }),
        }
    }

    /// Every tenant, by id.
    pub async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        let rows = sqlx::query(select_tenants!("ORDER BY id"))
            .fetch_all(self.pool())
            .await
            .context("listing tenants")?;
        rows.iter().map(from_row).collect()
    }

    /// Removes a tenant and everything that belongs to it (credentials, links, queue, plugins); the audit log
    /// is kept. Returns whether it existed.
    pub async fn remove_tenant(&self, id: &TenantId) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM tenants WHERE id = $1")
            .bind(id.as_str())
            .execute(self.pool())
            .await
            .context("removing a tenant")?;
        Ok(done.rows_affected() > 0)
    }

    /// Stores the hash of a tenant's admin API key (see [`crate::tenant::AdminKey`]).
    pub async fn set_admin_key_hash(&self, id: &TenantId, hash: &str) -> Result<(), StoreError> {
        let done =
            sqlx::query("UPDATE tenants SET admin_key_hash = $2, updated_at = $3 WHERE id = $1")
                .bind(id.as_str())
                .bind(hash)
                .bind(now_ms())
                .execute(self.pool())
                .await
                .context("setting an admin key")?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                what: "tenant",
                key: id.to_string(),
            });
        }
        Ok(())
    }

    /// The stored admin key hash, if the tenant exists and has one.
    pub async fn admin_key_hash(&self, id: &TenantId) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar::<_, Option<String>>("SELECT admin_key_hash FROM tenants WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(self.pool())
            .await
            .context("reading an admin key")
            .map(Option::flatten)
    }
}
