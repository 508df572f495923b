//! The enrichment workers `serve` runs (`enrichment.workers`, default 2 per process).
//!
//! Each worker claims one event at a time with the queue's lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so
//! replicas share one queue and each event is processed once), renews the lease while it works, and then marks
//! the event done, schedules a retry (exponential backoff with jitter) or dead-letters it. An idle worker looks
//! at the queue every `enrichment.idle_poll_ms`, or at once when this process receives a webhook. A process
//! killed mid-event leaves its lease to expire; the event is then claimed again, and finding the ticket already
//! holding the mapped values it writes nothing.

use std::time::Duration;

use rand::Rng as _;

use super::EnrichmentConfig;
use super::ticket::{EnrichError, Outcome, enrich_ticket};
use crate::app::App;
use crate::lookup::references::ReferencePatterns;
use crate::mapper::PluginHost;
use crate::store::{ClaimRequest, FailOutcome, QueuedEvent, StoreError, now_ms};

/// How often the queue's depth and age are published as metrics.
const BACKLOG_METRICS_EVERY: Duration = Duration::from_secs(15);

/// What happened to the event a step claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskResult {
    /// Processed; done.
    Done(Outcome),
    /// Failed; back in the queue from `available_at` (unix ms).
    Retrying {
        /// The failure.
        error: String,
        /// Unix ms.
        available_at: i64,
    },
    /// Dead-lettered (a permanent failure, or attempts used up).
    DeadLettered {
        /// The failure.
        error: String,
    },
    /// The lease was lost while working (it expired and another worker claimed the event).
    LeaseLost,
}

/// One step's report.
#[derive(Debug, Clone)]
pub struct TaskReport {
    /// The event as claimed.
    pub event: QueuedEvent,
    /// What happened.
    pub result: TaskResult,
}

/// The delay before retry `attempt` (1-based): `initial · 2^(attempt−1)`, at most `max`, minus up to 20%
/// jitter so that events failing together do not all come back together.
pub fn backoff(config: &EnrichmentConfig, attempt: u32) -> Duration {
    let exp = attempt.saturating_sub(1).min(20);
    let secs = config
        .retry_initial_secs
        .saturating_mul(1u64 << exp)
        .min(config.retry_max_secs);
    let ms = secs.saturating_mul(1000);
    let jitter = rand::rng().random_range(0..=ms / 5);
    Duration::from_millis(ms - jitter)
}

fn count(tenant: &str, outcome: &'static str) {
    metrics::counter!("mlc_enrichment_events_total", "tenant" => tenant.to_string(), "outcome" => outcome)
        .increment(1);
}

/// Claims one ready event (of any tenant) and processes it; `None` when the queue has nothing ready.
pub async fn try_execute_task(
    app: &App,
    host: &PluginHost,
    patterns: &ReferencePatterns,
    holder: &str,
) -> Result<Option<TaskReport>, StoreError> {
    let config = &app.config().enrichment;
    let lease = Duration::from_secs(config.lease_secs);
    let store = app.store();
    let mut claimed = store
        .claim_events(&ClaimRequest {
            holder,
            limit: 1,
            lease,
            max_attempts: config.max_attempts,
            tenant: None,
        })
        .await?;
    let Some(event) = claimed.pop() else {
        return Ok(None);
    };
    // Renew the lease while working, so a slow upstream does not hand the event to a second worker.
    let renew = {
        let (store, holder, id) = (store.clone(), holder.to_string(), event.id);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(lease / 3);
            tick.tick().await;
            loop {
                tick.tick().await;
                if !matches!(store.extend_lease(id, &holder, lease).await, Ok(true)) {
                    break;
                }
            }
        })
    };
    let tenant = event.tenant_id.clone();
    let started = std::time::Instant::now();
    let result = match u64::try_from(event.ticket_id) {
        Ok(ticket_id) => enrich_ticket(app, host, patterns, &tenant, ticket_id).await,
        Err(_) => Err(EnrichError::Permanent(format!(
            "invalid ticket id {}",
            event.ticket_id
        ))),
    };
    renew.abort();
    metrics::histogram!("mlc_enrichment_event_seconds").record(started.elapsed().as_secs_f64());
    let result = match result {
        Ok(outcome) => {
            if store.complete_event(event.id, holder).await? {
                count(tenant.as_str(), outcome.label());
                tracing::info!(tenant = %tenant, ticket_id = event.ticket_id, event_id = %event.event_id, outcome = outcome.label(), "enrichment event done");
                TaskResult::Done(outcome)
            } else {
                TaskResult::LeaseLost
            }
        }
        Err(EnrichError::Permanent(error)) => {
            tracing::warn!(tenant = %tenant, ticket_id = event.ticket_id, event_id = %event.event_id, error = %error, "enrichment event dead-lettered");
            if store.dead_letter_event(event.id, holder, &error).await? {
                count(tenant.as_str(), "dead_lettered");
                TaskResult::DeadLettered { error }
            } else {
                TaskResult::LeaseLost
            }
        }
        Err(EnrichError::Retry(error)) => {
            let attempt = u32::try_from(event.attempts).unwrap_or(u32::MAX);
            match store
                .fail_event(
                    event.id,
                    holder,
                    &error,
                    backoff(config, attempt),
                    config.max_attempts,
                )
                .await?
            {
                FailOutcome::Retrying { available_at } => {
                    tracing::warn!(tenant = %tenant, ticket_id = event.ticket_id, attempt, error = %error, "enrichment event failed; will retry");
                    count(tenant.as_str(), "retrying");
                    TaskResult::Retrying {
                        error,
                        available_at,
                    }
                }
                FailOutcome::DeadLettered => {
                    tracing::warn!(tenant = %tenant, ticket_id = event.ticket_id, attempt, error = %error, "enrichment event dead-lettered after its last attempt");
                    count(tenant.as_str(), "dead_lettered");
                    TaskResult::DeadLettered { error }
                }
                FailOutcome::LeaseLost => TaskResult::LeaseLost,
            }
        }
    };
    Ok(Some(TaskReport { event, result }))
}

