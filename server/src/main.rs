//! The `ml-connector` command line.

mod cli;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// ml-connector: Workday Financial Management context in Zendesk.
///
/// Reads Workday (never writes to it) and keeps Zendesk organizations and ticket fields up to date.
/// Configuration: a TOML file (--config or MLC_CONFIG) with MLC_* environment overrides; see docs/configuration.md.
#[derive(Debug, Parser)]
#[command(
    name = "ml-connector",
    version,
    propagate_version = true,
    max_term_width = 110
)]
struct Cli {
    /// Configuration file (TOML). Without it, defaults and MLC_* variables apply.
    #[arg(long, short, global = true, env = "MLC_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server (agent API, admin API, webhooks, operations endpoints).
    Serve,
    /// Run the product against the built-in Workday and Zendesk simulators on the embedded default.
    Demo(cli::demo::Args),
    /// Run a supplier → organization sync now (`sync --tenant T [--full]`), or list runs (`sync runs`).
    Sync(cli::sync::Args),
    /// The audit trail of a tenant's writes to Zendesk.
    Audit(cli::sync::AuditArgs),
    /// Enrichment events that were given up on: list them, requeue them.
    #[command(subcommand, name = "dead-letters")]
    DeadLetters(cli::dead_letters::Command),
    /// Check the configuration, the database and the master key (and, with --tenant, the tenant's upstreams).
    Check(cli::check::Args),
    /// Manage tenants (one Zendesk account paired with one Workday tenant) and their sealed credentials.
    #[command(subcommand)]
    Tenant(Box<cli::tenant::Command>),
    /// Upload, list, dry-run, activate, roll back and test WebAssembly mapping plugins.
    #[command(subcommand)]
    Plugin(Box<cli::plugin::Command>),
    /// Set up a tenant's Zendesk in one idempotent run: standard fields, the webhook and its trigger, the
    /// sealed signing secret and the default mapping (docs/setup.md).
    Setup(cli::setup::SetupArgs),
    /// Show, check and replace a tenant's declarative mapping.
    #[command(subcommand)]
    Mapping(cli::setup::MappingCommand),
    /// Show the effective configuration.
    #[command(subcommand)]
    Config(cli::config::Command),
    /// Manage the master key that seals secrets at rest.
    #[command(subcommand)]
    Vault(cli::vault::Command),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve => cli::serve::run(cli.config.as_deref()).await,
            Command::Check(args) => cli::check::run(cli.config.as_deref(), args).await,
            Command::Tenant(cmd) => cli::tenant::run(cli.config.as_deref(), *cmd).await,
            Command::Config(cmd) => cli::config::run(cli.config.as_deref(), cmd),
            Command::Vault(cmd) => cli::vault::run(cli.config.as_deref(), cmd).await,
            Command::Plugin(cmd) => cli::plugin::run(cli.config.as_deref(), *cmd).await,
            Command::Setup(args) => cli::setup::run_setup(cli.config.as_deref(), args).await,
            Command::Mapping(cmd) => cli::setup::run_mapping(cli.config.as_deref(), cmd).await,
            Command::Demo(args) => cli::demo::run(args).await,
            Command::Sync(args) => cli::sync::run(cli.config.as_deref(), args).await,
            Command::Audit(args) => cli::sync::audit(cli.config.as_deref(), args).await,
            Command::DeadLetters(cmd) => cli::dead_letters::run(cli.config.as_deref(), cmd).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
