//! The Store API against SQLite and a real PostgreSQL, in the same run.

use crate::support as common;

use ml_connector::store::{Store, StoreError, TenantUpdate};
use ml_connector::tenant::{
    SecretName, TenantId, TenantSettings, WorkdaySettings, ZendeskSettings,
};
use ml_connector::vault::{KeySource, MasterKey, Vault, VaultError, write_key_file};
use secrecy::{ExposeSecret as _, SecretString};

fn acme() -> TenantId {
    TenantId::parse("acme").unwrap()
}

fn workday() -> WorkdaySettings {
    WorkdaySettings {
        base_url: "https://wd2-impl-services1.workday.com".into(),
        tenant: "acme_dpt1".into(),
        username: "ISU_ZENDESK".into(),
        ..Default::default()
    }
}

fn env_key(key: &MasterKey) -> KeySource {
    KeySource::Env(key.to_base64())
}

/// The vault unlocked with a fresh master key.
async fn fresh_vault(store: &Store) -> Vault {
    store
        .unlock_vault(&env_key(&MasterKey::generate()))
        .await
        .unwrap()
}

/// Creates the tenant `acme` (named "Acme", with the `workday()` settings).
async fn create_acme(store: &Store) {
    store
        .create_tenant(&acme(), "Acme", &workday(), &ZendeskSettings::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn tenants_round_trip_on_every_backend() {
    for db in common::test_dbs().await {
        let store = db.store().await;
        let id = acme();
        let zendesk = ZendeskSettings {
            email: "ap@acme.test".into(),
            rate_limit_rpm: 400,
            ..Default::default()
        };
        let created = store
            .create_tenant(&id, "Acme", &workday(), &zendesk)
            .await
            .unwrap();
        assert_eq!(created.workday, workday(), "{}", db.name);
        assert!(!created.has_admin_key);
        let dup = store
            .create_tenant(&id, "Acme again", &workday(), &zendesk)
            .await
            .unwrap_err();
        assert!(
            matches!(dup, StoreError::Conflict { .. }),
            "{}: {dup}",
            db.name
        );

        let update = TenantUpdate {
            name: Some("Acme Corp".into()),
            settings: Some(
                TenantSettings::from_json(&serde_json::json!({
                    "plugin_failure_policy": "write_nothing",
                    "a_later_option": {"kept": true},
                }))
                .unwrap(),
            ),
            ..Default::default()
        };
        let updated = store.update_tenant(&id, update).await.unwrap();
        assert_eq!(updated.name, "Acme Corp");
        assert_eq!(
            updated.settings.plugin_failure_policy,
            Some(ml_connector::mapper::FailurePolicy::WriteNothing)
        );
        // A key this version does not know is kept as it was, on both backends.
        let reread = store.tenant(&id).await.unwrap();
        assert_eq!(
            reread.settings.other["a_later_option"],
            serde_json::json!({"kept": true}),
            "{}",
            db.name
        );
        assert_eq!(updated.zendesk.rate_limit_rpm, 400);

        store.set_admin_key_hash(&id, "sha256:abc").await.unwrap();
        assert!(
            store.tenant(&id).await.unwrap().has_admin_key,
            "{}",
            db.name
        );
        assert_eq!(
            store.admin_key_hash(&id).await.unwrap().as_deref(),
            Some("sha256:abc")
        );

        let other = TenantId::parse("globex").unwrap();
        store
            .create_tenant(&other, "Globex", &workday(), &ZendeskSettings::default())
            .await
            .unwrap();
        let ids: Vec<_> = store
            .tenants()
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.id.to_string())
            .collect();
        assert_eq!(ids, ["acme", "globex"]);

        assert!(store.remove_tenant(&other).await.unwrap());
        assert!(!store.remove_tenant(&other).await.unwrap());
        assert!(matches!(
            store.tenant(&other).await,
            Err(StoreError::NotFound { .. })
        ));
        store.ping().await.unwrap();
    }
}

#[tokio::test]
async fn every_table_exists_on_every_backend() {
    for db in common::test_dbs().await {
        let store = db.store().await;
        for table in [
            "vault_meta",
            "tenants",
            "credentials",
            "sync_state",
            "sync_leases",
            "sync_runs",
            "org_links",
            "enrichment_queue",
            "audit_log",
            "plugins",
        ] {
            let n: i64 =
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                    .fetch_one(store.pool())
                    .await
                    .unwrap_or_else(|e| panic!("{}: table {table}: {e}", db.name));
            assert_eq!(n, 0);
        }
        // Opening again runs the migrations again: nothing to do, nothing breaks.
        db.store().await.ping().await.unwrap();
    }
}

#[tokio::test]
async fn secrets_are_sealed_and_round_trip_on_every_backend() {
    for db in common::test_dbs().await {
        let store = db.store().await;
        let key = MasterKey::generate();
        let vault = store.unlock_vault(&env_key(&key)).await.unwrap();
        let id = acme();
        store
            .create_tenant(&id, "Acme", &workday(), &ZendeskSettings::default())
            .await
            .unwrap();

        let password = SecretString::from("correct-horse-battery-staple-7781");
        store
            .put_secret(&vault, &id, SecretName::WorkdayPassword, &password)
            .await
            .unwrap();
        let access = SecretString::from("zd-access-token-4417-unique");
        let refresh = SecretString::from("zd-refresh-token-9902-unique");
        store
            .put_secrets(
                &vault,
                &id,
                &[
                    (SecretName::ZendeskOauthAccessToken, &access),
                    (SecretName::ZendeskOauthRefreshToken, &refresh),
                ],
            )
            .await
            .unwrap();

        let got = store
            .secret(&vault, &id, SecretName::WorkdayPassword)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.expose_secret(), password.expose_secret(), "{}", db.name);
        assert!(
            store
                .secret(&vault, &id, SecretName::JwtSharedSecret)
                .await
                .unwrap()
                .is_none()
        );
        let infos = store.secret_infos(&id).await.unwrap();
        assert_eq!(infos.len(), 3);
        assert!(infos.iter().all(|i| i.key_id == vault.key_id().to_string()));

        // Not in clear text in what the database stores.
        let raw: Vec<Vec<u8>> = sqlx::query_scalar("SELECT sealed FROM credentials")
            .fetch_all(store.pool())
            .await
            .unwrap();
        for blob in &raw {
            for secret in [&password, &access, &refresh] {
                assert!(
                    !contains(blob, secret.expose_secret().as_bytes()),
                    "{}: clear text in column",
                    db.name
                );
            }
        }
        if let Some(path) = &db.sqlite_path {
            store.close().await;
            let mut bytes = std::fs::read(path).unwrap();
            for suffix in ["-wal", "-shm"] {
                if let Ok(extra) = std::fs::read(format!("{}{suffix}", path.display())) {
                    bytes.extend(extra);
                }
            }
            assert!(
                contains(&bytes, b"acme_dpt1"),
                "the file scan must see ordinary data"
            );
            for secret in [&password, &access, &refresh] {
                assert!(
                    !contains(&bytes, secret.expose_secret().as_bytes()),
                    "clear text in the SQLite file"
                );
            }
            let store = db.store().await;
            assert!(
                store
                    .delete_secret(&id, SecretName::WorkdayPassword)
                    .await
                    .unwrap()
            );
            assert!(
                !store
                    .delete_secret(&id, SecretName::WorkdayPassword)
                    .await
                    .unwrap()
            );
        } else {
            assert!(
                store
                    .delete_secret(&id, SecretName::WorkdayPassword)
                    .await
                    .unwrap()
            );
        }
    }
}

