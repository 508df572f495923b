//! The sync engine's tables on SQLite and PostgreSQL: leases (one holder, take-over after expiry), run
//! history, organization links with audit rows committed together, and the invoice index (number, prefix,
//! totals, supplier search, pruning).

use crate::support as common;

use std::time::Duration;

use ml_connector::store::{
    AuditQuery, AuditResolution, IndexedInvoice, IndexedSupplier, NewAuditRow, OrgLink, RunStatus,
    Store,
};
use ml_connector::tenant::{TenantId, WorkdaySettings, ZendeskSettings};

fn acme() -> TenantId {
    TenantId::parse("acme").unwrap()
}

async fn store(db: &common::TestDb) -> Store {
    let store = db.store().await;
    store
        .create_tenant(
            &acme(),
            "acme",
            &WorkdaySettings::default(),
            &ZendeskSettings::default(),
        )
        .await
        .unwrap();
    store
}

fn invoice(key: &str, number: &str, supplier: &str, due: &str, status: &str) -> IndexedInvoice {
    IndexedInvoice {
        invoice_key: key.into(),
        wid: None,
        reference_id: Some(key.into()),
        invoice_number: Some(format!("WD-{key}")),
        supplier_invoice_number: Some(number.into()),
        supplier_id: supplier.into(),
        currency: Some("EUR".into()),
        invoice_date: Some("2026-11-01".into()),
        due_date: Some("2026-11-30".into()),
        amount: "100.50".into(),
        credits: "0".into(),
        debits: "0".into(),
        paid: "0".into(),
        due: due.into(),
        payment_status: status.into(),
        document_status: "approved".into(),
        days_overdue: None,
        last_payment_date: None,
        po_number: None,
        updated_at: 1,
    }
}

#[tokio::test]
async fn one_holder_per_lease_and_take_over_after_expiry() {
    for db in common::test_dbs().await {
        let store = store(&db).await;
        let t = acme();
        assert!(
            store
                .try_lease(&t, "sync", "a", Duration::from_secs(60))
                .await
                .unwrap(),
            "{}",
            db.name
        );
        assert!(
            !store
                .try_lease(&t, "sync", "b", Duration::from_secs(60))
                .await
                .unwrap()
        );
        // The holder renews.
        assert!(
            store
                .try_lease(&t, "sync", "a", Duration::from_secs(60))
                .await
                .unwrap()
        );
        assert_eq!(
            store.lease_holder(&t, "sync").await.unwrap().unwrap().0,
            "a"
        );
        // An expired lease is taken over.
        assert!(
            store
                .try_lease(&t, "sync", "a", Duration::from_millis(1))
                .await
                .unwrap()
        );
        common::wait_until("the lease to expire", Duration::from_secs(5), || async {
            store.lease_holder(&t, "sync").await.unwrap().is_none()
        })
        .await;
        assert!(
            store
                .try_lease(&t, "sync", "b", Duration::from_secs(60))
                .await
                .unwrap()
        );
        store.release_lease(&t, "sync", "a").await.unwrap();
        assert_eq!(
            store.lease_holder(&t, "sync").await.unwrap().unwrap().0,
            "b"
        );
        store.release_lease(&t, "sync", "b").await.unwrap();
        assert!(store.lease_holder(&t, "sync").await.unwrap().is_none());
    }
}

