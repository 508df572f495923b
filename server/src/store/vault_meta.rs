//! The vault's anchor in the database: a canary sealed with the current master key, so that a wrong or
//! missing key is a clear start-up error, and rotation of every sealed value to a new key.

use std::path::PathBuf;

use sqlx::Row as _;

use super::secrets::credential_aad;
use super::{QueryContext, Store, StoreError, now_ms};
use crate::vault::{KeySource, MasterKey, Vault, VaultError, read_key_file};

const CANARY_AAD: &[u8] = b"vault/canary";
const CANARY_TEXT: &[u8] = b"ml-connector vault canary v1";

/// What `vault rotate` did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RotationReport {
    /// Key id before.
    pub old_key_id: String,
    /// Key id after.
    pub new_key_id: String,
    /// Number of sealed values re-sealed.
    pub resealed: u64,
}

impl Store {
    /// Loads the master key from `source` and proves it is the key that sealed this database's secrets.
    ///
    /// On a fresh database the canary is written (and the default key file created if needed). A key file
    /// left half-way through a rotation (`master.key.new` present and matching) is completed here.
    pub async fn unlock_vault(&self, source: &KeySource) -> Result<Vault, StoreError> {
        let row = sqlx::query("SELECT key_id, canary FROM vault_meta WHERE id = 1")
            .fetch_optional(self.pool())
            .await
            .context("reading the vault canary")?;
        let Some(row) = row else {
            let sealed_rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM credentials")
                .fetch_one(self.pool())
                .await
                .context("counting sealed values")?;
            let vault = Vault::new(source.load(sealed_rows == 0)?);
            self.write_canary(&vault).await?;
            return Ok(vault);
        };
        let canary: Vec<u8> = row.try_get("canary").context("reading the vault canary")?;
        let key = match source.load(false) {
            Err(VaultError::NoKey) => {
                let sealed_with: String =
                    row.try_get("key_id").context("reading the vault canary")?;
                return Err(VaultError::BadKey {
                    source_name: source.describe(),
                    reason: format!(
                        "it is missing, but this database holds secrets sealed with key {sealed_with}; \
                         restore the key file or set MLC_MASTER_KEY"
                    ),
                }
                .into());
            }
            other => other?,
        };
        let vault = Vault::new(key);
        match vault.open(CANARY_AAD, &canary) {
            Ok(_) => Ok(vault),
            Err(VaultError::WrongKey {
                sealed_with,
                configured,
            }) => {
                if let Some(recovered) = finish_interrupted_rotation(source, sealed_with) {
                    tracing::warn!(key_id = %recovered.key_id(), "completed an interrupted key rotation");
                    return Ok(recovered);
                }
                Err(VaultError::WrongKey {
                    sealed_with,
                    configured,
                }
                .into())
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn write_canary(&self, vault: &Vault) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO vault_meta (id, key_id, canary, updated_at) VALUES (1, $1, $2, $3) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(vault.key_id().to_string())
        .bind(vault.seal(CANARY_AAD, CANARY_TEXT))
        .bind(now_ms())
        .execute(self.pool())
        .await
        .context("writing the vault canary")?;
        Ok(())
    }

    /// Re-seals every sealed value under `new_key` in one transaction. Afterwards only `new_key` opens them.
    pub async fn rotate_vault(
        &self,
        old: &Vault,
        new_key: MasterKey,
    ) -> Result<(Vault, RotationReport), StoreError> {
        let new = Vault::new(new_key);
        let mut tx = self.begin_write("starting the rotation").await?;
        // Lock the anchor row first: writers of sealed values take a shared lock on it (PostgreSQL), so none can
        // slip a value sealed with the old key in between the read of the credentials and the commit.
        let lock = match self.backend() {
            super::Backend::Sqlite => "SELECT canary FROM vault_meta WHERE id = 1",
            super::Backend::Postgres => "SELECT canary FROM vault_meta WHERE id = 1 FOR UPDATE",
        };
        let canary: Vec<u8> = sqlx::query_scalar(lock)
            .fetch_one(&mut *tx)
            .await
            .context("reading the vault canary")?;
        old.open(CANARY_AAD, &canary)?;
        let rows = sqlx::query("SELECT tenant_id, name, sealed FROM credentials")
            .fetch_all(&mut *tx)
            .await
            .context("reading sealed values")?;
        let mut resealed = 0u64;
        for row in rows {
            let tenant: String = row.try_get("tenant_id").context("reading sealed values")?;
            let name: String = row.try_get("name").context("reading sealed values")?;
            let sealed: Vec<u8> = row.try_get("sealed").context("reading sealed values")?;
            let aad = credential_aad(&tenant, &name);
            let plain = old.open(&aad, &sealed)?;
            let again = new.seal(&aad, secrecy::ExposeSecret::expose_secret(&plain));
            sqlx::query("UPDATE credentials SET sealed = $3, key_id = $4 WHERE tenant_id = $1 AND name = $2")
                .bind(&tenant)
                .bind(&name)
                .bind(again)
                .bind(new.key_id().to_string())
                .execute(&mut *tx)
                .await
                .context("re-sealing a value")?;
            resealed += 1;
        }
        sqlx::query("UPDATE vault_meta SET key_id = $1, canary = $2, updated_at = $3 WHERE id = 1")
            .bind(new.key_id().to_string())
            .bind(new.seal(CANARY_AAD, CANARY_TEXT))
            .bind(now_ms())
            .execute(&mut *tx)
            .await
            .context("re-sealing the canary")?;
        tx.commit().await.context("committing the rotation")?;
        let report = RotationReport {
            old_key_id: old.key_id().to_string(),
            new_key_id: new.key_id().to_string(),
            resealed,
        };
        Ok((new, report))
    }
}

/// The file a rotation writes the new key to before committing, next to the key file.
pub fn pending_key_path(source: &KeySource) -> Option<PathBuf> {
    match source {
        KeySource::File(p) | KeySource::DefaultFile(p) => {
            let mut name = p.file_name()?.to_os_string();
            name.push(".new");
            Some(p.with_file_name(name))
        }
        KeySource::Env(_) => None,
    }
}

fn finish_interrupted_rotation(
    source: &KeySource,
    sealed_with: crate::vault::KeyId,
) -> Option<Vault> {
    let pending = pending_key_path(source)?;
    let key = read_key_file(&pending).ok()?;
    if key.id() != sealed_with {
        return None;
    }
    let (KeySource::File(path) | KeySource::DefaultFile(path)) = source else {
        return None;
    };
    std::fs::rename(&pending, path).ok()?;
    Some(Vault::new(key))
}
