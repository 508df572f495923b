//! Process configuration: a TOML file (`ml-connector.toml`) with `MLC_*` environment overrides.
//!
//! Every field is documented here and in `docs/configuration.md` (a test keeps the two in step).
//! Unknown keys are an error that names the key and where it came from (file or environment variable).
//!
//! Environment overrides:
//! - the conventional names `MLC_LISTEN`, `MLC_DATA_DIR`, `MLC_DATABASE_URL`, `MLC_LOG`;
//! - any field by path, sections separated by a double underscore: `MLC_SERVER__REQUEST_TIMEOUT_SECS=60`
//!   sets `server.request_timeout_secs`.
//!
//! `MLC_CONFIG` names the file and `MLC_MASTER_KEY` carries the vault key; neither is a config field.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Environment variables that are not config fields but are read by the binary.
pub const ENV_CONFIG: &str = "MLC_CONFIG";
/// Base64 of the 32-byte master key that seals secrets at rest.
pub const ENV_MASTER_KEY: &str = "MLC_MASTER_KEY";

/// Keys that were renamed: the old name still works, with a warning that names the new one. Kept in step with the
/// table in `docs/configuration.md` (a test checks it).
pub const DEPRECATED_KEYS: &[(&str, &str)] = &[
    ("workday.max_retries", "workday.retry.max_retries"),
    (
        "workday.retry_initial_delay_ms",
        "workday.retry.initial_delay_ms",
    ),
    ("workday.retry_max_delay_ms", "workday.retry.max_delay_ms"),
    ("zendesk.max_retries", "zendesk.retry.max_retries"),
    (
        "zendesk.retry_min_delay_ms",
        "zendesk.retry.initial_delay_ms",
    ),
    ("zendesk.retry_max_delay_ms", "zendesk.retry.max_delay_ms"),
];

/// A deprecated key that was used, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deprecation {
    /// The old key, e.g. `zendesk.retry_min_delay_ms`.
    pub old: &'static str,
    /// The key it now means, e.g. `zendesk.retry.initial_delay_ms`.
    pub new: &'static str,
    /// The file or environment variable it came from.
    pub origin: String,
}

impl std::fmt::Display for Deprecation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "config key `{}` (from {}) is deprecated and will be removed; use `{}`",
            self.old, self.origin, self.new
        )
    }
}

/// Conventional short names for the most common overrides.
const ENV_ALIASES: &[(&str, &str)] = &[
    ("MLC_LISTEN", "server.listen"),
    ("MLC_DATA_DIR", "data_dir"),
    ("MLC_DATABASE_URL", "database_url"),
    ("MLC_LOG", "log.filter"),
];

/// Everything the process needs to know before it touches a tenant.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Directory for the embedded SQLite database, the generated master key (when no key is configured) and
    /// compiled plugin artifacts. Created if missing.
    pub data_dir: PathBuf,
    /// Database URL: `sqlite://PATH` (embedded, the default: `{data_dir}/ml-connector.db`) or
    /// `postgres://user:pass@host:port/db` for several replicas on one PostgreSQL. Empty means the default.
    pub database_url: String,
    /// HTTP server.
    pub server: ServerConfig,
    /// Logging.
    pub log: LogConfig,
    /// Sealing of secrets at rest.
    pub vault: VaultConfig,
    /// Database connection pool.
    pub store: StoreConfig,
    /// Zendesk client and webhook receiver.
    pub zendesk: crate::zendesk::ZendeskConfig,
    /// WebAssembly mapping plugins: limits and failure policy.
    pub plugins: crate::mapper::PluginsConfig,
    /// Workday client defaults (version, services, paging, timeouts, retries, transports).
    pub workday: crate::workday::WorkdayConfig,
    /// Periodic housekeeping of the database while `serve` runs.
    pub maintenance: crate::app::maintenance::MaintenanceConfig,
    /// The sync engine: scheduler, leases, invoice index window, free-mail domains.
    pub sync: crate::sync::SyncConfig,
    /// Ticket enrichment: workers, leases, retries, the patterns that find invoice numbers.
    pub enrichment: crate::sync::enrich::EnrichmentConfig,
    /// The agent API: token checks, the cache of Workday reads.
    pub agent: crate::lookup::AgentConfig,
    /// Deprecated keys this configuration was loaded with (not a key itself); see [`DEPRECATED_KEYS`].
    #[serde(skip)]
    pub deprecations: Vec<Deprecation>,
}

