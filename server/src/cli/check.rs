//! `ml-connector check`: is this installation able to run?

use std::path::Path;

use ml_connector::config::redact_url;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Also check this tenant's upstreams (one line each), e.g. Zendesk's `GET /api/v2/users/me`.
    #[arg(long, value_name = "ID")]
    tenant: Option<ml_connector::tenant::TenantId>,
}

pub async fn run(config_path: Option<&Path>, args: Args) -> anyhow::Result<()> {
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
    let mut failed = Vec::new();
    if let Some(id) = &args.tenant {
        let tenant = services.store.tenant(id).await?;
        let vault = std::sync::Arc::new(services.vault);
        match ml_connector::zendesk::check::check_tenant(
            &tenant,
            &services.store,
            vault,
            &config.zendesk,
        )
        .await
        {
            Ok(report) => println!("zendesk: {}", report.summary()),
            Err(e) => {
                println!("zendesk: FAILED ({}: {e})", e.code());
                failed.push("zendesk");
            }
        }
    }
    if !failed.is_empty() {
        anyhow::bail!("upstream check failed: {}", failed.join(", "));
    }
    Ok(())
}
