//! The enrichment queue on SQLite and PostgreSQL: deduplicated enqueueing, exclusive claims under concurrency,
//! lease expiry, retries with backoff, dead-lettering and requeueing.

use crate::support as common;

use std::collections::HashSet;
use std::time::Duration;

use ml_connector::store::{
    ClaimRequest, Enqueued, FailOutcome, NewQueuedEvent, QueueCounts, QueueStatus, QueuedEvent,
    Store,
};
use ml_connector::tenant::{TenantId, WorkdaySettings, ZendeskSettings};

fn tenant(id: &str) -> TenantId {
    TenantId::parse(id).unwrap()
}

/// `db`'s store, with these tenants created.
async fn store_with_tenants(db: &common::TestDb, ids: &[&str]) -> Store {
    let store = db.store().await;
    for id in ids {
        store
            .create_tenant(
                &tenant(id),
                id,
                &WorkdaySettings::default(),
                &ZendeskSettings::default(),
            )
            .await
            .unwrap();
    }
    store
}

/// Enqueues `event(n)` for tenant `id`.
async fn enqueue(store: &Store, id: &str, n: u32) -> Enqueued {
    store.enqueue_event(&tenant(id), &event(n)).await.unwrap()
}

fn event(n: u32) -> NewQueuedEvent {
    NewQueuedEvent {
        event_id: format!("ev-{n}"),
        event_type: "zen:event-type:ticket.created".into(),
        ticket_id: 1000 + i64::from(n),
        payload: format!("{{\"id\":\"ev-{n}\"}}"),
    }
}

fn claim<'a>(holder: &'a str, limit: u32, lease: Duration) -> ClaimRequest<'a> {
    ClaimRequest {
        holder,
        limit,
        lease,
        max_attempts: 3,
        tenant: None,
    }
}

const MINUTE: Duration = Duration::from_secs(60);

/// What worker `w` claims next: at most one event, leased for a minute.
async fn claim_next(store: &Store) -> Vec<QueuedEvent> {
    store.claim_events(&claim("w", 1, MINUTE)).await.unwrap()
}

#[tokio::test]
async fn enqueue_deduplicates_per_tenant() {
    for db in common::test_dbs().await {
        let store = store_with_tenants(&db, &["acme", "globex"]).await;
        let first = enqueue(&store, "acme", 1).await;
        assert!(matches!(first, Enqueued::Queued { .. }), "{}", db.name);
        let again = enqueue(&store, "acme", 1).await;
        assert_eq!(again, Enqueued::Duplicate, "{}", db.name);
        // The same event id for another tenant is another event.
        let other = enqueue(&store, "globex", 1).await;
        assert!(matches!(other, Enqueued::Queued { .. }), "{}", db.name);
        assert_eq!(
            store.queue_counts(&tenant("acme")).await.unwrap(),
            QueueCounts {
                queued: 1,
                ..Default::default()
            }
        );
        // A processed event still deduplicates its redeliveries.
        let claimed = store
            .claim_events(&ClaimRequest {
                tenant: Some(&tenant("acme")),
                ..claim("w1", 10, MINUTE)
            })
            .await
            .unwrap();
        assert_eq!(claimed.len(), 1, "{}", db.name);
        assert_eq!(claimed[0].tenant_id, tenant("acme"));
        assert!(store.complete_event(claimed[0].id, "w1").await.unwrap());
        let after = enqueue(&store, "acme", 1).await;
        assert_eq!(after, Enqueued::Duplicate, "{}", db.name);
        assert_eq!(store.queue_counts(&tenant("acme")).await.unwrap().done, 1);
    }
}

