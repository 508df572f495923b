//! `ml-connector demo`: the whole product in one process, against the simulators — a Workday tenant of a
//! manufacturing company and a Zendesk account (`tests/sim`), an embedded SQLite store, a demo tenant set up by
//! the real `setup` code, the server with its scheduler and enrichment workers, a first sync, and a few tickets
//! in the Zendesk simulator whose invoice fields the enrichment fills. With Node.js and the app's packages
//! installed, the simulated Zendesk agent page (`zendesk-app/host`) is started too, with the real app in its
//! sidebar. Ctrl-C stops everything.
//!
//! `--json` prints one line describing the running world (URLs, the tenant's settings, the demo tickets and what
//! they should show) before anything else on stdout: the browser tests of `zendesk-app/` start their world this
//! way.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use base64::Engine as _;
use ml_connector::app::setup;
use ml_connector::startup;
use ml_connector::sync::{RunOptions, Trigger, run_sync};
use ml_connector::tenant::{AdminKey, SecretName, TenantId, WorkdaySettings, ZendeskSettings};
use ml_connector::vault::KeySource;
use ml_connector_sim::workday::data::{Invoice, PayState};
use ml_connector_sim::workday::{SimConfig, WorkdaySim};
use ml_connector_sim::zendesk::{self as zsim, TicketSeed, ZendeskSim};
use rand::RngCore as _;
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Value, json};

/// `ml-connector demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where the demo keeps its database and master key (default: a fresh temporary directory, removed at exit).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Suppliers in the simulated Workday tenant.
    #[arg(long, default_value_t = 40, value_parser = clap::value_parser!(u32).range(3..=100_000))]
    suppliers: u32,
    /// Address of the ml-connector server (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Print one JSON line describing the running demo first (for the browser tests).
    #[arg(long)]
    json: bool,
    /// Do not start the simulated Zendesk agent page (zendesk-app/host), even when Node.js is available.
    #[arg(long)]
    no_host: bool,
}

const TENANT: &str = "demo";

fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A free port on `ip` when `addr` asks for any.
fn concrete(addr: SocketAddr) -> anyhow::Result<SocketAddr> {
    if addr.port() != 0 {
        return Ok(addr);
    }
    let probe = std::net::TcpListener::bind(addr).context("finding a free port")?;
    Ok(probe.local_addr()?)
}