/// `[server]`: the HTTP listener.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// A request that takes longer than this many seconds is answered with 503 `timeout`.
    pub request_timeout_secs: u64,
    /// Largest accepted request body in bytes (plugin uploads have their own, larger limit).
    pub max_body_bytes: usize,
    /// On SIGTERM/SIGINT, in-flight requests get this many seconds to finish before the process exits.
    pub shutdown_grace_secs: u64,
    /// The URL Zendesk reaches this server at (`https://mlc.example.com`), without a trailing slash: `setup`
    /// points the tenant's webhook at `{public_url}/webhooks/zendesk/{tenant}`. Empty: `setup` refuses to run.
    pub public_url: String,
}

/// `[log]`: structured logs on standard error.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// A `tracing` filter, e.g. `info` or `ml_connector=debug,tower_http=info`.
    pub filter: String,
    /// `json` (one object per line, for log shippers) or `pretty` (for people).
    pub format: LogFormat,
}

/// Log line format.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// Human-readable lines.
    Pretty,
}

/// `[vault]`: where the master key comes from when `MLC_MASTER_KEY` is not set.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct VaultConfig {
    /// File holding the base64 master key. Empty means `{data_dir}/master.key`, which `serve` creates on a fresh
    /// database (never over existing sealed data). `MLC_MASTER_KEY` takes precedence over any file.
    pub key_file: String,
}

/// `[store]`: the connection pool.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// Maximum open connections per process.
    pub max_connections: u32,
    /// Seconds to wait for a free connection before a request fails.
    pub acquire_timeout_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./data"),
            database_url: String::new(),
            server: ServerConfig::default(),
            log: LogConfig::default(),
            vault: VaultConfig::default(),
            store: StoreConfig::default(),
            zendesk: crate::zendesk::ZendeskConfig::default(),
            plugins: crate::mapper::PluginsConfig::default(),
            workday: crate::workday::WorkdayConfig::default(),
            maintenance: crate::app::maintenance::MaintenanceConfig::default(),
            sync: crate::sync::SyncConfig::default(),
            enrichment: crate::sync::enrich::EnrichmentConfig::default(),
            agent: crate::lookup::AgentConfig::default(),
            deprecations: Vec::new(),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            request_timeout_secs: 30,
            max_body_bytes: 1024 * 1024,
            shutdown_grace_secs: 20,
            public_url: String::new(),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            filter: "info".into(),
            format: LogFormat::Json,
        }
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout_secs: 10,
        }
    }
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid TOML: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error(
        "unknown config key `{key}` (from {origin}); see docs/configuration.md for the valid keys"
    )]
    UnknownKey { key: String, origin: String },
    #[error("invalid value for `{key}` (from {origin}): {message}")]
    Invalid {
        key: String,
        origin: String,
        message: String,
    },
}

