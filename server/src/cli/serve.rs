//! `ml-connector serve`.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use ml_connector::startup;

pub async fn run(config_path: Option<&Path>) -> anyhow::Result<()> {
    let config = super::load_config(config_path)?;
    ml_connector::telemetry::init_logging(&config.log);
    let services = super::open(&config).await?;
    let listener = tokio::net::TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.server.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(
        %addr,
        backend = services.store.backend().as_str(),
        key_id = %services.vault.key_id(),
        "ml-connector listening"
    );
    let grace = Duration::from_secs(config.server.shutdown_grace_secs);
    let (signalled_tx, signalled_rx) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async move {
        startup::shutdown_signal().await;
        let _ = signalled_tx.send(());
    };
    let server = tokio::spawn(startup::serve(config, services, listener, shutdown));
    tokio::pin!(server);
    tokio::select! {
        done = &mut server => return Ok(done.context("server task failed")??),
        _ = signalled_rx => {}
    }
    match tokio::time::timeout(grace, &mut server).await {
        Ok(done) => Ok(done.context("server task failed")??),
        Err(_) => {
            tracing::warn!(
                grace_secs = grace.as_secs(),
                "requests still running after the grace period; exiting"
            );
            Ok(())
        }
    }
}