/// Invoices whose number no other invoice shares, by state.
fn pick(invoices: &[Invoice], today: chrono::NaiveDate, overdue: bool) -> Option<Invoice> {
    invoices
        .iter()
        .filter(|i| {
            i.key.state == PayState::Unpaid
                && !i.key.credited
                && (i.key.due_date < today) == overdue
                && invoices
                    .iter()
                    .filter(|o| {
                        o.supplier_invoice_number
                            .eq_ignore_ascii_case(&i.supplier_invoice_number)
                    })
                    .count()
                    == 1
        })
        .max_by_key(|i| i.key.due_date)
        .cloned()
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let (_temp, data_dir) = match &args.data_dir {
        Some(d) => (None, d.clone()),
        None => {
            let t = tempfile::tempdir().context("creating a temporary directory")?;
            let p = t.path().to_path_buf();
            (Some(t), p)
        }
    };
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let say = |line: String| eprintln!("{line}");

    // The simulated upstreams.
    let workday = WorkdaySim::start(SimConfig {
        suppliers: args.suppliers,
        ..SimConfig::default()
    })
    .await
    .context("starting the Workday simulator")?;
    let zendesk = ZendeskSim::start(zsim::SimConfig::default())
        .await
        .context("starting the Zendesk simulator")?;
    say(format!(
        "Workday simulator: {} ({} suppliers); Zendesk simulator: {}",
        workday.base_url(),
        args.suppliers,
        zendesk.base_url()
    ));

    // The server, as `serve` runs it, on SQLite in the data directory.
    let listen = concrete(args.listen)?;
    let mut config = ml_connector::config::Config {
        data_dir: data_dir.clone(),
        ..Default::default()
    };
    config.server.listen = listen;
    config.server.public_url = format!("http://{listen}");
    config.log.filter = std::env::var("MLC_LOG").unwrap_or_else(|_| "warn".into());
    super::init_cli_logging(&config);
    let keys = KeySource::resolve(None, &config.vault.key_file, &config.data_dir);
    let server = startup::start(config, &keys)
        .await
        .context("starting the server")?;
    let backend = format!("http://{}", server.addr());
    let app = server.state().app().clone();
    let store = app.store().clone();

    // The demo tenant: its credentials, a JWT shared secret and an admin key.
    let id = TenantId::parse(TENANT)?;
    let c = workday.config().clone();
    if store.tenant(&id).await.is_err() {
        store
            .create_tenant(
                &id,
                "Demo Manufacturing",
                &WorkdaySettings {
                    base_url: workday.base_url(),
                    tenant: c.tenant.clone(),
                    username: c.username.clone(),
                    ..Default::default()
                },
                &ZendeskSettings {
                    base_url: zendesk.base_url(),
                    email: zsim::DEFAULT_AGENT_EMAIL.into(),
                    ..Default::default()
                },
            )
            .await?;
    } else {
        // A kept data directory: the simulators moved to new ports.
        store
            .modify_tenant(&id, |t| {
                t.workday.base_url = workday.base_url();
                t.zendesk.base_url = zendesk.base_url();
                Ok::<_, ml_connector::store::StoreError>(())
            })
            .await?;
    }
    let shared_secret = random_secret();
    for (name, value) in [
        (SecretName::WorkdayPassword, c.password.clone()),
        (
            SecretName::ZendeskApiToken,
            zsim::DEFAULT_API_TOKEN.to_string(),
        ),
        (SecretName::JwtSharedSecret, shared_secret.clone()),
    ] {
        store
            .put_secret(app.vault(), &id, name, &SecretString::from(value))
            .await?;
    }
    let (admin_key, hash) = AdminKey::generate();
    store.set_admin_key_hash(&id, &hash).await?;
    app.forget(&id).await;

    // Setup, by the real code: fields, webhook, trigger, mapping.
    let ctx = app.tenant(&id).await?;
    let report = setup::run_setup(&app, &ctx, false)
        .await
        .map_err(|e| anyhow::anyhow!("setup: {e}"))?;
    say(format!(
        "setup: {} items found or created (fields, webhook, trigger, mapping)",
        report.steps.len()
    ));

    // The first sync, at once.
    say("sync: reading suppliers and invoices from Workday...".into());
    let outcome = run_sync(
        &app,
        server.state().plugins(),
        &id,
        &RunOptions {
            full: true,
            trigger: Trigger::Manual,
            holder: "demo".into(),
        },
        None,
    )
    .await
    .map_err(|e| anyhow::anyhow!("the first sync failed: {e}"))?;
    say(format!(
        "sync: {} organizations created, {} updated, {} invoices indexed in {:.1}s",
        outcome.stats.orgs_created,
        outcome.stats.orgs_updated,
        outcome.stats.invoices_indexed,
        outcome.elapsed_ms as f64 / 1000.0
    ));

    // Demo tickets: an overdue invoice, one not yet due, and a supplier without invoices.
    let u = workday.universe();
    let invoices: Vec<Invoice> = (0..u.invoice_count()).map(|g| u.invoice(g)).collect();
    let today = chrono::Utc::now().date_naive();
    let mut tickets: Vec<Value> = Vec::new();
    let org_of = async |supplier_id: &str| -> anyhow::Result<Option<i64>> {
        Ok(store
            .indexed_supplier(&id, supplier_id)
            .await?
            .and_then(|s| s.organization_id))
    };
    for (role, overdue) in [("overdue", true), ("uncached", false)] {
        let Some(invoice) = pick(&invoices, today, overdue) else {
            continue;
        };
        let supplier = u.supplier(invoice.supplier);
        let org = org_of(&supplier.id).await?;
        let subject = if overdue {
            format!(
                "Unpaid invoice {} — when will we be paid?",
                invoice.supplier_invoice_number
            )
        } else {
            format!("Question about invoice {}", invoice.supplier_invoice_number)
        };
        let description = format!(
            "Hello, this is {} accounts receivable. Could you tell us the status of invoice {}? Thanks.",
            supplier.name, invoice.supplier_invoice_number
        );
        let ticket_id = zendesk.create_ticket(TicketSeed {
            subject: subject.clone(),
            description: description.clone(),
            organization_id: org.and_then(|o| u64::try_from(o).ok()),
            ..TicketSeed::default()
        })?;
        tickets.push(json!({
            "id": ticket_id, "role": role, "subject": subject, "description": description,
            "requester": {"name": "Accounts receivable", "email": format!("ar@{}.example", supplier.id.to_lowercase())},
            "organization": org.map(|o| json!({"id": o, "name": supplier.name, "externalId": supplier.id})),
            "expect": {"invoice": invoice.supplier_invoice_number, "supplier": supplier.name},
        }));
    }
    let no_invoices = (0..u.supplier_count()).find(|k| invoices.iter().all(|i| i.supplier != *k));
    let stranger = "Where is our payment? We shipped the castings last month.".to_string();
    let ticket_id = zendesk.create_ticket(TicketSeed {
        subject: "Payment question".into(),
        description: stranger.clone(),
        ..TicketSeed::default()
    })?;
    let mut no_supplier = json!({
        "id": ticket_id, "role": "no_supplier", "subject": "Payment question", "description": stranger,
        "requester": {"name": "Unknown sender", "email": "someone@unknown.example"},
        "expect": {},
    });
    if let Some(k) = no_invoices {
        let s = u.supplier(k);
        no_supplier["note"] = json!(format!("supplier {} has no invoices", s.id));
    }
    tickets.push(no_supplier);

    let world = json!({
        "tenant": TENANT,
        "backend_url": backend,
        "settings": {"shared_secret": shared_secret, "admin_key": admin_key.expose_secret()},
        "workday_url": workday.base_url(),
        "zendesk_url": zendesk.base_url(),
        "zendesk_authorization": format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!(
                "{}/token:{}",
                zsim::DEFAULT_AGENT_EMAIL,
                zsim::DEFAULT_API_TOKEN
            ))
        ),
        "tickets": tickets,
        "domain_whitelist": ["127.0.0.1"],
    });
    if args.json {
        println!("{world}");
    }

    // The simulated Zendesk agent page with the real app, when Node.js and the app's packages are there.
    let host = if args.no_host || args.json {
        None
    } else {
        start_host(&data_dir, &world).await
    };

    let overdue = world["tickets"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["role"] == "overdue"))
        .cloned();
    say(String::new());
    say(format!(
        "ml-connector is running: {backend} (API description: {backend}/openapi.json)"
    ));
    match &host {
        Some((_, url)) => say(format!("Zendesk agent view with the app in its sidebar: {url}")),
        None if !args.json => say(
            "(the simulated Zendesk page needs Node.js 20+: `cd zendesk-app && npm ci`, then run demo again)".into(),
        ),
        None => {}
    }
    say(format!(
        "tenant `{TENANT}`; admin key: {}",
        admin_key.expose_secret()
    ));
    say("Three things to try:".into());
    if let Some(t) = &overdue {
        say(format!(
            "  1. the ticket \"{}\" got its invoice fields from Workday: curl -s -H 'Authorization: {}' {}/api/v2/tickets/{}",
            t["subject"].as_str().unwrap_or_default(),
            world["zendesk_authorization"].as_str().unwrap_or_default(),
            zendesk.base_url(),
            t["id"]
        ));
    }
    say(format!(
        "  2. the sync's runs and audit trail: curl -s -H 'Authorization: Bearer {}' {backend}/admin/v1/{TENANT}/sync/runs",
        admin_key.expose_secret()
    ));
    say(format!(
        "  3. a new ticket quoting an invoice is filled within seconds: create one with POST {}/api/v2/tickets, or open a ticket in the agent view",
        zendesk.base_url()
    ));
    say("Ctrl-C stops everything.".into());

    startup::shutdown_signal().await;
    if let Some((mut child, _)) = host {
        let _ = child.kill().await;
    }
    server.shutdown().await.context("stopping the server")?;
    say("demo stopped".into());
    Ok(())
}

/// Starts `node zendesk-app/host/server.mjs` with the demo's tickets; `None` when Node.js or the app is missing.
async fn start_host(
    data_dir: &std::path::Path,
    world: &Value,
) -> Option<(tokio::process::Child, String)> {
    let script = PathBuf::from("zendesk-app/host/server.mjs");
    if !script.exists() || !PathBuf::from("zendesk-app/node_modules").exists() {
        return None;
    }
    let config = data_dir.join("zendesk-host.json");
    std::fs::write(&config, world.to_string()).ok()?;
    let mut child = tokio::process::Command::new("node")
        .arg(&script)
        .arg("--config")
        .arg(&config)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .ok()?;
    let stdout = child.stdout.take()?;
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
    let line = tokio::time::timeout(Duration::from_secs(120), lines.next_line())
        .await
        .ok()?
        .ok()??;
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http"))
        .map_or(line.clone(), str::to_string);
    Some((child, url))
}
