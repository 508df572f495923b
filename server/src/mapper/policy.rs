//! Per-tenant choice of mapping and what happens when a plugin fails.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::catalog::FieldCatalog;
use super::declarative::MappingRules;

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

/// The mapping of one tenant, from its settings (`mapping` and `plugin_failure_policy`), its rules checked.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TenantMapping {
    /// The declarative mapping, if configured.
    pub declarative: Option<MappingRules>,
    /// The failure policy (the process default when the tenant has none).
    pub failure_policy: FailurePolicy,
}

impl TenantMapping {
    /// The tenant's mapping: its rules, checked against its field catalog, and its failure policy
    /// (`default_policy` when it chose none).
    pub fn from_settings(
        settings: &crate::tenant::TenantSettings,
        default_policy: FailurePolicy,
    ) -> Result<Self, String> {
        if let Some(rules) = &settings.mapping {
            rules.validate().map_err(|e| e.to_string())?;
        }
        Ok(Self {
            declarative: settings.mapping.clone(),
            failure_policy: settings.plugin_failure_policy.unwrap_or(default_policy),
        })
    }

    /// The Zendesk field catalog the tenant's writes are checked against (empty when the tenant has none).
    pub fn catalog(&self) -> Option<&FieldCatalog> {
        self.declarative
            .as_ref()
            .map(|m| &m.catalog)
            .filter(|c| !c.is_empty())
    }
}