impl Config {
    /// Loads the file at `path` (if any), then applies `MLC_*` overrides from `env`.
    pub fn load<I>(path: Option<&Path>, env: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (String, String)>,
    {
        let (mut table, file_origin) = match path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                    path: p.to_path_buf(),
                    source,
                })?;
                let table: toml::Table =
                    toml::from_str(&text).map_err(|e| ConfigError::Syntax {
                        path: p.to_path_buf(),
                        message: e.to_string().trim().to_string(),
                    })?;
                (table, format!("file {}", p.display()))
            }
            None => (toml::Table::new(), "defaults".to_string()),
        };
        let mut origins: BTreeMap<String, String> = BTreeMap::new();
        let mut deprecations = rename_deprecated(&mut table, &mut origins, &file_origin)?;
        apply_env(&mut table, &mut origins, &mut deprecations, env)?;
        let mut config: Config = serde_path_to_error::deserialize(toml::Value::Table(table))
            .map_err(|e| classify(e, &origins, &file_origin))?;
        config.validate(&origins, &file_origin)?;
        config.deprecations = deprecations;
        Ok(config)
    }

    /// Loads using the process environment (`MLC_CONFIG` names the file when `path` is `None`).
    pub fn from_process_env(path: Option<&Path>) -> Result<Self, ConfigError> {
        let env_path = std::env::var_os(ENV_CONFIG).map(PathBuf::from);
        let path = path.map(Path::to_path_buf).or(env_path);
        Self::load(path.as_deref(), std::env::vars())
    }

    fn validate(
        &self,
        origins: &BTreeMap<String, String>,
        file_origin: &str,
    ) -> Result<(), ConfigError> {
        let origin = |k: &str| {
            origins
                .get(k)
                .cloned()
                .unwrap_or_else(|| file_origin.to_string())
        };
        let url = self.database_url.trim();
        if !url.is_empty() && crate::store::Backend::from_url(url).is_err() {
            return Err(ConfigError::Invalid {
                key: "database_url".into(),
                origin: origin("database_url"),
                message: format!(
                    "expected sqlite://PATH or postgres://..., got `{}`",
                    redact_url(url)
                ),
            });
        }
        let public_url = self.server.public_url.trim();
        let checks: [(&str, bool, &str); 5] = [
            (
                "server.public_url",
                public_url.is_empty()
                    || ((public_url.starts_with("https://") || public_url.starts_with("http://"))
                        && !public_url.ends_with('/')),
                "must be an http(s) URL without a trailing slash",
            ),
            (
                "server.request_timeout_secs",
                self.server.request_timeout_secs > 0,
                "must be at least 1",
            ),
            (
                "server.max_body_bytes",
                self.server.max_body_bytes >= 1024,
                "must be at least 1024",
            ),
            (
                "store.max_connections",
                self.store.max_connections > 0,
                "must be at least 1",
            ),
            (
                "store.acquire_timeout_secs",
                self.store.acquire_timeout_secs > 0,
                "must be at least 1",
            ),
        ];
        for (key, ok, message) in checks {
            if !ok {
                return Err(ConfigError::Invalid {
                    key: key.into(),
                    origin: origin(key),
                    message: message.into(),
                });
            }
        }
        for section in [
            self.workday.validate(),
            self.zendesk.validate(),
            self.plugins.validate(),
            self.maintenance.validate(),
            self.sync.validate(),
            self.enrichment.validate(),
            self.agent.validate(),
        ] {
            let Err((key, message)) = section else {
                continue;
            };
            return Err(ConfigError::Invalid {
                origin: origin(&key),
                key,
                message,
            });
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log.filter).is_err() {
            return Err(ConfigError::Invalid {
                key: "log.filter".into(),
                origin: origin("log.filter"),
                message: format!("`{}` is not a valid tracing filter", self.log.filter),
            });
        }
        Ok(())
    }

    /// The database URL actually used: the configured one, or the SQLite file in the data directory.
    pub fn effective_database_url(&self) -> String {
        let url = self.database_url.trim();
        if url.is_empty() {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("ml-connector.db").display()
            )
        } else {
            url.to_string()
        }
    }

    /// The effective configuration as TOML, with credentials in URLs redacted.
    pub fn to_redacted_toml(&self) -> String {
        let mut shown = self.clone();
        shown.database_url = redact_url(&self.effective_database_url());
        toml::to_string_pretty(&shown).unwrap_or_else(|e| format!("# cannot render config: {e}\n"))
    }
}

/// Replaces credentials in a URL with `***`: the password of `scheme://user:password@host`, and the
/// values of query parameters that carry secrets (`password`, `sslpassword`, `passfile`, ...).
pub fn redact_url(url: &str) -> String {
    const SECRET_PARAMS: [&str; 4] = ["password", "sslpassword", "passfile", "sslkey"];
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            if u.query_pairs()
                .any(|(k, _)| SECRET_PARAMS.contains(&k.to_ascii_lowercase().as_str()))
            {
                let pairs: Vec<(String, String)> = u
                    .query_pairs()
                    .map(|(k, v)| {
                        let secret = SECRET_PARAMS.contains(&k.to_ascii_lowercase().as_str());
                        (
                            k.into_owned(),
                            if secret {
                                "***".to_string()
                            } else {
                                v.into_owned()
                            },
                        )
                    })
                    .collect();
                u.query_pairs_mut().clear().extend_pairs(pairs);
            }
            u.to_string()
        }
        Err(_) => match (url.find("://"), url.rfind('@')) {
            (Some(s), Some(at)) if at > s => format!("{}***{}", &url[..s + 3], &url[at..]),
            _ => url.to_string(),
        },
    }
}

