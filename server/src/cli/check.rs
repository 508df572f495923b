//! `ml-connector check`: is this installation able to run?

use std::path::Path;

use ml_connector::config::redact_url;
use ml_connector::tenant::TenantId;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Also probe this tenant's upstreams with its stored credentials (one line per upstream; exit status 1
    /// when any fails).
    #[arg(long, value_name = "ID")]
    tenant: Option<TenantId>,
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
    let Some(id) = args.tenant else {
        return Ok(());
    };
    let tenant = services.store.tenant(&id).await?;
    let mut failed = Vec::new();
    let vault = std::sync::Arc::new(services.vault);
    let workday = ml_connector::workday::check::check_tenant(
        &config.workday,
        &services.store,
        vault.clone(),
        &tenant,
    )
    .await;
    for line in workday {
        println!("{line}");
        if !line.ok {
            failed.push(line.upstream);
        }
    }
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
    if !failed.is_empty() {
        anyhow::bail!("tenant {id}: {} failed", failed.join(", "));
    }
    Ok(())
}
