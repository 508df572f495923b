//! `ml-connector plugin ...`: WebAssembly mapping plugins.
//!
//! `upload`, `list`, `dry-run`, `activate` and `rollback` work directly on the database (the same
//! `MapperService` code path as the admin API; no running server needed). `test` runs a local component on a
//! sample without uploading anything and prints the writes as JSON.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use ml_connector::http::plugins::PluginVersion;
use ml_connector::mapper::host::limits::PluginManifest;
use ml_connector::mapper::host::{PluginHost, artifact_key};
use ml_connector::mapper::input::Sample;
use ml_connector::mapper::service::MapperService;
use ml_connector::store::PluginRecord;
use ml_connector::tenant::TenantId;

use super::hints::explain;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Validate, compile and store a component as the tenant's next plugin version (not active yet).
    Upload {
        /// The component (.wasm).
        file: PathBuf,
        /// Tenant id (Zendesk subdomain).
        #[arg(long)]
        tenant: TenantId,
        #[command(flatten)]
        manifest: ManifestArgs,
    },
    /// List the tenant's plugin versions.
    List {
        /// Tenant id.
        #[arg(long)]
        tenant: TenantId,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run a stored version on a sample and print the writes it would make (records the dry-run).
    DryRun {
        /// Plugin id (from `plugin list`).
        id: i64,
        /// Tenant id.
        #[arg(long)]
        tenant: TenantId,
        #[command(flatten)]
        sample: SampleArgs,
    },
    /// Make a version that passed a dry-run the active one.
    Activate {
        /// Plugin id.
        id: i64,
        /// Tenant id.
        #[arg(long)]
        tenant: TenantId,
    },
    /// Re-activate the previously active version.
    Rollback {
        /// Tenant id.
        #[arg(long)]
        tenant: TenantId,
    },
    /// Run a local component on a sample, without uploading it; prints the writes as JSON.
    Test {
        /// The component (.wasm).
        file: PathBuf,
        #[command(flatten)]
        sample: SampleArgs,
        #[command(flatten)]
        manifest: ManifestArgs,
    },
}

/// A sample input file.
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
pub struct SampleArgs {
    /// `{"invoice": {...}, "ticket": {...}}` (see mapper-wasm/examples/samples/).
    #[arg(long, value_name = "FILE")]
    invoice: Option<PathBuf>,
    /// `{"supplier": {...}}`.
    #[arg(long, value_name = "FILE")]
    supplier: Option<PathBuf>,
}

impl SampleArgs {
    fn load(&self) -> anyhow::Result<Sample> {
        let read =
            |p: &Path| std::fs::read(p).with_context(|| format!("cannot read {}", p.display()));
        Ok(match (&self.invoice, &self.supplier) {
            (Some(p), _) => {
                Sample::invoice_from_json(&read(p)?).with_context(|| p.display().to_string())?
            }
            (_, Some(p)) => {
                Sample::supplier_from_json(&read(p)?).with_context(|| p.display().to_string())?
            }
            _ => bail!("give --invoice FILE or --supplier FILE"),
        })
    }
}

/// Limits declared for the plugin (each optional; none may exceed the server's `[plugins]` limits).
#[derive(Debug, clap::Args)]
pub struct ManifestArgs {
    /// A name for people.
    #[arg(long)]
    name: Option<String>,
    /// Per-call deadline in milliseconds.
    #[arg(long, value_name = "MS")]
    deadline_ms: Option<u64>,
    /// Memory cap in bytes (at least 16 MiB).
    #[arg(long, value_name = "BYTES")]
    memory_limit_bytes: Option<u64>,
    /// Most writes per call.
    #[arg(long, value_name = "N")]
    max_writes: Option<usize>,
    /// Most bytes of text per call.
    #[arg(long, value_name = "BYTES")]
    max_output_bytes: Option<usize>,
}

impl ManifestArgs {
    fn manifest(&self) -> PluginManifest {
        PluginManifest {
            name: self.name.clone(),
            deadline_ms: self.deadline_ms,
            memory_limit_bytes: self.memory_limit_bytes,
            max_writes: self.max_writes,
            max_output_bytes: self.max_output_bytes,
        }
    }
}

fn print_record(r: &PluginRecord) {
    println!(
        "plugin {} version {} `{}` status {} sha256 {} ({} bytes)",
        r.id, r.version, r.name, r.status, r.sha256, r.size_bytes
    );
}