/// Moves the values of deprecated keys in the file to their new keys; both at once is an error.
fn rename_deprecated(
    table: &mut toml::Table,
    origins: &mut BTreeMap<String, String>,
    file_origin: &str,
) -> Result<Vec<Deprecation>, ConfigError> {
    let mut found = Vec::new();
    for (old, new) in DEPRECATED_KEYS {
        let old_parts: Vec<&str> = old.split('.').collect();
        let Some(value) = remove_path(table, &old_parts) else {
            continue;
        };
        let new_parts: Vec<&str> = new.split('.').collect();
        if lookup(table, &new_parts).is_some() {
            return Err(ConfigError::Invalid {
                key: (*old).to_string(),
                origin: file_origin.to_string(),
                message: format!(
                    "deprecated; it and its new name `{new}` are both set: keep `{new}`"
                ),
            });
        }
        insert_path(table, &new_parts, value).map_err(|_| ConfigError::Invalid {
            key: (*new).to_string(),
            origin: file_origin.to_string(),
            message: "is not a table".into(),
        })?;
        let origin = format!("{file_origin}, as deprecated `{old}`");
        origins.insert((*new).to_string(), origin);
        found.push(Deprecation {
            old,
            new,
            origin: file_origin.to_string(),
        });
    }
    Ok(found)
}

fn remove_path(table: &mut toml::Table, parts: &[&str]) -> Option<toml::Value> {
    match parts {
        [] => None,
        [last] => table.remove(*last),
        [first, rest @ ..] => match table.get_mut(*first)? {
            toml::Value::Table(inner) => remove_path(inner, rest),
            _ => None,
        },
    }
}

fn apply_env<I>(
    table: &mut toml::Table,
    origins: &mut BTreeMap<String, String>,
    deprecations: &mut Vec<Deprecation>,
    env: I,
) -> Result<(), ConfigError>
where
    I: IntoIterator<Item = (String, String)>,
{
    let defaults = toml::Table::try_from(Config::default()).unwrap_or_default();
    let mut vars: Vec<(String, String)> = env
        .into_iter()
        .filter(|(k, _)| k.starts_with("MLC_"))
        .collect();
    vars.sort();
    for (name, value) in vars {
        let path = if let Some((_, path)) = ENV_ALIASES.iter().find(|(alias, _)| *alias == name) {
            (*path).to_string()
        } else if let Some(rest) = name.strip_prefix("MLC_").filter(|r| r.contains("__")) {
            rest.split("__")
                .map(str::to_ascii_lowercase)
                .collect::<Vec<_>>()
                .join(".")
        } else {
            // MLC_CONFIG, MLC_MASTER_KEY and names that are not key-shaped are not config fields.
            continue;
        };
        let path = match DEPRECATED_KEYS.iter().find(|(old, _)| *old == path) {
            Some((old, new)) => {
                deprecations.push(Deprecation {
                    old,
                    new,
                    origin: format!("environment variable {name}"),
                });
                (*new).to_string()
            }
            None => path,
        };
        let parts: Vec<&str> = path.split('.').collect();
        let value = typed_env_value(lookup(&defaults, &parts), &value).map_err(|message| {
            ConfigError::Invalid {
                key: path.clone(),
                origin: format!("environment variable {name}"),
                message,
            }
        })?;
        insert_path(table, &parts, value).map_err(|_| ConfigError::UnknownKey {
            key: path.clone(),
            origin: format!("environment variable {name}"),
        })?;
        origins.insert(path, format!("environment variable {name}"));
    }
    Ok(())
}

fn lookup<'a>(table: &'a toml::Table, parts: &[&str]) -> Option<&'a toml::Value> {
    let (first, rest) = parts.split_first()?;
    let value = table.get(*first)?;
    if rest.is_empty() {
        Some(value)
    } else {
        lookup(value.as_table()?, rest)
    }
}

