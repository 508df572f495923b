//! The agent API's cache of Workday reads: per tenant, keyed by object type and id.
//!
//! - **time to live per type** (`agent.invoice_ttl_secs`, `agent.supplier_ttl_secs`), and a short one for "Workday
//!   has no such record" (`agent.not_found_ttl_secs`);
//! - **single flight**: concurrent misses for one key make one Workday call; the others wait for it and share its
//!   answer (moka's per-key `and_try_compute_with`);
//! - **refresh**: a caller may bypass a fresh entry for one key; callers that arrive while that read is in flight
//!   share it;
//! - **stale on failure**: an entry is kept past its time to live (up to `agent.stale_max_secs`); when Workday fails,
//!   the old value is answered marked stale rather than an error;
//! - **bounded** by an estimate of each entry's size (`agent.cache_max_bytes`);
//! - **invalidated** by the sync: every change it announces ([`crate::app::App::invalidations`]) drops that key;
//! - **a concurrency limit per tenant** toward Workday (`agent.workday_concurrency`), and a time budget per read
//!   (`agent.workday_timeout_ms`, retries included) after which the stale value, if any, answers.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use moka::future::Cache;
use moka::ops::compute::{CompResult, Op};
use tokio::sync::Semaphore;

use super::config::AgentConfig;
use super::invoice::InvoiceDetails;
use crate::app::App;
use crate::app::invalidation::ChangedKind;
use crate::tenant::TenantId;
use crate::workday::model::Supplier;
use crate::workday::{Sourced, WorkdayError};

/// What is cached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// An invoice, by its index key (reference ID or WID).
    Invoice,
    /// A supplier, by `Supplier_ID`.
    Supplier,
}

/// A cache key: the tenant is part of every key, so one tenant's entries are never another's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    tenant: TenantId,
    kind: Kind,
    id: String,
}

impl Key {
    /// The key of `kind` `id` of `tenant`.
    pub fn new(tenant: &TenantId, kind: Kind, id: &str) -> Self {
        Self {
            tenant: tenant.clone(),
            kind,
            id: id.trim().to_string(),
        }
    }
}

/// A cached record.
#[derive(Debug, Clone)]
pub enum Record {
    /// An invoice with what settles it.
    Invoice(Arc<InvoiceDetails>),
    /// A supplier.
    Supplier(Arc<Sourced<Supplier>>),
}

/// A rendering of a cached record (e.g. its JSON answer), made once per entry by whoever answers first and
/// dropped with the entry.
pub type Rendered = Arc<std::sync::OnceLock<Arc<[u8]>>>;

#[derive(Debug, Clone)]
struct Entry {
    /// `None`: Workday has no such record.
    record: Option<Record>,
    fetched: Instant,
    rendered: Rendered,
}

impl Entry {
    /// Estimated bytes held.
    fn weight(&self) -> u32 {
        let bytes = match &self.record {
            None => 64,
            Some(Record::Supplier(_)) => 2_048,
            Some(Record::Invoice(d)) => {
                2_048
                    + 512 * (d.payments.len() + d.adjustments.len() + d.invoice.lines.len())
                    + d.purchase_order
                        .as_ref()
                        .map_or(0, |p| 1_024 + 256 * p.lines.len())
            }
        };
        u32::try_from(bytes).unwrap_or(u32::MAX)
    }
}

/// A cached answer.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The record, `None` when Workday has no such record.
    pub record: Option<Record>,
    /// Set when Workday could not be reached and an entry past its time to live is answered: why.
    pub stale: Option<String>,
    /// The entry's rendering slot.
    pub rendered: Rendered,
}

/// See the module documentation.
pub struct LookupCache {
    entries: Cache<Key, Entry>,
    /// Invoice number (as asked, folded) → index key: the index's answer, for `invoice_ttl_secs`.
    numbers: Cache<(TenantId, String), String>,
    /// `Supplier_ID` → name in the index, for `supplier_ttl_secs`.
    names: Cache<(TenantId, String), Option<String>>,
    config: AgentConfig,
    limits: Mutex<HashMap<TenantId, Arc<Semaphore>>>,
}

