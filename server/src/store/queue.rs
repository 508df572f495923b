//! The enrichment queue: accepted webhook events waiting for a worker.
//!
//! - `enqueue_event` is durable (committed before the webhook is answered) and deduplicates by
//!   `(tenant_id, event_id)`: a redelivered event is reported as a duplicate and adds no row.
//! - `claim_events` leases ready rows to one worker: `FOR UPDATE SKIP LOCKED` on PostgreSQL (replicas claim
//!   disjoint rows without waiting on each other); on SQLite one `UPDATE ... RETURNING` statement, which holds
//!   the single writer lock for its whole read-and-write. Each claim counts an attempt.
//! - A lease that expires (the worker died) makes the row claimable again; a row whose attempts are used up is
//!   dead-lettered instead of being claimed again.
//! - `complete_event` / `fail_event` only act while the caller still holds the lease.
//!
//! Statuses: `queued`, `leased`, `done`, `dead`. Done rows are kept (they keep deduplicating redeliveries)
//! until `purge_done_events`.

use std::time::Duration;

use sqlx::Row as _;
use sqlx::any::AnyRow;

use super::{Backend, QueryContext, Store, StoreError, now_ms};
use crate::tenant::TenantId;

/// Where an event is in the queue (the `status` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueueStatus {
    /// Waiting (possibly until `available_at`).
    Queued,
    /// Claimed by a worker until `leased_until`.
    Leased,
    /// Processed.
    Done,
    /// Gave up; kept for inspection and requeueing.
    Dead,
}

impl QueueStatus {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Leased => "leased",
            Self::Done => "done",
            Self::Dead => "dead",
        }
    }

    /// The status stored as `text`, if it is one.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Queued, Self::Leased, Self::Done, Self::Dead]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

impl std::fmt::Display for QueueStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event to enqueue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewQueuedEvent {
    /// The webhook event's `id`.
    pub event_id: String,
    /// Its `type`.
    pub event_type: String,
    /// The ticket.
    pub ticket_id: i64,
    /// The raw payload (JSON text).
    pub payload: String,
}

/// The result of [`Store::enqueue_event`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// A new row.
    Queued {
        /// Its id.
        id: i64,
    },
    /// The event id was already queued for this tenant; nothing was added.
    Duplicate,
}

/// A queue row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedEvent {
    /// Row id.
    pub id: i64,
    /// Tenant.
    pub tenant_id: TenantId,
    /// Webhook event id.
    pub event_id: String,
    /// Webhook event type.
    pub event_type: String,
    /// Ticket.
    pub ticket_id: i64,
    /// Raw payload.
    pub payload: String,
    /// Where it is in the queue.
    pub status: QueueStatus,
    /// Claims so far.
    pub attempts: i64,
    /// Not claimable before (unix ms).
    pub available_at: i64,
    /// Lease end (unix ms), while leased.
    pub leased_until: Option<i64>,
    /// Lease holder, while leased.
    pub lease_holder: Option<String>,
    /// Last failure.
    pub last_error: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// What to claim.
#[derive(Debug, Clone)]
pub struct ClaimRequest<'a> {
    /// Who claims (e.g. `hostname:pid:worker`); only this holder can complete or fail the rows.
    pub holder: &'a str,
    /// At most this many rows.
    pub limit: u32,
    /// Lease length.
    pub lease: Duration,
    /// Rows already claimed this many times are dead-lettered instead.
    pub max_attempts: u32,
    /// Only this tenant's rows (all tenants when `None`).
    pub tenant: Option<&'a TenantId>,
}

/// The result of [`Store::fail_event`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOutcome {
    /// Back in the queue, claimable from `available_at`.
    Retrying {
        /// Unix ms.
        available_at: i64,
    },
    /// Attempts used up: dead-lettered.
    DeadLettered,
    /// The caller no longer held the lease (it expired and someone else claimed the row); nothing changed.
    LeaseLost,
}

/// Rows per status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueCounts {
    /// Waiting.
    pub queued: i64,
    /// Being processed.
    pub leased: i64,
    /// Processed.
    pub done: i64,
    /// Dead-lettered.
    pub dead: i64,
}

macro_rules! columns {
    () => {
        "id, tenant_id, event_id, event_type, ticket_id, payload, status, attempts, available_at, leased_until, \
         lease_holder, last_error, created_at, updated_at"
    };
}