#[tokio::test]
async fn secrets_for_unknown_tenant_are_refused() {
    for db in common::test_dbs().await {
        let store = db.store().await;
        let vault = fresh_vault(&store).await;
        let err = store
            .put_secret(
                &vault,
                &TenantId::parse("nobody").unwrap(),
                SecretName::ZendeskApiToken,
                &"x".into(),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::NotFound { .. }),
            "{}: {err}",
            db.name
        );
    }
}

#[tokio::test]
async fn removing_a_tenant_removes_its_credentials() {
    for db in common::test_dbs().await {
        let store = db.store().await;
        let vault = fresh_vault(&store).await;
        create_acme(&store).await;
        store
            .put_secret(&vault, &acme(), SecretName::ZendeskApiToken, &"tok".into())
            .await
            .unwrap();
        store.remove_tenant(&acme()).await.unwrap();
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM credentials")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(n, 0, "{}", db.name);
    }
}

#[tokio::test]
async fn a_wrong_master_key_is_a_clear_error() {
    for db in common::test_dbs().await {
        let store = db.store().await;
        let right = MasterKey::generate();
        let vault = store.unlock_vault(&env_key(&right)).await.unwrap();
        create_acme(&store).await;
        store
            .put_secret(&vault, &acme(), SecretName::WorkdayPassword, &"pw".into())
            .await
            .unwrap();

        let wrong = MasterKey::generate();
        let err = store.unlock_vault(&env_key(&wrong)).await.unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(err, StoreError::Vault(VaultError::WrongKey { .. })),
            "{}: {text}",
            db.name
        );
        assert!(
            text.contains(&right.id().to_string()) && text.contains(&wrong.id().to_string()),
            "{text}"
        );

        // A malformed key is refused before touching anything.
        let err = KeySource::Env("dG9vIHNob3J0".into())
            .load(false)
            .unwrap_err();
        assert!(err.to_string().contains("32"), "{err}");

        // A missing key file over sealed data is refused, never replaced with a fresh key.
        let dir = tempfile::tempdir().unwrap();
        let err = store
            .unlock_vault(&KeySource::DefaultFile(dir.path().join("master.key")))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("missing"), "{err}");
        assert!(!dir.path().join("master.key").exists());

        // The right key still works.
        let vault = store.unlock_vault(&env_key(&right)).await.unwrap();
        assert!(
            store
                .secret(&vault, &acme(), SecretName::WorkdayPassword)
                .await
                .unwrap()
                .is_some()
        );
    }
}

