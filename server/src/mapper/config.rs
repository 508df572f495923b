//! `[plugins]`: limits and defaults of the WebAssembly plugin host.

use serde::{Deserialize, Serialize};

use super::policy::FailurePolicy;

/// Hard ceiling of the per-call deadline, whatever the configuration says.
pub const MAX_DEADLINE_MS: u64 = 1_000;
/// Lowest memory cap: a JavaScript engine needs about 10 MiB to start.
pub const MIN_MEMORY_BYTES: u64 = 16 * 1024 * 1024;

/// `[plugins]`: the WebAssembly mapping plugin host.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PluginsConfig {
    /// Largest plugin upload in bytes (a componentize-js plugin is about 12 MB).
    pub max_upload_bytes: usize,
    /// Per-call deadline in milliseconds (1 to 1000); a plugin's manifest may ask for less, never more.
    pub deadline_ms: u64,
    /// Period of the epoch ticker in milliseconds (1 to 10): a running plugin yields to the other calls at every
    /// tick, so its deadline is noticed at most one tick late.
    pub epoch_tick_ms: u64,
    /// Memory cap per plugin instance in bytes (at least 16 MiB); a manifest may ask for less, not below 16 MiB.
    pub memory_limit_bytes: u64,
    /// Largest input (the JSON size of the supplier or invoice + ticket) passed to a plugin, in bytes.
    pub max_input_bytes: usize,
    /// Most field writes one call may return.
    pub max_writes: usize,
    /// Most bytes of text (targets and values) one call may return.
    pub max_output_bytes: usize,
    /// Plugin instances that may run at once (pooling allocator slots); further calls wait for a slot.
    pub max_concurrent_calls: u32,
    /// What happens when a tenant's plugin fails and the tenant has not chosen: `fallback` (use the declarative
    /// mapping) or `write_nothing`.
    pub failure_policy: FailurePolicy,
}

impl Default for PluginsConfig {
    fn default() -> Self {
        Self {
            max_upload_bytes: 16 * 1024 * 1024,
            deadline_ms: 100,
            epoch_tick_ms: 5,
            memory_limit_bytes: 64 * 1024 * 1024,
            max_input_bytes: 1024 * 1024,
            max_writes: 256,
            max_output_bytes: 256 * 1024,
            max_concurrent_calls: 32,
            failure_policy: FailurePolicy::Fallback,
        }
    }
}

impl PluginsConfig {
    /// Checks value ranges; the error names the first invalid key (under `plugins.`) and what is wrong.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let checks: [(&'static str, bool, String); 8] = [
            (
                "plugins.max_upload_bytes",
                self.max_upload_bytes >= 1024,
                "must be at least 1024".into(),
            ),
            (
                "plugins.deadline_ms",
                (1..=MAX_DEADLINE_MS).contains(&self.deadline_ms),
                format!("must be 1 to {MAX_DEADLINE_MS}"),
            ),
            (
                "plugins.epoch_tick_ms",
                (1..=10).contains(&self.epoch_tick_ms),
                "must be 1 to 10".into(),
            ),
            (
                "plugins.memory_limit_bytes",
                (MIN_MEMORY_BYTES..=4 * 1024 * 1024 * 1024).contains(&self.memory_limit_bytes),
                format!("must be {MIN_MEMORY_BYTES} (16 MiB) to 4 GiB"),
            ),
            (
                "plugins.max_input_bytes",
                self.max_input_bytes >= 1024,
                "must be at least 1024".into(),
            ),
            (
                "plugins.max_writes",
                self.max_writes >= 1,
                "must be at least 1".into(),
            ),
            (
                "plugins.max_output_bytes",
                self.max_output_bytes >= 1024,
                "must be at least 1024".into(),
            ),
            (
                "plugins.max_concurrent_calls",
                (1..=1000).contains(&self.max_concurrent_calls),
                "must be 1 to 1000".into(),
            ),
        ];
        match checks.into_iter().find(|(_, ok, _)| !ok) {
            Some((key, _, message)) => Err((key.to_string(), message)),
            None => Ok(()),
        }
    }
}
