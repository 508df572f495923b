//! `ml-connector serve`.

use std::path::Path;
use std::time::Duration;

use ml_connector::startup;

pub async fn run(config_path: Option<&Path>) -> anyhow::Result<()> {
    let config = super::load_config(config_path)?;
    ml_connector::telemetry::init_logging(&config.log);
    for d in &config.deprecations {
        tracing::warn!(key = d.old, use_instead = d.new, origin = %d.origin, "{d}");
    }
    let grace = Duration::from_secs(config.server.shutdown_grace_secs);
    let keys = startup::key_source(&config);
    let server = startup::start(config, &keys).await?;
    server.run_until(startup::shutdown_signal(), grace).await?;
    Ok(())
}
