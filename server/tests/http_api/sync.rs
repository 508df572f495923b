//! The sync admin API on every backend: `POST sync/run` starts a run (202 with its id; 409 `sync_running` while
//! another process holds the tenant's lease), `GET sync/runs` shows it, `GET audit` lists its writes; all of it
//! behind the tenant's admin key.

use crate::support as common;

use std::time::Duration;

use common::{TestApp, test_dbs};
use ml_connector::tenant::{AdminKey, SecretName, TenantId, WorkdaySettings, ZendeskSettings};
use ml_connector_sim::workday::{SimConfig, WorkdaySim};
use ml_connector_sim::zendesk::{self as zsim, ZendeskSim};
use secrecy::{ExposeSecret as _, SecretString};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_runs_and_audit_over_http() {
    let wd = WorkdaySim::start(SimConfig {
        suppliers: 40,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    for db in test_dbs().await {
        // A Zendesk of its own per backend: the organizations are created on each.
        let zendesk = ZendeskSim::start(zsim::SimConfig::default()).await.unwrap();
        let app = TestApp::spawn(db, |_| {}).await;
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

        // No key, no run.
        let resp = app.client.post(url("sync/run")).send().await.unwrap();
        assert_eq!(resp.status(), 401, "{}", app.name);

        // Another process holds the lease: 409 sync_running.
        assert!(
            store
                .try_lease(&id, "sync", "elsewhere", Duration::from_secs(60))
                .await
                .unwrap()
        );
        let resp = app
            .client
            .post(url("sync/run"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 409);
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "sync_running", "{body}");
        store.release_lease(&id, "sync", "elsewhere").await.unwrap();

        // A bad body is refused.
        let resp = app
            .client
            .post(url("sync/run"))
            .bearer_auth(&key)
            .body("{\"fulll\": true}")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400);

        let resp = app
            .client
            .post(url("sync/run"))
            .bearer_auth(&key)
            .body("{\"full\": true}")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 202);
        let started: serde_json::Value = resp.json().await.unwrap();
        let run_id = started["run_id"].as_i64().expect("a run id");

        let run = common::wait_for("the run to finish", Duration::from_secs(60), || async {
            let runs: serde_json::Value = app
                .client
                .get(url("sync/runs"))
                .bearer_auth(&key)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            runs["runs"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["id"] == run_id && r["status"] != "running")
                .cloned()
        })
        .await;
        assert_eq!(run["status"], "succeeded", "{run}");
        assert_eq!(run["trigger"], "api");
        assert_eq!(run["full"], true);
        assert_eq!(run["stats"]["created"], 40, "{}: {run}", app.name);
        assert!(run["started_at"].as_str().unwrap().ends_with('Z'));

        let audit: serde_json::Value = app
            .client
            .get(url("audit?object=supplier&limit=1000"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let entries = audit["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 40);
        assert_eq!(entries[0]["outcome"], "created");
        assert_eq!(entries[0]["workday_source"]["operation"], "Get_Suppliers");
        assert_eq!(entries[0]["run_id"], run_id);
        let later: serde_json::Value = app
            .client
            .get(url("audit?since=2999-01-01T00:00:00Z"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(later["entries"].as_array().unwrap().is_empty());
        let resp = app
            .client
            .get(url("audit?since=yesterday"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400);
        app.stop().await;
    }
}
