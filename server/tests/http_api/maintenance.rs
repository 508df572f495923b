//! The housekeeping `serve` runs in the background, on every backend: processed webhook events older than the
//! retention leave the queue; recent ones (which still recognise redeliveries) and unprocessed ones stay.

use std::time::Duration;

use crate::support::{spawn_apps, wait_until};

use ml_connector::store::{ClaimRequest, NewQueuedEvent, QueueCounts};
use ml_connector::tenant::{TenantId, WorkdaySettings, ZendeskSettings};

fn event(n: u32) -> NewQueuedEvent {
    NewQueuedEvent {
        event_id: format!("ev-{n}"),
        event_type: "zen:event-type:ticket.created".into(),
        ticket_id: i64::from(n),
        payload: "{}".into(),
    }
}

#[tokio::test]
async fn old_processed_events_are_purged_and_the_rest_kept() {
    let apps = spawn_apps(|c| {
        c.maintenance.interval_secs = 1;
        c.maintenance.done_events_retention_secs = 3600;
    })
    .await;
    for app in apps {
        let name = app.name;
        let store = app.store();
        let acme = TenantId::parse("acme").unwrap();
        store
            .create_tenant(
                &acme,
                "Acme",
                &WorkdaySettings::default(),
                &ZendeskSettings::default(),
            )
            .await
            .unwrap();
        for n in 1..=3 {
            store.enqueue_event(&acme, &event(n)).await.unwrap();
        }
        // Two are processed; the third waits.
        let claimed = store
            .claim_events(&ClaimRequest {
                holder: "worker",
                limit: 2,
                lease: Duration::from_secs(60),
                max_attempts: 3,
                tenant: Some(&acme),
            })
            .await
            .unwrap();
        for e in &claimed {
            assert!(store.complete_event(e.id, "worker").await.unwrap());
        }
        // One of them was processed two hours ago: past the one-hour retention.
        sqlx::query("UPDATE enrichment_queue SET updated_at = updated_at - 7200000 WHERE id = $1")
            .bind(claimed[0].id)
            .execute(store.pool())
            .await
            .unwrap();
        wait_until(
            &format!("{name}: the maintenance task to purge the old event"),
            Duration::from_secs(10),
            || async {
                store.queue_counts(&acme).await.unwrap()
                    == QueueCounts {
                        queued: 1,
                        done: 1,
                        ..Default::default()
                    }
            },
        )
        .await;
        assert!(
            store
                .queued_event(&acme, &claimed[0].event_id)
                .await
                .unwrap()
                .is_none(),
            "{name}"
        );
        // The recent one still recognises a redelivery.
        assert_eq!(
            store
                .enqueue_event(&acme, &event_with_id(&claimed[1].event_id))
                .await
                .unwrap(),
            ml_connector::store::Enqueued::Duplicate,
            "{name}"
        );
        app.stop().await;
    }
}

fn event_with_id(id: &str) -> NewQueuedEvent {
    NewQueuedEvent {
        event_id: id.to_string(),
        ..event(0)
    }
}

#[test]
fn a_retention_shorter_than_an_hour_is_refused() {
    let err = ml_connector::config::Config::load(
        None,
        [(
            "MLC_MAINTENANCE__DONE_EVENTS_RETENTION_SECS".to_string(),
            "60".to_string(),
        )],
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("maintenance.done_events_retention_secs"),
        "{err}"
    );
}