impl std::fmt::Debug for LookupCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LookupCache")
            .field("entries", &self.entries.entry_count())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl LookupCache {
    /// An empty cache.
    pub fn new(config: &AgentConfig) -> Self {
        Self {
            entries: Cache::builder()
                .max_capacity(config.cache_max_bytes)
                .weigher(|_k: &Key, e: &Entry| e.weight())
                .time_to_live(Duration::from_secs(config.stale_max_secs))
                .build(),
            numbers: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(config.invoice_ttl_secs))
                .build(),
            names: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(config.supplier_ttl_secs))
                .build(),
            config: config.clone(),
            limits: Mutex::new(HashMap::new()),
        }
    }

    /// The index key an invoice number resolved to, if remembered.
    pub async fn resolved_number(&self, tenant: &TenantId, number: &str) -> Option<String> {
        self.numbers
            .get(&(tenant.clone(), number.trim().to_lowercase()))
            .await
    }

    /// Remembers what an invoice number resolved to.
    pub async fn remember_number(&self, tenant: &TenantId, number: &str, key: &str) {
        self.numbers
            .insert(
                (tenant.clone(), number.trim().to_lowercase()),
                key.to_string(),
            )
            .await;
    }

    /// A supplier's name in the index, read through `read` when not remembered.
    pub async fn supplier_name<F, Fut, E>(
        &self,
        tenant: &TenantId,
        supplier_id: &str,
        read: F,
    ) -> Result<Option<String>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<String>, E>>,
    {
        let key = (tenant.clone(), supplier_id.to_string());
        if let Some(name) = self.names.get(&key).await {
            return Ok(name);
        }
        let name = read().await?;
        self.names.insert(key, name.clone()).await;
        Ok(name)
    }

    fn ttl(&self, kind: Kind, found: bool) -> Duration {
        Duration::from_secs(match (found, kind) {
            (false, _) => self.config.not_found_ttl_secs,
            (true, Kind::Invoice) => self.config.invoice_ttl_secs,
            (true, Kind::Supplier) => self.config.supplier_ttl_secs,
        })
    }

    /// The tenant's limit of concurrent Workday reads.
    fn limit(&self, tenant: &TenantId) -> Arc<Semaphore> {
        let mut limits = self
            .limits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        limits
            .entry(tenant.clone())
            .or_insert_with(|| Arc::new(Semaphore::new(self.config.workday_concurrency)))
            .clone()
    }

    /// The record under `key`: the cached one while fresh (unless `refresh`), else `read` (one call for all
    /// concurrent callers), else, when `read` fails and an old entry is kept, that entry marked stale.
    pub async fn get<F, Fut>(
        &self,
        key: Key,
        refresh: bool,
        read: F,
    ) -> Result<Fetched, WorkdayError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<Record>, WorkdayError>>,
    {
        let asked = Instant::now();
        let limit = self.limit(&key.tenant);
        let kind = key.kind;
        let outcome = self
            .entries
            .entry(key.clone())
            .and_try_compute_with(|current| async move {
                if let Some(current) = current {
                    let e = current.value();
                    let fresh = e.fetched.elapsed() < self.ttl(kind, e.record.is_some());
                    // Read by a caller that came after this one asked: shared, even when refreshing.
                    if (fresh && !refresh) || e.fetched >= asked {
                        return Ok::<_, WorkdayError>(Op::Nop);
                    }
                }
                let _permit = limit.acquire_owned().await.ok();
                // An agent is waiting: Workday's retries get this long, then the cached value (if any) answers.
                let budget = Duration::from_millis(self.config.workday_timeout_ms);
                let record = tokio::time::timeout(budget, read()).await.map_err(|_| {
                    WorkdayError::Timeout {
                        operation: "agent lookup".into(),
                        after: budget,
                    }
                })??;
                Ok(Op::Put(Entry {
                    record,
                    fetched: Instant::now(),
                    rendered: Rendered::default(),
                }))
            })
            .await;
        match outcome {
            Ok(
                CompResult::Inserted(e) | CompResult::ReplacedWith(e) | CompResult::Unchanged(e),
            ) => {
                let e = e.into_value();
                Ok(Fetched {
                    record: e.record,
                    stale: None,
                    rendered: e.rendered,
                })
            }
            Ok(CompResult::Removed(_) | CompResult::StillNone(_)) => Ok(Fetched {
                record: None,
                stale: None,
                rendered: Rendered::default(),
            }),
            Err(error) => match self.entries.get(&key).await {
                Some(old) if old.record.is_some() => {
                    tracing::warn!(tenant = %key.tenant, id = %key.id, error = %error, "Workday failed; answering a cached value marked stale");
                    metrics::counter!("mlc_agent_cache_stale_total").increment(1);
                    Ok(Fetched {
                        record: old.record,
                        stale: Some(error.to_string()),
                        // A stale answer is rendered each time: its reason is part of it.
                        rendered: Rendered::default(),
                    })
                }
                _ => Err(error),
            },
        }
    }

    /// Drops one entry.
    pub async fn invalidate(&self, key: &Key) {
        self.entries.invalidate(key).await;
    }

    /// Entries held (after pending maintenance), for tests and metrics.
    pub async fn len(&self) -> u64 {
        self.entries.run_pending_tasks().await;
        self.entries.entry_count()
    }

    /// Whether nothing is held.
    pub async fn is_empty(&self) -> bool {
        self.len().await == 0
    }

    /// Drops every entry.
    pub fn clear(&self) {
        self.entries.invalidate_all();
        self.numbers.invalidate_all();
        self.names.invalidate_all();
    }

    /// Follows the sync's announcements of what it changed (in this process, and in the other replicas on
    /// PostgreSQL), dropping those entries, for as long as `cache` lives. A missed announcement (the subscriber
    /// fell behind) drops everything.
    pub fn follow_invalidations(cache: &Arc<Self>, app: &App) {
        let mut changes = app.invalidations();
        let mut remote = app.remote_invalidations();
        let weak = Arc::downgrade(cache);
        tokio::spawn(async move {
            loop {
                let change = tokio::select! {
                    c = changes.recv() => c,
                    c = remote.recv() => c,
                };
                let Some(cache) = weak.upgrade() else {
                    return;
                };
                match change {
                    Ok(c) => {
                        let kind = match c.kind {
                            ChangedKind::Invoice => Kind::Invoice,
                            ChangedKind::Supplier => {
                                cache
                                    .names
                                    .invalidate(&(c.tenant.clone(), c.id.clone()))
                                    .await;
                                Kind::Supplier
                            }
                        };
                        cache.invalidate(&Key::new(&c.tenant, kind, &c.id)).await;
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => cache.clear(),
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                }
            }
        });
    }
}
