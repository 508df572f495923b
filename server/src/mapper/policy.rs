//! Per-tenant choice of mapping and what happens when a plugin fails.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::declarative::MappingConfig;

/// What to write when a tenant's plugin fails (error, trap, deadline, memory limit, invalid output).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum FailurePolicy {
    /// Use the declarative mapping's writes (nothing if the tenant has none).
    #[default]
    Fallback,
    /// Write nothing.
    WriteNothing,
}

/// The mapping settings of one tenant, read from its `settings` JSON:
/// `{"mapping": {...MappingConfig...}, "plugin_failure_policy": "fallback" | "write_nothing"}`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TenantMapping {
    /// The declarative mapping, if configured.
    pub declarative: Option<MappingConfig>,
    /// The failure policy (the process default when the tenant has none).
    pub failure_policy: FailurePolicy,
}

/// Settings keys.
pub const MAPPING_KEY: &str = "mapping";
/// Settings key of the failure policy.
pub const POLICY_KEY: &str = "plugin_failure_policy";

impl TenantMapping {
    /// Reads and validates a tenant's mapping settings.
    pub fn from_settings(
        settings: &serde_json::Value,
        default_policy: FailurePolicy,
    ) -> Result<Self, String> {
        let declarative = match settings.get(MAPPING_KEY) {
            None | Some(serde_json::Value::Null) => None,
            Some(v) => Some(MappingConfig::from_json(v)?),
        };
        let failure_policy = match settings.get(POLICY_KEY) {
            None | Some(serde_json::Value::Null) => default_policy,
            Some(v) => FailurePolicy::deserialize(v).map_err(|_| {
                format!("`{POLICY_KEY}` must be \"fallback\" or \"write_nothing\", got {v}")
            })?,
        };
        Ok(Self {
            declarative,
            failure_policy,
        })
    }
}
