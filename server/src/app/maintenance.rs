//! Housekeeping while `serve` runs: every `maintenance.interval_secs`, processed webhook events older than
//! `maintenance.done_events_retention_secs` are deleted from the enrichment queue.
//!
//! A processed (`done`) event is kept for a while because its row is what makes a redelivery of the same event a
//! duplicate; after the retention, Zendesk no longer redelivers it and the row only takes space. Queued, leased
//! and dead-lettered events are never touched. With several replicas each one runs this; the deletes are
//! idempotent.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::store::{Store, StoreError};

/// Shortest accepted retention of processed events: Zendesk's redeliveries of a failed webhook take minutes, and
/// a purged event id no longer deduplicates.
pub const MIN_DONE_EVENTS_RETENTION_SECS: u64 = 3600;

/// `[maintenance]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct MaintenanceConfig {
    /// Seconds between two rounds of housekeeping (the first runs at start-up).
    pub interval_secs: u64,
    /// Processed webhook events are deleted this many seconds after they were processed (at least an hour: until
    /// then a redelivery of the same event is recognised as a duplicate).
    pub done_events_retention_secs: u64,
}

impl Default for MaintenanceConfig {
    fn default() -> Self {
        Self {
            interval_secs: 3600,
            done_events_retention_secs: 7 * 24 * 3600,
        }
    }
}

impl MaintenanceConfig {
    /// Checks value ranges; the error names the key.
    pub fn validate(&self) -> Result<(), (String, String)> {
        if self.interval_secs == 0 {
            return Err((
                "maintenance.interval_secs".into(),
                "must be at least 1".into(),
            ));
        }
        if self.done_events_retention_secs < MIN_DONE_EVENTS_RETENTION_SECS {
            return Err((
                "maintenance.done_events_retention_secs".into(),
                format!("must be at least {MIN_DONE_EVENTS_RETENTION_SECS} (an hour)"),
            ));
        }
        Ok(())
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MaintenanceReport {
    /// Processed webhook events deleted.
    pub purged_events: u64,
}

/// One round of housekeeping.
pub async fn run_once(
    store: &Store,
    config: &MaintenanceConfig,
) -> Result<MaintenanceReport, StoreError> {
    let purged_events = store
        .purge_done_events(Duration::from_secs(config.done_events_retention_secs))
        .await?;
    metrics::counter!("mlc_queue_purged_events_total").increment(purged_events);
    Ok(MaintenanceReport { purged_events })
}

/// Runs [`run_once`] now and then every `interval_secs`, forever (abort the task to stop it). A failed round is
/// logged and the next one runs on time.
pub async fn run(store: Store, config: MaintenanceConfig) {
    let mut tick = tokio::time::interval(Duration::from_secs(config.interval_secs));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match run_once(&store, &config).await {
            Ok(report) if report.purged_events > 0 => {
                tracing::info!(
                    purged_events = report.purged_events,
                    "maintenance: old processed webhook events deleted"
                )
            }
            Ok(_) => tracing::debug!("maintenance: nothing to delete"),
            Err(e) => {
                tracing::warn!(error = %e, "maintenance failed; retrying at the next interval")
            }
        }
    }
}
