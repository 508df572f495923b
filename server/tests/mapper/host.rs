//! The plugin host with the real plugins built from `mapper-wasm/` by `scripts/build-plugins`: the examples
//! produce the expected writes, hostile guests are stopped and reported precisely (also when they sleep in a
//! host call), nothing is held after a call ends, and uploads that are not components of the `mapper` world
//! are refused with clear messages. (The metrics are checked in `plugin_metrics.rs`, alone in its binary.)

use crate::support::plugins as plugin_support;

use std::future::Future;
use std::time::Duration;

use ml_connector::mapper::host::limits::{PluginLimits, PluginManifest};
use ml_connector::mapper::host::{Loaded, PoolUsage, UploadError};
use ml_connector::mapper::{
    CallFailure, FieldTarget, FieldValue, FieldWrite, PluginHost, PluginsConfig, Sample,
};
use plugin_support::{
    compile, host, invoice_numbered, limits, oversized_invoice, patient_limits, plugin, sample,
};
use tokio::task::JoinHandle;

/// Fails the test instead of hanging it when something that must end does not (a liveness check: every call
/// here has a deadline of 1 s at most, so 20 s means it was never stopped).
async fn ends<T>(what: &str, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), f)
        .await
        .unwrap_or_else(|_| panic!("{what} did not end: a call was not stopped at its deadline"))
}

