//! The scheduler `serve` runs: every `sync.scheduler_tick_secs` it looks at each tenant's schedule, and for a
//! tenant whose slot is due it takes the tenant's lease, checks again under the lease that nobody ran that slot
//! (the last slot run is kept in `sync_state`, stream `schedule_slot`), records the slot and runs the sync.
//! With N replicas on one PostgreSQL, each slot of each tenant runs once; a replica that dies mid-run stops
//! renewing its lease, and the next slot is taken by another once the lease expired.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::run::{LEASE_NAME, RunOptions, SyncError, Trigger, holder_name, run_sync};
use super::schedule::Schedule;
use crate::app::App;
use crate::mapper::PluginHost;
use crate::tenant::TenantId;

/// The `sync_state` stream holding the last slot the scheduler ran.
pub const SLOT_STREAM: &str = "schedule_slot";

/// Runs until aborted.
pub async fn run(app: App, host: PluginHost) {
    let config = app.config().sync.clone();
    if !config.scheduler_enabled {
        tracing::info!("sync scheduler disabled (sync.scheduler_enabled = false)");
        return;
    }
    let holder = holder_name();
    let running: Arc<Mutex<HashSet<TenantId>>> = Arc::default();
    let mut tick = tokio::time::interval(Duration::from_secs(config.scheduler_tick_secs));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tracing::info!(holder = %holder, "sync scheduler started");
    loop {
        tick.tick().await;
        let tenants = match app.store().tenants().await {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(error = %e, "sync scheduler cannot list tenants");
                continue;
            }
        };
        for tenant in tenants {
            let id = tenant.id.clone();
            if running.lock().is_ok_and(|r| r.contains(&id)) {
                continue;
            }
            let schedule = match Schedule::from_settings(tenant.settings.sync.as_ref()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(tenant = %id, error = %e, "invalid sync schedule; no scheduled runs");
                    continue;
                }
            };
            match claim_slot(&app, &id, &schedule, &holder).await {
                Ok(Some(slot)) => {
                    if let Ok(mut r) = running.lock() {
                        r.insert(id.clone());
                    }
                    let (app, host, holder, running) =
                        (app.clone(), host.clone(), holder.clone(), running.clone());
                    tokio::spawn(async move {
                        tracing::info!(tenant = %id, slot = %slot, "scheduled sync due");
                        let options = RunOptions {
                            full: false,
                            trigger: Trigger::Schedule,
                            holder,
                        };
                        match run_sync(&app, &host, &id, &options, None).await {
                            Ok(_) | Err(SyncError::Busy { .. }) => {}
                            Err(e) => {
                                tracing::warn!(tenant = %id, error = %e, "scheduled sync did not start")
                            }
                        }
                        if let Ok(mut r) = running.lock() {
                            r.remove(&id);
                        }
                    });
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(tenant = %id, error = %e, "sync scheduler"),
            }
        }
    }
}

async fn last_slot(app: &App, id: &TenantId) -> Result<Option<DateTime<Utc>>, SyncError> {
    Ok(app
        .store()
        .sync_cursor(id, SLOT_STREAM)
        .await?
        .and_then(|c| DateTime::parse_from_rfc3339(&c).ok())
        .map(|d| d.with_timezone(&Utc)))
}

/// Whether this process should run tenant `id`'s current slot now: the slot is due, the tenant's lease was
/// taken and, under it, the slot was not run yet; the slot is then recorded (before the run: a slot is
/// attempted once). A tenant without a recorded slot gets its current slot recorded and waits for the next
/// (the first sync of a new tenant is `ml-connector sync`, or the next slot).
async fn claim_slot(
    app: &App,
    id: &TenantId,
    schedule: &Schedule,
    holder: &str,
) -> Result<Option<DateTime<Utc>>, SyncError> {
    let now = Utc::now();
    let last = last_slot(app, id).await?;
    let Some(slot) = schedule.due(id, last, now) else {
        return Ok(None);
    };
    let store = app.store();
    let lease = Duration::from_secs(app.config().sync.lease_secs);
    if !store.try_lease(id, LEASE_NAME, holder, lease).await? {
        return Ok(None);
    }
    let last = last_slot(app, id).await?;
    let fresh = last.is_none();
    let run = !fresh && last.is_none_or(|l| l < slot);
    if fresh || run {
        store
            .set_sync_cursor(id, SLOT_STREAM, &slot.to_rfc3339())
            .await?;
    }
    if !run {
        store.release_lease(id, LEASE_NAME, holder).await?;
        return Ok(None);
    }
    Ok(Some(slot))
}
