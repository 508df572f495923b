//! `ml-connector-sim`: run a simulator standalone.

use clap::{Parser, Subcommand};

/// Workday and Zendesk simulators for ml-connector tests and demos.
#[derive(Debug, Parser)]
#[command(name = "ml-connector-sim", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the Workday simulator (SOAP at /ccx/service/{tenant}/{Service}/{version}, OAuth, REST).
    Workday(ml_connector_sim::workday::CliArgs),
    /// Serve the Zendesk simulator (/api/v2/...), sending signed webhooks.
    Zendesk(ml_connector_sim::zendesk::CliArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SIM_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .init();
    match Cli::parse().command {
        Command::Workday(args) => ml_connector_sim::workday::run_cli(args).await,
        Command::Zendesk(args) => ml_connector_sim::zendesk::run_cli(args).await,
    }
}
