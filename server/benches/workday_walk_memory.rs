//! Peak memory of a paged walk over 100,000 suppliers, with the simulator in a separate process (so only the
//! client's memory is measured). Prints VmHWM (peak resident set) and the resident set after page 10 and
//! after the last page: memory must not grow with the number of pages.
//!
//! Run: `cargo bench -p ml-connector --bench workday_walk_memory` (builds and starts
//! `target/release/ml-connector-sim` itself), or point it at a running simulator with
//! `WORKDAY_SIM_URL=http://127.0.0.1:PORT` (tenant `acme_dpt1`, default credentials).
//! `WALK_SUPPLIERS` (default 100000) and `WALK_PAGE_SIZE` (default 999) change the walk.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use futures::StreamExt as _;
use ml_connector::workday::request::SupplierQuery;
use ml_connector::workday::{Credentials, WorkdayClient, WorkdayConfig};
use secrecy::SecretString;

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

struct Sim {
    url: String,
    child: Option<Child>,
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn start_sim(suppliers: u32) -> Sim {
    if let Ok(url) = std::env::var("WORKDAY_SIM_URL") {
        return Sim { url, child: None };
    }
    let exe = std::env::current_exe().expect("current exe");
    // target/release/deps/<bench> → target/release/ml-connector-sim
    let bin = exe
        .parent()
        .and_then(|d| d.parent())
        .map(|d| d.join("ml-connector-sim"))
        .expect("target dir");
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--release", "-p", "ml-connector-sim"])
            .status()
            .expect("run cargo build for the simulator");
        assert!(status.success(), "building ml-connector-sim failed");
    }
    let mut child = Command::new(&bin)
        .args([
            "workday",
            "--listen",
            "127.0.0.1:0",
            "--suppliers",
            &suppliers.to_string(),
            "--seed",
            "1",
        ])
        .env("SIM_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", bin.display()));
    let stdout = child.stdout.take().expect("simulator stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("simulator announces its address");
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected simulator output: {line}"))
        .to_string();
    Sim {
        url,
        child: Some(child),
    }
}

fn main() {
    let suppliers: u32 = std::env::var("WALK_SUPPLIERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let page_size: u32 = std::env::var("WALK_PAGE_SIZE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(999);
    let sim = start_sim(suppliers);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let baseline = status_kb("VmRSS:");
    runtime.block_on(async {
        let config = WorkdayConfig {
            page_size,
            ..WorkdayConfig::default()
        };
        let client = WorkdayClient::new(
            &config,
            Credentials {
                base_url: sim.url.clone(),
                tenant: "acme_dpt1".into(),
                username: "isu_mlc".into(),
                password: SecretString::from("sim-password"),
                version: String::new(),
                oauth: None,
            },
        )
        .expect("client");
        let started = Instant::now();
        let mut pages = client.walk_pages(SupplierQuery::all());
        let (mut records, mut n_pages, mut total_pages) = (0usize, 0u32, 0u32);
        let mut rss_page_10 = 0;
        let mut name_bytes = 0usize;
        while let Some(page) = pages.next().await {
            let page = page.expect("page");
            n_pages += 1;
            total_pages = page.info.total_pages;
            records += page.records.len();
            // Use the records so that nothing is optimised away; they are dropped with the page.
            name_bytes += page.records.iter().map(|s| s.name.len()).sum::<usize>();
            if n_pages == 10 {
                rss_page_10 = status_kb("VmRSS:");
            }
        }
        let rss_last = status_kb("VmRSS:");
        let elapsed = started.elapsed();
        assert_eq!(records, suppliers as usize, "every supplier walked");
        assert_eq!(n_pages, total_pages);
        println!("walked {records} suppliers in {n_pages} pages of {page_size} in {:.1} s ({:.0} records/s, {name_bytes} name bytes)",
            elapsed.as_secs_f64(), records as f64 / elapsed.as_secs_f64());
        println!("VmRSS before the walk: {baseline} kB");
        println!("VmRSS after page 10:   {rss_page_10} kB");
        println!("VmRSS after page {n_pages}:  {rss_last} kB");
        println!("VmHWM (peak):          {} kB", status_kb("VmHWM:"));
        let growth = rss_last as f64 / rss_page_10.max(1) as f64;
        println!("growth from page 10 to the last page: x{growth:.2}");
    });
}