async fn worker(
    app: App,
    host: PluginHost,
    patterns: ReferencePatterns,
    holder: String,
    backlog: Backlog,
) {
    let idle = Duration::from_millis(app.config().enrichment.idle_poll_ms);
    let signal = app.queue_signal();
    loop {
        // Registered before looking, so a webhook received meanwhile is not missed.
        let woken = signal.notified();
        match try_execute_task(&app, &host, &patterns, &holder).await {
            Ok(Some(_)) => {
                backlog.publish(&app).await;
                continue;
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "enrichment worker cannot read the queue"),
        }
        let _ = tokio::time::timeout(idle, woken).await;
    }
}

/// The queue depth and age gauges, per tenant; a tenant whose backlog emptied is set back to zero.
#[derive(Debug, Clone, Default)]
struct Backlog {
    shown: std::sync::Arc<std::sync::Mutex<std::collections::HashSet<String>>>,
}

impl Backlog {
    async fn publish(&self, app: &App) {
        let rows = match app.store().queue_backlog().await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::debug!(error = %e, "cannot measure the enrichment queue");
                return;
            }
        };
        let now = now_ms();
        let mut current = std::collections::HashSet::new();
        for (tenant, depth, oldest) in rows {
            let t = tenant.as_str().to_string();
            metrics::gauge!("mlc_enrichment_queue_depth", "tenant" => t.clone()).set(depth as f64);
            metrics::gauge!("mlc_enrichment_oldest_event_age_seconds", "tenant" => t.clone())
                .set(now.saturating_sub(oldest).max(0) as f64 / 1000.0);
            current.insert(t);
        }
        let Ok(mut shown) = self.shown.lock() else {
            return;
        };
        for t in shown.difference(&current) {
            metrics::gauge!("mlc_enrichment_queue_depth", "tenant" => t.clone()).set(0.0);
            metrics::gauge!("mlc_enrichment_oldest_event_age_seconds", "tenant" => t.clone())
                .set(0.0);
        }
        shown.extend(current);
    }
}

/// Runs the workers until aborted (nothing when `enrichment.workers` is 0).
pub async fn run(app: App, host: PluginHost) {
    let config = app.config().enrichment.clone();
    if config.workers == 0 {
        tracing::info!("enrichment workers disabled (enrichment.workers = 0)");
        return;
    }
    let patterns = match config.patterns() {
        Ok(p) => p,
        Err(e) => {
            // Validated at load; kept as a guard.
            tracing::error!(error = %e, "enrichment patterns invalid; no workers");
            return;
        }
    };
    let base = crate::sync::run::holder_name();
    let backlog = Backlog::default();
    backlog.publish(&app).await;
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..config.workers {
        tasks.spawn(worker(
            app.clone(),
            host.clone(),
            patterns.clone(),
            format!("{base}:enrich-{n}"),
            backlog.clone(),
        ));
    }
    tracing::info!(workers = config.workers, "enrichment workers started");
    let mut tick = tokio::time::interval(BACKLOG_METRICS_EVERY);
    loop {
        tick.tick().await;
        backlog.publish(&app).await;
    }
}
