//! Subcommand implementations of the binary.

pub mod check;
pub mod config;
pub mod dead_letters;
pub mod demo;
pub mod hints;
pub mod plugin;
pub mod serve;
pub mod setup;
pub mod sync;
pub mod tenant;
pub mod vault;
pub mod zendesk_oauth;

use std::io::{BufRead as _, IsTerminal as _};
use std::path::Path;

use anyhow::{Context as _, bail};
use ml_connector::app::App;
use ml_connector::config::{Config, LogConfig, LogFormat};
use ml_connector::startup;
use secrecy::{ExposeSecret as _, SecretString};

/// Loads the configuration (file + environment).
pub fn load_config(path: Option<&Path>) -> anyhow::Result<Config> {
    Ok(Config::from_process_env(path)?)
}

/// Says which deprecated config keys were used (on stderr: these commands talk to a person).
pub fn warn_deprecations(config: &Config) {
    for d in &config.deprecations {
        eprintln!("warning: {d}");
    }
}

/// Human-facing commands log compactly, at `warn` unless MLC_LOG says otherwise, and warn about deprecated keys.
pub fn init_cli_logging(config: &Config) {
    warn_deprecations(config);
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

/// Opens the store and the vault for a command: the application.
pub async fn open(config: &Config) -> anyhow::Result<App> {
    let keys = startup::key_source(config);
    startup::open(config.clone(), &keys)
        .await
        .context("cannot open the database and vault")
}

/// A value that must not be given on the command line (where shell history and process listings would keep
/// it): the environment variable `from_env`, else one line of standard input. On a terminal `what` is the
/// prompt, and the typing is not echoed when `hidden`. The line end is dropped; a blank value is refused.
pub fn read_private(
    from_env: Option<&str>,
    what: &str,
    hidden: bool,
) -> anyhow::Result<SecretString> {
    let value = match from_env {
        Some(var) => {
            std::env::var(var).with_context(|| format!("environment variable {var} is not set"))?
        }
        None => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() && hidden {
                rpassword::prompt_password(format!("{what}: "))
                    .with_context(|| format!("cannot read {what} from the terminal"))?
            } else {
                if stdin.is_terminal() {
                    eprint!("{what}: ");
                }
                let mut line = String::new();
                stdin
                    .lock()
                    .read_line(&mut line)
                    .with_context(|| format!("cannot read {what} from standard input"))?;
                line
            }
        }
    };
    let value = SecretString::from(value.trim_end_matches(['\r', '\n']));
    if value.expose_secret().trim().is_empty() {
        bail!("{what} is empty; nothing was read");
    }
    Ok(value)
}
