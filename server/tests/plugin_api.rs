//! The admin plugin API end to end over HTTP: the lifecycle (upload → dry-run → activate, rollback) with the
//! real example plugins, refusals with clear errors, the failure policy, and a server that keeps serving
//! health checks and other tenants while a hostile plugin runs.

mod common;
mod plugin_support;

use std::time::Duration;

use ml_connector::http::{AppState, app};
use ml_connector::mapper::service::{MapperService, MappingResult, MappingSource};
use ml_connector::mapper::{CallFailure, FailurePolicy, FieldTarget, FieldValue};
use ml_connector::store::{Store, TenantUpdate};
use ml_connector::tenant::{AdminKey, Tenant, TenantId, WorkdaySettings, ZendeskSettings};
use plugin_support::{invoice_numbered, plugin, sample, sample_text};
use secrecy::ExposeSecret as _;

struct Server {
    base: String,
    state: AppState,
    client: reqwest::Client,
    keys: std::collections::HashMap<String, String>,
    _db: common::TestDb,
}

impl Server {
    async fn start(tweak: impl FnOnce(&mut ml_connector::config::Config)) -> Self {
        let (state, db) = common::sqlite_app_state(tweak).await;
        let store = state.store();
        let mut keys = std::collections::HashMap::new();
        for t in ["acme", "globex"] {
            let id = TenantId::parse(t).unwrap();
            store
                .create_tenant(
                    &id,
                    t,
                    &WorkdaySettings::default(),
                    &ZendeskSettings::default(),
                )
                .await
                .unwrap();
            let (key, hash) = AdminKey::generate();
            store.set_admin_key_hash(&id, &hash).await.unwrap();
            keys.insert(t.to_string(), key.expose_secret().to_string());
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = app(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            base,
            state,
            client: reqwest::Client::new(),
            keys,
            _db: db,
        }
    }

    fn req(&self, method: reqwest::Method, tenant: &str, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(
                method,
                format!("{}/admin/v1/{tenant}/plugins{path}", self.base),
            )
            .bearer_auth(&self.keys[tenant])
    }

    async fn upload(&self, tenant: &str, bytes: Vec<u8>, query: &str) -> (u16, serde_json::Value) {
        let resp = self
            .req(reqwest::Method::POST, tenant, &format!("?{query}"))
            .header("content-type", "application/wasm")
            .body(bytes)
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap())
    }

    async fn post(
        &self,
        tenant: &str,
        path: &str,
        body: Option<String>,
    ) -> (u16, serde_json::Value) {
        let mut r = self.req(reqwest::Method::POST, tenant, path);
        if let Some(b) = body {
            r = r.header("content-type", "application/json").body(b);
        }
        let resp = r.send().await.unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap())
    }

    /// Dry-runs plugin `id` on the sample file `sample`.
    async fn dry_run(&self, tenant: &str, id: i64, sample: &str) -> (u16, serde_json::Value) {
        let path = format!("/{id}/dry-run");
        self.post(tenant, &path, Some(sample_text(sample))).await
    }

    async fn activate(&self, tenant: &str, id: i64) -> (u16, serde_json::Value) {
        self.post(tenant, &format!("/{id}/activate"), None).await
    }

    /// The tenant's plugin list (`GET .../plugins`).
    async fn list(&self, tenant: &str) -> serde_json::Value {
        let resp = self.req(reqwest::Method::GET, tenant, "").send().await;
        resp.unwrap().json().await.unwrap()
    }
}

/// The message of an error body (`{"error": {"message": ...}}`).
fn error_message(body: &serde_json::Value) -> &str {
    body["error"]["message"].as_str().unwrap()
}

