//! Logs (tracing, JSON or pretty, on standard error) and metrics (Prometheus text from the `metrics` facade).

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::EnvFilter;

use crate::config::{LogConfig, LogFormat};

/// Installs the global tracing subscriber. Safe to call more than once (later calls are ignored).
pub fn init_logging(config: &LogConfig) {
    let filter = EnvFilter::try_new(&config.filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match config.format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}

static METRICS: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process-wide Prometheus recorder (installed on first use).
pub fn metrics_handle() -> PrometheusHandle {
    METRICS
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // If another recorder is already installed (e.g. by an embedding program), the metrics macros keep
            // feeding that one and ours renders no samples.
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("another metrics recorder is installed; /metrics will stay empty");
            }
            describe();
            handle
        })
        .clone()
}

/// How often [`run_metrics_upkeep`] drains recorded histogram samples.
pub const METRICS_UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// Runs the recorder's upkeep every [`METRICS_UPKEEP_INTERVAL`], forever (abort the task to stop it). A
/// recorder made with `build_recorder` does not do this itself: without it, histogram samples pile up in
/// memory until the next scrape of `/metrics`, without bound when nothing scrapes.
pub async fn run_metrics_upkeep(handle: PrometheusHandle) {
    let mut tick = tokio::time::interval(METRICS_UPKEEP_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        handle.run_upkeep();
    }
}

fn describe() {
    metrics::describe_counter!(
        "mlc_http_requests_total",
        "HTTP requests served, by route and status class"
    );
    metrics::describe_histogram!(
        "mlc_http_request_duration_seconds",
        "HTTP request latency, by route"
    );
    metrics::describe_counter!(
        "mlc_oauth_refreshes_total",
        "OAuth access tokens obtained with a refresh token, by upstream (workday, zendesk)"
    );
    metrics::describe_counter!(
        "mlc_queue_purged_events_total",
        "Processed webhook events deleted by the maintenance task after their retention"
    );
    metrics::describe_gauge!("mlc_build_info", "Always 1; labels carry the version");
    metrics::gauge!("mlc_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
}
