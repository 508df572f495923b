//! Limiter + client against the Zendesk simulator: N organization writes under a plan of R requests/minute
//! should take close to the minimum time the plan allows, not more than 1.15 × it.
//!
//! The client's limiter (GCRA, burst B) lets B requests through at once and then one every 60/R seconds, so the
//! least time N requests can take is (N − B) × 60/R. Each iteration starts a fresh simulator (plan R) and a
//! fresh client (plan R, burst B) and times N `create_organization` calls, sequentially and from 4 concurrent
//! workers. The ratio elapsed / minimum is printed per run and summarised at the end.
//!
//! Run: `cargo bench -p ml-connector --bench zendesk_limiter` (see docs/zendesk.md).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use ml_connector::zendesk::organizations::OrganizationInput;
use ml_connector::zendesk::{ClientOptions, Credentials, ZendeskClient, ZendeskConfig};
use ml_connector_sim::zendesk::{
    DEFAULT_AGENT_EMAIL, DEFAULT_API_TOKEN, Plan, SimConfig, ZendeskSim,
};
use secrecy::SecretString;

/// Organization writes per run.
const N: u32 = 150;
/// Plan requests per minute (simulator and client).
const R: u32 = 9000;
/// Client burst (the production default).
const BURST: u32 = 5;

fn minimum() -> Duration {
    Duration::from_secs_f64(f64::from(N - BURST) * 60.0 / f64::from(R))
}

async fn run_once(workers: u32) -> Duration {
    let sim = ZendeskSim::start(SimConfig {
        plan: Plan::Custom(R),
        ..SimConfig::default()
    })
    .await
    .expect("simulator");
    let config = ZendeskConfig {
        rate_limit_burst: BURST,
        ..ZendeskConfig::default()
    };
    let client = ZendeskClient::new(
        ClientOptions {
            base_url: sim.base_url(),
            rate_limit_rpm: R,
            credentials: Credentials::ApiToken {
                email: DEFAULT_AGENT_EMAIL.into(),
                token: SecretString::from(DEFAULT_API_TOKEN),
            },
        },
        &config,
    )
    .expect("client");
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..workers {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let mut i = w;
            while i < N {
                let input = OrganizationInput {
                    name: format!("Supplier {i:05}"),
                    external_id: format!("SUP-{i:05}"),
                    ..Default::default()
                };
                client.create_organization(&input).await.expect("create");
                i += workers;
            }
        }));
    }
    for t in tasks {
        t.await.expect("worker");
    }
    let elapsed = start.elapsed();
    let log = sim.requests();
    assert_eq!(log.len(), N as usize, "one request per write");
    assert!(
        log.iter().all(|r| r.status == Some(201)),
        "no request refused"
    );
    elapsed
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let ratios: Arc<Mutex<Vec<(u32, f64)>>> = Arc::default();
    let mut group = c.benchmark_group("zendesk_limiter");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(100))
        .measurement_time(Duration::from_secs(5));
    for workers in [1u32, 4] {
        let ratios = ratios.clone();
        let rt = &rt;
        group.bench_function(
            format!("{N} org creates at {R} rpm, {workers} worker(s)"),
            move |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let elapsed = rt.block_on(run_once(workers));
                        let ratio = elapsed.as_secs_f64() / minimum().as_secs_f64();
                        ratios
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push((workers, ratio));
                        total += elapsed;
                    }
                    total
                });
            },
        );
    }
    group.finish();
    let ratios = ratios.lock().unwrap_or_else(|e| e.into_inner());
    println!(
        "\nzendesk_limiter: N = {N} writes, R = {R} requests/minute, burst {BURST}; minimum (N - burst) x 60/R = {:.3} s",
        minimum().as_secs_f64()
    );
    for workers in [1u32, 4] {
        let mut r: Vec<f64> = ratios
            .iter()
            .filter(|(w, _)| *w == workers)
            .map(|(_, r)| *r)
            .collect();
        r.sort_by(f64::total_cmp);
        if r.is_empty() {
            continue;
        }
        let median = r[r.len() / 2];
        let max = r[r.len() - 1];
        let min = r[0];
        println!(
            "  {workers} worker(s): {} runs, elapsed / minimum: min {min:.3}, median {median:.3}, max {max:.3} ({})",
            r.len(),
            if max <= 1.15 {
                "within 1.15"
            } else {
                "ABOVE 1.15"
            }
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
