//! `ml-connector dead-letters list|requeue --tenant T`: the enrichment events that were given up on.

use std::path::Path;

use anyhow::bail;
use clap::Subcommand;
use ml_connector::tenant::TenantId;

use super::hints::explain;

/// `dead-letters` subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The tenant's dead letters, newest first, with the last error of each.
    List {
        /// The tenant.
        #[arg(long, value_name = "TENANT")]
        tenant: TenantId,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Put dead letters back in the queue (attempts reset); a running `serve` processes them.
    Requeue {
        /// The tenant.
        #[arg(long, value_name = "TENANT")]
        tenant: TenantId,
        /// The dead letters' ids (see `dead-letters list`).
        #[arg(value_name = "ID", required_unless_present = "all")]
        ids: Vec<i64>,
        /// Every dead letter of the tenant.
        #[arg(long, conflicts_with = "ids")]
        all: bool,
    },
}

fn when(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// Runs a `dead-letters` subcommand.
pub async fn run(config_path: Option<&Path>, command: Command) -> anyhow::Result<()> {
    let config = super::load_config(config_path)?;
    super::init_cli_logging(&config);
    let app = super::open(&config).await?;
    match command {
        Command::List {
            tenant,
            limit,
            json,
        } => {
            app.tenant(&tenant)
                .await
                .map_err(|e| anyhow::anyhow!(explain(&e, &tenant)))?;
            let rows = app
                .store()
                .dead_letters(&tenant, limit.clamp(1, 10_000))
                .await?;
            if json {
                let rows: Vec<_> = rows
                    .iter()
                    .map(|e| {
                        serde_json::json!({
                            "id": e.id, "event_id": e.event_id, "event_type": e.event_type,
                            "ticket_id": e.ticket_id, "attempts": e.attempts, "last_error": e.last_error,
                            "created_at": e.created_at, "updated_at": e.updated_at,
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
                return Ok(());
            }
            if rows.is_empty() {
                println!("no dead letters for {tenant}");
                return Ok(());
            }
            for e in rows {
                println!(
                    "{:>6}  {}  ticket {}  {} attempt(s)  {}\n        {}",
                    e.id,
                    when(e.updated_at),
                    e.ticket_id,
                    e.attempts,
                    e.event_id,
                    e.last_error.as_deref().unwrap_or("(no error recorded)")
                );
            }
            println!(
                "requeue with: ml-connector dead-letters requeue --tenant {tenant} ID... (or --all)"
            );
            Ok(())
        }
        Command::Requeue { tenant, ids, all } => {
            app.tenant(&tenant)
                .await
                .map_err(|e| anyhow::anyhow!(explain(&e, &tenant)))?;
            let ids = if all {
                app.store()
                    .dead_letters(&tenant, 100_000)
                    .await?
                    .into_iter()
                    .map(|e| e.id)
                    .collect()
            } else {
                ids
            };
            let mut missing = Vec::new();
            let mut requeued = 0;
            for id in ids {
                if app.store().requeue_dead_letter(&tenant, id).await? {
                    requeued += 1;
                } else {
                    missing.push(id.to_string());
                }
            }
            println!("requeued {requeued} event(s) of {tenant}");
            if !missing.is_empty() {
                bail!(
                    "tenant {tenant} has no dead letter with id {}",
                    missing.join(", ")
                );
            }
            Ok(())
        }
    }
}
