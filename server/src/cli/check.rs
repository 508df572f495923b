//! `ml-connector check`: is this installation able to run?

use std::path::Path;

use ml_connector::app::probe::probe_tenant;
use ml_connector::config::redact_url;
use ml_connector::tenant::TenantId;

use super::hints::explain;

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
    let app = super::open(&config).await?;
    app.store().ping().await?;
    println!(
        "database: ok ({}, {})",
        app.store().backend().as_str(),
        redact_url(&config.effective_database_url())
    );
    println!("vault: ok (master key {})", app.vault().key_id());
    let tenants = app.store().tenants().await?;
    println!("tenants: {}", tenants.len());
    let Some(id) = args.tenant else {
        return Ok(());
    };
    let ctx = app
        .tenant(&id)
        .await
        .map_err(|e| anyhow::anyhow!(explain(&e, &id)))?;
    let probe = probe_tenant(&ctx).await;
    let mut failed = Vec::new();
    match &probe.workday {
        Ok(lines) => {
            for line in lines {
                println!("{line}");
                if !line.ok {
                    failed.push(line.upstream);
                }
            }
        }
        Err(e) => {
            println!("workday soap: FAILED: {}", explain(e, &id));
            failed.push("workday soap");
        }
    }
    match &probe.zendesk {
        Ok(report) => {
            println!("zendesk: {}", report.summary());
            if let Some(days) = report.refresh_token_expiring() {
                println!(
                    "zendesk: WARNING: the OAuth refresh token expires in {days} days; unless ml-connector \
                     refreshes before then (it does whenever `serve` runs), authorize again: `ml-connector tenant \
                     zendesk-oauth {id} --redirect-uri URL`"
                );
            }
        }
        Err(e) => {
            println!("zendesk: FAILED ({}: {})", e.code(), explain(e, &id));
            failed.push("zendesk");
        }
    }
    if !failed.is_empty() {
        anyhow::bail!("tenant {id}: {} failed", failed.join(", "));
    }
    Ok(())
}
