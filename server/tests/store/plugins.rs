//! Plugin versions and compiled artifacts in the store, on SQLite and PostgreSQL: numbering, dry-run records,
//! one active version per tenant, activation and rollback order, artifacts keyed by hash + engine.

use crate::support as common;

use ml_connector::store::{NewPlugin, PluginStatus, StoreError};
use ml_connector::tenant::{TenantId, WorkdaySettings, ZendeskSettings};

#[tokio::test]
async fn plugin_lifecycle_in_the_store() {
    for db in common::test_dbs().await {
        let store = db.store().await;
        let acme = TenantId::parse("acme").unwrap();
        let other = TenantId::parse("other").unwrap();
        for t in [&acme, &other] {
            store
                .create_tenant(
                    t,
                    t.as_str(),
                    &WorkdaySettings::default(),
                    &ZendeskSettings::default(),
                )
                .await
                .unwrap();
        }
        let manifest = serde_json::json!({"name": "p", "deadline_ms": 50});
        let new = |tenant: &'static TenantId, bytes: &'static [u8]| NewPlugin {
            tenant_id: tenant,
            name: "p",
            sha256: "ab",
            bytes,
            manifest: Box::leak(Box::new(manifest.clone())),
        };
        let acme_s: &'static TenantId = Box::leak(Box::new(acme.clone()));
        let other_s: &'static TenantId = Box::leak(Box::new(other.clone()));
        let v1 = store.create_plugin(&new(acme_s, b"one")).await.unwrap();
        let v2 = store.create_plugin(&new(acme_s, b"two")).await.unwrap();
        let v3 = store.create_plugin(&new(acme_s, b"three")).await.unwrap();
        let o1 = store.create_plugin(&new(other_s, b"o")).await.unwrap();
        assert_eq!(
            (v1.version, v2.version, v3.version, o1.version),
            (1, 2, 3, 1),
            "{}",
            db.name
        );
        assert_eq!(v1.status, PluginStatus::Uploaded);
        assert_eq!(v1.manifest["deadline_ms"], 50);
        assert_eq!(store.plugin_bytes(&acme, v2.id).await.unwrap(), b"two");
        // Another tenant's id is not found through this tenant.
        assert!(matches!(
            store.plugin(&acme, o1.id).await,
            Err(StoreError::NotFound { .. })
        ));

        store
            .record_dry_run(&acme, v1.id, true, &serde_json::json!({"outcome": "ok"}))
            .await
            .unwrap();
        let v1r = store.plugin(&acme, v1.id).await.unwrap();
        assert!(v1r.dry_run_ok && v1r.dry_run_at.is_some());
        store
            .record_dry_run(&acme, v2.id, false, &serde_json::json!({"outcome": "trap"}))
            .await
            .unwrap();
        assert!(!store.plugin(&acme, v2.id).await.unwrap().dry_run_ok);

        assert!(store.active_plugin(&acme).await.unwrap().is_none());
        assert!(matches!(
            store.rollback_plugin(&acme).await,
            Err(StoreError::NotFound { .. })
        ));
        store.activate_plugin(&acme, v1.id).await.unwrap();
        store.activate_plugin(&acme, v2.id).await.unwrap();
        store.activate_plugin(&acme, v3.id).await.unwrap();
        store.activate_plugin(&other, o1.id).await.unwrap();
        let statuses = |list: Vec<ml_connector::store::PluginRecord>| {
            list.into_iter()
                .map(|p| (p.version, p.status))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            statuses(store.plugins(&acme).await.unwrap()),
            vec![
                (3, PluginStatus::Active),
                (2, PluginStatus::Retired),
                (1, PluginStatus::Retired)
            ]
        );
        // Rollback walks back through previously active versions, most recent first.
        assert_eq!(store.rollback_plugin(&acme).await.unwrap().version, 2);
        assert_eq!(store.rollback_plugin(&acme).await.unwrap().version, 1);
        assert!(matches!(
            store.rollback_plugin(&acme).await,
            Err(StoreError::NotFound { .. })
        ));
        assert_eq!(
            statuses(store.plugins(&acme).await.unwrap()),
            vec![
                (3, PluginStatus::RolledBack),
                (2, PluginStatus::RolledBack),
                (1, PluginStatus::Active)
            ]
        );
        // The other tenant was never touched.
        assert_eq!(
            store.active_plugin(&other).await.unwrap().unwrap().id,
            o1.id
        );
        assert_eq!(store.active_plugins().await.unwrap().len(), 2);

        // Artifacts: keyed by (sha256, engine); a second put is a no-op.
        assert!(store.plugin_artifact("ab", "e1").await.unwrap().is_none());
        store
            .put_plugin_artifact("ab", "e1", b"native", b"tag")
            .await
            .unwrap();
        store
            .put_plugin_artifact("ab", "e1", b"native", b"tag")
            .await
            .unwrap();
        assert_eq!(
            store.plugin_artifact("ab", "e1").await.unwrap(),
            Some((b"native".to_vec(), b"tag".to_vec()))
        );
        assert!(store.plugin_artifact("ab", "e2").await.unwrap().is_none());
        store.delete_plugin_artifact("ab", "e1").await.unwrap();
        assert!(store.plugin_artifact("ab", "e1").await.unwrap().is_none());

        // Removing a tenant removes its plugins.
        store.remove_tenant(&other).await.unwrap();
        assert!(store.plugins(&other).await.unwrap().is_empty());
        let ghost = TenantId::parse("ghost").unwrap();
        let ghost_s: &'static TenantId = Box::leak(Box::new(ghost));
        assert!(
            matches!(
                store.create_plugin(&new(ghost_s, b"x")).await,
                Err(StoreError::NotFound { .. })
            ),
            "{}",
            db.name
        );
    }
}
