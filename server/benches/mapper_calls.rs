//! Cost of mapping one invoice: the declarative mapper vs a Rust plugin vs the JavaScript plugin, each plugin
//! call with a fresh store + instance; the instantiate-only floor; compile and cached-load (deserialize) times.
//! Plugin calls go through `PluginHost::call` exactly as the server's do (a concurrency slot, a task on the
//! plugin runtime, the deadline timeout), awaited from a current-thread runtime.
//!
//! Run: `scripts/build-plugins && cargo bench -p ml-connector --bench mapper_calls`
//! After criterion's report, a summary prints medians and ratios (also measured here, 300 calls each).

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::Criterion;
use ml_connector::mapper::declarative::MappingRules;
use ml_connector::mapper::host::limits::{PluginLimits, PluginManifest};
use ml_connector::mapper::host::{Loaded, PluginHost};
use ml_connector::mapper::{PluginsConfig, Sample};

fn plugin(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../mapper-wasm/target/plugins/{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{} missing ({e}); run scripts/build-plugins first",
            path.display()
        )
    })
}

fn invoice() -> Sample {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../mapper-wasm/examples/samples/invoice.json");
    Sample::from_json(&std::fs::read(path).unwrap()).unwrap()
}

/// The declarative equivalent of the po-first example (same fields, same conversions where rules can express them).
const DECLARATIVE: &str = r#"
[[invoice]]
source = ["invoice.purchase_order.number", "invoice.number"]
ticket_field = 360000101
[[invoice]]
source = "invoice.total.amount"
ticket_field = 360000102
[[invoice]]
source = "invoice.amount_due"
ticket_field = 360000103
convert = { type = "decimal", scale = 2 }
[[invoice]]
source = "invoice.due_date"
ticket_field = 360000104
convert = { type = "date" }
when_missing = "clear"
[[invoice]]
source = "invoice.payment_status"
tags = { "Unpaid" = "wd_unpaid", "Paid" = "wd_paid" }
"#;

struct Setup {
    rt: tokio::runtime::Runtime,
    host: PluginHost,
    limits: PluginLimits,
    rust: Loaded,
    js: Loaded,
    rust_artifact: (Vec<u8>, Vec<u8>),
    js_artifact: (Vec<u8>, Vec<u8>),
    declarative: MappingRules,
    sample: Sample,
    js_compile: Duration,
}

fn setup() -> Setup {
    let config = PluginsConfig::default();
    let host = PluginHost::new(&config, mlc_artifact_loader::ArtifactKey::new([42; 32])).unwrap();
    let limits = PluginManifest::default().limits(&config).unwrap();
    let rust = host.compile_blocking(&plugin("po_first")).unwrap();
    let started = Instant::now();
    let js = host.compile_blocking(&plugin("js_invoice")).unwrap();
    let js_compile = started.elapsed();
    let rust_tag = host.seal(&rust.loaded.sha256, &rust.artifact);
    let js_tag = host.seal(&js.loaded.sha256, &js.artifact);
    Setup {
        rt: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap(),
        limits,
        rust_artifact: (rust.artifact, rust_tag),
        js_artifact: (js.artifact, js_tag),
        rust: rust.loaded,
        js: js.loaded,
        host,
        declarative: MappingRules::from_toml(DECLARATIVE).unwrap(),
        sample: invoice(),
        js_compile,
    }
}

fn map_declarative(s: &Setup) -> usize {
    let Sample::Invoice { invoice, ticket } = &s.sample else {
        unreachable!()
    };
    s.declarative.map_invoice(invoice, ticket).writes.len()
}

/// One plugin call, as the server makes it.
fn call(s: &Setup, plugin: &Loaded) -> usize {
    s.rt.block_on(s.host.call(plugin, s.limits, &s.sample))
        .unwrap()
        .len()
}

/// Instantiation only (the floor of a call), through the same slot and runtime.
fn instantiate(s: &Setup, plugin: &Loaded) {
    s.rt.block_on(s.host.instantiate_only(plugin, s.limits))
        .unwrap()
}

