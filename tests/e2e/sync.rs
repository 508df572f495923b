//! `ml-connector sync` against both simulators, through the real binary: 1,000 suppliers become 1,000
//! organizations (external_id, name, domain_names); a second run with no Workday change sends Zendesk nothing;
//! one renamed supplier is exactly one update; a new supplier whose name collides gets a disambiguated name;
//! the invoice index answers an exact invoice number and a prefix; every write has its audit row.

use std::collections::{HashMap, HashSet};
use std::process::Output;

use ml_connector::config::StoreConfig;
use ml_connector::store::Store;
use ml_connector::tenant::TenantId;
use ml_connector_sim::workday::{SimConfig, WorkdaySim};
use ml_connector_sim::zendesk::{self as zsim, ZendeskSim};
use serde_json::Value;

use crate::support::{Env, stderr};

/// `tenant add acme` against both simulators, with its secrets.
fn add_acme(env: &Env, wd: &WorkdaySim, zendesk_url: &str) {
    let c = wd.config();
    env.ok(&[
        "tenant",
        "add",
        "acme",
        "--workday-url",
        &wd.base_url(),
        "--workday-tenant",
        &c.tenant,
        "--workday-user",
        &c.username,
        "--zendesk-url",
        zendesk_url,
        "--zendesk-email",
        zsim::DEFAULT_AGENT_EMAIL,
    ]);
    env.secret("acme", "zendesk-api-token", zsim::DEFAULT_API_TOKEN);
    env.secret("acme", "workday-password", &c.password);
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

fn sync(env: &Env, extra: &[&str]) -> Output {
    let mut args = vec!["sync", "--tenant", "acme"];
    args.extend_from_slice(extra);
    env.run(&args)
}

#[track_caller]
fn succeeded(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "sync failed:\n{stdout}\n{}",
        stderr(out)
    );
    stdout
}