#[tokio::test]
async fn concurrent_workers_claim_each_event_once() {
    for db in common::test_dbs().await {
        let store = store_with_tenants(&db, &["acme"]).await;
        for n in 0..60 {
            enqueue(&store, "acme", n).await;
        }
        let mut workers = Vec::new();
        for w in 0..6 {
            let store = store.clone();
            workers.push(tokio::spawn(async move {
                let holder = format!("worker-{w}");
                let mut mine = Vec::new();
                loop {
                    let batch = store
                        .claim_events(&claim(&holder, 4, MINUTE))
                        .await
                        .unwrap();
                    if batch.is_empty() {
                        return mine;
                    }
                    for e in batch {
                        assert_eq!(e.lease_holder.as_deref(), Some(holder.as_str()));
                        assert_eq!(e.attempts, 1);
                        assert!(store.complete_event(e.id, &holder).await.unwrap());
                        mine.push(e.id);
                    }
                }
            }));
        }
        let mut all = Vec::new();
        for w in workers {
            all.extend(w.await.unwrap());
        }
        let distinct: HashSet<i64> = all.iter().copied().collect();
        assert_eq!(
            all.len(),
            60,
            "{}: an event was claimed twice or lost",
            db.name
        );
        assert_eq!(distinct.len(), 60, "{}", db.name);
        assert_eq!(
            store.queue_counts(&tenant("acme")).await.unwrap(),
            QueueCounts {
                done: 60,
                ..Default::default()
            },
            "{}",
            db.name
        );
    }
}

#[tokio::test]
async fn an_expired_lease_is_claimed_again_and_the_old_holder_loses_it() {
    for db in common::test_dbs().await {
        let store = store_with_tenants(&db, &["acme"]).await;
        enqueue(&store, "acme", 1).await;
        let first = store
            .claim_events(&claim("crashed", 1, MINUTE))
            .await
            .unwrap();
        assert_eq!(first.len(), 1);
        // Not claimable while leased...
        let held = store
            .claim_events(&claim("other", 1, MINUTE))
            .await
            .unwrap();
        assert!(held.is_empty(), "{}: claimed while leased", db.name);
        // ...until the lease runs out: the holder "crashes" with a lease shortened to a millisecond.
        assert!(
            store
                .extend_lease(first[0].id, "crashed", Duration::from_millis(1))
                .await
                .unwrap()
        );
        let second = common::wait_for(
            "the expired lease to be claimable",
            Duration::from_secs(5),
            || async {
                let got = store
                    .claim_events(&claim("other", 1, MINUTE))
                    .await
                    .unwrap();
                (!got.is_empty()).then_some(got)
            },
        )
        .await;
        assert_eq!(second.len(), 1, "{}", db.name);
        assert_eq!(second[0].id, first[0].id);
        assert_eq!(second[0].attempts, 2);
        assert!(!store.complete_event(first[0].id, "crashed").await.unwrap());
        assert!(
            !store
                .extend_lease(first[0].id, "crashed", MINUTE)
                .await
                .unwrap()
        );
        assert!(
            store
                .extend_lease(second[0].id, "other", MINUTE)
                .await
                .unwrap()
        );
        assert_eq!(
            store
                .fail_event(first[0].id, "crashed", "late", Duration::ZERO, 3)
                .await
                .unwrap(),
            FailOutcome::LeaseLost
        );
        assert!(store.complete_event(second[0].id, "other").await.unwrap());
    }
}

#[tokio::test]
async fn failures_back_off_then_dead_letter_and_can_be_requeued() {
    for db in common::test_dbs().await {
        let store = store_with_tenants(&db, &["acme"]).await;
        let acme = tenant("acme");
        // A failure with a backoff is not claimable until the backoff ends.
        enqueue(&store, "acme", 8).await;
        let c = claim_next(&store).await;
        let outcome = store
            .fail_event(
                c[0].id,
                "w",
                "Zendesk answered 503",
                Duration::from_secs(3600),
                3,
            )
            .await
            .unwrap();
        assert!(
            matches!(outcome, FailOutcome::Retrying { .. }),
            "{}",
            db.name
        );
        assert!(claim_next(&store).await.is_empty());

        // Without backoff, every claim is an attempt; the third failure dead-letters.
        enqueue(&store, "acme", 7).await;
        for attempt in 1..=3 {
            let c = claim_next(&store).await;
            assert_eq!(c.len(), 1, "{}: attempt {attempt}", db.name);
            assert_eq!(c[0].event_id, "ev-7");
            assert_eq!(c[0].attempts, attempt);
            if attempt > 1 {
                assert_eq!(c[0].last_error.as_deref(), Some("Zendesk answered 503"));
            }
            let outcome = store
                .fail_event(c[0].id, "w", "Zendesk answered 503", Duration::ZERO, 3)
                .await
                .unwrap();
            if attempt < 3 {
                assert!(matches!(outcome, FailOutcome::Retrying { .. }));
            } else {
                assert_eq!(outcome, FailOutcome::DeadLettered, "{}", db.name);
            }
        }
        assert!(claim_next(&store).await.is_empty());
        let dead = store.dead_letters(&acme, 10).await.unwrap();
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].event_id, "ev-7");
        assert_eq!(dead[0].status, QueueStatus::Dead);

        assert!(store.requeue_dead_letter(&acme, dead[0].id).await.unwrap());
        assert!(!store.requeue_dead_letter(&acme, dead[0].id).await.unwrap());
        let c = claim_next(&store).await;
        assert_eq!(c[0].attempts, 1, "{}", db.name);
        assert!(
            store
                .dead_letter_event(c[0].id, "w", "ticket deleted")
                .await
                .unwrap()
        );
        assert_eq!(store.queue_counts(&acme).await.unwrap().dead, 1);
    }
}