fn benches(c: &mut Criterion, s: &Setup) {
    let mut g = c.benchmark_group("map_invoice");
    g.bench_function("declarative", |b| b.iter(|| black_box(map_declarative(s))));
    g.bench_function("rust_plugin_po_first", |b| {
        b.iter(|| black_box(call(s, &s.rust)))
    });
    g.bench_function("js_plugin", |b| b.iter(|| black_box(call(s, &s.js))));
    g.finish();

    let mut g = c.benchmark_group("instantiate_only");
    g.bench_function("rust_plugin_po_first", |b| {
        b.iter(|| instantiate(s, &s.rust))
    });
    g.bench_function("js_plugin", |b| b.iter(|| instantiate(s, &s.js)));
    g.finish();

    let mut g = c.benchmark_group("load");
    g.sample_size(10);
    let rust_bytes = plugin("po_first");
    g.bench_function("compile_rust_plugin", |b| {
        b.iter(|| s.host.compile_blocking(&rust_bytes).unwrap())
    });
    g.bench_function("cached_load_rust_plugin", |b| {
        b.iter(|| {
            s.host
                .load_artifact_blocking(&s.rust.sha256, &s.rust_artifact.0, &s.rust_artifact.1)
                .unwrap()
        })
    });
    g.bench_function("cached_load_js_plugin", |b| {
        b.iter(|| {
            s.host
                .load_artifact_blocking(&s.js.sha256, &s.js_artifact.0, &s.js_artifact.1)
                .unwrap()
        })
    });
    g.finish();
}

fn median(mut f: impl FnMut(), n: usize) -> Duration {
    for _ in 0..n / 10 {
        f();
    }
    let mut times: Vec<Duration> = (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[n / 2]
}

fn summary(s: &Setup) {
    let n = 300;
    let decl = median(
        || {
            black_box(map_declarative(s));
        },
        n,
    );
    let rust = median(
        || {
            black_box(call(s, &s.rust));
        },
        n,
    );
    let js = median(
        || {
            black_box(call(s, &s.js));
        },
        n,
    );
    let rust_inst = median(|| instantiate(s, &s.rust), n);
    let js_inst = median(|| instantiate(s, &s.js), n);
    let rust_load = median(
        || {
            drop(s.host.load_artifact_blocking(
                &s.rust.sha256,
                &s.rust_artifact.0,
                &s.rust_artifact.1,
            ))
        },
        20,
    );
    let js_load = median(
        || {
            drop(
                s.host
                    .load_artifact_blocking(&s.js.sha256, &s.js_artifact.0, &s.js_artifact.1),
            )
        },
        10,
    );
    let rust_compile = median(|| drop(s.host.compile_blocking(&plugin("po_first"))), 10);
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!("\n== summary (medians of {n} calls; per call = fresh store + instance + call)");
    println!("declarative mapper          {:>10.2} µs", us(decl));
    println!(
        "rust plugin (po-first)      {:>10.2} µs   {:>8.1}x declarative",
        us(rust),
        us(rust) / us(decl)
    );
    println!(
        "js plugin (componentize-js) {:>10.2} µs   {:>8.1}x declarative   {:.1}x rust",
        us(js),
        us(js) / us(decl),
        us(js) / us(rust)
    );
    println!("instantiate only, rust      {:>10.2} µs", us(rust_inst));
    println!("instantiate only, js        {:>10.2} µs", us(js_inst));
    println!(
        "compile rust plugin         {:>10.2} ms",
        us(rust_compile) / 1000.0
    );
    println!(
        "compile js plugin (once)    {:>10.2} ms",
        s.js_compile.as_secs_f64() * 1000.0
    );
    println!(
        "cached load rust (deser.)   {:>10.2} ms",
        us(rust_load) / 1000.0
    );
    println!(
        "cached load js (deser.)     {:>10.2} ms",
        us(js_load) / 1000.0
    );
    println!(
        "artifact sizes: rust {} KiB, js {} KiB",
        s.rust_artifact.0.len() / 1024,
        s.js_artifact.0.len() / 1024
    );
}

fn main() {
    let s = setup();
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c, &s);
    c.final_summary();
    summary(&s);
}
