//! Subcommand implementations of the binary.

pub mod check;
pub mod config;
pub mod plugin;
pub mod serve;
pub mod tenant;
pub mod vault;
pub mod zendesk_oauth;

use std::path::Path;

use anyhow::Context as _;
use ml_connector::config::{Config, LogConfig, LogFormat};
use ml_connector::startup::{self, Services};

/// A subcommand whose issue has not landed yet (exit status 2).
#[derive(Debug, thiserror::Error)]
#[error("`ml-connector {0}` is not built yet in this version; see README.md for what works today")]
pub struct NotBuiltYet(pub &'static str);

/// Loads the configuration (file + environment).
pub fn load_config(path: Option<&Path>) -> anyhow::Result<Config> {
    Ok(Config::from_process_env(path)?)
}

/// Human-facing commands log compactly, at `warn` unless MLC_LOG says otherwise.
pub fn init_cli_logging(config: &Config) {
    let filter = if std::env::var_os("MLC_LOG").is_some() {
        config.log.filter.clone()
    } else {
        "warn".into()
    };
    ml_connector::telemetry::init_logging(&LogConfig {
        filter,
        format: LogFormat::Pretty,
    });
}

/// Opens store and vault for a command.
pub async fn open(config: &Config) -> anyhow::Result<Services> {
    let keys = startup::key_source(config);
    startup::open(config, &keys)
        .await
        .context("cannot open the database and vault")
}