/// Rows ready to claim: queued and due, or leased with an expired lease, with attempts left.
macro_rules! claimable {
    () => {
        "((status = 'queued' AND available_at <= $3) OR (status = 'leased' AND leased_until <= $3)) \
         AND attempts < $5"
    };
}

/// The claim statement: `$tenant_filter` narrows the candidates (empty, or a condition ending in `AND`),
/// `$lock` is PostgreSQL's row lock (SQLite serialises writers instead).
macro_rules! claim {
    ($tenant_filter:literal, $lock:literal) => {
        concat!(
            "UPDATE enrichment_queue SET status = 'leased', lease_holder = $1, leased_until = $2, \
             attempts = attempts + 1, updated_at = $3 WHERE id IN (SELECT id FROM enrichment_queue WHERE ",
            $tenant_filter,
            claimable!(),
            " ORDER BY available_at, id LIMIT $4",
            $lock,
            ") RETURNING ",
            columns!()
        )
    };
}

/// Dead-letters leased rows whose lease expired with no attempts left (`$tenant_filter`: empty, or a
/// condition starting with `AND`).
macro_rules! dead_letter {
    ($tenant_filter:literal) => {
        concat!(
            "UPDATE enrichment_queue SET status = 'dead', lease_holder = NULL, leased_until = NULL, \
             last_error = COALESCE(last_error, 'lease expired without completion'), updated_at = $1 \
             WHERE status = 'leased' AND leased_until <= $1 AND attempts >= $2",
            $tenant_filter
        )
    };
}

const DEAD_LETTER: &str = dead_letter!("");
const DEAD_LETTER_TENANT: &str = dead_letter!(" AND tenant_id = $3");

const CLAIM_PG: &str = claim!("", " FOR UPDATE SKIP LOCKED");
const CLAIM_PG_TENANT: &str = claim!("tenant_id = $6 AND ", " FOR UPDATE SKIP LOCKED");
const CLAIM_SQLITE: &str = claim!("", "");
const CLAIM_SQLITE_TENANT: &str = claim!("tenant_id = $6 AND ", "");