/// Waits until `calls` calls are in flight, each with its instance.
async fn until_running(host: &PluginHost, calls: usize) -> PoolUsage {
    ends("waiting for calls to start", async {
        loop {
            let usage = host.usage();
            // A call is running once its instance exists and its fiber stack is taken (the stack comes last,
            // when the async call starts executing).
            if usage.calls == calls
                && usage.component_instances == calls as u64
                && usage.stacks == calls
            {
                return usage;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await
}

/// Starts a call on a task of its own.
fn spawn_call(
    host: &PluginHost,
    plugin: &Loaded,
    limits: PluginLimits,
    input: Sample,
) -> JoinHandle<Result<Vec<FieldWrite>, CallFailure>> {
    let (host, plugin) = (host.clone(), plugin.clone());
    tokio::spawn(async move { host.call(&plugin, limits, &input).await })
}

/// Waits for each of `calls` (`what` names them in a failure), which must all be stopped at `deadline_ms`.
async fn all_stopped_at_deadline(
    what: &str,
    calls: Vec<JoinHandle<Result<Vec<FieldWrite>, CallFailure>>>,
    deadline_ms: u64,
) {
    for call in calls {
        assert_eq!(
            ends(what, call).await.unwrap(),
            Err(CallFailure::Deadline(deadline_ms))
        );
    }
}

/// A host with four concurrency slots (`max_concurrent_calls`), its default limits, and that slot count.
fn host_with_four_slots() -> (PluginHost, PluginLimits, usize) {
    let config = PluginsConfig {
        max_concurrent_calls: 4,
        ..Default::default()
    };
    let n = config.max_concurrent_calls as usize;
    (host(&config), limits(&config), n)
}

const IDLE: PoolUsage = PoolUsage {
    calls: 0,
    component_instances: 0,
    core_instances: 0,
    memories: 0,
    tables: 0,
    stacks: 0,
};

fn ticket(id: u64, value: FieldValue) -> FieldWrite {
    FieldWrite {
        target: FieldTarget::TicketField { id },
        value,
    }
}

fn org(key: &str, value: FieldValue) -> FieldWrite {
    FieldWrite {
        target: FieldTarget::OrganizationField { key: key.into() },
        value,
    }
}

fn tag(name: &str, on: bool) -> FieldWrite {
    FieldWrite {
        target: FieldTarget::Tag { name: name.into() },
        value: FieldValue::Checkbox(on),
    }
}

fn text(s: &str) -> FieldValue {
    FieldValue::Text(s.into())
}

#[tokio::test]
async fn rust_examples_map_the_samples() {
    let config = PluginsConfig::default();
    let host = host(&config);
    let limits = limits(&config);

    let po_first = compile(&host, "po_first").await;
    let writes = host
        .call(&po_first, limits, &sample("invoice.json"))
        .await
        .unwrap();
    assert_eq!(
        writes,
        vec![
            ticket(360_000_101, text("PO-2024-0042")),
            ticket(360_000_102, text("12.450,00 EUR")),
            ticket(360_000_103, FieldValue::Decimal("4450.01".into())),
            ticket(360_000_104, FieldValue::Date("2024-03-31".into())),
            tag("wd_no_po", false),
        ]
    );
    let writes = host
        .call(&po_first, limits, &sample("invoice-no-po.json"))
        .await
        .unwrap();
    assert_eq!(writes[0], ticket(360_000_101, text("INV INV-90017")));
    assert_eq!(writes[1], ticket(360_000_102, text("USD 1,234,567.50")));
    assert_eq!(writes[3], ticket(360_000_104, FieldValue::Clear));
    assert_eq!(writes[4], tag("wd_no_po", true));
    let writes = host
        .call(&po_first, limits, &sample("supplier.json"))
        .await
        .unwrap();
    assert_eq!(
        writes,
        vec![
            org("supplier_id", text("SUP-000123")),
            org("payment_terms", text("Net 45")),
            org("default_currency", text("EUR")),
        ]
    );

    let status_tags = compile(&host, "status_tags").await;
    let writes = host
        .call(&status_tags, limits, &sample("invoice.json"))
        .await
        .unwrap();
    assert_eq!(
        writes,
        vec![
            ticket(
                360_000_201,
                FieldValue::DropdownOption("wd_partially_paid".into())
            ),
            tag("wd_partially_paid", true),
            ticket(360_000_202, FieldValue::Checkbox(true)),
            tag("wd_unpaid", false),
            ticket(360_000_203, FieldValue::Date("2024-03-15".into())),
            ticket(360_000_204, text("WIRE-20240315-0042")),
        ]
    );
    let writes = host
        .call(&status_tags, limits, &sample("supplier.json"))
        .await
        .unwrap();
    assert_eq!(
        writes,
        vec![
            org(
                "supplier_status",
                FieldValue::DropdownOption("supplier_inactive".into())
            ),
            org("supplier_on_hold", FieldValue::Checkbox(false)),
            tag("supplier_inactive", true),
        ]
    );
    // An unknown status is refused by the plugin itself: a clean `err`, not a trap.
    let mut odd = sample("invoice.json");
    if let ml_connector::mapper::Sample::Invoice { invoice, .. } = &mut odd {
        invoice.payment_status = "Written Off".into();
    }
    let err = host.call(&status_tags, limits, &odd).await.unwrap_err();
    assert_eq!(
        err,
        CallFailure::Error("unknown payment status `Written Off`".into())
    );
}

/// One test, so the 12 MB SpiderMonkey component is compiled once per run.
#[tokio::test]
async fn javascript_example_maps_and_refuses_with_a_thrown_string() {
    let config = PluginsConfig::default();
    let host = host(&config);
    let js = host.compile(plugin("js_invoice").into()).await.unwrap();
    let loaded = js.loaded;
    let writes = host
        .call(&loaded, limits(&config), &sample("invoice.json"))
        .await
        .unwrap();
    assert_eq!(
        writes,
        vec![
            ticket(360_000_301, text("INV-88213 (PO-2024-0042)")),
            ticket(360_000_302, FieldValue::Decimal("12450.00".into())),
            ticket(360_000_303, text("Globex Industrial Supply GmbH")),
            tag("wd_js_mapped", true),
            tag("wd_has_payments", true),
        ]
    );
    let writes = host
        .call(&loaded, limits(&config), &sample("supplier.json"))
        .await
        .unwrap();
    assert_eq!(
        writes,
        vec![
            org("supplier_id", text("SUP-000123")),
            org("supplier_category", text("Industrial Parts"))
        ]
    );
    let mut orphan = sample("invoice-no-po.json");
    if let ml_connector::mapper::Sample::Invoice { invoice, .. } = &mut orphan {
        invoice.supplier_id = String::new();
    }
    let err = host
        .call(&loaded, limits(&config), &orphan)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        CallFailure::Error("invoice INV-90017 has no supplier id".into())
    );

    // The JavaScript engine starts within the lowest memory cap the host allows (16 MiB).
    let tight = PluginManifest {
        memory_limit_bytes: Some(16 * 1024 * 1024),
        ..Default::default()
    }
    .limits(&config)
    .unwrap();
    host.call(&loaded, tight, &sample("invoice.json"))
        .await
        .unwrap();

    // The stored artifact loads back (deserialize after the MAC check) and behaves the same.
    let tag_bytes = host.seal(&loaded.sha256, &js.artifact);
    let reloaded = host
        .load_artifact(&loaded.sha256, js.artifact, tag_bytes)
        .await
        .unwrap();
    assert_eq!(
        host.call(&reloaded, limits(&config), &sample("supplier.json"))
            .await
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn hostile_plugins_are_stopped_and_reported_precisely() {
    let config = PluginsConfig::default();
    let host = host(&config);
    let limits = limits(&config);
    let hostile = compile(&host, "hostile").await;
    let run = |what: &'static str| {
        let host = host.clone();
        let hostile = hostile.clone();
        async move { host.call(&hostile, limits, &invoice_numbered(what)).await }
    };
    assert_eq!(run("loop").await.unwrap_err(), CallFailure::Deadline(100));
    // Sleeping forever inside a WASI host call, where epoch interruption cannot reach, ends at the deadline too.
    assert_eq!(
        ends("a sleeping call", run("sleep")).await.unwrap_err(),
        CallFailure::Deadline(100)
    );
    // ...while a plugin that reads the clocks and naps briefly works.
    assert_eq!(run("nap").await.unwrap(), vec![tag("napped", true)]);
    assert!(matches!(
        run("recurse").await.unwrap_err(),
        CallFailure::Trap(_)
    ));
    assert!(
        matches!(run("panic").await.unwrap_err(), CallFailure::Trap(m) if m.contains("unreachable"))
    );
    // Filling 64 MiB and building thousands of writes take real time; give these cases the longest deadline so
    // that a busy test machine cannot turn them into deadline cases.
    let patient = patient_limits();
    let bomb = host
        .call(&hostile, patient, &invoice_numbered("bomb"))
        .await
        .unwrap_err();
    assert_eq!(bomb, CallFailure::MemoryLimit(64 * 1024 * 1024));
    let flood = host
        .call(&hostile, patient, &invoice_numbered("flood"))
        .await
        .unwrap_err();
    assert_eq!(
        flood,
        CallFailure::InvalidOutput("5000 writes returned; the limit is 256".into())
    );
    let huge = host
        .call(&hostile, patient, &invoice_numbered("huge"))
        .await
        .unwrap_err();
    assert!(
        matches!(&huge, CallFailure::InvalidOutput(m) if m.contains("bytes of text returned; the limit is 262144")),
        "{huge:?}"
    );
    assert_eq!(
        run("refuse").await.unwrap_err(),
        CallFailure::Error("refused on purpose".into())
    );
    // Each call had its own instance: after all that, the same plugin answers normally.
    assert_eq!(
        run("polite").await.unwrap(),
        vec![tag("hostile_but_polite", true)]
    );

    // A manifest's tighter deadline is the one enforced.
    let quick = PluginManifest {
        deadline_ms: Some(10),
        ..Default::default()
    }
    .limits(&config)
    .unwrap();
    assert_eq!(
        host.call(&hostile, quick, &invoice_numbered("loop"))
            .await
            .unwrap_err(),
        CallFailure::Deadline(10)
    );

    // Oversized input never reaches the plugin.
    let small_limits = plugin_support::limits(&PluginsConfig {
        max_input_bytes: 1024,
        ..Default::default()
    });
    let big = oversized_invoice();
    assert!(
        matches!(host.call(&hostile, small_limits, &big).await.unwrap_err(), CallFailure::InputTooLarge(n) if n > 4096)
    );
    assert_eq!(host.usage(), IDLE);
}

/// The attack of a plugin that sleeps in a host call (`std::thread::sleep(Duration::MAX)`: a clock subscription
/// and `poll`): every call ends at its deadline, frees its slot, instance and stack, and other tenants' calls
/// keep being served, however many such calls are made.
#[tokio::test]
async fn sleeping_plugins_hold_nothing_past_their_deadline() {
    let (host, limits, n) = host_with_four_slots();
    let hostile = compile(&host, "hostile").await;
    let po_first = compile(&host, "po_first").await;

    // Three times as many sleepers as there are slots, all at once: all stopped at the deadline.
    let sleepers: Vec<_> = (0..3 * n)
        .map(|_| spawn_call(&host, &hostile, limits, invoice_numbered("sleep")))
        .collect();
    until_running(&host, n).await;
    // Another tenant's call waits for a slot and is served as soon as one is free.
    let other = spawn_call(&host, &po_first, limits, sample("invoice.json"));
    all_stopped_at_deadline("a sleeping call", sleepers, 100).await;
    assert_eq!(
        ends("the other tenant's call", other)
            .await
            .unwrap()
            .unwrap()
            .len(),
        5
    );
    assert_eq!(host.usage(), IDLE, "something outlived its call");

    // Nothing leaked: the pool still holds `n` instances at once (spinning to a 1 s deadline)...
    let patient = patient_limits();
    let spinners: Vec<_> = (0..n)
        .map(|_| spawn_call(&host, &hostile, patient, invoice_numbered("loop")))
        .collect();
    let usage = until_running(&host, n).await;
    assert_eq!(usage.stacks, n, "{usage:?}");
    all_stopped_at_deadline("a spinning call", spinners, 1000).await;
    // ...and serves `n` good calls at once.
    let good: Vec<_> = (0..n)
        .map(|_| spawn_call(&host, &po_first, limits, sample("invoice.json")))
        .collect();
    for g in good {
        assert_eq!(ends("a good call", g).await.unwrap().unwrap().len(), 5);
    }
    assert_eq!(host.usage(), IDLE);
}

/// A plugin may have up to four memories; the pool has a memory slot for each of them in every concurrent call,
/// so `max_concurrent_calls` such plugins never run another tenant's plugin out of memory slots.
#[tokio::test]
async fn many_memory_plugins_do_not_exhaust_the_pool() {
    let (host, limits, n) = host_with_four_slots();
    let greedy = compile(&host, "four_memories").await;
    let po_first = compile(&host, "po_first").await;
    // The instance works (map-supplier returns no writes)...
    assert_eq!(
        host.call(&greedy, limits, &sample("supplier.json"))
            .await
            .unwrap(),
        vec![]
    );
    // ...and map-invoice spins, holding its four memories until its deadline (1 s, so that they overlap even on
    // a busy machine). All slots at once:
    let patient = patient_limits();
    let spin = |count: usize| -> Vec<_> {
        (0..count)
            .map(|_| spawn_call(&host, &greedy, patient, sample("invoice.json")))
            .collect()
    };
    let spinners = spin(n);
    let usage = until_running(&host, n).await;
    assert_eq!(usage.memories, 4 * n, "{usage:?}");
    all_stopped_at_deadline("a spinning call", spinners, 1000).await;
    // All slots but one, and another tenant's plugin in the last one.
    let spinners = spin(n - 1);
    until_running(&host, n - 1).await;
    let other = host
        .call(&po_first, limits, &sample("invoice.json"))
        .await
        .unwrap();
    assert_eq!(other.len(), 5);
    all_stopped_at_deadline("a spinning call", spinners, 1000).await;
    assert_eq!(host.usage(), IDLE);
}

#[tokio::test]
async fn many_calls_at_once_share_the_pool_and_all_finish() {
    let config = PluginsConfig {
        max_concurrent_calls: 2,
        ..Default::default()
    };
    let host = host(&config);
    let po_first = compile(&host, "po_first").await;
    let hostile = compile(&host, "hostile").await;
    let limits = limits(&config);
    let mut tasks = Vec::new();
    for i in 0..16 {
        let (host, po_first, hostile) = (host.clone(), po_first.clone(), hostile.clone());
        tasks.push(tokio::spawn(async move {
            if i % 4 == 0 {
                host.call(&hostile, limits, &invoice_numbered("loop"))
                    .await
                    .map(|_| 0)
            } else {
                host.call(&po_first, limits, &sample("invoice.json"))
                    .await
                    .map(|w| w.len())
            }
        }));
    }
    for (i, t) in tasks.into_iter().enumerate() {
        let result = t.await.unwrap();
        if i % 4 == 0 {
            assert_eq!(result, Err(CallFailure::Deadline(100)));
        } else {
            assert_eq!(result, Ok(5));
        }
    }
}

#[tokio::test]
async fn uploads_that_are_not_mapper_components_are_refused_clearly() {
    let config = PluginsConfig {
        max_upload_bytes: 64 * 1024,
        ..Default::default()
    };
    let host = host(&config);
    let invalid = |bytes: Vec<u8>| {
        let host = host.clone();
        async move {
            match host.compile(bytes.into()).await {
                Err(UploadError::Invalid(m)) => m,
                other => panic!("expected a validation error, got {other:?}"),
            }
        }
    };
    let core = invalid(b"\0asm\x01\0\0\0".to_vec()).await;
    assert!(
        core.contains("core WebAssembly module, not a component"),
        "{core}"
    );
    let wrong = invalid(plugin("wrong_world")).await;
    assert!(
        wrong.contains("does not implement world `mapper` of ml-connector:mapper@1.0.0"),
        "{wrong}"
    );
    let random: Vec<u8> = (0..4096).map(|_| rand::random::<u8>()).collect();
    let junk = invalid(random).await;
    assert!(junk.contains("not a WebAssembly binary"), "{junk}");
    // More memories than the pool reserves per instance: refused at upload, never a pool exhaustion at run time.
    let greedy = invalid(plugin("five_memories")).await;
    assert!(
        greedy.contains("5 Wasm linear memories, which exceeds the configured maximum of 4"),
        "{greedy}"
    );
    let mut truncated = plugin("hostile");
    truncated.truncate(1000);
    let broken = invalid(truncated).await;
    assert!(broken.contains("does not compile"), "{broken}");
    // po_first is ~75 KB, over this host's 64 KiB upload limit.
    match host.compile(plugin("po_first").into()).await {
        Err(e @ UploadError::TooLarge { .. }) => {
            assert!(e.to_string().contains("at most 65536 bytes"), "{e}")
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
}

#[tokio::test]
async fn stored_artifacts_load_only_with_a_valid_mac() {
    let config = PluginsConfig::default();
    let host = host(&config);
    let compiled = host.compile(plugin("po_first").into()).await.unwrap();
    let sha = compiled.loaded.sha256.clone();
    let tag = host.seal(&sha, &compiled.artifact);
    let loaded = host
        .load_artifact(&sha, compiled.artifact.clone(), tag.clone())
        .await
        .unwrap();
    assert_eq!(
        host.call(&loaded, limits(&config), &sample("invoice.json"))
            .await
            .unwrap()
            .len(),
        5
    );

    let mut tampered = compiled.artifact.clone();
    let mid = tampered.len() / 2;
    tampered[mid] ^= 0x55;
    let err = host
        .load_artifact(&sha, tampered, tag.clone())
        .await
        .unwrap_err();
    assert!(err.contains("not authentic"), "{err}");
    // Another deployment's host (another key) refuses it; so does this host under another plugin's hash.
    let other = plugin_support::host(&config);
    assert!(
        other
            .load_artifact(&sha, compiled.artifact.clone(), tag.clone())
            .await
            .unwrap_err()
            .contains("not authentic")
    );
    assert!(
        host.load_artifact(&"0".repeat(64), compiled.artifact, tag)
            .await
            .unwrap_err()
            .contains("not authentic")
    );
}