/// Writes (anything but a GET) that reached the Zendesk simulator.
fn writes(zendesk: &ZendeskSim) -> Vec<String> {
    zendesk
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

fn orgs_by_external_id(zendesk: &ZendeskSim) -> HashMap<String, Value> {
    let mut out = HashMap::new();
    for org in zendesk.organizations() {
        let ext = org["external_id"].as_str().unwrap_or_default().to_string();
        assert!(
            out.insert(ext.clone(), org).is_none(),
            "external_id {ext} twice"
        );
    }
    out
}

async fn open_store(env: &Env) -> Store {
    let url = format!("sqlite://{}", env.data().join("ml-connector.db").display());
    Store::open(&url, &StoreConfig::default()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suppliers_become_organizations_once_and_only_changes_are_written() {
    let wd = WorkdaySim::start(SimConfig {
        suppliers: 1000,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let zendesk = ZendeskSim::start(zsim::SimConfig::default()).await.unwrap();
    let env = Env::new();
    let zendesk_url = zendesk.base_url();
    add_acme(&env, &wd, &zendesk_url);

    // Initial run: 1,000 organizations.
    let (env, out) = blocking(move || {
        let out = sync(&env, &[]);
        (env, out)
    })
    .await;
    let stdout = succeeded(&out);
    assert!(stdout.contains("organizations: 1000 created"), "{stdout}");
    let orgs = orgs_by_external_id(&zendesk);
    assert_eq!(orgs.len(), 1000);
    let u = wd.universe();
    let mut names = HashSet::new();
    for k in 0..1000 {
        let s = u.supplier(k);
        let org = &orgs[&s.id];
        let name = org["name"].as_str().unwrap();
        assert!(names.insert(name.to_lowercase()), "name {name} twice");
        // The supplier's name, or (when another supplier has it) a disambiguated form that keeps it.
        assert!(name.starts_with(&s.name), "{} → {name}", s.name);
        let domain = s.email.rsplit_once('@').unwrap().1.to_string();
        assert_eq!(org["domain_names"], serde_json::json!([domain]), "{}", s.id);
        assert!(
            org["tags"]
                .as_array()
                .unwrap()
                .contains(&serde_json::json!("workday_supplier"))
        );
    }

    // No change in Workday: Zendesk sees no request at all.
    zendesk.clear_log();
    let (env, out) = blocking(move || {
        let out = sync(&env, &[]);
        (env, out)
    })
    .await;
    let stdout = succeeded(&out);
    assert!(
        zendesk.requests().is_empty(),
        "no-change run sent {:?}",
        zendesk
            .requests()
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect::<Vec<_>>()
    );
    assert!(stdout.contains("0 created, 0 updated"), "{stdout}");

    // One renamed supplier: exactly one write, an update of its organization.
    u.rename_supplier(4, "Renamed Holdings Inc");
    zendesk.clear_log();
    let (env, out) = blocking(move || {
        let out = sync(&env, &[]);
        (env, out)
    })
    .await;
    let stdout = succeeded(&out);
    assert!(stdout.contains("0 created, 1 updated"), "{stdout}");
    let w = writes(&zendesk);
    assert_eq!(w.len(), 1, "{w:?}");
    let orgs = orgs_by_external_id(&zendesk);
    assert_eq!(orgs["S-000005"]["name"], "Renamed Holdings Inc");

    // A new supplier whose name is taken: created with a disambiguated name.
    let taken = u.supplier(0).name;
    let k = u.add_supplier(&taken);
    zendesk.clear_log();
    let (env, out) = blocking(move || {
        let out = sync(&env, &[]);
        (env, out)
    })
    .await;
    let stdout = succeeded(&out);
    assert!(stdout.contains("1 created, 0 updated"), "{stdout}");
    let orgs = orgs_by_external_id(&zendesk);
    assert_eq!(orgs.len(), 1001);
    let new = &orgs[&format!("S-{:06}", k + 1)];
    let name = new["name"].as_str().unwrap();
    assert_ne!(name.to_lowercase(), taken.to_lowercase());
    assert!(name.starts_with(&taken), "{name}");

    // The audit trail: one row per organization write.
    let audit: Vec<Value> =
        serde_json::from_str(&env.ok(&["audit", "--tenant", "acme", "--json", "--limit", "5000"]))
            .unwrap();
    let count = |outcome: &str| audit.iter().filter(|r| r["outcome"] == outcome).count();
    assert_eq!(count("created"), 1001);
    assert_eq!(count("updated"), 1);
    assert!(audit.iter().all(|r| r["operation"] == "Get_Suppliers"
        && r["service"] == "Resource_Management"
        && r["version"] == "v46.1"));

    // The run history.
    let runs = env.ok(&["sync", "runs", "--tenant", "acme"]);
    assert_eq!(runs.matches("succeeded").count(), 4, "{runs}");

    // The invoice index: an exact supplier invoice number, and a prefix.
    let anchor = u.anchor();
    let invoice = (0..u.invoice_count())
        .map(|g| u.invoice(g))
        .find(|i| i.key.invoice_date >= anchor - chrono::Duration::days(90))
        .expect("a recent invoice");
    let store = open_store(&env).await;
    let tenant = TenantId::parse("acme").unwrap();
    let found = store
        .invoices_by_number(&tenant, &invoice.supplier_invoice_number)
        .await
        .unwrap();
    assert!(
        found
            .iter()
            .any(|i| i.reference_id.as_deref() == Some(invoice.reference_id.as_str())),
        "{} not found: {found:?}",
        invoice.supplier_invoice_number
    );
    let hit = found
        .iter()
        .find(|i| i.reference_id.as_deref() == Some(invoice.reference_id.as_str()))
        .unwrap();
    assert_eq!(hit.supplier_id, format!("S-{:06}", invoice.supplier + 1));
    let prefix: String = invoice.supplier_invoice_number.chars().take(5).collect();
    let by_prefix = store
        .invoices_by_prefix(&tenant, &prefix.to_lowercase(), 20)
        .await
        .unwrap();
    assert!(!by_prefix.is_empty());
    assert!(by_prefix.iter().all(|i| {
        let p = prefix.to_lowercase();
        i.supplier_invoice_number
            .as_deref()
            .is_some_and(|n| n.to_lowercase().starts_with(&p))
            || i.invoice_number
                .as_deref()
                .is_some_and(|n| n.to_lowercase().starts_with(&p))
    }));
    // Totals are decimal text.
    let totals = store
        .supplier_totals(&tenant, &hit.supplier_id)
        .await
        .unwrap();
    for t in totals {
        assert!(t.open_amount.parse::<rust_decimal::Decimal>().is_ok());
    }
}

/// Both simulators failing: Workday answers 20% of requests with 429, 503 or a dropped connection; Zendesk
/// fails 20% of API requests (503, 429, connection reset before processing, and after committing a write),
/// on top of scripted 503s, 429s and resets on the bulk endpoints. The sync is
/// killed (SIGKILL) mid-run and run again until it succeeds: every supplier is then in Zendesk exactly once,
/// and every organization has its audit row (created, reconciled, or interrupted by the kill).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_and_faulty_runs_leave_every_supplier_exactly_once_and_audited() {
    use ml_connector_sim::workday::FaultConfig;
    use ml_connector_sim::zendesk::{Fault, FaultKind};
    const N: u32 = 600;
    let wd = WorkdaySim::start(SimConfig {
        suppliers: N,
        faults: FaultConfig {
            rate_429: 0.07,
            rate_503: 0.07,
            rate_drop: 0.06,
            seed: 7,
            ..FaultConfig::default()
        },
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let zendesk = ZendeskSim::start(zsim::SimConfig::default()).await.unwrap();
    for fault in [
        Fault::new(FaultKind::Status(503))
            .on("POST", "/api/v2/organizations/create_many")
            .times(2),
        Fault::new(FaultKind::RateLimited {
            retry_after_secs: 1,
        })
        .on("GET", "/api/v2/organizations/show_many")
        .times(2),
        Fault::new(FaultKind::ResetAfterCommit)
            .on("POST", "/api/v2/organizations/create_many")
            .times(1),
        Fault::new(FaultKind::ResetBeforeProcessing)
            .on("GET", "/api/v2/job_statuses/*")
            .times(2),
    ] {
        zendesk.inject(fault);
    }
    zendesk.set_random_faults(0.2, 11);
    let env = Env::new();
    add_acme(&env, &wd, &zendesk.base_url());

    // Kill the first run once part of the organizations exist.
    let mut child = env
        .cmd(&["sync", "--tenant", "acme"])
        .env("MLC_SYNC__LEASE_SECS", "3")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    crate::support::wait_for_condition(std::time::Duration::from_secs(120), || {
        zendesk.organizations().len() >= 100
    });
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let after_kill = zendesk.organizations().len();
    assert!(after_kill < N as usize, "the run was not interrupted");

    // Run again until a run succeeds: the killed run's lease must expire first (3 s here), and a run may fail
    // when Workday keeps failing past the retries.
    let (env, last) = blocking(move || {
        let started = std::time::Instant::now();
        loop {
            let out = env
                .cmd(&["sync", "--tenant", "acme"])
                .env("MLC_SYNC__LEASE_SECS", "3")
                .output()
                .unwrap();
            if out.status.success() || started.elapsed() > std::time::Duration::from_secs(180) {
                return (env, out);
            }
            std::thread::sleep(std::time::Duration::from_millis(250));
        }
    })
    .await;
    succeeded(&last);
    let faulted = zendesk
        .requests()
        .iter()
        .filter(|r| r.fault.is_some())
        .count();
    assert!(faulted >= 10, "only {faulted} Zendesk faults were injected");
    let orgs = orgs_by_external_id(&zendesk); // panics on a duplicate external_id
    assert_eq!(orgs.len(), N as usize);
    let mut names = HashSet::new();
    for org in orgs.values() {
        assert!(names.insert(org["name"].as_str().unwrap().to_lowercase()));
    }

    let audit: Vec<Value> =
        serde_json::from_str(&env.ok(&["audit", "--tenant", "acme", "--json", "--limit", "10000"]))
            .unwrap();
    let mut created: HashMap<String, usize> = HashMap::new();
    let mut accounted: HashSet<String> = HashSet::new();
    for r in &audit {
        let id = r["object_id"].as_str().unwrap().to_string();
        match r["outcome"].as_str().unwrap() {
            "created" => {
                *created.entry(id.clone()).or_default() += 1;
                accounted.insert(id);
            }
            "reconciled" | "interrupted" => {
                accounted.insert(id);
            }
            "pending" => panic!("a pending audit row was left: {r}"),
            _ => {}
        }
    }
    assert!(
        created.values().all(|&n| n == 1),
        "an organization created twice"
    );
    for ext in orgs.keys() {
        assert!(
            accounted.contains(ext),
            "no audit row for the write of {ext}"
        );
    }
}

/// A fresh PostgreSQL schema on `TEST_POSTGRES_URL` (None when unset and not required).
async fn postgres_url() -> Option<String> {
    use sqlx::Connection as _;
    let Ok(server) = std::env::var("TEST_POSTGRES_URL") else {
        let required =
            std::env::var_os("TEST_REQUIRE_POSTGRES").is_some() || std::env::var_os("CI").is_some();
        assert!(
            !required,
            "TEST_POSTGRES_URL is not set; run the tests with scripts/test"
        );
        eprintln!("note: TEST_POSTGRES_URL not set; the two-replica test is skipped");
        return None;
    };
    sqlx::any::install_default_drivers();
    let schema = format!("mlc_e2e_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::AnyConnection::connect(&server).await.unwrap();
    // Safe: the name is generated here.
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&mut conn)
        .await
        .unwrap();
    let mut url = url::Url::parse(&server).unwrap();
    url.query_pairs_mut()
        .append_pair("options", &format!("-c search_path={schema}"));
    Some(url.to_string())
}

/// Two `serve` processes on one PostgreSQL database share a tenant's schedule: each slot runs once, and runs
/// never overlap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_run_each_scheduled_slot_once() {
    let Some(db_url) = postgres_url().await else {
        return;
    };
    let wd = WorkdaySim::start(SimConfig {
        suppliers: 30,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let zendesk = ZendeskSim::start(zsim::SimConfig::default()).await.unwrap();
    let env = Env::new();
    let with_db = |c: &mut std::process::Command| {
        c.env("MLC_DATABASE_URL", &db_url);
    };
    let run = |args: &[&str]| {
        let mut c = env.cmd(args);
        with_db(&mut c);
        let out = c.output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    };
    let c = wd.config().clone();
    run(&[
        "tenant",
        "add",
        "acme",
        "--workday-url",
        &wd.base_url(),
        "--workday-tenant",
        &c.tenant,
        "--workday-user",
        &c.username,
        "--zendesk-url",
        &zendesk.base_url(),
        "--zendesk-email",
        zsim::DEFAULT_AGENT_EMAIL,
    ]);
    for (name, value) in [
        ("zendesk-api-token", zsim::DEFAULT_API_TOKEN),
        ("workday-password", c.password.as_str()),
    ] {
        let mut cmd = env.cmd(&[
            "tenant",
            "set-credentials",
            "acme",
            name,
            "--from-env",
            "SECRET_VALUE",
        ]);
        with_db(&mut cmd);
        let out = cmd.env("SECRET_VALUE", value).output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    run(&[
        "tenant",
        "update",
        "acme",
        "--sync-interval",
        "10s",
        "--sync-jitter",
        "0s",
    ]);
    let mut show = env.cmd(&["tenant", "show", "acme"]);
    with_db(&mut show);
    let shown = String::from_utf8(show.output().unwrap().stdout).unwrap();
    assert!(shown.contains("sync schedule:    every 10s"), "{shown}");

    let mut servers: Vec<std::process::Child> = (0..2)
        .map(|_| {
            let mut c = env.cmd(&["serve"]);
            with_db(&mut c);
            c.env("MLC_LISTEN", "127.0.0.1:0")
                .env("MLC_SYNC__SCHEDULER_TICK_SECS", "1")
                .env("MLC_SYNC__LEASE_SECS", "6")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    let store = Store::open(&db_url, &StoreConfig::default()).await.unwrap();
    let tenant = TenantId::parse("acme").unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let runs = loop {
        let runs: Vec<_> = store
            .sync_runs(&tenant, 100)
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.trigger == "schedule" && r.finished_at.is_some())
            .collect();
        if runs.len() >= 3 {
            break runs;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "only {} scheduled runs: {runs:?}",
            runs.len()
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    for s in &mut servers {
        let _ = s.kill();
        let _ = s.wait();
    }
    let mut runs = runs;
    runs.sort_by_key(|r| r.started_at);
    let mut slots = HashSet::new();
    for r in &runs {
        assert!(
            r.status == ml_connector::store::RunStatus::Succeeded,
            "{r:?}"
        );
        assert!(
            slots.insert(r.started_at / 10_000),
            "two runs in one slot: {runs:?}"
        );
    }
    for pair in runs.windows(2) {
        assert!(
            pair[0].finished_at.unwrap() <= pair[1].started_at,
            "overlapping runs: {runs:?}"
        );
    }
    assert_eq!(zendesk.organizations().len(), 30);
}

/// Peak resident memory (VmHWM) of a process so far, in kB.
fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

/// Runs `sync --tenant acme` as a child; returns (wall time, peak RSS in kB, output).
fn timed_sync(env: &Env) -> (std::time::Duration, u64, Output) {
    let started = std::time::Instant::now();
    let mut child = env
        .cmd(&["sync", "--tenant", "acme"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut peak = 0;
    while child.try_wait().unwrap().is_none() {
        peak = peak.max(peak_rss_kb(pid).unwrap_or(0));
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    let out = child.wait_with_output().unwrap();
    (started.elapsed(), peak, out)
}

async fn bench_world(suppliers: u32, plan: zsim::Plan, rpm: u32) -> (WorkdaySim, ZendeskSim, Env) {
    let wd = WorkdaySim::start(SimConfig {
        suppliers,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let zendesk = ZendeskSim::start(zsim::SimConfig {
        plan,
        ..zsim::SimConfig::default()
    })
    .await
    .unwrap();
    let env = Env::new();
    add_acme(&env, &wd, &zendesk.base_url());
    env.ok(&[
        "tenant",
        "update",
        "acme",
        "--zendesk-rpm",
        &rpm.to_string(),
    ]);
    (wd, zendesk, env)
}

/// The sync's figures (not a test: run it on purpose, see docs/operations.md "Sync figures"):
/// `BENCH_PHASES` = any of `requests`, `rate`, `rss` (default all three); `BENCH_RATE_SUPPLIERS` (default
/// 10000), `BENCH_RSS_SUPPLIERS` (default 100000).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: minutes long; prints figures"]
async fn bench_sync_figures() {
    let phases = std::env::var("BENCH_PHASES").unwrap_or_else(|_| "requests,rate,rss".into());
    let number = |var: &str, default: u32| {
        std::env::var(var)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    if phases.contains("requests") {
        let (_wd, zendesk, env) = bench_world(1000, zsim::Plan::Enterprise, 700).await;
        let (env, (t, _, out)) = blocking(move || {
            let r = timed_sync(&env);
            (env, r)
        })
        .await;
        succeeded(&out);
        let initial = zendesk.requests().len();
        zendesk.clear_log();
        let (_env, (_, _, out)) = blocking(move || {
            let r = timed_sync(&env);
            (env, r)
        })
        .await;
        succeeded(&out);
        println!(
            "FIGURE zendesk requests per 1,000 suppliers: initial {initial} ({:.1}s), no-change re-run {}",
            t.as_secs_f64(),
            zendesk.requests().len()
        );
    }
    if phases.contains("rate") {
        let n = number("BENCH_RATE_SUPPLIERS", 10_000);
        let (_wd, zendesk, env) = bench_world(n, zsim::Plan::Enterprise, 700).await;
        let (_env, (t, _, out)) = blocking(move || {
            let r = timed_sync(&env);
            (env, r)
        })
        .await;
        succeeded(&out);
        let requests = zendesk.requests().len();
        let throttled = zendesk
            .requests()
            .iter()
            .filter(|r| r.status == Some(429))
            .count();
        let minimum = requests as f64 / 700.0 * 60.0;
        println!(
            "FIGURE {n} suppliers at 700 rpm: {:.1}s wall, {requests} requests ({throttled} answered 429), \
             minimum the limit allows for them {minimum:.1}s, ratio {:.2}",
            t.as_secs_f64(),
            t.as_secs_f64() / minimum
        );
    }
    if phases.contains("rss") {
        let n = number("BENCH_RSS_SUPPLIERS", 100_000);
        let (_wd, zendesk, env) = bench_world(n, zsim::Plan::Custom(1_000_000), 1_000_000).await;
        let (_env, (t, peak, out)) = blocking(move || {
            let r = timed_sync(&env);
            (env, r)
        })
        .await;
        succeeded(&out);
        println!(
            "FIGURE {n} suppliers: peak RSS {:.1} MB, {:.1}s wall, {} organizations",
            peak as f64 / 1024.0,
            t.as_secs_f64(),
            zendesk.organizations().len()
        );
    }
}
