//! Ticket enrichment: a webhook event → the invoice the ticket quotes → its Workday details → the tenant's
//! mapping → the ticket's custom fields, in one update.
//!
//! - [`references`]: the invoice and purchase order numbers a ticket's text quotes (in `lookup`, shared with the
//!   agent API).
//! - [`resolve`]: which indexed invoice they name (the documented rule is on [`resolve::resolve`]).
//! - [`ticket`]: one event, start to end ([`ticket::enrich_ticket`]).
//! - [`worker`]: the workers `serve` runs, claiming events with the queue's leases; [`worker::try_execute_task`]
//!   is one step, for tests and for the CLI.
//!
//! **Loop-free.** The update our own write causes fires the tenant's trigger again; that event reads the ticket,
//! maps the same invoice, finds every field already holding its value (compared as typed values: `18250` and
//! `18250.00` are the same decimal, `2026-11-04T00:00:00+00:00` and `2026-11-04` the same date) and writes
//! nothing.
//!
//! **Nothing dropped.** A ticket quoting nothing is done at once; one whose numbers match nothing is recorded
//! (audit outcome `not_found`) and done; a Workday or Zendesk failure is retried with exponential backoff and
//! dead-lettered after `enrichment.max_attempts` claims, with its last error; a failure no retry can fix (a
//! mapped field deleted in Zendesk, a value its field refuses) is dead-lettered at once. Dead letters are listed
//! and requeued with `ml-connector dead-letters` or the admin API.

pub mod ticket;
pub mod worker;

use serde::{Deserialize, Serialize};

pub use crate::lookup::references::{self, Quoted, ReferencePatterns};
pub use crate::lookup::resolve;
pub use ticket::{EnrichError, Outcome, enrich_ticket};
pub use worker::{TaskReport, try_execute_task};

/// `[enrichment]`: the workers that drain the enrichment queue.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct EnrichmentConfig {
    /// Workers per process (0: this replica does not enrich; its webhooks are still queued).
    pub workers: usize,
    /// Seconds a claimed event is leased; the worker renews it every third of that while it works, and another
    /// worker (or replica) takes the event over once a dead worker's lease expired.
    pub lease_secs: u64,
    /// Claims before an event that keeps failing is dead-lettered.
    pub max_attempts: u32,
    /// Delay before the first retry, in seconds; doubled at each attempt, with jitter.
    pub retry_initial_secs: u64,
    /// Longest delay between two attempts, in seconds.
    pub retry_max_secs: u64,
    /// How often an idle worker looks at the queue, in milliseconds (a webhook received by this process wakes
    /// the workers at once).
    pub idle_poll_ms: u64,
    /// Regular expressions that find invoice numbers in a ticket's subject and description (the first capture
    /// group, else the whole match); which candidates are invoices is decided by the invoice index.
    pub invoice_patterns: Vec<String>,
    /// Regular expressions that find purchase order numbers.
    pub po_patterns: Vec<String>,
}

impl Default for EnrichmentConfig {
    fn default() -> Self {
        Self {
            workers: 2,
            lease_secs: 60,
            max_attempts: 8,
            retry_initial_secs: 5,
            retry_max_secs: 900,
            idle_poll_ms: 500,
            invoice_patterns: vec![references::DEFAULT_INVOICE_PATTERN.to_string()],
            po_patterns: vec![references::DEFAULT_PO_PATTERN.to_string()],
        }
    }
}

impl EnrichmentConfig {
    /// Checks value ranges and compiles the patterns; the error names the key.
    pub fn validate(&self) -> Result<(), (String, String)> {
        if self.workers > 64 {
            return Err(("enrichment.workers".into(), "must be at most 64".into()));
        }
        if self.lease_secs < 3 {
            return Err(("enrichment.lease_secs".into(), "must be at least 3".into()));
        }
        if self.max_attempts == 0 {
            return Err((
                "enrichment.max_attempts".into(),
                "must be at least 1".into(),
            ));
        }
        if self.retry_initial_secs == 0 || self.retry_initial_secs > self.retry_max_secs {
            return Err((
                "enrichment.retry_initial_secs".into(),
                "must be at least 1 and at most enrichment.retry_max_secs".into(),
            ));
        }
        if self.idle_poll_ms == 0 {
            return Err((
                "enrichment.idle_poll_ms".into(),
                "must be at least 1".into(),
            ));
        }
        self.patterns()
            .map(|_| ())
            .map_err(|e| (e.key.to_string(), e.to_string()))
    }

    /// The compiled patterns.
    pub fn patterns(&self) -> Result<ReferencePatterns, references::PatternError> {
        ReferencePatterns::new(&self.invoice_patterns, &self.po_patterns)
    }
}