fn from_row(row: &AnyRow) -> Result<QueuedEvent, StoreError> {
    const CTX: &str = "reading a queued event";
    let tenant: String = row.try_get("tenant_id").context(CTX)?;
    Ok(QueuedEvent {
        id: row.try_get("id").context(CTX)?,
        tenant_id: TenantId::parse(&tenant).map_err(|e| StoreError::Corrupt {
            context: CTX,
            message: e.to_string(),
        })?,
        event_id: row.try_get("event_id").context(CTX)?,
        event_type: row.try_get("event_type").context(CTX)?,
        ticket_id: row.try_get("ticket_id").context(CTX)?,
        payload: row.try_get("payload").context(CTX)?,
        status: {
            let text: String = row.try_get("status").context(CTX)?;
            QueueStatus::parse(&text).ok_or_else(|| StoreError::Corrupt {
                context: CTX,
                message: format!("unknown queue status `{text}`"),
            })?
        },
        attempts: row.try_get("attempts").context(CTX)?,
        available_at: row.try_get("available_at").context(CTX)?,
        leased_until: row.try_get("leased_until").context(CTX)?,
        lease_holder: row.try_get("lease_holder").context(CTX)?,
        last_error: row.try_get("last_error").context(CTX)?,
        created_at: row.try_get("created_at").context(CTX)?,
        updated_at: row.try_get("updated_at").context(CTX)?,
    })
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Caps stored error texts.
fn short(error: &str) -> String {
    error.chars().take(2000).collect()
}

impl Store {
    /// Durably enqueues a webhook event; a second event with the same id for the same tenant is a
    /// [`Enqueued::Duplicate`] and adds nothing.
    pub async fn enqueue_event(
        &self,
        tenant: &TenantId,
        event: &NewQueuedEvent,
    ) -> Result<Enqueued, StoreError> {
        let now = now_ms();
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO enrichment_queue (tenant_id, event_id, event_type, ticket_id, payload, status, attempts, \
             available_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'queued', 0, $6, $6, $6) \
             ON CONFLICT (tenant_id, event_id) DO NOTHING RETURNING id",
        )
        .bind(tenant.as_str())
        .bind(&event.event_id)
        .bind(&event.event_type)
        .bind(event.ticket_id)
        .bind(&event.payload)
        .bind(now)
        .fetch_optional(self.pool())
        .await
        .context("enqueueing an event")?;
        Ok(match id {
            Some(id) => Enqueued::Queued { id },
            None => Enqueued::Duplicate,
        })
    }

    /// Leases up to `limit` ready rows to `holder` (oldest first); first dead-letters rows whose lease expired
    /// with no attempts left (of the requested tenant only, when the request names one).
    pub async fn claim_events(
        &self,
        request: &ClaimRequest<'_>,
    ) -> Result<Vec<QueuedEvent>, StoreError> {
        let now = now_ms();
        let mut dead_letter = sqlx::query(match request.tenant {
            None => DEAD_LETTER,
            Some(_) => DEAD_LETTER_TENANT,
        })
        .bind(now)
        .bind(i64::from(request.max_attempts));
        if let Some(t) = request.tenant {
            dead_letter = dead_letter.bind(t.as_str());
        }
        dead_letter
            .execute(self.pool())
            .await
            .context("dead-lettering expired leases")?;
        let sql = match (self.backend(), request.tenant.is_some()) {
            (Backend::Postgres, false) => CLAIM_PG,
            (Backend::Postgres, true) => CLAIM_PG_TENANT,
            (Backend::Sqlite, false) => CLAIM_SQLITE,
            (Backend::Sqlite, true) => CLAIM_SQLITE_TENANT,
        };
        let mut query = sqlx::query(sql)
            .bind(request.holder)
            .bind(now.saturating_add(ms(request.lease)))
            .bind(now)
            .bind(i64::from(request.limit))
            .bind(i64::from(request.max_attempts));
        if let Some(t) = request.tenant {
            query = query.bind(t.as_str());
        }
        let rows = query
            .fetch_all(self.pool())
            .await
            .context("claiming events")?;
        let mut events = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
        events.sort_by_key(|e| (e.available_at, e.id));
        Ok(events)
    }

    /// Extends a lease `holder` still holds; false when it was lost.
    pub async fn extend_lease(
        &self,
        id: i64,
        holder: &str,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE enrichment_queue SET leased_until = $3, updated_at = $4 \
             WHERE id = $1 AND lease_holder = $2 AND status = 'leased' AND leased_until > $4",
        )
        .bind(id)
        .bind(holder)
        .bind(now.saturating_add(ms(lease)))
        .bind(now)
        .execute(self.pool())
        .await
        .context("extending a lease")?;
        Ok(done.rows_affected() > 0)
    }

    /// Marks a leased row done; false when `holder` no longer held it.
    pub async fn complete_event(&self, id: i64, holder: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE enrichment_queue SET status = 'done', lease_holder = NULL, leased_until = NULL, \
             last_error = NULL, updated_at = $3 WHERE id = $1 AND lease_holder = $2 AND status = 'leased'",
        )
        .bind(id)
        .bind(holder)
        .bind(now_ms())
        .execute(self.pool())
        .await
        .context("completing an event")?;
        Ok(done.rows_affected() > 0)
    }

    /// Records a failed attempt: back to the queue after `retry_in`, or dead-lettered when `max_attempts`
    /// claims have been made.
    pub async fn fail_event(
        &self,
        id: i64,
        holder: &str,
        error: &str,
        retry_in: Duration,
        max_attempts: u32,
    ) -> Result<FailOutcome, StoreError> {
        let now = now_ms();
        let available_at = now.saturating_add(ms(retry_in));
        let status: Option<String> = sqlx::query_scalar(
            "UPDATE enrichment_queue SET status = CASE WHEN attempts >= $4 THEN 'dead' ELSE 'queued' END, \
             available_at = $5, last_error = $3, lease_holder = NULL, leased_until = NULL, updated_at = $6 \
             WHERE id = $1 AND lease_holder = $2 AND status = 'leased' RETURNING status",
        )
        .bind(id)
        .bind(holder)
        .bind(short(error))
        .bind(i64::from(max_attempts))
        .bind(available_at)
        .bind(now)
        .fetch_optional(self.pool())
        .await
        .context("failing an event")?;
        Ok(match status.as_deref().map(QueueStatus::parse) {
            None => FailOutcome::LeaseLost,
            Some(Some(QueueStatus::Dead)) => FailOutcome::DeadLettered,
            Some(_) => FailOutcome::Retrying { available_at },
        })
    }

    /// Dead-letters a leased row at once (a permanent failure, e.g. the ticket was deleted).
    pub async fn dead_letter_event(
        &self,
        id: i64,
        holder: &str,
        error: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE enrichment_queue SET status = 'dead', last_error = $3, lease_holder = NULL, \
             leased_until = NULL, updated_at = $4 WHERE id = $1 AND lease_holder = $2 AND status = 'leased'",
        )
        .bind(id)
        .bind(holder)
        .bind(short(error))
        .bind(now_ms())
        .execute(self.pool())
        .await
        .context("dead-lettering an event")?;
        Ok(done.rows_affected() > 0)
    }

    /// A tenant's dead letters, newest first.
    pub async fn dead_letters(
        &self,
        tenant: &TenantId,
        limit: u32,
    ) -> Result<Vec<QueuedEvent>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM enrichment_queue WHERE tenant_id = $1 AND status = 'dead' ORDER BY updated_at DESC, id DESC \
             LIMIT $2"
        ))
        .bind(tenant.as_str())
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .context("listing dead letters")?;
        rows.iter().map(from_row).collect()
    }

    /// Puts a dead letter back in the queue with its attempts reset; false when there is no such dead letter.
    pub async fn requeue_dead_letter(
        &self,
        tenant: &TenantId,
        id: i64,
    ) -> Result<bool, StoreError> {
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE enrichment_queue SET status = 'queued', attempts = 0, available_at = $3, updated_at = $3 \
             WHERE id = $1 AND tenant_id = $2 AND status = 'dead'",
        )
        .bind(id)
        .bind(tenant.as_str())
        .bind(now)
        .execute(self.pool())
        .await
        .context("requeueing a dead letter")?;
        Ok(done.rows_affected() > 0)
    }

    /// One row by tenant and event id.
    pub async fn queued_event(
        &self,
        tenant: &TenantId,
        event_id: &str,
    ) -> Result<Option<QueuedEvent>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM enrichment_queue WHERE tenant_id = $1 AND event_id = $2"
        ))
        .bind(tenant.as_str())
        .bind(event_id)
        .fetch_optional(self.pool())
        .await
        .context("reading a queued event")?;
        row.as_ref().map(from_row).transpose()
    }

    /// Rows per status for a tenant.
    pub async fn queue_counts(&self, tenant: &TenantId) -> Result<QueueCounts, StoreError> {
        let rows = sqlx::query(
            "SELECT status, COUNT(*) AS n FROM enrichment_queue WHERE tenant_id = $1 GROUP BY status",
        )
        .bind(tenant.as_str())
        .fetch_all(self.pool())
        .await
        .context("counting the queue")?;
        let mut counts = QueueCounts::default();
        for row in rows {
            let s: String = row.try_get("status").context("counting the queue")?;
            let n: i64 = row.try_get("n").context("counting the queue")?;
            match QueueStatus::parse(&s) {
                Some(QueueStatus::Queued) => counts.queued = n,
                Some(QueueStatus::Leased) => counts.leased = n,
                Some(QueueStatus::Done) => counts.done = n,
                Some(QueueStatus::Dead) => counts.dead = n,
                None => {}
            }
        }
        Ok(counts)
    }

    /// Per tenant with work left: events waiting or being processed, and when the oldest of them was received
    /// (unix ms).
    pub async fn queue_backlog(&self) -> Result<Vec<(TenantId, i64, i64)>, StoreError> {
        const CTX: &str = "measuring the queue backlog";
        let rows = sqlx::query(
            "SELECT tenant_id, COUNT(*) AS n, MIN(created_at) AS oldest FROM enrichment_queue \
             WHERE status IN ('queued', 'leased') GROUP BY tenant_id",
        )
        .fetch_all(self.pool())
        .await
        .context(CTX)?;
        rows.iter()
            .map(|row| {
                let tenant: String = row.try_get("tenant_id").context(CTX)?;
                let tenant = TenantId::parse(&tenant).map_err(|e| StoreError::Corrupt {
                    context: CTX,
                    message: e.to_string(),
                })?;
                Ok((
                    tenant,
                    row.try_get("n").context(CTX)?,
                    row.try_get("oldest").context(CTX)?,
                ))
            })
            .collect()
    }

    /// Deletes done rows last updated more than `older_than` ago (their event ids stop deduplicating).
    pub async fn purge_done_events(&self, older_than: Duration) -> Result<u64, StoreError> {
        let cutoff = now_ms().saturating_sub(ms(older_than));
        let done =
            sqlx::query("DELETE FROM enrichment_queue WHERE status = 'done' AND updated_at < $1")
                .bind(cutoff)
                .execute(self.pool())
                .await
                .context("purging done events")?;
        Ok(done.rows_affected())
    }
}
