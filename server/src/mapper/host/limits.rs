//! A plugin's limits as data: the manifest given at upload (Extism-style), validated against the process
//! ceilings in `[plugins]` and enforced by the host on every call.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::mapper::config::{MIN_MEMORY_BYTES, PluginsConfig};

/// What an uploader declares about a plugin. Every limit is optional; an omitted one takes the process
/// default, and none may exceed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, IntoParams, Default)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PluginManifest {
    /// A name for people (default `plugin`); 1–100 characters.
    #[serde(default)]
    pub name: Option<String>,
    /// Per-call deadline in milliseconds.
    #[serde(default)]
    pub deadline_ms: Option<u64>,
    /// Memory cap in bytes (at least 16 MiB).
    #[serde(default)]
    pub memory_limit_bytes: Option<u64>,
    /// Most writes per call.
    #[serde(default)]
    pub max_writes: Option<usize>,
    /// Most bytes of text per call.
    #[serde(default)]
    pub max_output_bytes: Option<usize>,
}

/// The limits the host enforces on one plugin's calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct PluginLimits {
    /// Per-call deadline in milliseconds.
    pub deadline_ms: u64,
    /// Memory cap in bytes.
    pub memory_limit_bytes: u64,
    /// Largest input in bytes.
    pub max_input_bytes: usize,
    /// Most writes per call.
    pub max_writes: usize,
    /// Most bytes of text per call.
    pub max_output_bytes: usize,
}

impl PluginLimits {
    /// The deadline as a duration.
    pub fn deadline(&self) -> Duration {
        Duration::from_millis(self.deadline_ms)
    }
}

impl PluginManifest {
    /// The display name.
    pub fn display_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| "plugin".to_string())
    }

    /// Validates the manifest against the process ceilings and gives the limits to enforce.
    pub fn limits(&self, config: &PluginsConfig) -> Result<PluginLimits, String> {
        if let Some(name) = &self.name
            && (name.trim().is_empty()
                || name.chars().count() > 100
                || name.chars().any(char::is_control))
        {
            return Err("name must be 1 to 100 printable characters".into());
        }
        fn pick<T: PartialOrd + Copy + std::fmt::Display>(
            what: &str,
            asked: Option<T>,
            ceiling: T,
            floor: T,
        ) -> Result<T, String> {
            match asked {
                None => Ok(ceiling),
                Some(v) if v > ceiling => Err(format!(
                    "{what} {v} exceeds this server's limit of {ceiling}"
                )),
                Some(v) if v < floor => Err(format!("{what} {v} is below the minimum of {floor}")),
                Some(v) => Ok(v),
            }
        }
        Ok(PluginLimits {
            deadline_ms: pick("deadline_ms", self.deadline_ms, config.deadline_ms, 1)?,
            memory_limit_bytes: pick(
                "memory_limit_bytes",
                self.memory_limit_bytes,
                config.memory_limit_bytes,
                MIN_MEMORY_BYTES,
            )?,
            max_input_bytes: config.max_input_bytes,
            max_writes: pick("max_writes", self.max_writes, config.max_writes, 1)?,
            max_output_bytes: pick(
                "max_output_bytes",
                self.max_output_bytes,
                config.max_output_bytes,
                1,
            )?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_may_lower_limits_but_never_raise_them() {
        let config = PluginsConfig::default();
        let ok = PluginManifest {
            deadline_ms: Some(20),
            memory_limit_bytes: Some(MIN_MEMORY_BYTES),
            ..Default::default()
        };
        let limits = ok.limits(&config).unwrap();
        assert_eq!(
            (limits.deadline_ms, limits.max_writes),
            (20, config.max_writes)
        );
        for (bad, needle) in [
            (
                PluginManifest {
                    deadline_ms: Some(5_000),
                    ..Default::default()
                },
                "exceeds",
            ),
            (
                PluginManifest {
                    memory_limit_bytes: Some(1 << 20),
                    ..Default::default()
                },
                "below the minimum",
            ),
            (
                PluginManifest {
                    max_writes: Some(0),
                    ..Default::default()
                },
                "below the minimum",
            ),
            (
                PluginManifest {
                    name: Some(" ".into()),
                    ..Default::default()
                },
                "name",
            ),
        ] {
            let err = bad.limits(&config).unwrap_err();
            assert!(err.contains(needle), "{err}");
        }
    }
}
