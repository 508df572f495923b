//! The admin plugin API end to end over HTTP, on every backend: the lifecycle (upload → dry-run → activate,
//! rollback) with the real example plugins, refusals with clear errors (activation without a field catalog
//! among them), the failure policy, and a server that keeps serving health checks and other tenants while a
//! hostile plugin runs.

use std::time::Duration;

use crate::support::plugins as plugin_support;
use crate::support::{TestApp, test_dbs};

use ml_connector::app::TenantContext;
use ml_connector::config::Config;
use ml_connector::mapper::service::{MapperService, MappingResult, MappingSource};
use ml_connector::mapper::{CallFailure, FailurePolicy, FieldTarget, FieldValue};
use ml_connector::store::TenantUpdate;
use ml_connector::tenant::{AdminKey, TenantId, TenantSettings, WorkdaySettings, ZendeskSettings};
use plugin_support::{invoice_numbered, plugin, sample, sample_text};
use secrecy::ExposeSecret as _;

/// The running application with tenants `acme` and `globex`, each with an admin key.
struct Server {
    app: TestApp,
    keys: std::collections::HashMap<String, String>,
}

/// A Zendesk field catalog with the ticket fields the example plugin `po_first` and the rules here write.
fn catalog() -> serde_json::Value {
    serde_json::json!({"ticket_fields": [
        {"id": 1, "type": "text"},
        {"id": 360000101, "type": "text"},
        {"id": 360000102, "type": "text"},
        {"id": 360000103, "type": "decimal"},
        {"id": 360000104, "type": "date"},
    ]})
}

impl Server {
    /// The application on each backend, configured by `tweak`.
    async fn each(tweak: impl Fn(&mut Config)) -> Vec<Self> {
        let mut servers = Vec::new();
        for db in test_dbs().await {
            servers.push(Self::start(TestApp::spawn(db, &tweak).await).await);
        }
        servers
    }

    async fn start(app: TestApp) -> Self {
        let store = app.store();
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
        Self { app, keys }
    }

