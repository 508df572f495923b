//! Black-box tests of `ml-connector plugin ...` with the real plugins built by scripts/build-plugins:
//! the author's local `plugin test`, and the store-backed lifecycle (upload → dry-run → activate → rollback).

use crate::support as cli_support;

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

/// Gives tenant `acme` a Zendesk field catalog in the database the binary uses — what `ml-connector setup` will
/// do once it exists.
fn give_acme_a_catalog(env: &Env) {
    use ml_connector::store::{Store, TenantUpdate};
    use ml_connector::tenant::{TenantId, TenantSettings};
    let url = format!("sqlite://{}", env.data().join("ml-connector.db").display());
    let settings = TenantSettings::from_json(&serde_json::json!({"mapping": {"catalog": {
        "ticket_fields": [
            {"id": 360000101, "type": "text"},
            {"id": 360000102, "type": "text"},
            {"id": 360000103, "type": "decimal"},
            {"id": 360000104, "type": "date"},
        ],
    }}}))
    .unwrap();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let store = Store::open(&url, &Default::default()).await.unwrap();
            let update = TenantUpdate {
                settings: Some(settings),
                ..Default::default()
            };
            store
                .update_tenant(&TenantId::parse("acme").unwrap(), update)
                .await
                .unwrap();
            store.close().await;
        });
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
    let dry_run_1 = [
        "plugin",
        "dry-run",
        "1",
        "--tenant",
        "acme",
        "--invoice",
        &sample("invoice.json"),
    ];
    // The tenant has no field catalog yet: a dry-run cannot vouch for the writes, and activation says why.
    let out = env.run(&dry_run_1);
    assert!(out.status.success(), "{}", cli_support::stderr(&out));
    assert!(
        cli_support::stderr(&out).contains("does not unlock activation"),
        "{}",
        cli_support::stderr(&out)
    );
    let err = env.fails(&["plugin", "activate", "1", "--tenant", "acme"]);
    assert!(
        err.contains("no Zendesk field catalog") && err.contains("ml-connector setup"),
        "{err}"
    );
    give_acme_a_catalog(&env);
    let err = env.fails(&["plugin", "activate", "1", "--tenant", "acme"]);
    assert!(err.contains("has not passed a dry-run"), "{err}");
    let out = env.ok(&dry_run_1);
    let dry: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (dry["ok"].as_bool(), dry["catalog_checked"].as_bool()),
        (Some(true), Some(true)),
        "{out}"
    );
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