#[tokio::test]
async fn rotation_keeps_every_secret_readable() {
    for db in common::test_dbs().await {
        let store = db.store().await;
        let old_key = MasterKey::generate();
        let old = store.unlock_vault(&env_key(&old_key)).await.unwrap();
        let mut expected = Vec::new();
        for tenant in ["acme", "globex", "initech"] {
            let id = TenantId::parse(tenant).unwrap();
            store
                .create_tenant(&id, tenant, &workday(), &ZendeskSettings::default())
                .await
                .unwrap();
            for name in SecretName::ALL {
                let value = format!("{tenant}-{name}-value");
                store
                    .put_secret(&old, &id, name, &SecretString::from(value.clone()))
                    .await
                    .unwrap();
                expected.push((id.clone(), name, value));
            }
        }
        let new_key = MasterKey::generate();
        let new_b64 = new_key.to_base64();
        let (new, report) = store.rotate_vault(&old, new_key).await.unwrap();
        assert_eq!(report.resealed, expected.len() as u64, "{}", db.name);
        for (id, name, value) in &expected {
            let got = store.secret(&new, id, *name).await.unwrap().unwrap();
            assert_eq!(got.expose_secret(), value);
            assert!(matches!(
                store.secret(&old, id, *name).await,
                Err(StoreError::Vault(VaultError::WrongKey { .. }))
            ));
        }
        assert!(
            store
                .secret_infos(&acme())
                .await
                .unwrap()
                .iter()
                .all(|i| i.key_id == new.key_id().to_string())
        );
        // After rotation, the old key is refused at start-up and the new one accepted.
        assert!(store.unlock_vault(&env_key(&old_key)).await.is_err());
        store.unlock_vault(&KeySource::Env(new_b64)).await.unwrap();
    }
}

#[tokio::test]
async fn an_interrupted_key_file_rotation_completes_at_next_start() {
    let db = common::sqlite_db();
    let store = db.store().await;
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("master.key");
    let source = KeySource::DefaultFile(key_path.clone());
    let old = store.unlock_vault(&source).await.unwrap();
    assert!(
        key_path.exists(),
        "the default key file is created on a fresh database"
    );
    create_acme(&store).await;
    store
        .put_secret(&old, &acme(), SecretName::ZendeskApiToken, &"tok-1".into())
        .await
        .unwrap();

    // Crash window: the new key is staged and the database committed, but the file was not swapped.
    let new_key = MasterKey::generate();
    let new_id = new_key.id();
    write_key_file(
        &ml_connector::store::pending_key_path(&source).unwrap(),
        &new_key,
    )
    .unwrap();
    store.rotate_vault(&old, new_key).await.unwrap();

    let vault = store.unlock_vault(&source).await.unwrap();
    assert_eq!(vault.key_id(), new_id);
    assert_eq!(
        ml_connector::vault::read_key_file(&key_path).unwrap().id(),
        new_id
    );
    let tok = store
        .secret(&vault, &acme(), SecretName::ZendeskApiToken)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tok.expose_secret(), "tok-1");
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn a_process_with_the_pre_rotation_key_cannot_seal_new_values() {
    for db in common::test_dbs().await {
        let store = db.store().await;
        let old = fresh_vault(&store).await;
        create_acme(&store).await;
        store
            .put_secret(&old, &acme(), SecretName::ZendeskApiToken, &"tok-1".into())
            .await
            .unwrap();
        // Another process (the CLI) rotates; this one still holds the old key in memory.
        let other = db.store().await;
        let other_old = other
            .unlock_vault(&KeySource::Env(old.master_key().to_base64()))
            .await
            .unwrap();
        let (new, _) = other
            .rotate_vault(&other_old, MasterKey::generate())
            .await
            .unwrap();

        let err = store
            .put_secret(&old, &acme(), SecretName::ZendeskApiToken, &"tok-2".into())
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Vault(VaultError::WrongKey { .. })),
            "{}: {err}",
            db.name
        );
        let kept = store
            .secret(&new, &acme(), SecretName::ZendeskApiToken)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            kept.expose_secret(),
            "tok-1",
            "{}: the refused write changed nothing",
            db.name
        );
    }
}

