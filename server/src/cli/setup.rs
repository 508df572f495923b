//! `ml-connector setup` and `ml-connector mapping`: provisioning a tenant's Zendesk, and its declarative mapping.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use ml_connector::app::setup::{self, MappingFile, SetupError};
use ml_connector::lookup::{PreviewError, PreviewSubject, preview_mapping};
use ml_connector::mapper::PluginHost;
use ml_connector::mapper::host::artifact_key;
use ml_connector::mapper::service::MappingSource;
use ml_connector::tenant::TenantId;

use super::hints::explain;

/// `ml-connector setup`.
#[derive(Debug, clap::Args)]
pub struct SetupArgs {
    /// The tenant to set up (it needs its Workday and Zendesk credentials: `tenant set-credentials`).
    #[arg(long, value_name = "ID")]
    tenant: TenantId,
    /// Only print what would be found, created or changed; write nothing.
    #[arg(long)]
    dry_run: bool,
}

/// `ml-connector mapping ...`.
#[derive(Debug, clap::Subcommand)]
pub enum MappingCommand {
    /// Print the tenant's mapping (rules and plugin failure policy) as TOML.
    Show {
        /// The tenant.
        #[arg(long, value_name = "ID")]
        tenant: TenantId,
    },
    /// Check FILE against the tenant's Zendesk fields (read now) and store it; a refused file changes nothing.
    Set {
        /// The mapping, TOML: `[[supplier]]` / `[[invoice]]` rules, optional `plugin_failure_policy`.
        file: PathBuf,
        /// The tenant.
        #[arg(long, value_name = "ID")]
        tenant: TenantId,
    },
    /// Check FILE against the tenant's Zendesk fields (read now); store nothing.
    Validate {
        /// The mapping, TOML.
        file: PathBuf,
        /// The tenant.
        #[arg(long, value_name = "ID")]
        tenant: TenantId,
    },
    /// Read one invoice or supplier from Workday now and print the writes the tenant's mapping (rules, then the
    /// active plugin) would make for it; writes nothing.
    #[command(group(clap::ArgGroup::new("record").required(true).args(["invoice", "supplier"])))]
    Preview {
        /// The tenant.
        #[arg(long, value_name = "ID")]
        tenant: TenantId,
        /// An invoice: the number a customer quotes, Workday's invoice number, or its reference ID / WID.
        #[arg(long, value_name = "NUMBER")]
        invoice: Option<String>,
        /// A supplier, by Supplier_ID.
        #[arg(long, value_name = "SUPPLIER_ID")]
        supplier: Option<String>,
        /// Print the preview as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn describe(err: SetupError, tenant: &TenantId) -> anyhow::Error {
    match &err {
        SetupError::Context(e) => anyhow::anyhow!(explain(e, tenant)),
        SetupError::NoPublicUrl => anyhow::anyhow!(
            "{err}; set it in the configuration file ([server] public_url = \"https://…\") or MLC_SERVER__PUBLIC_URL"
        ),
        SetupError::Probe(_) => {
            anyhow::anyhow!("{err}; run `ml-connector check --tenant {tenant}` for details")
        }
        _ => err.into(),
    }
}

/// Runs `setup`. Exit status 0 when everything is in place (or, with --dry-run, always after printing the plan).
pub async fn run_setup(config_path: Option<&Path>, args: SetupArgs) -> anyhow::Result<()> {
    let config = super::load_config(config_path)?;
    super::init_cli_logging(&config);
    let app = super::open(&config).await?;
    let id = args.tenant;
    let ctx = app
        .tenant(&id)
        .await
        .map_err(|e| anyhow::anyhow!(explain(&e, &id)))?;
    let report = setup::run_setup(&app, &ctx, args.dry_run)
        .await
        .map_err(|e| describe(e, &id))?;
    for s in &report.steps {
        println!("{s}");
    }
    match (report.dry_run, report.changed_anything()) {
        (true, true) => println!("dry run: nothing was written"),
        (true, false) | (false, false) => println!("tenant {id} is set up; nothing to change"),
        (false, true) => println!("tenant {id} is set up"),
    }
    Ok(())
}

fn read_file(path: &Path) -> anyhow::Result<MappingFile> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    MappingFile::from_toml(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// Runs `mapping ...`. Exit status 1 when a file is refused (the reason names the rule and the field).
pub async fn run_mapping(config_path: Option<&Path>, cmd: MappingCommand) -> anyhow::Result<()> {
    let config = super::load_config(config_path)?;
    super::init_cli_logging(&config);
    let app = super::open(&config).await?;
    let (MappingCommand::Show { tenant }
    | MappingCommand::Set { tenant, .. }
    | MappingCommand::Validate { tenant, .. }
    | MappingCommand::Preview { tenant, .. }) = &cmd;
    let id = tenant.clone();
    let ctx = app
        .tenant(&id)
        .await
        .map_err(|e| anyhow::anyhow!(explain(&e, &id)))?;
    match cmd {
        MappingCommand::Show { .. } => {
            print!("{}", MappingFile::to_toml(ctx.settings()));
        }
        MappingCommand::Validate { file, .. } => {
            let mapping = read_file(&file)?;
            let rules = setup::check_mapping(&ctx, &mapping)
                .await
                .map_err(|e| describe(e, &id))?;
            println!(
                "{}: valid ({} supplier and {} invoice rules)",
                file.display(),
                rules.supplier.len(),
                rules.invoice.len()
            );
        }
        MappingCommand::Preview {
            invoice,
            supplier,
            json,
            ..
        } => {
            let subject = match (invoice, supplier) {
                (Some(number), _) => PreviewSubject::Invoice(number),
                (None, Some(id)) => PreviewSubject::Supplier(id),
                (None, None) => unreachable!("clap requires --invoice or --supplier"),
            };
            let host = PluginHost::new(&config.plugins, artifact_key(app.vault()))?;
            let preview = preview_mapping(&ctx, app.store(), &host, &subject)
                .await
                .map_err(|e| match e {
                    PreviewError::Context(e) => anyhow::anyhow!(explain(&e, &id)),
                    other => other.into(),
                })?;
            if json {
                println!("{}", serde_json::to_string_pretty(&preview)?);
                return Ok(());
            }
            println!("{}", preview.record);
            let source = match preview.result.source {
                MappingSource::Plugin => "the active plugin",
                MappingSource::Declarative => "the declarative rules",
                MappingSource::Nothing => "nothing (no rules, no active plugin)",
            };
            println!("mapped by: {source}");
            let lines = preview.lines(&ctx);
            if lines.is_empty() {
                println!("no writes");
            }
            for line in lines {
                println!("  {line}");
            }
            for note in &preview.result.notes {
                println!("note: {note}");
            }
            if let Some(failure) = &preview.result.plugin_failure {
                println!(
                    "plugin {} v{} failed: {} (policy {:?} decided the writes above)",
                    failure.plugin_id, failure.version, failure.failure, failure.policy
                );
            }
            println!("preview only: nothing was written");
        }
        MappingCommand::Set { file, .. } => {
            let mapping = read_file(&file)?;
            let rules = setup::set_mapping(&app, &ctx, &mapping)
                .await
                .map_err(|e| describe(e, &id))?;
            println!(
                "stored the mapping of {id} ({} supplier and {} invoice rules)",
                rules.supplier.len(),
                rules.invoice.len()
            );
        }
    }
    Ok(())
}