/// Environment values are strings; give them the type the field has by default.
fn typed_env_value(default: Option<&toml::Value>, raw: &str) -> Result<toml::Value, String> {
    use toml::Value;
    match default {
        Some(Value::Integer(_)) => raw
            .trim()
            .parse::<i64>()
            .map(Value::Integer)
            .map_err(|_| format!("expected an integer, got `{raw}`")),
        Some(Value::Float(_)) => raw
            .trim()
            .parse::<f64>()
            .map(Value::Float)
            .map_err(|_| format!("expected a number, got `{raw}`")),
        Some(Value::Boolean(_)) => match raw.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(Value::Boolean(true)),
            "false" | "0" | "no" | "off" => Ok(Value::Boolean(false)),
            _ => Err(format!("expected true or false, got `{raw}`")),
        },
        Some(Value::Array(_)) => toml::from_str::<toml::Table>(&format!("v = {raw}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .ok_or_else(|| format!("expected a TOML array like [\"a\", \"b\"], got `{raw}`")),
        _ => Ok(Value::String(raw.to_string())),
    }
}

fn insert_path(table: &mut toml::Table, parts: &[&str], value: toml::Value) -> Result<(), ()> {
    match parts {
        [] => Err(()),
        [last] => {
            table.insert((*last).to_string(), value);
            Ok(())
        }
        [first, rest @ ..] => {
            let entry = table
                .entry((*first).to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            match entry {
                toml::Value::Table(t) => insert_path(t, rest, value),
                _ => Err(()),
            }
        }
    }
}

fn classify(
    err: serde_path_to_error::Error<toml::de::Error>,
    origins: &BTreeMap<String, String>,
    file_origin: &str,
) -> ConfigError {
    let path = err.path().to_string();
    let message = err.inner().to_string().trim().to_string();
    if let Some(field) = message
        .strip_prefix("unknown field `")
        .and_then(|m| m.split('`').next())
    {
        // serde_path_to_error already ends the path with the field; older versions stop at the parent.
        let key = if path == "." || path.is_empty() {
            field.to_string()
        } else if path == field || path.ends_with(&format!(".{field}")) {
            path.clone()
        } else {
            format!("{path}.{field}")
        };
        let origin = origins
            .get(&key)
            .cloned()
            .unwrap_or_else(|| file_origin.to_string());
        return ConfigError::UnknownKey { key, origin };
    }
    let origin = origins
        .get(&path)
        .cloned()
        .unwrap_or_else(|| file_origin.to_string());
    ConfigError::Invalid {
        key: path,
        origin,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn load_str(text: &str, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ml-connector.toml");
        std::fs::write(&path, text).unwrap();
        Config::load(Some(&path), env(vars))
    }

    #[test]
    fn defaults_need_no_file() {
        let c = Config::load(None, env(&[])).unwrap();
        assert_eq!(c, Config::default());
        assert!(c.effective_database_url().starts_with("sqlite://"));
    }

    #[test]
    fn unknown_nested_key_is_named() {
        let err = load_str("[server]\nlisten = \"127.0.0.1:1\"\nlistne = 3\n", &[]).unwrap_err();
        match err {
            ConfigError::UnknownKey { key, origin } => {
                assert_eq!(key, "server.listne");
                assert!(origin.starts_with("file "), "{origin}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn unknown_top_level_key_is_named() {
        let err = load_str("colour = \"blue\"\n", &[]).unwrap_err();
        assert!(err.to_string().contains("`colour`"), "{err}");
    }

    #[test]
    fn unknown_env_key_is_named_with_its_variable() {
        let err = Config::load(None, env(&[("MLC_SERVER__LISTNE", "x")])).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("server.listne") && text.contains("MLC_SERVER__LISTNE"),
            "{text}"
        );
    }

    #[test]
    fn env_overrides_file_with_types() {
        let c = load_str(
            "data_dir = \"/var/lib/mlc\"\n[server]\nrequest_timeout_secs = 5\n",
            &[
                ("MLC_LISTEN", "0.0.0.0:9999"),
                ("MLC_SERVER__REQUEST_TIMEOUT_SECS", "61"),
                ("MLC_LOG", "debug"),
            ],
        )
        .unwrap();
        assert_eq!(c.server.listen.port(), 9999);
        assert_eq!(c.server.request_timeout_secs, 61);
        assert_eq!(c.log.filter, "debug");
        assert_eq!(c.data_dir, PathBuf::from("/var/lib/mlc"));
    }

    #[test]
    fn bad_value_names_key_and_origin() {
        let err =
            Config::load(None, env(&[("MLC_SERVER__REQUEST_TIMEOUT_SECS", "soon")])).unwrap_err();
        assert!(
            err.to_string().contains("server.request_timeout_secs"),
            "{err}"
        );
        let err = load_str("[server]\nlisten = \"nowhere\"\n", &[]).unwrap_err();
        assert!(err.to_string().contains("server.listen"), "{err}");
    }

    #[test]
    fn database_url_is_checked_and_redacted() {
        let err =
            Config::load(None, env(&[("MLC_DATABASE_URL", "mysql://u:hunter2@h/db")])).unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        let c = Config::load(
            None,
            env(&[("MLC_DATABASE_URL", "postgres://u:hunter2@h:5432/db")]),
        )
        .unwrap();
        let shown = c.to_redacted_toml();
        let query =
            redact_url("postgres://db.internal/mlc?user=mlc&password=hunter2&sslmode=require");
        assert!(
            !query.contains("hunter2") && query.contains("sslmode=require"),
            "{query}"
        );
        assert!(
            !shown.contains("hunter2") && shown.contains("***"),
            "{shown}"
        );
    }

    #[test]
    fn deprecated_keys_still_work_with_a_warning_naming_the_new_key() {
        let c = load_str(
            "[zendesk]\nretry_min_delay_ms = 7\n[workday]\nretry_initial_delay_ms = 9\nmax_retries = 2\n",
            &[("MLC_ZENDESK__RETRY_MAX_DELAY_MS", "70")],
        )
        .unwrap();
        assert_eq!(c.zendesk.retry.initial_delay_ms, 7);
        assert_eq!(c.zendesk.retry.max_delay_ms, 70);
        assert_eq!(c.workday.retry.initial_delay_ms, 9);
        assert_eq!(c.workday.retry.max_retries, 2);
        let warnings: Vec<String> = c.deprecations.iter().map(ToString::to_string).collect();
        assert_eq!(warnings.len(), 4, "{warnings:?}");
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("`zendesk.retry_min_delay_ms`")
                    && w.contains("use `zendesk.retry.initial_delay_ms`")),
            "{warnings:?}"
        );
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("MLC_ZENDESK__RETRY_MAX_DELAY_MS")),
            "{warnings:?}"
        );
        // The new names need no warning; the old and the new name together are refused.
        let c = load_str("[zendesk.retry]\ninitial_delay_ms = 7\n", &[]).unwrap();
        assert!(c.deprecations.is_empty());
        let err = load_str(
            "[zendesk]\nretry_min_delay_ms = 7\n[zendesk.retry]\ninitial_delay_ms = 8\n",
            &[],
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("zendesk.retry.initial_delay_ms"),
            "{err}"
        );
        // A bad value under an old name names where it came from.
        let err = load_str("[workday]\nretry_initial_delay_ms = 99999999\n", &[]).unwrap_err();
        assert!(
            err.to_string().contains("workday.retry.initial_delay_ms")
                && err
                    .to_string()
                    .contains("deprecated `workday.retry_initial_delay_ms`"),
            "{err}"
        );
    }

    #[test]
    fn example_config_in_docs_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/ml-connector.example.toml");
        Config::load(Some(&path), env(&[])).unwrap();
    }

    #[test]
    fn every_field_is_documented() {
        let doc = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/configuration.md"),
        )
        .unwrap();
        fn walk(prefix: &str, t: &toml::Table, out: &mut Vec<String>) {
            for (k, v) in t {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                match v {
                    toml::Value::Table(inner) => walk(&key, inner, out),
                    _ => out.push(key),
                }
            }
        }
        let mut keys = Vec::new();
        walk(
            "",
            &toml::Table::try_from(Config::default()).unwrap(),
            &mut keys,
        );
        let missing: Vec<_> = keys
            .iter()
            .filter(|k| !doc.contains(&format!("`{k}`")))
            .collect();
        assert!(
            missing.is_empty(),
            "fields missing from docs/configuration.md: {missing:?}"
        );
        let undocumented: Vec<_> = DEPRECATED_KEYS
            .iter()
            .filter(|(old, new)| !doc.contains(&format!("| `{old}` | `{new}` |")))
            .collect();
        assert!(
            undocumented.is_empty(),
            "deprecated keys missing from docs/configuration.md: {undocumented:?}"
        );
    }
}
