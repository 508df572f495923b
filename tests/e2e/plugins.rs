//! Black-box tests of `ml-connector plugin ...` with the real plugins built by scripts/build-plugins:
//! the author's local `plugin test`, and the store-backed lifecycle (upload → dry-run → activate → rollback).

#[path = "../../server/tests/cli_support/mod.rs"]
mod cli_support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use cli_support::Env;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn plugin(name: &str) -> String {
    let path = repo()
        .join("mapper-wasm/target/plugins")
        .join(format!("{name}.wasm"));
    assert!(
        path.exists(),
        "plugin artifact {} is missing: build the plugins with `scripts/build-plugins` (scripts/test runs it)",
        path.display()
    );
    path.display().to_string()
}

fn sample(name: &str) -> String {
    repo()
        .join("mapper-wasm/examples/samples")
        .join(name)
        .display()
        .to_string()
}

/// A copy of the invoice sample without PO whose number selects the hostile guest's behaviour.
fn hostile_sample(env: &Env, what: &str) -> PathBuf {
    let path = env.dir.path().join(format!("{what}.json"));
    let mut value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sample("invoice-no-po.json")).unwrap())
            .unwrap();
    value["invoice"]["number"] = what.into();
    std::fs::write(&path, value.to_string()).unwrap();
    path
}

#[test]
fn plugin_test_runs_a_local_file_and_prints_the_writes() {
    let env = Env::new();
    let out = env.ok(&[
        "plugin",
        "test",
        &plugin("po_first"),
        "--invoice",
        &sample("invoice.json"),
    ]);
    let writes: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(writes[0]["value"]["value"], "PO-2024-0042", "{out}");
    let out = env.ok(&[
        "plugin",
        "test",
        &plugin("status_tags"),
        "--supplier",
        &sample("supplier.json"),
    ]);
    let writes: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        writes[0]["value"],
        serde_json::json!({"type": "dropdown_option", "value": "supplier_inactive"})
    );
    // Nothing was stored: `plugin test` does not even need a database.
    assert!(!env.data().exists());

    let loop_sample = hostile_sample(&env, "loop");
    let err = env.fails(&[
        "plugin",
        "test",
        &plugin("hostile"),
        "--invoice",
        loop_sample.to_str().unwrap(),
        "--deadline-ms",
        "20",
    ]);
    assert!(err.contains("stopped at its deadline of 20 ms"), "{err}");
    // A plugin that sleeps forever in a WASI host call is stopped at its deadline too, and the process exits
    // (compiling the plugin takes a fraction of a second; a minute means the call was never stopped).
    let sleep_sample = hostile_sample(&env, "sleep");
    let err = env.fails_within(
        Duration::from_secs(60),
        &[
            "plugin",
            "test",
            &plugin("hostile"),
            "--invoice",
            sleep_sample.to_str().unwrap(),
            "--deadline-ms",
            "20",
        ],
    );
    assert!(err.contains("stopped at its deadline of 20 ms"), "{err}");
    let err = env.fails(&[
        "plugin",
        "test",
        &plugin("wrong_world"),
        "--invoice",
        &sample("invoice.json"),
    ]);
    assert!(err.contains("does not implement world `mapper`"), "{err}");
    let err = env.fails(&[
        "plugin",
        "test",
        &plugin("po_first"),
        "--invoice",
        &sample("supplier.json"),
    ]);
    assert!(err.contains("invalid invoice sample"), "{err}");
    let err = env.fails(&["plugin", "test", &plugin("po_first")]);
    assert!(err.contains("--invoice"), "{err}");
}

#[test]
fn upload_dry_run_activate_rollback_through_the_store() {
    let env = Env::new();
    env.ok(&["tenant", "add", "acme"]);
    let out = env.ok(&[
        "plugin",
        "upload",
        &plugin("po_first"),
        "--tenant",
        "acme",
        "--name",
        "po-first",
    ]);
    assert!(
        out.contains("version 1 `po-first` status uploaded"),
        "{out}"
    );
    let err = env.fails(&["plugin", "activate", "1", "--tenant", "acme"]);
    assert!(err.contains("has not passed a dry-run"), "{err}");
    let out = env.ok(&[
        "plugin",
        "dry-run",
        "1",
        "--tenant",
        "acme",
        "--invoice",
        &sample("invoice.json"),
    ]);
    let dry: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(dry["ok"], true, "{out}");
    env.ok(&["plugin", "activate", "1", "--tenant", "acme"]);

    env.ok(&[
        "plugin",
        "upload",
        &plugin("status_tags"),
        "--tenant",
        "acme",
        "--deadline-ms",
        "40",
    ]);
    env.ok(&[
        "plugin",
        "dry-run",
        "2",
        "--tenant",
        "acme",
        "--supplier",
        &sample("supplier.json"),
    ]);
    env.ok(&["plugin", "activate", "2", "--tenant", "acme"]);
    let list: serde_json::Value =
        serde_json::from_str(&env.ok(&["plugin", "list", "--tenant", "acme", "--json"])).unwrap();
    assert_eq!(list[0]["status"], "active");
    assert_eq!(list[0]["manifest"]["deadline_ms"], 40);
    assert_eq!(list[1]["status"], "retired");
    let out = env.ok(&["plugin", "rollback", "--tenant", "acme"]);
    assert!(out.contains("plugin 1 version 1"), "{out}");
    let table = env.ok(&["plugin", "list", "--tenant", "acme"]);
    assert!(
        table.contains("rolled_back") && table.contains("passed"),
        "{table}"
    );

    let core = env.dir.path().join("core.wasm");
    std::fs::write(&core, b"\0asm\x01\0\0\0").unwrap();
    let err = env.fails(&[
        "plugin",
        "upload",
        core.to_str().unwrap(),
        "--tenant",
        "acme",
    ]);
    assert!(
        err.contains("core WebAssembly module, not a component"),
        "{err}"
    );
    let err = env.fails(&[
        "plugin",
        "upload",
        &plugin("po_first"),
        "--tenant",
        "nobody",
    ]);
    assert!(err.contains("tenant `nobody` does not exist"), "{err}");
}
