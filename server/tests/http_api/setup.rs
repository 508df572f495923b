//! Setup and the mapping over the admin API, on every backend: `POST setup` (dry run, then for real),
//! `GET`/`PUT mapping` (a refused mapping changes nothing; JSON and TOML), `POST mapping/preview` for a real
//! invoice and supplier of the Workday simulator, all behind the tenant's admin key.

use crate::support as common;

use common::{TestApp, test_dbs};
use ml_connector::tenant::{AdminKey, SecretName, TenantId, WorkdaySettings, ZendeskSettings};
use ml_connector_sim::workday::{SimConfig, WorkdaySim};
use ml_connector_sim::zendesk::{self as zsim, ZendeskSim};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Value, json};

fn writes_to_zendesk(zendesk: &ZendeskSim) -> Vec<String> {
    zendesk
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_mapping_and_preview_over_http() {
    let wd = WorkdaySim::start(SimConfig {
        suppliers: 5,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    for db in test_dbs().await {
        let zendesk = ZendeskSim::start(zsim::SimConfig::default()).await.unwrap();
        let app = TestApp::spawn(db, |c| {
            c.server.public_url = "https://connector.example".into();
        })
        .await;
        let store = app.store();
        let id = TenantId::parse("acme").unwrap();
        let c = wd.config();
        store
            .create_tenant(
                &id,
                "acme",
                &WorkdaySettings {
                    base_url: wd.base_url(),
                    tenant: c.tenant.clone(),
                    username: c.username.clone(),
                    ..Default::default()
                },
                &ZendeskSettings {
                    base_url: zendesk.base_url(),
                    email: zsim::DEFAULT_AGENT_EMAIL.into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        for (name, value) in [
            (SecretName::WorkdayPassword, c.password.as_str()),
            (SecretName::ZendeskApiToken, zsim::DEFAULT_API_TOKEN),
        ] {
            store
                .put_secret(app.vault(), &id, name, &SecretString::from(value))
                .await
                .unwrap();
        }
        let (key, hash) = AdminKey::generate();
        store.set_admin_key_hash(&id, &hash).await.unwrap();
        let key = key.expose_secret().to_string();
        let url = |p: &str| app.url(&format!("/admin/v1/acme/{p}"));
        let call = async |method: reqwest::Method, path: &str, body: Option<Value>| {
            let mut req = app.client.request(method, url(path)).bearer_auth(&key);
            if let Some(b) = body {
                req = req.json(&b);
            }
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            (status, resp.json::<Value>().await.unwrap_or(Value::Null))
        };

        // No key: nothing runs.
        let resp = app.client.post(url("setup")).send().await.unwrap();
        assert_eq!(resp.status(), 401, "{}", app.name);

        // A dry run reports the plan and writes nothing.
        let (status, dry) = call(reqwest::Method::POST, "setup?dry_run=true", None).await;
        assert_eq!(status, 200, "{dry}");
        assert_eq!(dry["dry_run"], true);
        assert!(
            dry["steps"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["outcome"] == "would_create"),
            "{dry}"
        );
        assert!(
            writes_to_zendesk(&zendesk).is_empty(),
            "{:?}",
            writes_to_zendesk(&zendesk)
        );

        // For real (the body form of the flag).
        let (status, report) = call(
            reqwest::Method::POST,
            "setup",
            Some(json!({"dry_run": false})),
        )
        .await;
        assert_eq!(status, 200, "{report}");
        assert!(
            report["steps"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["outcome"] == "created"
                    && s["item"].as_str().unwrap().contains("webhook")),
            "{report}"
        );
        let webhooks = zendesk.requests_to("POST", "/api/v2/webhooks");
        assert_eq!(webhooks.len(), 1);

        // The mapping setup wrote.
        let (status, mapping) = call(reqwest::Method::GET, "mapping", None).await;
        assert_eq!(status, 200);
        let invoice_rules = mapping["invoice"].as_array().unwrap().clone();
        assert!(!invoice_rules.is_empty(), "{mapping}");

        // A mistake is refused naming the rule; the stored mapping is unchanged.
        let mut wrong = mapping.clone();
        wrong["invoice"][0]["ticket_field"] = json!(999_999_999);
        let (status, err) = call(reqwest::Method::PUT, "mapping", Some(wrong)).await;
        assert_eq!(status, 422, "{err}");
        assert_eq!(err["error"]["code"], "invalid_mapping");
        assert!(
            err["error"]["message"]
                .as_str()
                .unwrap()
                .contains("invoice[0]"),
            "{err}"
        );
        let (_, after) = call(reqwest::Method::GET, "mapping", None).await;
        assert_eq!(after, mapping);

        // A valid change, as JSON, and the same mapping as TOML.
        let mut changed = mapping.clone();
        changed["plugin_failure_policy"] = json!("write_nothing");
        let (status, stored) = call(reqwest::Method::PUT, "mapping", Some(changed)).await;
        assert_eq!(status, 200, "{stored}");
        assert_eq!(stored["plugin_failure_policy"], "write_nothing");
        let resp = app
            .client
            .put(url("mapping"))
            .bearer_auth(&key)
            .header("content-type", "application/toml")
            .body("plugin_failure_policy = \"fallback\"\n[[supplier]]\nsource = \"supplier.name\"\norganization_field = \"nope_not_a_field\"\n")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 422);
        let (_, after) = call(reqwest::Method::GET, "mapping", None).await;
        assert_eq!(after["plugin_failure_policy"], "write_nothing");

        // Previews of a real invoice (by its reference ID: no sync ran, so the index is empty) and supplier.
        let u = wd.universe();
        let invoice = u.invoice(0);
        let supplier = u.supplier(invoice.supplier);
        let before = writes_to_zendesk(&zendesk).len();
        let (status, preview) = call(
            reqwest::Method::POST,
            "mapping/preview",
            Some(json!({"invoice": invoice.reference_id})),
        )
        .await;
        assert_eq!(status, 200, "{preview}");
        assert_eq!(preview["kind"], "invoice");
        assert_eq!(preview["source"], "declarative");
        assert!(
            preview["writes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|w| w["target"]["kind"] == "ticket_field" && w["value"]["type"] == "decimal"),
            "{preview}"
        );
        let (status, preview) = call(
            reqwest::Method::POST,
            "mapping/preview",
            Some(json!({"supplier": supplier.id})),
        )
        .await;
        assert_eq!(status, 200, "{preview}");
        assert!(
            preview["writes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|w| w["target"]["kind"] == "organization_field"),
            "{preview}"
        );
        assert_eq!(
            writes_to_zendesk(&zendesk).len(),
            before,
            "previews write nothing"
        );
        let (status, err) = call(
            reqwest::Method::POST,
            "mapping/preview",
            Some(json!({"invoice": "NOPE-404"})),
        )
        .await;
        assert_eq!(
            (status, err["error"]["code"].as_str()),
            (404, Some("not_found")),
            "{err}"
        );
        let (status, _) = call(reqwest::Method::POST, "mapping/preview", Some(json!({}))).await;
        assert_eq!(status, 400);
        app.stop().await;
    }
}