    /// `sqlite` or `postgres`.
    fn name(&self) -> &'static str {
        self.app.name
    }

    /// Replaces `tenant`'s settings (what the coming `setup` and `PUT mapping` will write).
    async fn set_settings(&self, tenant: &str, settings: serde_json::Value) {
        let update = TenantUpdate {
            settings: Some(TenantSettings::from_json(&settings).unwrap()),
            ..Default::default()
        };
        self.app
            .store()
            .update_tenant(&TenantId::parse(tenant).unwrap(), update)
            .await
            .unwrap();
    }

    /// Gives `tenant` a field catalog (and no rules).
    async fn with_catalog(&self, tenant: &str) {
        self.set_settings(
            tenant,
            serde_json::json!({"mapping": {"catalog": catalog()}}),
        )
        .await;
    }

    fn req(&self, method: reqwest::Method, tenant: &str, path: &str) -> reqwest::RequestBuilder {
        self.app
            .client
            .request(
                method,
                self.app.url(&format!("/admin/v1/{tenant}/plugins{path}")),
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
    for s in Server::each(|_| {}).await {
        lifecycle(&s).await;
    }
}

async fn lifecycle(s: &Server) {
    s.with_catalog("acme").await;
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
        .app
        .client
        .get(s.app.url("/admin/v1/acme/plugins"))
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
        .app
        .client
        .get(s.app.url("/openapi.json"))
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
    for s in Server::each(|c| c.plugins.max_upload_bytes = 70 * 1024).await {
        bad_uploads(&s).await;
    }
}

async fn bad_uploads(s: &Server) {
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
        .app
        .client
        .post(s.app.url("/admin/v1/acme/plugins"))
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
    for s in Server::each(|c| c.plugins.deadline_ms = 1000).await {
        keeps_serving(&s).await;
    }
}

async fn keeps_serving(s: &Server) {
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
    // Once all four are running...
    let host = s.app.state().plugins();
    crate::support::wait_until(
        "the hostile calls to be running",
        Duration::from_secs(10),
        || async { host.usage().calls >= 4 },
    )
    .await;
    // ...health checks and another tenant's dry-run are answered while they spin...
    for _ in 0..3 {
        let health = s
            .app
            .client
            .get(s.app.url("/healthz"))
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

/// Maps the no-PO invoice numbered `number` (the hostile guest's behaviour selector) for `tenant`, with its
/// mapping as its context has it now.
async fn map_numbered(s: &Server, tenant: &TenantId, number: &str) -> MappingResult {
    let ctx = TenantContext::resolve(s.app.app(), tenant).await.unwrap();
    let service = MapperService::new(s.app.store(), s.app.state().plugins());
    service
        .map(tenant, ctx.mapping(), &invoice_numbered(number))
        .await
        .unwrap()
}

#[tokio::test]
async fn failure_policy_falls_back_to_the_declarative_mapping_or_writes_nothing() {
    for s in Server::each(|_| {}).await {
        failure_policy(&s).await;
    }
}

async fn failure_policy(s: &Server) {
    let acme = TenantId::parse("acme").unwrap();
    let mapping = serde_json::json!({
        "catalog": catalog(),
        "invoice": [{"source": "invoice.number", "ticket_field": 1}],
    });
    s.set_settings("acme", serde_json::json!({"mapping": mapping}))
        .await;

    // No plugin: the declarative mapping.
    let result = map_numbered(s, &acme, "refuse").await;
    assert_eq!(result.source, MappingSource::Declarative);
    assert_eq!(result.writes[0].target, FieldTarget::TicketField { id: 1 });

    let (_, hostile) = s.upload("acme", plugin("hostile"), "").await;
    let id = hostile["id"].as_i64().unwrap();
    s.dry_run("acme", id, "invoice.json").await;
    s.activate("acme", id).await;

    let result = map_numbered(s, &acme, "polite").await;
    assert_eq!(result.source, MappingSource::Plugin, "{}", s.name());

    let result = map_numbered(s, &acme, "refuse").await;
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
    s.set_settings("acme", settings).await;
    let result = map_numbered(s, &acme, "panic").await;
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
    s.set_settings("acme", serde_json::json!({"mapping": strict}))
        .await;
    let ctx = TenantContext::resolve(s.app.app(), &acme).await.unwrap();
    let result = MapperService::new(s.app.store(), s.app.state().plugins())
        .map(&acme, ctx.mapping(), &sample("invoice.json"))
        .await
        .unwrap();
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
    for s in Server::each(|c| {
        c.server.max_body_bytes = 64 * 1024;
        c.plugins.max_upload_bytes = 4 * 1024 * 1024;
    })
    .await
    {
        body_limits(&s).await;
    }
}

async fn body_limits(s: &Server) {
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

#[tokio::test]
async fn activation_needs_a_field_catalog_and_a_dry_run_against_it() {
    for s in Server::each(|_| {}).await {
        let (_, v1) = s.upload("acme", plugin("po_first"), "").await;
        let id = v1["id"].as_i64().unwrap();
        // Without a catalog, a dry-run shows the writes but cannot vouch for them...
        let (status, dry) = s.dry_run("acme", id, "invoice.json").await;
        assert_eq!(status, 200, "{}: {dry}", s.name());
        assert_eq!(
            (dry["ok"].as_bool(), dry["catalog_checked"].as_bool()),
            (Some(true), Some(false)),
            "{dry}"
        );
        assert_eq!(s.list("acme").await["plugins"][0]["dry_run_ok"], false);
        // ...and activation is refused, saying why and what will bring the catalog.
        let (status, body) = s.activate("acme", id).await;
        assert_eq!(status, 409, "{}: {body}", s.name());
        let message = error_message(&body);
        assert!(
            message.contains("no Zendesk field catalog") && message.contains("ml-connector setup"),
            "{body}"
        );
        // With a catalog, the earlier dry-run still does not count: the writes were never checked against it.
        s.with_catalog("acme").await;
        let (status, body) = s.activate("acme", id).await;
        assert_eq!(status, 409, "{body}");
        assert!(error_message(&body).contains("dry-run"), "{body}");
        let (_, dry) = s.dry_run("acme", id, "invoice.json").await;
        assert_eq!(dry["catalog_checked"], true, "{dry}");
        let (status, active) = s.activate("acme", id).await;
        assert_eq!(
            (status, active["status"].as_str()),
            (200, Some("active")),
            "{active}"
        );
    }
}
