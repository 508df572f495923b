//! `[agent]`: the agent API's token checks and its cache of Workday reads.

use serde::{Deserialize, Serialize};

/// `[agent]` section of the configuration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AgentConfig {
    /// Longest accepted JWT lifetime in seconds (`exp` minus `iat`, or minus now without `iat`).
    pub jwt_max_lifetime_secs: u64,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
    pub jwt_leeway_secs: u64,
    /// Seconds an invoice read from Workday (with its payments, credit memos and PO) is served from the cache.
    pub invoice_ttl_secs: u64,
    /// Seconds a supplier read from Workday is served from the cache.
    pub supplier_ttl_secs: u64,
    /// Seconds a "Workday has no such record" answer is remembered.
    pub not_found_ttl_secs: u64,
    /// Seconds an expired entry is kept to answer (marked stale) when Workday cannot be reached.
    pub stale_max_secs: u64,
    /// Upper bound of the cache, in bytes (estimated per entry).
    pub cache_max_bytes: u64,
    /// Workday reads in flight at once per tenant (a burst of agents must not trigger Workday's throttling).
    pub workday_concurrency: usize,
    /// Milliseconds one Workday read for an agent may take, retries included; then a cached value answers marked
    /// stale, or the request fails with `workday_timeout`.
    pub workday_timeout_ms: u64,
    /// Recent invoices listed with a supplier.
    pub recent_invoices: u32,
    /// Milliseconds a tenant's context (settings, secrets) is used by the agent API before it is checked for
    /// changes again (one query); 0 checks on every request.
    pub tenant_recheck_ms: u64,
}

impl Default for AgentConfig {
    fn default() -> Self {
        Self {
            jwt_max_lifetime_secs: 3_600,
            jwt_leeway_secs: 30,
            invoice_ttl_secs: 300,
            supplier_ttl_secs: 1_800,
            not_found_ttl_secs: 30,
            stale_max_secs: 86_400,
            cache_max_bytes: 64 * 1024 * 1024,
            workday_concurrency: 8,
            recent_invoices: 5,
            workday_timeout_ms: 8_000,
            tenant_recheck_ms: 1_000,
        }
    }
}

impl AgentConfig {
    /// Checks value ranges; the error names the first invalid key (under `agent.`) and what is wrong.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let checks = [
            (
                "agent.jwt_max_lifetime_secs",
                (60..=86_400).contains(&self.jwt_max_lifetime_secs),
                "must be between 60 and 86400",
            ),
            (
                "agent.jwt_leeway_secs",
                self.jwt_leeway_secs <= 300,
                "must be at most 300",
            ),
            (
                "agent.invoice_ttl_secs",
                self.invoice_ttl_secs > 0,
                "must be at least 1",
            ),
            (
                "agent.supplier_ttl_secs",
                self.supplier_ttl_secs > 0,
                "must be at least 1",
            ),
            (
                "agent.stale_max_secs",
                self.stale_max_secs >= self.invoice_ttl_secs.max(self.supplier_ttl_secs),
                "must be at least the longest time-to-live",
            ),
            (
                "agent.cache_max_bytes",
                self.cache_max_bytes >= 1024 * 1024,
                "must be at least 1048576",
            ),
            (
                "agent.workday_concurrency",
                self.workday_concurrency > 0,
                "must be at least 1",
            ),
            (
                "agent.workday_timeout_ms",
                (100..=120_000).contains(&self.workday_timeout_ms),
                "must be between 100 and 120000",
            ),
            (
                "agent.tenant_recheck_ms",
                self.tenant_recheck_ms <= 60_000,
                "must be at most 60000",
            ),
            (
                "agent.recent_invoices",
                (1..=50).contains(&self.recent_invoices),
                "must be between 1 and 50",
            ),
        ];
        match checks.into_iter().find(|(_, ok, _)| !ok) {
            Some((key, _, message)) => Err((key.to_string(), message.to_string())),
            None => Ok(()),
        }
    }
}
