//! `ml-connector sync --tenant T [--full]`, `ml-connector sync runs --tenant T` and `ml-connector audit`.

use std::io::IsTerminal as _;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::{Args as ClapArgs, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use ml_connector::mapper::PluginHost;
use ml_connector::mapper::host::artifact_key;
use ml_connector::store::{AuditQuery, RunStatus};
use ml_connector::sync::run::holder_name;
use ml_connector::sync::{RunOptions, RunStats, SyncError, Trigger, run_sync};
use ml_connector::tenant::TenantId;

use super::hints::explain;

/// `ml-connector sync`.
///
/// Runs a sync of one tenant now, in the terminal: suppliers changed since the last run (all of them with
/// --full) become Zendesk organizations, and the invoice index is refreshed. Exit status: 0 when the run
/// succeeded, 1 when it failed (or could not start: another process is running it, the tenant is not
/// configured), 2 for usage errors.
#[derive(Debug, ClapArgs)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// The tenant (its Zendesk subdomain).
    #[arg(long, value_name = "TENANT", required = true)]
    tenant: Option<TenantId>,
    /// Re-read every supplier and invoice instead of what changed since the last run.
    #[arg(long)]
    full: bool,
    /// Print the outcome as JSON (no progress display).
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The run history of a tenant, newest first: start, end, status, counts, error.
    Runs {
        /// The tenant.
        #[arg(long, value_name = "TENANT")]
        tenant: TenantId,
        /// At most this many runs.
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
}

/// `ml-connector audit`: the audit trail of a tenant's writes to Zendesk, newest first.
#[derive(Debug, ClapArgs)]
pub struct AuditArgs {
    /// The tenant.
    #[arg(long, value_name = "TENANT")]
    tenant: TenantId,
    /// Only rows at or after this time: RFC 3339 (`2026-01-31T08:00:00Z`), a date (`2026-01-31`), or an age
    /// (`90m`, `24h`, `7d`).
    #[arg(long, value_name = "WHEN")]
    since: Option<String>,
    /// Only this Workday object type (`supplier`), or one object (`supplier:S-000042`).
    #[arg(long, value_name = "TYPE[:ID]")]
    object: Option<String>,
    /// Only this sync run.
    #[arg(long, value_name = "ID")]
    run: Option<i64>,
    /// At most this many rows.
    #[arg(long, default_value_t = 100)]
    limit: u32,
    /// JSON output (one array).
    #[arg(long)]
    json: bool,
}

fn when(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// Parses `--since`: RFC 3339, a date, or an age before now; unix ms.
pub fn parse_since(text: &str) -> anyhow::Result<i64> {
    let t = text.trim();
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(t) {
        return Ok(d.timestamp_millis());
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(d
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default()
            .and_utc()
            .timestamp_millis());
    }
    match ml_connector::sync::schedule::parse_duration(t) {
        Ok(secs) => Ok(chrono::Utc::now().timestamp_millis()
            - i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX)),
        Err(_) => bail!(
            "invalid --since `{text}`: use RFC 3339 (2026-01-31T08:00:00Z), a date (2026-01-31) or an age (24h, 7d)"
        ),
    }
}

fn progress_line(s: &RunStats) -> String {
    let mut line = format!(
        "{} · supplier pages {}/{} · orgs created {} updated {} unchanged {}",
        s.phase,
        s.supplier_pages,
        s.supplier_pages_total,
        s.orgs_created,
        s.orgs_updated,
        s.orgs_unchanged
    );
    if s.orgs_failed > 0 {
        line.push_str(&format!(" failed {}", s.orgs_failed));
    }
    line.push_str(&format!(
        " · Zendesk {:.1}s · invoices {}",
        s.zendesk_wait_ms as f64 / 1000.0,
        s.invoices_indexed
    ));
    line
}

pub async fn run(config_path: Option<&Path>, args: Args) -> anyhow::Result<()> {
    let config = super::load_config(config_path)?;
    super::init_cli_logging(&config);
    let app = super::open(&config).await?;
    if let Some(Command::Runs {
        tenant,
        limit,
        json,
    }) = args.command
    {
        app.tenant(&tenant)
            .await
            .map_err(|e| anyhow::anyhow!(explain(&e, &tenant)))?;
        let runs = app.store().sync_runs(&tenant, limit).await?;
        if json {
            println!("{}", serde_json::to_string_pretty(&runs)?);
            return Ok(());
        }
        if runs.is_empty() {
            println!("no sync runs yet for {tenant}; run `ml-connector sync --tenant {tenant}`");
            return Ok(());
        }
        println!(
            "{:>6}  {:<19}  {:<19}  {:<10}  {:<11}  {:<8}  counts",
            "run", "started", "finished", "status", "kind", "trigger"
        );
        for r in runs {
            let stats: RunStats = serde_json::from_value(r.stats.clone()).unwrap_or_default();
            println!(
                "{:>6}  {:<19}  {:<19}  {:<10}  {:<11}  {:<8}  created {} updated {} unchanged {} failed {} invoices {}",
                r.id,
                when(r.started_at),
                r.finished_at.map(when).unwrap_or_else(|| "-".into()),
                r.status.as_str(),
                r.kind,
                r.trigger,
                stats.orgs_created,
                stats.orgs_updated,
                stats.orgs_unchanged,
                stats.orgs_failed,
                stats.invoices_indexed
            );
            if let Some(e) = r.error {
                println!("        error: {e}");
            }
        }
        return Ok(());
    }
    let Some(tenant) = args.tenant else {
        bail!(
            "which tenant? `ml-connector sync --tenant TENANT [--full]` (see `ml-connector tenant list`)"
        );
    };
    let host = PluginHost::new(&config.plugins, artifact_key(app.vault()))?;
    let bar = if args.json || !std::io::stderr().is_terminal() {
        ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden())
    } else {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    };
    let shown = bar.clone();
    let progress = move |s: &RunStats| shown.set_message(progress_line(s));
    let options = RunOptions {
        full: args.full,
        trigger: Trigger::Manual,
        holder: holder_name(),
    };
    let result = run_sync(&app, &host, &tenant, &options, Some(&progress)).await;
    bar.finish_and_clear();
    let outcome = match result {
        Ok(o) => o,
        Err(SyncError::Context(e)) => bail!(explain(&e, &tenant)),
        Err(e @ SyncError::Busy { .. }) => {
            bail!("{e}; see `ml-connector sync runs --tenant {tenant}`")
        }
        Err(e) => return Err(e).context("the sync could not start"),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&outcome)?);
    } else {
        let s = &outcome.stats;
        println!(
            "sync run {} of {tenant}: {} in {:.1}s",
            outcome.run_id,
            outcome.status.as_str(),
            outcome.elapsed_ms as f64 / 1000.0
        );
        println!(
            "  suppliers: {} read on {} page(s), {} skipped",
            s.suppliers_read, s.supplier_pages, s.suppliers_skipped
        );
        println!(
            "  organizations: {} created, {} updated, {} unchanged, {} reconciled, {} failed ({} with a disambiguated name)",
            s.orgs_created,
            s.orgs_updated,
            s.orgs_unchanged,
            s.orgs_reconciled,
            s.orgs_failed,
            s.orgs_disambiguated
        );
        println!(
            "  zendesk: {} batch(es), {:.1}s waiting (rate limits included)",
            s.zendesk_batches,
            s.zendesk_wait_ms as f64 / 1000.0
        );
        println!(
            "  index: {} invoices ({} changed, {} removed), {} payments, {} adjustments",
            s.invoices_indexed,
            s.invoices_changed,
            s.invoices_removed,
            s.payments_indexed,
            s.adjustments_indexed
        );
    }
    if outcome.status != RunStatus::Succeeded {
        bail!(
            "sync run {} failed: {}",
            outcome.run_id,
            outcome.error.unwrap_or_default()
        );
    }
    Ok(())
}

