//! `ml-connector config ...`.

use std::path::Path;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print the effective configuration (file + MLC_* overrides + defaults) as TOML, secrets redacted.
    Show,
}

pub fn run(config_path: Option<&Path>, cmd: Command) -> anyhow::Result<()> {
    let config = super::load_config(config_path)?;
    super::warn_deprecations(&config);
    match cmd {
        Command::Show => print!("{}", config.to_redacted_toml()),
    }
    Ok(())
}
