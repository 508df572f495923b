//! Sealed tenant credentials. Values go in and out only through the vault.

use std::collections::HashMap;

use secrecy::{ExposeSecret, SecretString};
use sqlx::Row as _;

use super::{QueryContext, Store, StoreError, now_ms};
use crate::tenant::{SecretName, TenantId};
use crate::vault::Vault;

/// What `tenant show` may tell about a secret: that it is set, when, and under which key. Never its value.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SecretInfo {
    /// Which secret.
    pub name: SecretName,
    /// Id of the master key that sealed it.
    pub key_id: String,
    /// Unix milliseconds.
    pub updated_at: i64,
}

/// Associated data binding a sealed credential to its row.
pub(crate) fn credential_aad(tenant: &str, name: &str) -> Vec<u8> {
    format!("credential/{tenant}/{name}").into_bytes()
}

impl Store {
    /// Seals and stores one secret (replacing any previous value).
    pub async fn put_secret(
        &self,
        vault: &Vault,
        tenant: &TenantId,
        name: SecretName,
        value: &SecretString,
    ) -> Result<(), StoreError> {
        self.put_secrets(vault, tenant, &[(name, value)]).await
    }

    /// Seals and stores several secrets atomically: either all are replaced or none (e.g. a rotated OAuth
    /// access/refresh token pair).
    pub async fn put_secrets(
        &self,
        vault: &Vault,
        tenant: &TenantId,
        secrets: &[(SecretName, &SecretString)],
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write("starting a transaction").await?;
        // A process still running with the key from before a rotation must not seal with it: the rotation has
        // re-sealed everything under the new key, so a value sealed now with the old one could never be opened.
        // On PostgreSQL the shared row lock also orders this write before or after a concurrent rotation.
        let lock = match self.backend() {
            super::Backend::Sqlite => "SELECT key_id FROM vault_meta WHERE id = 1",
            super::Backend::Postgres => "SELECT key_id FROM vault_meta WHERE id = 1 FOR SHARE",
        };
        let current: Option<String> = sqlx::query_scalar(lock)
            .fetch_optional(&mut *tx)
            .await
            .context("reading the vault key id")?;
        if let Some(current) = current.filter(|k| *k != vault.key_id().to_string()) {
            let sealed_with =
                crate::vault::KeyId::parse(&current).ok_or_else(|| StoreError::Corrupt {
                    context: "reading the vault key id",
                    message: format!("`{current}` is not a key id"),
                })?;
            return Err(crate::vault::VaultError::WrongKey {
                sealed_with,
                configured: vault.key_id(),
            }
            .into());
        }
        let exists = sqlx::query("SELECT 1 FROM tenants WHERE id = $1")
            .bind(tenant.as_str())
            .fetch_optional(&mut *tx)
            .await
            .context("checking the tenant")?;
        if exists.is_none() {
            return Err(StoreError::NotFound {
                what: "tenant",
                key: tenant.to_string(),
            });
        }
        let now = now_ms();
        for (name, value) in secrets {
            let sealed = vault.seal(
                &credential_aad(tenant.as_str(), name.as_str()),
                value.expose_secret().as_bytes(),
            );
            sqlx::query(
                "INSERT INTO credentials (tenant_id, name, sealed, key_id, updated_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (tenant_id, name) DO UPDATE SET sealed = excluded.sealed, key_id = excluded.key_id, \
                 updated_at = excluded.updated_at",
            )
            .bind(tenant.as_str())
            .bind(name.as_str())
            .bind(sealed)
            .bind(vault.key_id().to_string())
            .bind(now)
            .execute(&mut *tx)
            .await
            .context("storing a secret")?;
        }
        tx.commit().await.context("committing secrets")?;
        Ok(())
    }

    /// Opens one secret, or `None` if it is not set.
    pub async fn secret(
        &self,
        vault: &Vault,
        tenant: &TenantId,
        name: SecretName,
    ) -> Result<Option<SecretString>, StoreError> {
        let sealed: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT sealed FROM credentials WHERE tenant_id = $1 AND name = $2")
                .bind(tenant.as_str())
                .bind(name.as_str())
                .fetch_optional(self.pool())
                .await
                .context("reading a secret")?;
        match sealed {
            None => Ok(None),
            Some(sealed) => Ok(Some(
                vault.open_string(&credential_aad(tenant.as_str(), name.as_str()), &sealed)?,
            )),
        }
    }

    /// Opens several secrets of `tenant`, in the order of `names` (`None` for one that is not set). They are read
    /// in one query, so they come from one snapshot: a pair replaced together by [`Self::put_secrets`] (a
    /// rotated OAuth token pair) is seen all old or all new, never mixed.
    pub async fn secrets(
        &self,
        vault: &Vault,
        tenant: &TenantId,
        names: &[SecretName],
    ) -> Result<Vec<Option<SecretString>>, StoreError> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders = (0..names.len())
            .map(|i| format!("${}", i + 2))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT name, sealed FROM credentials WHERE tenant_id = $1 AND name IN ({placeholders})"
        );
        // Safe: the only text added to the statement is the generated placeholders; every value is bound.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tenant.as_str());
        for name in names {
            query = query.bind(name.as_str());
        }
        let rows = query
            .fetch_all(self.pool())
            .await
            .context("reading secrets")?;
        let mut sealed = HashMap::with_capacity(rows.len());
        for row in &rows {
            let name: String = row.try_get("name").context("reading secrets")?;
            let value: Vec<u8> = row.try_get("sealed").context("reading secrets")?;
            sealed.insert(name, value);
        }
        names
            .iter()
            .map(|name| {
                sealed
                    .get(name.as_str())
                    .map(|value| {
                        vault.open_string(&credential_aad(tenant.as_str(), name.as_str()), value)
                    })
                    .transpose()
                    .map_err(StoreError::from)
            })
            .collect()
    }

    /// Which secrets a tenant has (names, key ids, times; never values).
    pub async fn secret_infos(&self, tenant: &TenantId) -> Result<Vec<SecretInfo>, StoreError> {
        let rows = sqlx::query(
            "SELECT name, key_id, updated_at FROM credentials WHERE tenant_id = $1 ORDER BY name",
        )
        .bind(tenant.as_str())
        .fetch_all(self.pool())
        .await
        .context("listing secrets")?;
        rows.iter()
            .map(|row| {
                let name: String = row.try_get("name").context("listing secrets")?;
                Ok(SecretInfo {
                    name: name
                        .parse()
                        .map_err(|e: crate::tenant::UnknownSecretName| StoreError::Corrupt {
                            context: "listing secrets",
                            message: e.to_string(),
                        })?,
                    key_id: row.try_get("key_id").context("listing secrets")?,
                    updated_at: row.try_get("updated_at").context("listing secrets")?,
                })
            })
            .collect()
    }

    /// Deletes one secret; returns whether it was set.
    pub async fn delete_secret(
        &self,
        tenant: &TenantId,
        name: SecretName,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM credentials WHERE tenant_id = $1 AND name = $2")
            .bind(tenant.as_str())
            .bind(name.as_str())
            .execute(self.pool())
            .await
            .context("deleting a secret")?;
        Ok(done.rows_affected() > 0)
    }
}
