//! zendesk simulator (being built).

/// Command-line options of `ml-connector-sim zendesk`.
#[derive(Debug, clap::Args)]
pub struct CliArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: std::net::SocketAddr,
}

/// Runs the simulator until interrupted.
pub async fn run_cli(_args: CliArgs) -> anyhow::Result<()> {
    anyhow::bail!("the zendesk simulator is not built yet")
}
