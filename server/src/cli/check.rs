//! `ml-connector check`: is this installation able to run?

use std::path::Path;

use ml_connector::config::redact_url;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub async fn run(config_path: Option<&Path>, _args: Args) -> anyhow::Result<()> {
    let config = super::load_config(config_path)?;
    super::init_cli_logging(&config);
    println!(
        "config: ok ({})",
        config_path.map_or("defaults and MLC_* variables".into(), |p| p
            .display()
            .to_string())
    );
    let services = super::open(&config).await?;
    services.store.ping().await?;
    println!(
        "database: ok ({}, {})",
        services.store.backend().as_str(),
        redact_url(&config.effective_database_url())
    );
    println!("vault: ok (master key {})", services.vault.key_id());
    let tenants = services.store.tenants().await?;
    println!("tenants: {}", tenants.len());
    Ok(())
}