pub async fn audit(config_path: Option<&Path>, args: AuditArgs) -> anyhow::Result<()> {
    let config = super::load_config(config_path)?;
    super::init_cli_logging(&config);
    let app = super::open(&config).await?;
    let tenant = args.tenant;
    app.tenant(&tenant)
        .await
        .map_err(|e| anyhow::anyhow!(explain(&e, &tenant)))?;
    let query = AuditQuery {
        since: args.since.as_deref().map(parse_since).transpose()?,
        object: args.object,
        run_id: args.run,
        limit: args.limit.clamp(1, 10_000),
    };
    let rows = app.store().audit_rows(&tenant, &query).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    if rows.is_empty() {
        println!("no audit rows");
        return Ok(());
    }
    for r in rows {
        println!(
            "{}  {:<10} {}:{} → {}  (run {}, {} {} {} page {}){}",
            when(r.at),
            r.outcome,
            r.object_type,
            r.object_id,
            r.target,
            r.run_id.map_or_else(|| "-".into(), |i| i.to_string()),
            r.service,
            r.operation,
            r.version,
            r.page.map_or_else(|| "-".into(), |p| p.to_string()),
            r.detail.map(|d| format!("  {d}")).unwrap_or_default()
        );
    }
    Ok(())
}

/// `tenant update` options of the sync schedule.
#[derive(Debug, ClapArgs)]
pub struct ScheduleArgs {
    /// Time between scheduled syncs (`30m`, `2h`, `90s`; at least 10s). Clears --sync-cron.
    #[arg(long, value_name = "DURATION", conflicts_with = "sync_cron")]
    sync_interval: Option<String>,
    /// Run scheduled syncs at the times of this cron expression, in the tenant's time zone (`0 */2 * * *`).
    #[arg(long, value_name = "CRON")]
    sync_cron: Option<String>,
    /// IANA time zone of the cron expression and the business hours (`Europe/Berlin`).
    #[arg(long, value_name = "TZ")]
    sync_timezone: Option<String>,
    /// Start scheduled syncs only between these local hours, Monday to Friday (`08:00-18:00`; `off` to drop).
    #[arg(long, value_name = "HH:MM-HH:MM")]
    sync_business_hours: Option<String>,
    /// Start each scheduled run up to this late, by a delay fixed per tenant (`60s`).
    #[arg(long, value_name = "DURATION")]
    sync_jitter: Option<String>,
    /// Turn scheduled syncs on or off (manual runs always work).
    #[arg(long, value_name = "on|off")]
    sync_schedule: Option<OnOff>,
    /// Days of invoice dates the invoice index keeps (invoices not fully paid are kept whatever their age).
    #[arg(long, value_name = "DAYS")]
    sync_invoice_window_days: Option<u32>,
}