#[tokio::test]
async fn a_lease_that_expires_on_the_last_attempt_is_dead_lettered() {
    for db in common::test_dbs().await {
        let store = store_with_tenants(&db, &["acme"]).await;
        enqueue(&store, "acme", 1).await;
        let short = ClaimRequest {
            max_attempts: 1,
            ..claim("w", 1, Duration::from_millis(1))
        };
        let leased = store.claim_events(&short).await.unwrap();
        assert_eq!(leased.len(), 1);
        common::wait::until_past(leased[0].leased_until.unwrap()).await;
        assert!(
            store.claim_events(&short).await.unwrap().is_empty(),
            "{}",
            db.name
        );
        let dead = store.dead_letters(&tenant("acme"), 10).await.unwrap();
        assert_eq!(dead.len(), 1, "{}", db.name);
        assert_eq!(
            dead[0].last_error.as_deref(),
            Some("lease expired without completion")
        );
    }
}

#[tokio::test]
async fn claims_can_be_limited_to_one_tenant_and_done_rows_purged() {
    for db in common::test_dbs().await {
        let store = store_with_tenants(&db, &["acme", "globex"]).await;
        enqueue(&store, "acme", 1).await;
        enqueue(&store, "globex", 2).await;
        let globex = tenant("globex");
        let only = store
            .claim_events(&ClaimRequest {
                tenant: Some(&globex),
                ..claim("w", 10, MINUTE)
            })
            .await
            .unwrap();
        assert_eq!(only.len(), 1, "{}", db.name);
        assert_eq!(only[0].tenant_id, globex);
        assert!(store.complete_event(only[0].id, "w").await.unwrap());
        assert_eq!(
            store
                .purge_done_events(Duration::from_secs(3600))
                .await
                .unwrap(),
            0
        );
        let done = store
            .queued_event(&globex, &only[0].event_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(done.status, QueueStatus::Done);
        common::wait::until_past(done.updated_at).await;
        assert_eq!(store.purge_done_events(Duration::ZERO).await.unwrap(), 1);
        assert_eq!(store.queue_counts(&tenant("acme")).await.unwrap().queued, 1);
    }
}

#[tokio::test]
async fn a_tenant_scoped_claim_dead_letters_only_that_tenants_rows() {
    for db in common::test_dbs().await {
        let store = store_with_tenants(&db, &["acme", "globex"]).await;
        enqueue(&store, "acme", 1).await;
        enqueue(&store, "globex", 2).await;
        let short = ClaimRequest {
            max_attempts: 1,
            ..claim("w", 10, Duration::from_millis(1))
        };
        let leased = store.claim_events(&short).await.unwrap();
        assert_eq!(leased.len(), 2);
        for e in &leased {
            common::wait::until_past(e.leased_until.unwrap()).await;
        }
        let (acme, globex) = (tenant("acme"), tenant("globex"));
        let scoped = ClaimRequest {
            tenant: Some(&globex),
            ..short
        };
        assert!(store.claim_events(&scoped).await.unwrap().is_empty());
        assert_eq!(
            store.dead_letters(&globex, 10).await.unwrap().len(),
            1,
            "{}",
            db.name
        );
        assert!(
            store.dead_letters(&acme, 10).await.unwrap().is_empty(),
            "{}: another tenant's expired lease was dead-lettered",
            db.name
        );
        // An unscoped claim reaches every tenant.
        assert!(store.claim_events(&short).await.unwrap().is_empty());
        assert_eq!(
            store.dead_letters(&acme, 10).await.unwrap().len(),
            1,
            "{}",
            db.name
        );
    }
}