#[tokio::test]
async fn upload_dry_run_activate_and_roll_back() {
    let s = Server::start(|_| {}).await;
    let (status, v1) = s
        .upload("acme", plugin("po_first"), "name=po-first&deadline_ms=50")
        .await;
    assert_eq!(status, 201, "{v1}");
    assert_eq!(
        (v1["version"].as_i64(), v1["status"].as_str()),
        (Some(1), Some("uploaded"))
    );
    assert_eq!(v1["manifest"]["deadline_ms"], 50);
    let id1 = v1["id"].as_i64().unwrap();

    // Activation needs a passing dry-run first.
    let (status, body) = s.activate("acme", id1).await;
    assert_eq!(status, 409, "{body}");
    assert!(error_message(&body).contains("dry-run"), "{body}");

    let (status, dry) = s.dry_run("acme", id1, "invoice.json").await;
    assert_eq!(status, 200, "{dry}");
    assert_eq!(dry["ok"], true, "{dry}");
    assert_eq!(dry["limits"]["deadline_ms"], 50);
    assert_eq!(
        dry["writes"][0]["target"],
        serde_json::json!({"kind": "ticket_field", "id": 360000101u64})
    );
    assert_eq!(
        dry["writes"][0]["value"],
        serde_json::json!({"type": "text", "value": "PO-2024-0042"})
    );
    let (status, active) = s.activate("acme", id1).await;
    assert_eq!(
        (status, active["status"].as_str()),
        (200, Some("active")),
        "{active}"
    );

    let (_, v2) = s
        .upload("acme", plugin("status_tags"), "name=status-tags")
        .await;
    let id2 = v2["id"].as_i64().unwrap();
    let (_, dry) = s.dry_run("acme", id2, "supplier.json").await;
    assert_eq!(dry["ok"], true, "{dry}");
    s.activate("acme", id2).await;

    let list = s.list("acme").await;
    assert_eq!(list["active_id"].as_i64(), Some(id2));
    assert_eq!(list["plugins"].as_array().unwrap().len(), 2);

    let (status, back) = s.post("acme", "/rollback", None).await;
    assert_eq!((status, back["id"].as_i64()), (200, Some(id1)), "{back}");
    let (status, body) = s.post("acme", "/rollback", None).await;
    assert_eq!(status, 404, "{body}");

    // Another tenant's key does not open this tenant's plugins, and ids do not cross tenants.
    let resp = s
        .client
        .get(format!("{}/admin/v1/acme/plugins", s.base))
        .bearer_auth(&s.keys["globex"])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let (status, _) = s.dry_run("globex", id1, "invoice.json").await;
    assert_eq!(status, 404);

    // A bad sample is a 400 that points at the field.
    let (status, body) = s
        .post(
            "acme",
            &format!("/{id1}/dry-run"),
            Some(r#"{"invoice": {"number": 5}}"#.into()),
        )
        .await;
    assert_eq!(status, 400);
    assert!(error_message(&body).contains("invoice.number"), "{body}");

    // The OpenAPI document lists the plugin routes.
    let doc: serde_json::Value = s
        .client
        .get(format!("{}/openapi.json", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/admin/v1/{tenant}/plugins",
        "/admin/v1/{tenant}/plugins/{id}/dry-run",
        "/admin/v1/{tenant}/plugins/rollback",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from openapi.json"
        );
    }
}

#[tokio::test]
async fn bad_uploads_are_refused_with_clear_errors() {
    let s = Server::start(|c| c.plugins.max_upload_bytes = 70 * 1024).await;
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (
            b"\0asm\x01\0\0\0".to_vec(),
            422,
            "core WebAssembly module, not a component",
        ),
        (
            plugin("wrong_world"),
            422,
            "does not implement world `mapper`",
        ),
        (
            (0..2048).map(|_| rand::random::<u8>()).collect(),
            422,
            "not a WebAssembly binary",
        ),
        // po_first is ~74 KiB; status_tags, uploaded below, ~69 KiB.
        (plugin("po_first"), 413, "71680 bytes"),
    ];
    for (bytes, status, needle) in cases {
        let (got, body) = s.upload("acme", bytes, "").await;
        assert_eq!(got, status, "{body}");
        assert!(error_message(&body).contains(needle), "{needle}: {body}");
    }
    let (got, body) = s
        .upload("acme", plugin("status_tags"), "deadline_ms=5000")
        .await;
    assert_eq!(
        (got, body["error"]["code"].as_str()),
        (400, Some("invalid_manifest")),
        "{body}"
    );
    let (got, body) = s.upload("acme", plugin("status_tags"), "colour=blue").await;
    assert_eq!(got, 400, "{body}");
    let resp = s
        .client
        .post(format!("{}/admin/v1/acme/plugins", s.base))
        .body(plugin("status_tags"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    // Nothing was stored by any of that.
    assert_eq!(s.list("acme").await["plugins"], serde_json::json!([]));
}

#[tokio::test]
async fn the_server_keeps_serving_while_hostile_plugins_spin() {
    let s = Server::start(|c| c.plugins.deadline_ms = 1000).await;
    let (_, hostile) = s.upload("acme", plugin("hostile"), "").await;
    let (_, polite) = s.upload("globex", plugin("po_first"), "").await;
    let hostile_dry = format!("/{}/dry-run", hostile["id"]);
    let polite_dry = format!("/{}/dry-run", polite["id"]);
    let hostile_body = |what: &str| {
        serde_json::json!({"invoice": serde_json::to_value(match invoice_numbered(what) {
            ml_connector::mapper::Sample::Invoice { invoice, .. } => invoice,
            _ => unreachable!(),
        }).unwrap()})
        .to_string()
    };
    // More hostile plugins than this machine has cores, each running to its 1 s deadline: half spin in their own
    // code, half sleep forever in a WASI host call.
    let mut spinning = Vec::new();
    for i in 0..4 {
        let req = s
            .req(reqwest::Method::POST, "acme", &hostile_dry)
            .header("content-type", "application/json")
            .body(hostile_body(if i % 2 == 0 { "loop" } else { "sleep" }));
        spinning.push(tokio::spawn(async move {
            req.send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }));
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    // While they spin, health checks and another tenant's dry-run are answered...
    for _ in 0..3 {
        let health = s
            .client
            .get(format!("{}/healthz", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status(), 200);
    }
    let (status, dry) = s
        .post("globex", &polite_dry, Some(sample_text("invoice.json")))
        .await;
    assert_eq!((status, dry["ok"].as_bool()), (200, Some(true)), "{dry}");
    // ...before any of the hostile calls has come back.
    assert!(
        spinning.iter().all(|t| !t.is_finished()),
        "the hostile calls ended before the others were served"
    );
    for t in spinning {
        let dry = t.await.unwrap();
        assert_eq!(
            (dry["ok"].as_bool(), dry["outcome"].as_str()),
            (Some(false), Some("deadline")),
            "{dry}"
        );
    }
}

/// Replaces the tenant's settings, and reads the tenant back.
async fn with_settings(store: &Store, id: &TenantId, settings: serde_json::Value) -> Tenant {
    let update = TenantUpdate {
        settings: Some(settings),
        ..Default::default()
    };
    store.update_tenant(id, update).await.unwrap();
    store.tenant(id).await.unwrap()
}

/// Maps the no-PO invoice numbered `number` (the hostile guest's behaviour selector) for `tenant`.
async fn map_numbered(service: &MapperService<'_>, tenant: &Tenant, number: &str) -> MappingResult {
    let invoice = invoice_numbered(number);
    service.map(tenant, &invoice).await.unwrap()
}

#[tokio::test]
async fn failure_policy_falls_back_to_the_declarative_mapping_or_writes_nothing() {
    let s = Server::start(|_| {}).await;
    let store = s.state.store();
    let host = s.state.plugins();
    let acme = TenantId::parse("acme").unwrap();
    let service = MapperService::new(store, host);
    let mapping = serde_json::json!({
        "invoice": [{"source": "invoice.number", "ticket_field": 1}],
    });
    let tenant = with_settings(store, &acme, serde_json::json!({"mapping": mapping})).await;

    // No plugin: the declarative mapping.
    let result = map_numbered(&service, &tenant, "refuse").await;
    assert_eq!(result.source, MappingSource::Declarative);
    assert_eq!(result.writes[0].target, FieldTarget::TicketField { id: 1 });

    let (_, hostile) = s.upload("acme", plugin("hostile"), "").await;
    let id = hostile["id"].as_i64().unwrap();
    s.dry_run("acme", id, "invoice.json").await;
    s.activate("acme", id).await;

    let result = map_numbered(&service, &tenant, "polite").await;
    assert_eq!(result.source, MappingSource::Plugin);

    let result = map_numbered(&service, &tenant, "refuse").await;
    assert_eq!(result.source, MappingSource::Declarative);
    assert_eq!(result.writes[0].value, FieldValue::Text("refuse".into()));
    let failure = result.plugin_failure.unwrap();
    assert_eq!(
        (failure.plugin_id, failure.policy),
        (id, FailurePolicy::Fallback)
    );
    assert_eq!(
        failure.failure,
        CallFailure::Error("refused on purpose".into())
    );

    let settings =
        serde_json::json!({"mapping": mapping, "plugin_failure_policy": "write_nothing"});
    let tenant = with_settings(store, &acme, settings).await;
    let result = map_numbered(&service, &tenant, "panic").await;
    assert_eq!(result.source, MappingSource::Nothing);
    assert!(result.writes.is_empty());
    assert!(matches!(
        result.plugin_failure.unwrap().failure,
        CallFailure::Trap(_)
    ));

    // A plugin write that does not fit the tenant's field catalog is a failure too.
    let strict = serde_json::json!({
        "catalog": {"ticket_fields": [{"id": 1, "type": "text"}]},
        "invoice": [{"source": "invoice.number", "ticket_field": 1}],
    });
    let tenant = with_settings(store, &acme, serde_json::json!({"mapping": strict})).await;
    let result = service.map(&tenant, &sample("invoice.json")).await.unwrap();
    // The hostile plugin's polite answer is a tag write, which any catalog accepts.
    assert_eq!(result.source, MappingSource::Plugin);
    let (_, po) = s.upload("acme", plugin("po_first"), "").await;
    let po_id = po["id"].as_i64().unwrap();
    let (_, dry) = s.dry_run("acme", po_id, "invoice.json").await;
    assert_eq!(
        (dry["ok"].as_bool(), dry["outcome"].as_str()),
        (Some(false), Some("invalid_output")),
        "{dry}"
    );
    assert!(
        dry["message"]
            .as_str()
            .unwrap()
            .contains("ticket field 360000101 is not in the tenant's field catalog"),
        "{dry}"
    );
}

#[tokio::test]
async fn uploads_have_their_own_body_limit_above_the_general_one() {
    let s = Server::start(|c| {
        c.server.max_body_bytes = 64 * 1024;
        c.plugins.max_upload_bytes = 4 * 1024 * 1024;
    })
    .await;
    // 2 MiB: over the general body limit, under the plugin upload limit, so it reaches validation.
    let mut junk = b"\0asm\x0d\0\x01\0".to_vec();
    junk.resize(2 * 1024 * 1024, 0xff);
    let (status, body) = s.upload("acme", junk, "").await;
    assert_eq!(status, 422, "{body}");
    assert!(error_message(&body).contains("does not compile"), "{body}");
    let (status, body) = s.upload("acme", vec![0u8; 5 * 1024 * 1024], "").await;
    assert_eq!(status, 413, "{body}");
    // Other routes keep the general limit.
    let (status, _) = s
        .post("acme", "/1/dry-run", Some(" ".repeat(100 * 1024)))
        .await;
    assert_eq!(status, 413);
}
