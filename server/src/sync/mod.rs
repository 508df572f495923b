//! The sync engine: Workday suppliers → Zendesk organizations, and the local index of recent and unpaid
//! invoices, their adjustments and payments; on a schedule inside `serve`, or on demand (`ml-connector sync`,
//! `POST /admin/v1/{tenant}/sync/run`).
//!
//! - [`run`]: one run for one tenant, under the tenant's lease, recorded in `sync_runs`.
//! - [`organizations`]: suppliers → organizations (content hash per supplier: an unchanged supplier costs no
//!   Zendesk request; changed ones are upserted by `external_id` in batches of 100, each write audited).
//! - [`index`]: the invoice and payment index (positions from `payables::InvoicePosition`).
//! - [`schedule`], [`scheduler`]: when a tenant's runs are due, and the loop in `serve` that starts them.
//!
//! Crash safety: an organization's link and hash are committed with the audit rows of the write, after
//! Zendesk answered; a run killed in between leaves the link as it was, and the next run finds the
//! organization by `external_id` (`show_many`) instead of creating it again.

pub mod enrich;
pub mod index;
pub mod organizations;
pub mod run;
pub mod schedule;
pub mod scheduler;

use serde::{Deserialize, Serialize};

pub use crate::app::invalidation::{Changed, ChangedKind};
pub use run::{RunOptions, RunOutcome, RunStats, SyncError, Trigger, run_sync};

/// `[sync]`: the sync engine's process-wide options.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct SyncConfig {
    /// Whether `serve` runs tenants' scheduled syncs (a replica can be kept out of the work).
    pub scheduler_enabled: bool,
    /// Seconds between two looks at which tenants are due.
    pub scheduler_tick_secs: u64,
    /// Lease length in seconds; the holder renews it every third of that, and another replica takes over
    /// once a dead holder's lease expires.
    pub lease_secs: u64,
    /// The incremental supplier read starts this many seconds before the previous run's as-of time, so a
    /// change committed while that run read is not missed.
    pub overlap_secs: u64,
    /// Default window of the invoice index, in days of invoice date (invoices not fully paid are kept
    /// whatever their age). A tenant may set its own (`tenant update --sync-invoice-window-days`).
    pub invoice_window_days: u32,
    /// Organization batches (of 100) sent to Zendesk at once by one run; Zendesk runs each as a job, so a few
    /// in flight keep the rate limit used while jobs finish (Zendesk allows 30 active jobs per account).
    pub zendesk_concurrency: usize,
    /// E-mail domains that never become an organization's `domain_names` (free-mail providers: a supplier
    /// writing from gmail.com does not make every gmail.com user a member of its organization).
    pub free_mail_domains: Vec<String>,
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self {
            scheduler_enabled: true,
            scheduler_tick_secs: 15,
            lease_secs: 120,
            overlap_secs: 300,
            invoice_window_days: 180,
            zendesk_concurrency: 4,
            free_mail_domains: [
                "gmail.com",
                "googlemail.com",
                "yahoo.com",
                "hotmail.com",
                "outlook.com",
                "live.com",
                "msn.com",
                "aol.com",
                "icloud.com",
                "me.com",
                "mail.com",
                "gmx.com",
                "gmx.de",
                "web.de",
                "yandex.com",
                "proton.me",
                "protonmail.com",
                "zoho.com",
                "qq.com",
                "163.com",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
        }
    }
}

impl SyncConfig {
    /// Checks value ranges; the error names the key.
    pub fn validate(&self) -> Result<(), (String, String)> {
        if self.scheduler_tick_secs == 0 {
            return Err((
                "sync.scheduler_tick_secs".into(),
                "must be at least 1".into(),
            ));
        }
        if self.lease_secs < 3 {
            return Err(("sync.lease_secs".into(), "must be at least 3".into()));
        }
        if !(1..=30).contains(&self.zendesk_concurrency) {
            return Err((
                "sync.zendesk_concurrency".into(),
                "must be between 1 and 30 (Zendesk's active jobs per account)".into(),
            ));
        }
        if self.invoice_window_days == 0 {
            return Err((
                "sync.invoice_window_days".into(),
                "must be at least 1".into(),
            ));
        }
        Ok(())
    }
}
