//! `mlc_plugin_calls_total{outcome}` and `mlc_plugin_call_duration_seconds` count every plugin call exactly
//! once, under the right outcome. The recorder is process-global, so this is the only test of its binary: no
//! other test can record the same outcomes meanwhile (under `cargo test` as under nextest), and the checks are
//! exact before/after differences.

#[path = "support/plugins.rs"]
mod plugin_support;

use std::collections::BTreeMap;

use ml_connector::mapper::{CallFailure, PluginsConfig};
use plugin_support::{compile, host, invoice_numbered, limits, oversized_invoice, patient_limits};

const OUTCOMES: [&str; 9] = [
    "ok",
    "error",
    "trap",
    "deadline",
    "memory_limit",
    "invalid_output",
    "input_too_large",
    "unavailable",
    "busy",
];

/// Every outcome's counter and the duration histogram's count, from the Prometheus text.
fn counts(text: &str) -> BTreeMap<String, u64> {
    let mut counts: BTreeMap<String, u64> = OUTCOMES.iter().map(|o| (o.to_string(), 0)).collect();
    counts.insert("timed".into(), 0);
    for line in text.lines() {
        let Some((name, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let key = if let Some(outcome) = name
            .strip_prefix("mlc_plugin_calls_total{outcome=\"")
            .and_then(|rest| rest.strip_suffix("\"}"))
        {
            outcome.to_string()
        } else if name == "mlc_plugin_call_duration_seconds_count" {
            "timed".to_string()
        } else {
            continue;
        };
        let value: u64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value: {line}"));
        counts.insert(key, value);
    }
    counts
}

#[tokio::test]
async fn every_call_is_counted_once_under_its_outcome() {
    let metrics = ml_connector::telemetry::metrics_handle();
    let config = PluginsConfig::default();
    let host = host(&config);
    let limits = limits(&config);
    let hostile = compile(&host, "hostile").await;
    let patient = patient_limits();
    let small = plugin_support::limits(&PluginsConfig {
        max_input_bytes: 1024,
        ..Default::default()
    });

    let before = counts(&metrics.render());
    let cases = [
        ("polite", limits, "ok"),
        ("nap", limits, "ok"),
        ("refuse", limits, "error"),
        ("panic", limits, "trap"),
        ("recurse", limits, "trap"),
        ("loop", limits, "deadline"),
        ("sleep", limits, "deadline"),
        ("bomb", patient, "memory_limit"),
        ("flood", patient, "invalid_output"),
    ];
    for (what, limits, outcome) in cases {
        let result = host.call(&hostile, limits, &invoice_numbered(what)).await;
        assert_eq!(
            result.as_ref().map_or_else(CallFailure::outcome, |_| "ok"),
            outcome,
            "{what}: {result:?}"
        );
    }
    let result = host.call(&hostile, small, &oversized_invoice()).await;
    assert!(
        matches!(result, Err(CallFailure::InputTooLarge(_))),
        "{result:?}"
    );
    // Not a call: instantiation alone is not counted.
    host.instantiate_only(&hostile, limits).await.unwrap();
    let after = counts(&metrics.render());

    let delta: BTreeMap<&str, u64> = after
        .iter()
        .map(|(k, v)| (k.as_str(), v - before[k]))
        .collect();
    let expected: BTreeMap<&str, u64> = [
        ("ok", 2),
        ("error", 1),
        ("trap", 2),
        ("deadline", 2),
        ("memory_limit", 1),
        ("invalid_output", 1),
        ("input_too_large", 1),
        ("unavailable", 0),
        ("busy", 0),
        ("timed", 10),
    ]
    .into_iter()
    .collect();
    assert_eq!(delta, expected);
}
