//! `ml-connector vault ...`: the master key.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use ml_connector::startup;
use ml_connector::store::pending_key_path;
use ml_connector::vault::{KeySource, MasterKey, read_key_file, write_key_file};
use secrecy::ExposeSecret as _;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print a new random master key (base64 of 32 bytes) for MLC_MASTER_KEY or a key file.
    GenerateKey,
    /// Show the configured key's id and check that it opens the stored secrets.
    Status,
    /// Re-seal every stored secret under a new master key, in one transaction.
    ///
    /// The new key comes from --new-key-file or MLC_NEW_MASTER_KEY; with neither, one is generated. When the
    /// current key lives in a key file (vault.key_file or the default {data_dir}/master.key), the file is
    /// replaced with the new key once the database has committed. With MLC_MASTER_KEY, set it to the new key
    /// (printed on stdout when generated) before the next start.
    Rotate {
        /// File holding the new base64 key.
        #[arg(long, value_name = "FILE")]
        new_key_file: Option<PathBuf>,
    },
}

pub async fn run(config_path: Option<&Path>, cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::GenerateKey => {
            println!("{}", MasterKey::generate().to_base64().expose_secret());
            Ok(())
        }
        Command::Status => {
            let config = super::load_config(config_path)?;
            super::init_cli_logging(&config);
            let app = super::open(&config).await?;
            println!(
                "master key {} opens the stored secrets",
                app.vault().key_id()
            );
            Ok(())
        }
        Command::Rotate { new_key_file } => rotate(config_path, new_key_file).await,
    }
}

async fn rotate(config_path: Option<&Path>, new_key_file: Option<PathBuf>) -> anyhow::Result<()> {
    let config = super::load_config(config_path)?;
    super::init_cli_logging(&config);
    let keys = startup::key_source(&config);
    let app = super::open(&config).await?;
    let (new_key, generated) = match (new_key_file, std::env::var("MLC_NEW_MASTER_KEY").ok()) {
        (Some(path), _) => (read_key_file(&path)?, false),
        (None, Some(b64)) => (MasterKey::from_base64(&b64, "MLC_NEW_MASTER_KEY")?, false),
        (None, None) => (MasterKey::generate(), true),
    };
    if new_key.id() == app.vault().key_id() {
        bail!(
            "the new key is the current key ({}); nothing to rotate",
            new_key.id()
        );
    }
    // With a key file, write the new key beside it first, so that a crash after the commit is completed at
    // the next start (see Store::unlock_vault).
    let pending = pending_key_path(&keys);
    if let Some(p) = &pending {
        write_key_file(p, &new_key).context("cannot stage the new key file")?;
    }
    let new_b64 = new_key.to_base64();
    let (_, report) = app.store().rotate_vault(app.vault(), new_key).await?;
    match (&keys, &pending) {
        (KeySource::File(path) | KeySource::DefaultFile(path), Some(p)) => {
            std::fs::rename(p, path)
                .with_context(|| format!("cannot move the new key into {}", path.display()))?;
            println!(
                "re-sealed {} secrets: key {} -> {} (key file {} updated)",
                report.resealed,
                report.old_key_id,
                report.new_key_id,
                path.display()
            );
        }
        _ => {
            println!(
                "re-sealed {} secrets: key {} -> {}",
                report.resealed, report.old_key_id, report.new_key_id
            );
            if generated {
                eprintln!("set MLC_MASTER_KEY to this new key before the next start (shown once):");
                println!("{}", new_b64.expose_secret());
            } else {
                eprintln!("set MLC_MASTER_KEY to the new key before the next start");
            }
        }
    }
    Ok(())
}