/// Writers seal with the old key while the vault is rotated under them: the rotation must overlap the writes —
/// each writer has written before it starts and keeps writing until one of its writes is refused — and afterwards
/// nothing is sealed with the old key.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rotation_and_concurrent_writers_leave_nothing_sealed_with_the_old_key() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;
    for db in common::test_dbs().await {
        let store = db.store().await;
        let old = Arc::new(fresh_vault(&store).await);
        create_acme(&store).await;
        let written = Arc::new(AtomicUsize::new(0));
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let (store, old, written) = (store.clone(), old.clone(), written.clone());
                tokio::spawn(async move {
                    // Until the rotation refuses this writer's old key (bounded, should it never come).
                    for i in 0..100_000 {
                        let name = SecretName::ALL[(w + i) % SecretName::ALL.len()];
                        let value = SecretString::from(format!("w{w}-{i}"));
                        match store.put_secret(&old, &acme(), name, &value).await {
                            Ok(()) => {
                                written.fetch_add(1, Ordering::SeqCst);
                                // Leave the rotation room to take SQLite's write lock.
                                tokio::time::sleep(Duration::from_millis(1)).await;
                            }
                            Err(StoreError::Vault(VaultError::WrongKey { .. })) => return i,
                            Err(e) => panic!("writer {w}: {e}"),
                        }
                    }
                    panic!(
                        "writer {w} was never refused: the rotation did not happen while it wrote"
                    )
                })
            })
            .collect();
        // Rotate once every writer is under way.
        common::wait_until("the writers to be writing", Duration::from_secs(30), || {
            let written = written.clone();
            async move { written.load(Ordering::SeqCst) >= 8 }
        })
        .await;
        let before_rotation = written.load(Ordering::SeqCst);
        let (new, _) = store
            .rotate_vault(&old, MasterKey::generate())
            .await
            .unwrap();
        let mut attempts = 0;
        for w in writers {
            attempts += w.await.unwrap() + 1;
        }
        // The overlap: writes were made before the rotation, and every writer tried again after it.
        assert!(before_rotation >= 8, "{}", db.name);
        assert!(
            attempts > before_rotation,
            "{}: no write after the rotation",
            db.name
        );
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT name, key_id FROM credentials")
            .fetch_all(store.pool())
            .await
            .unwrap();
        assert!(!rows.is_empty());
        for (name, key_id) in rows {
            assert_eq!(
                key_id,
                new.key_id().to_string(),
                "{}: {name} sealed with the old key",
                db.name
            );
            let name: SecretName = name.parse().unwrap();
            store.secret(&new, &acme(), name).await.unwrap().unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_secret_writes_and_tenant_updates_all_succeed() {
    for db in common::test_dbs().await {
        let store = db.store().await;
        let vault = std::sync::Arc::new(fresh_vault(&store).await);
        create_acme(&store).await;
        let tasks: Vec<_> = (0..16)
            .map(|i| {
                let (store, vault) = (store.clone(), vault.clone());
                tokio::spawn(async move {
                    for j in 0..10 {
                        if (i + j) % 3 == 0 {
                            let update = TenantUpdate {
                                name: Some(format!("Acme {i}-{j}")),
                                ..Default::default()
                            };
                            store.update_tenant(&acme(), update).await.map(|_| ())
                        } else {
                            let value = SecretString::from(format!("v{i}-{j}"));
                            store
                                .put_secret(&vault, &acme(), SecretName::ALL[i % 9], &value)
                                .await
                        }
                        .unwrap_or_else(|e| panic!("task {i}/{j}: {e}"));
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(
            store.secret_infos(&acme()).await.unwrap().len(),
            9,
            "{}",
            db.name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_tenant_modifications_are_not_lost() {
    for db in common::test_dbs().await {
        let store = db.store().await;
        create_acme(&store).await;
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move {
                    for _ in 0..5 {
                        store
                            .modify_tenant(&acme(), |t| {
                                t.zendesk.rate_limit_rpm += 1;
                                Ok::<_, StoreError>(())
                            })
                            .await
                            .unwrap();
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let tenant = store.tenant(&acme()).await.unwrap();
        assert_eq!(tenant.zendesk.rate_limit_rpm, 40, "{}", db.name);

        // A refused change writes nothing.
        let refused = store
            .modify_tenant(&acme(), |t| {
                t.name = "Changed".into();
                Err(StoreError::Conflict {
                    what: "test",
                    key: "refused".into(),
                })
            })
            .await
            .unwrap_err();
        assert!(
            matches!(refused, StoreError::Conflict { .. }),
            "{}",
            db.name
        );
        assert_eq!(
            store.tenant(&acme()).await.unwrap().name,
            "Acme",
            "{}",
            db.name
        );

        let missing = TenantId::parse("globex").unwrap();
        let err = store
            .modify_tenant(&missing, |_| Ok::<_, StoreError>(()))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound { .. }), "{}", db.name);
    }
}