/// `on` or `off`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum OnOff {
    /// Enabled.
    On,
    /// Disabled.
    Off,
}

impl ScheduleArgs {
    /// Applies the options given to the tenant's settings; the result must be a valid schedule.
    pub fn apply(&self, settings: &mut ml_connector::tenant::TenantSettings) -> anyhow::Result<()> {
        use ml_connector::sync::schedule::{Schedule, parse_duration};
        let given = self.sync_interval.is_some()
            || self.sync_cron.is_some()
            || self.sync_timezone.is_some()
            || self.sync_business_hours.is_some()
            || self.sync_jitter.is_some()
            || self.sync_schedule.is_some()
            || self.sync_invoice_window_days.is_some();
        if !given {
            return Ok(());
        }
        let s = settings.sync.get_or_insert_with(Default::default);
        if let Some(i) = &self.sync_interval {
            s.interval_secs =
                Some(parse_duration(i).map_err(|e| anyhow::anyhow!("--sync-interval: {e}"))?);
            s.cron = None;
        }
        if let Some(c) = &self.sync_cron {
            s.cron = Some(c.trim().to_string()).filter(|c| !c.is_empty());
        }
        if let Some(tz) = &self.sync_timezone {
            s.timezone = Some(tz.trim().to_string());
        }
        if let Some(b) = &self.sync_business_hours {
            s.business_hours = (b.trim() != "off").then(|| b.trim().to_string());
        }
        if let Some(j) = &self.sync_jitter {
            s.jitter_secs =
                Some(parse_duration(j).map_err(|e| anyhow::anyhow!("--sync-jitter: {e}"))?);
        }
        if let Some(on) = self.sync_schedule {
            s.enabled = Some(matches!(on, OnOff::On));
        }
        if let Some(d) = self.sync_invoice_window_days {
            if d == 0 {
                bail!("--sync-invoice-window-days must be at least 1");
            }
            s.invoice_window_days = Some(d);
        }
        Schedule::from_settings(Some(s))?;
        Ok(())
    }
}

/// The tenant's schedule in one line (`tenant show`).
pub fn describe_schedule(t: &ml_connector::tenant::Tenant) -> String {
    match ml_connector::sync::schedule::Schedule::from_settings(t.settings.sync.as_ref()) {
        Ok(s) => {
            let mut line = s.describe();
            if let Some(d) = t.settings.sync.as_ref().and_then(|s| s.invoice_window_days) {
                line.push_str(&format!(", invoice window {d} days"));
            }
            line
        }
        Err(e) => format!("invalid ({e})"),
    }
}