#[tokio::test]
async fn runs_links_and_audit_rows() {
    for db in common::test_dbs().await {
        let store = store(&db).await;
        let t = acme();
        let first = store
            .start_sync_run(&t, "full", "manual", "p1")
            .await
            .unwrap();
        // A run left `running` by a dead process is closed when the next one starts.
        let second = store
            .start_sync_run(&t, "incremental", "api", "p2")
            .await
            .unwrap();
        store
            .finish_sync_run(
                second,
                RunStatus::Succeeded,
                &serde_json::json!({"orgs_created": 2}),
                None,
            )
            .await
            .unwrap();
        let runs = store.sync_runs(&t, 10).await.unwrap();
        assert_eq!(runs.len(), 2, "{}", db.name);
        assert_eq!(runs[0].id, second);
        assert_eq!(runs[0].status, RunStatus::Succeeded);
        assert_eq!(runs[0].trigger, "api");
        assert_eq!(runs[0].stats["orgs_created"], 2);
        assert_eq!(runs[1].id, first);
        assert_eq!(runs[1].status, RunStatus::Abandoned);

        let link = |s: &str, id: i64, hash: &str| OrgLink {
            supplier_id: s.into(),
            organization_id: id,
            org_name: format!("Org {s}"),
            content_hash: hash.into(),
        };
        let row = |s: &str, outcome: &str| NewAuditRow {
            object_type: "supplier".into(),
            object_id: s.into(),
            service: "Resource_Management".into(),
            operation: "Get_Suppliers".into(),
            version: "v46.1".into(),
            page: Some(1),
            as_of: Some("2026-12-01T00:00:00Z".into()),
            target: "organization:1".into(),
            content_hash: "h".into(),
            outcome: outcome.into(),
            detail: None,
            run_id: Some(second),
        };
        let resolve = |ids: Vec<i64>, rows: Vec<Option<NewAuditRow>>| {
            ids.into_iter()
                .zip(rows)
                .map(|(id, row)| AuditResolution { id, row })
                .collect::<Vec<_>>()
        };
        let ids = store
            .append_audit(
                &t,
                &[
                    row("S-1", "pending"),
                    row("S-2", "pending"),
                    row("S-3", "pending"),
                ],
            )
            .await
            .unwrap();
        store
            .record_org_batch(
                &t,
                &[link("S-1", 11, "h1"), link("S-2", 12, "h2")],
                &resolve(
                    ids,
                    vec![
                        Some(row("S-1", "created")),
                        Some(row("S-2", "created")),
                        None,
                    ],
                ),
            )
            .await
            .unwrap();
        let ids = store
            .append_audit(&t, &[row("S-1", "pending")])
            .await
            .unwrap();
        store
            .record_org_batch(
                &t,
                &[link("S-1", 11, "h1b")],
                &resolve(ids, vec![Some(row("S-1", "updated"))]),
            )
            .await
            .unwrap();
        // A pending row of a run whose process died becomes `interrupted` when the next run starts.
        let dead = store
            .start_sync_run(&t, "incremental", "schedule", "p3")
            .await
            .unwrap();
        store
            .append_audit(
                &t,
                &[NewAuditRow {
                    run_id: Some(dead),
                    ..row("S-9", "pending")
                }],
            )
            .await
            .unwrap();
        let next = store
            .start_sync_run(&t, "incremental", "schedule", "p4")
            .await
            .unwrap();
        store
            .finish_sync_run(next, RunStatus::Succeeded, &serde_json::json!({}), None)
            .await
            .unwrap();
        let s9 = store
            .audit_rows(
                &t,
                &AuditQuery {
                    object: Some("supplier:S-9".into()),
                    limit: 5,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(s9[0].outcome, "interrupted", "{}", db.name);
        let links = store
            .org_links(&t, &["S-1".into(), "S-2".into(), "S-3".into()])
            .await
            .unwrap();
        assert_eq!(links.len(), 2);
        assert_eq!(links["S-1"].content_hash, "h1b");
        let all = store
            .audit_rows(
                &t,
                &AuditQuery {
                    limit: 10,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(all.len(), 4);
        assert_eq!(all[0].outcome, "interrupted", "newest first");
        assert_eq!(all[1].outcome, "updated");
        let one = store
            .audit_rows(
                &t,
                &AuditQuery {
                    object: Some("supplier:S-2".into()),
                    limit: 10,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(one.len(), 1);
        let later = store
            .audit_rows(
                &t,
                &AuditQuery {
                    since: Some(i64::MAX / 2),
                    limit: 10,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(later.is_empty());
    }
}

#[tokio::test]
async fn the_index_answers_numbers_prefixes_totals_and_prunes() {
    for db in common::test_dbs().await {
        let store = store(&db).await;
        let t = acme();
        store
            .upsert_indexed_suppliers(
                &t,
                &[IndexedSupplier {
                    supplier_id: "S-1".into(),
                    name: "Acme 100% Parts_Co".into(),
                    status: "Active".into(),
                    currency: Some("EUR".into()),
                    organization_id: None,
                    updated_at: 1,
                }],
            )
            .await
            .unwrap();
        store
            .upsert_indexed_invoices(
                &t,
                1,
                &[
                    invoice("I-1", "INV-2026-0042", "S-1", "100.50", "overdue"),
                    invoice("I-2", "INV-2026-0043", "S-1", "20.25", "unpaid"),
                    invoice("I-3", "inv-2025-0001", "S-1", "0", "paid"),
                    invoice("I-4", "X_1", "S-2", "1", "unpaid"),
                ],
            )
            .await
            .unwrap();
        let exact = store.invoices_by_number(&t, "inv-2026-0042").await.unwrap();
        assert_eq!(exact.len(), 1, "{}", db.name);
        assert_eq!(exact[0].invoice_key, "I-1");
        assert_eq!(
            store.invoices_by_number(&t, "WD-I-2").await.unwrap()[0].invoice_key,
            "I-2"
        );
        let prefix = store.invoices_by_prefix(&t, "INV-2026", 10).await.unwrap();
        assert_eq!(prefix.len(), 2);
        // LIKE wildcards in the prefix are literal.
        assert!(
            store
                .invoices_by_prefix(&t, "INV_", 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store.invoices_by_prefix(&t, "x_", 10).await.unwrap().len(),
            1
        );
        let totals = store.supplier_totals(&t, "S-1").await.unwrap();
        assert_eq!(totals.len(), 1);
        assert_eq!(totals[0].open_count, 2);
        assert_eq!(totals[0].open_amount, "120.75");
        assert_eq!(totals[0].overdue_amount, "100.5");
        assert_eq!(store.recent_invoices(&t, "S-1", 2).await.unwrap().len(), 2);
        assert!(store.indexed_invoice(&t, "I-3").await.unwrap().is_some());
        let found = store.search_suppliers(&t, "100%", 5).await.unwrap();
        assert_eq!(found.len(), 1);
        assert!(
            store
                .search_suppliers(&t, "0_", 5)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store
                .indexed_supplier(&t, "S-1")
                .await
                .unwrap()
                .unwrap()
                .name,
            "Acme 100% Parts_Co"
        );
        // Run 2 sees only I-1: the open ones it did not see are listed for a refresh, the rest pruned.
        store
            .upsert_indexed_invoices(
                &t,
                2,
                &[invoice("I-1", "INV-2026-0042", "S-1", "100.50", "overdue")],
            )
            .await
            .unwrap();
        let stale = store.unseen_open_invoice_keys(&t, 2).await.unwrap();
        assert_eq!(stale, vec!["I-2".to_string(), "I-4".to_string()]);
        let mut removed = store.prune_index(&t, 2, "2026-06-01").await.unwrap();
        removed.sort();
        assert_eq!(removed, vec!["I-2", "I-3", "I-4"]);
        assert_eq!(store.indexed_invoice_count(&t).await.unwrap(), 1);
    }
}