pub async fn run(config_path: Option<&Path>, cmd: Command) -> anyhow::Result<()> {
    let config = super::load_config(config_path)?;
    super::init_cli_logging(&config);
    if let Command::Test {
        file,
        sample,
        manifest,
    } = &cmd
    {
        return test(&config.plugins, file, sample, manifest).await;
    }
    let app = super::open(&config).await?;
    let host = PluginHost::new(&config.plugins, artifact_key(app.vault()))?;
    let service = MapperService::new(app.store(), &host);
    let mapping_of = async |tenant: &TenantId| {
        app.tenant(tenant)
            .await
            .map_err(|e| anyhow::anyhow!(explain(&e, tenant)))
    };
    match cmd {
        Command::Upload {
            file,
            tenant,
            manifest,
        } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let record = service.upload(&tenant, bytes, &manifest.manifest()).await?;
            print_record(&record);
            println!(
                "next: `ml-connector plugin dry-run {} --tenant {tenant} --invoice SAMPLE.json`",
                record.id
            );
        }
        Command::List { tenant, json } => {
            let plugins = service.list(&tenant).await?;
            if json {
                let shown: Vec<PluginVersion> =
                    plugins.into_iter().map(PluginVersion::from).collect();
                println!("{}", serde_json::to_string_pretty(&shown)?);
            } else if plugins.is_empty() {
                println!(
                    "no plugins for {tenant}; upload one with `ml-connector plugin upload FILE --tenant {tenant}`"
                );
            } else {
                println!(
                    "{:<6} {:<8} {:<12} {:<10} {:<24} SHA256",
                    "ID", "VERSION", "STATUS", "DRY-RUN", "NAME"
                );
                for p in plugins {
                    let dry = match (p.dry_run_at, p.dry_run_ok) {
                        (None, _) => "-",
                        (Some(_), true) => "passed",
                        (Some(_), false) => "failed",
                    };
                    println!(
                        "{:<6} {:<8} {:<12} {:<10} {:<24} {}",
                        p.id,
                        p.version,
                        p.status,
                        dry,
                        p.name,
                        &p.sha256[..16.min(p.sha256.len())]
                    );
                }
            }
        }
        Command::DryRun { id, tenant, sample } => {
            let ctx = mapping_of(&tenant).await?;
            let result = service
                .dry_run(&tenant, ctx.mapping(), id, &sample.load()?)
                .await?;
            println!("{}", serde_json::to_string_pretty(&result)?);
            if !result.ok {
                bail!("dry-run failed: {}", result.message.unwrap_or_default());
            }
            if !result.catalog_checked {
                eprintln!(
                    "note: tenant {tenant} has no Zendesk field catalog yet: the writes were not checked against \
                     its fields, and this dry-run does not unlock activation"
                );
            }
        }
        Command::Activate { id, tenant } => {
            let ctx = mapping_of(&tenant).await?;
            let record = service.activate(&tenant, ctx.mapping(), id).await?;
            print_record(&record);
        }
        Command::Rollback { tenant } => {
            let record = service.rollback(&tenant).await?;
            print_record(&record);
        }
        Command::Test { .. } => unreachable!("handled above"),
    }
    Ok(())
}

async fn test(
    config: &ml_connector::mapper::PluginsConfig,
    file: &Path,
    sample: &SampleArgs,
    manifest: &ManifestArgs,
) -> anyhow::Result<()> {
    let sample = sample.load()?;
    let limits = manifest
        .manifest()
        .limits(config)
        .map_err(|e| anyhow::anyhow!("invalid limits: {e}"))?;
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    // Nothing is stored, so the artifact key only has to live as long as this process.
    let key = {
        use rand::RngCore as _;
        let mut k = [0u8; 32];
        rand::rng().fill_bytes(&mut k);
        mlc_artifact_loader::ArtifactKey::new(k)
    };
    let host = PluginHost::new(config, key)?;
    let compiled = host.compile(bytes.into()).await?;
    let writes = host
        .call(&compiled.loaded, limits, &sample)
        .await
        .map_err(|f| anyhow::anyhow!("{f} (outcome: {})", f.outcome()))?;
    ml_connector::mapper::catalog::FieldCatalog::default()
        .validate_writes(sample.subject(), &writes)
        .map_err(|p| anyhow::anyhow!("the plugin's output was rejected: {p}"))?;
    println!("{}", serde_json::to_string_pretty(&writes)?);
    Ok(())
}
