//! Shared by the plugin tests: the real plugins built by `scripts/build-plugins`, the shipped samples, a host.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use ml_connector::mapper::host::Loaded;
use ml_connector::mapper::host::limits::{PluginLimits, PluginManifest};
use ml_connector::mapper::{PluginHost, PluginsConfig, Sample};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A component built by `scripts/build-plugins` (`po_first`, `status_tags`, `js_invoice`, `hostile`,
/// `wrong_world`, `four_memories`, `five_memories`). Fails loudly, never skips, when it is missing.
pub fn plugin(name: &str) -> Vec<u8> {
    let path = repo()
        .join("mapper-wasm/target/plugins")
        .join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "plugin artifact {} is missing ({e}). Build the plugins with `scripts/build-plugins` \
             (scripts/test runs it before the tests).",
            path.display()
        )
    })
}

/// A sample from `mapper-wasm/examples/samples/`.
pub fn sample_text(name: &str) -> String {
    let path = repo().join("mapper-wasm/examples/samples").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("sample {}: {e}", path.display()))
}

/// A parsed sample.
pub fn sample(name: &str) -> Sample {
    Sample::from_json(sample_text(name).as_bytes()).unwrap()
}

/// The invoice sample without PO, with another invoice number (the hostile guest's behaviour selector).
pub fn invoice_numbered(number: &str) -> Sample {
    let mut value: serde_json::Value =
        serde_json::from_str(&sample_text("invoice-no-po.json")).unwrap();
    value["invoice"]["number"] = number.into();
    Sample::from_json(value.to_string().as_bytes()).unwrap()
}

/// The no-PO invoice with a 4 KiB memo: over a 1 KiB `max_input_bytes`.
pub fn oversized_invoice() -> Sample {
    let mut big = invoice_numbered("polite");
    if let Sample::Invoice { invoice, .. } = &mut big {
        invoice.memo = Some("m".repeat(4096));
    }
    big
}

/// A host with a throw-away artifact key.
pub fn host(config: &PluginsConfig) -> PluginHost {
    PluginHost::new(
        config,
        mlc_artifact_loader::ArtifactKey::new(rand::random()),
    )
    .unwrap()
}

/// The default limits under `config`.
pub fn limits(config: &PluginsConfig) -> PluginLimits {
    PluginManifest::default().limits(config).unwrap()
}

/// The default limits with the longest deadline (1 s), for calls that must not end at their deadline on a busy
/// machine, or must hold their instance long enough to overlap.
pub fn patient_limits() -> PluginLimits {
    limits(&PluginsConfig {
        deadline_ms: 1000,
        ..Default::default()
    })
}

/// Plugin `name` compiled by `host`.
pub async fn compile(host: &PluginHost, name: &str) -> Loaded {
    host.compile(plugin(name).into()).await.unwrap().loaded
}
