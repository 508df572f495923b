//! The agent API on every backend: the JWT checks (each way a token can be wrong is a 401 with its code), tenant
//! isolation, and the cache in front of Workday (single flight, negative caching, refresh, invalidation by a sync
//! run, a stale value when Workday is down), against the Workday simulator's request log.

use crate::support as common;

use std::time::Duration;

use common::{TestApp, test_dbs};
use jsonwebtoken::{EncodingKey, Header};
use ml_connector::sync::{RunOptions, Trigger, run_sync};
use ml_connector::tenant::{SecretName, TenantId, WorkdaySettings, ZendeskSettings};
use ml_connector_sim::workday::{FaultConfig, SimConfig, WorkdaySim};
use ml_connector_sim::zendesk::{self as zsim, ZendeskSim};
use secrecy::SecretString;
use serde_json::{Value, json};

const SECRET_A: &str = "shared-secret-of-acme-0123456789abcdef";
const SECRET_B: &str = "shared-secret-of-beta-0123456789abcdef";

async fn add_tenant(app: &TestApp, id: &str, wd: &WorkdaySim, zendesk: &ZendeskSim, secret: &str) {
    let store = app.store();
    let tenant = TenantId::parse(id).unwrap();
    let c = wd.config();
    store
        .create_tenant(
            &tenant,
            id,
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
        (SecretName::JwtSharedSecret, secret),
    ] {
        store
            .put_secret(app.vault(), &tenant, name, &SecretString::from(value))
            .await
            .unwrap();
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn sign(claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()).unwrap(),
    )
    .unwrap()
}

fn token(secret: &str) -> String {
    sign(&json!({"iat": now(), "exp": now() + 300}), secret)
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

async fn get(app: &TestApp, path: &str, token: Option<&str>) -> (u16, Value) {
    let mut req = app.client.get(app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn invoice_reads(wd: &WorkdaySim) -> usize {
    wd.requests()
        .iter()
        .filter(|r| r.operation.as_deref() == Some("Get_Supplier_Invoices"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_checked_and_tenants_kept_apart() {
    let wd_a = WorkdaySim::start(SimConfig {
        suppliers: 3,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let wd_b = WorkdaySim::start(SimConfig {
        suppliers: 30,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let zendesk = ZendeskSim::start(zsim::SimConfig::default()).await.unwrap();
    for db in test_dbs().await {
        let app = TestApp::spawn(db, |_| {}).await;
        add_tenant(&app, "acme", &wd_a, &zendesk, SECRET_A).await;
        add_tenant(&app, "beta", &wd_b, &zendesk, SECRET_B).await;
        let path = "/api/v1/acme/search?q=INV";

        let (status, _) = get(&app, path, Some(&token(SECRET_A))).await;
        assert_eq!(status, 200, "{}: a valid token", app.name);

        let t = now();
        let rsa_public_key = "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo\n-----END PUBLIC KEY-----\n";
        let valid = token(SECRET_A);
        let mut parts: Vec<String> = valid.split('.').map(str::to_string).collect();
        parts[1] = b64(json!({"iat": t, "exp": t + 300, "admin": true})
            .to_string()
            .as_bytes());
        let tampered = parts.join(".");
        let none = format!(
            "{}.{}.",
            b64(br#"{"alg":"none","typ":"JWT"}"#),
            b64(json!({"iat": t, "exp": t + 300}).to_string().as_bytes())
        );
        let rs256_header = format!(
            "{}.{}.c2ln",
            b64(br#"{"alg":"RS256","typ":"JWT"}"#),
            b64(json!({"iat": t, "exp": t + 300}).to_string().as_bytes())
        );
        let cases: Vec<(&str, Option<String>, &str)> = vec![
            ("no token", None, "missing_token"),
            ("not a JWT", Some("abc.def".into()), "malformed_token"),
            (
                "expired",
                Some(sign(&json!({"iat": t - 600, "exp": t - 120}), SECRET_A)),
                "token_expired",
            ),
            (
                "not yet valid",
                Some(sign(
                    &json!({"iat": t, "nbf": t + 600, "exp": t + 900}),
                    SECRET_A,
                )),
                "token_not_yet_valid",
            ),
            (
                "issued in the future",
                Some(sign(&json!({"iat": t + 600, "exp": t + 900}), SECRET_A)),
                "token_not_yet_valid",
            ),
            (
                "wrong secret",
                Some(token("not-the-secret-at-all-0123456789")),
                "invalid_signature",
            ),
            (
                "another tenant's secret",
                Some(token(SECRET_B)),
                "invalid_signature",
            ),
            ("alg none", Some(none), "unsupported_algorithm"),
            ("RS256 header", Some(rs256_header), "unsupported_algorithm"),
            (
                "HS256 keyed with an RSA public key",
                Some(token(rsa_public_key)),
                "invalid_signature",
            ),
            ("tampered payload", Some(tampered), "invalid_signature"),
            (
                "no exp",
                Some(sign(&json!({"iat": t}), SECRET_A)),
                "malformed_token",
            ),
            (
                "a day long",
                Some(sign(&json!({"iat": t, "exp": t + 86_400}), SECRET_A)),
                "token_lifetime_too_long",
            ),
            (
                "a day long without iat",
                Some(sign(&json!({"exp": t + 86_400}), SECRET_A)),
                "token_lifetime_too_long",
            ),
        ];
        for (what, token, code) in cases {
            let (status, body) = get(&app, path, token.as_deref()).await;
            assert_eq!(status, 401, "{}: {what}: {body}", app.name);
            assert_eq!(body["error"]["code"], code, "{what}: {body}");
            let message = body["error"]["message"].as_str().unwrap();
            assert!(
                !message.contains(SECRET_A) && !message.contains("Error"),
                "{what}: {message}"
            );
        }
        // An unknown tenant answers like a wrong signature.
        let (status, body) = get(&app, "/api/v1/nobody/search?q=INV", Some(&token(SECRET_A))).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (401, Some("invalid_signature"))
        );

        // Tenant isolation: acme's token never opens beta's path, whatever the id guessed...
        let beta_supplier = wd_b.universe().supplier(20).id.clone();
        for p in [
            format!("/api/v1/beta/suppliers/{beta_supplier}"),
            "/api/v1/beta/search?q=INV".to_string(),
            "/api/v1/beta/invoices/SUPPLIER_INVOICE-3-1".to_string(),
        ] {
            let (status, _) = get(&app, &p, Some(&token(SECRET_A))).await;
            assert_eq!(status, 401, "{p}");
        }
        // ... and on its own path it reads its own Workday: beta's supplier is not acme's.
        let (status, body) = get(
            &app,
            &format!("/api/v1/acme/suppliers/{beta_supplier}"),
            Some(&token(SECRET_A)),
        )
        .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (404, Some("supplier_not_found")),
            "{body}"
        );
        let (status, body) = get(
            &app,
            &format!("/api/v1/beta/suppliers/{beta_supplier}"),
            Some(&token(SECRET_B)),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["supplier"]["supplier_id"], beta_supplier.as_str());
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_reads_once_remembers_not_found_refreshes_invalidates_and_serves_stale() {
    for db in test_dbs().await {
        let wd = WorkdaySim::start(SimConfig {
            suppliers: 8,
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let zendesk = ZendeskSim::start(zsim::SimConfig::default()).await.unwrap();
        let app = TestApp::spawn(db, |c| {
            c.agent.invoice_ttl_secs = 1;
            c.workday.retry.max_retries = 0;
        })
        .await;
        add_tenant(&app, "acme", &wd, &zendesk, SECRET_A).await;
        let jwt = token(SECRET_A);
        let invoice = wd.universe().invoice(2);
        let path = format!("/api/v1/acme/invoices/{}", invoice.reference_id);

        // 200 concurrent requests for one uncached invoice: one Workday read.
        wd.clear_requests();
        let answers =
            futures::future::join_all((0..200).map(|_| get(&app, &path, Some(&jwt)))).await;
        for (status, body) in &answers {
            assert_eq!(*status, 200, "{body}");
            assert_eq!(body["reference_id"], invoice.reference_id.as_str());
        }
        assert_eq!(invoice_reads(&wd), 1, "{}: single flight", app.name);
        let body = &answers[0].1;
        assert_eq!(body["stale"], false);
        assert!(
            body["amount"].is_string() && body["as_of"].as_str().unwrap().ends_with('Z'),
            "{body}"
        );

        // Not found: remembered for a while.
        wd.clear_requests();
        for _ in 0..3 {
            let (status, body) = get(&app, "/api/v1/acme/invoices/NOPE-404", Some(&jwt)).await;
            assert_eq!(
                (status, body["error"]["code"].as_str()),
                (404, Some("invoice_not_found"))
            );
        }
        assert_eq!(invoice_reads(&wd), 1, "a not-found is cached");

        // refresh=true bypasses the cache for that one key.
        wd.clear_requests();
        let (status, _) = get(&app, &format!("{path}?refresh=true"), Some(&jwt)).await;
        assert_eq!(status, 200);
        assert_eq!(invoice_reads(&wd), 1, "refresh reads Workday");

        // A sync run invalidates what it indexed (this invoice is new to the index).
        let cached = format!(
            "/api/v1/acme/invoices/{}",
            wd.universe().invoice(3).reference_id
        );
        get(&app, &cached, Some(&jwt)).await;
        let host = app.state().plugins().clone();
        run_sync(
            app.app(),
            &host,
            &TenantId::parse("acme").unwrap(),
            &RunOptions {
                full: true,
                trigger: Trigger::Manual,
                holder: "test".into(),
            },
            None,
        )
        .await
        .unwrap();
        wd.clear_requests();
        common::wait_until(
            "the sync's invalidation",
            Duration::from_secs(10),
            || async {
                get(&app, &cached, Some(&jwt)).await;
                invoice_reads(&wd) >= 1
            },
        )
        .await;

        // Workday down: a cached value past its time to live is answered, marked stale. (The sync dropped the
        // first invoice too: read it again while Workday is up.)
        let (status, _) = get(&app, &path, Some(&jwt)).await;
        assert_eq!(status, 200);
        wd.set_faults(FaultConfig {
            rate_503: 1.0,
            ..FaultConfig::default()
        });
        let body = common::wait_for("a stale answer", Duration::from_secs(10), || async {
            let (status, body) = get(&app, &path, Some(&jwt)).await;
            (status == 200 && body["stale"] == true).then_some(body)
        })
        .await;
        assert!(body["stale_reason"].is_string(), "{body}");
        assert_eq!(body["reference_id"], invoice.reference_id.as_str());
        // Nothing cached and Workday down: 502.
        let (status, body) = get(
            &app,
            &format!(
                "/api/v1/acme/invoices/{}",
                wd.universe().invoice(5).reference_id
            ),
            Some(&jwt),
        )
        .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (502, Some("workday_unavailable")),
            "{body}"
        );
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ticket_context_supplier_search_and_attach() {
    let wd = WorkdaySim::start(SimConfig {
        suppliers: 6,
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
        add_tenant(&app, "acme", &wd, &zendesk, SECRET_A).await;
        let id = TenantId::parse("acme").unwrap();
        let ctx = app.app().tenant(&id).await.unwrap();
        ml_connector::app::setup::run_setup(app.app(), &ctx, false)
            .await
            .unwrap();
        let host = app.state().plugins().clone();
        run_sync(
            app.app(),
            &host,
            &id,
            &RunOptions {
                full: true,
                trigger: Trigger::Manual,
                holder: "test".into(),
            },
            None,
        )
        .await
        .unwrap();
        let jwt = token(SECRET_A);
        let u = wd.universe();
        let all: Vec<_> = (0..u.invoice_count()).map(|g| u.invoice(g)).collect();
        let invoice = all
            .iter()
            .find(|i| {
                all.iter()
                    .filter(|o| {
                        o.supplier_invoice_number
                            .eq_ignore_ascii_case(&i.supplier_invoice_number)
                    })
                    .count()
                    == 1
            })
            .unwrap()
            .clone();
        let supplier = u.supplier(invoice.supplier);

        // By the number the supplier quotes.
        let (status, body) = get(
            &app,
            &format!("/api/v1/acme/invoices/{}", invoice.supplier_invoice_number),
            Some(&jwt),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body["invoice_number"],
            invoice.supplier_invoice_number.as_str()
        );
        assert_eq!(
            body["amount"]
                .as_str()
                .unwrap()
                .parse::<rust_decimal::Decimal>()
                .unwrap(),
            invoice.gross
        );
        assert!(
            ["paid", "partially_paid", "unpaid", "overdue"]
                .contains(&body["payment_status"].as_str().unwrap()),
            "{body}"
        );

        // The supplier, with totals and recent invoices.
        let (status, body) = get(
            &app,
            &format!("/api/v1/acme/suppliers/{}", supplier.id),
            Some(&jwt),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["supplier"]["name"], supplier.name.as_str());
        assert!(
            body["supplier"]["zendesk_organization_id"].is_i64(),
            "{body}"
        );
        assert!(
            !body["recent_invoices"].as_array().unwrap().is_empty(),
            "{body}"
        );

        // Search by number prefix and by name.
        let prefix: String = invoice.supplier_invoice_number.chars().take(4).collect();
        let (status, body) =
            get(&app, &format!("/api/v1/acme/search?q={prefix}"), Some(&jwt)).await;
        assert_eq!(status, 200, "{body}");
        assert!(!body["invoices"].as_array().unwrap().is_empty(), "{body}");
        let (status, _) = get(&app, "/api/v1/acme/search?q=x", Some(&jwt)).await;
        assert_eq!(status, 400);

        // A ticket's context: its organization's supplier, the invoice it quotes, one that names nothing.
        let subject = format!(
            "Invoice {} and INV-NOPE-9999",
            invoice.supplier_invoice_number
        );
        let query = format!(
            "/api/v1/acme/tickets/77/context?subject={}&organization_external_id={}",
            urlencode(&subject),
            supplier.id
        );
        let (status, body) = get(&app, &query, Some(&jwt)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["supplier_match"], "organization");
        assert_eq!(body["supplier"]["supplier_id"], supplier.id.as_str());
        assert_eq!(
            body["referenced_invoices"][0]["reference_id"],
            invoice.reference_id.as_str()
        );
        assert!(
            body["recent_invoices"]
                .as_array()
                .unwrap()
                .iter()
                .all(|i| i["reference_id"] != invoice.reference_id.as_str()),
            "{body}"
        );
        assert_eq!(
            body["unresolved_references"],
            json!(["INV-NOPE-9999"]),
            "{body}"
        );

        // Attach: the mapped fields are written on the ticket now; a second attach sends nothing.
        let ticket = zendesk
            .create_ticket(zsim::TicketSeed {
                subject: "Where is my money?".into(),
                description: "Hello".into(),
                ..zsim::TicketSeed::default()
            })
            .unwrap();
        let attach = async || {
            let resp = app
                .client
                .post(app.url(&format!("/api/v1/acme/tickets/{ticket}/attach")))
                .bearer_auth(&jwt)
                .json(&json!({"invoice": invoice.supplier_invoice_number}))
                .send()
                .await
                .unwrap();
            (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
        };
        let (status, body) = attach().await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["unchanged"], false);
        assert_eq!(body["source"], "declarative");
        assert!(!body["written"].as_array().unwrap().is_empty(), "{body}");
        let puts = |z: &ZendeskSim| {
            z.requests_to("PUT", &format!("/api/v2/tickets/{ticket}"))
                .into_iter()
                .filter(|r| r.path == format!("/api/v2/tickets/{ticket}"))
                .count()
        };
        assert_eq!(puts(&zendesk), 1);
        let (status, body) = attach().await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["unchanged"], true, "{body}");
        assert_eq!(puts(&zendesk), 1, "nothing sent the second time");
        app.stop().await;
    }
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Two replicas on one PostgreSQL database: a change the sync announces in one drops the other's cached copy
/// (LISTEN/NOTIFY).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_change_in_one_replica_invalidates_the_others_cache() {
    let Some(db) = test_dbs().await.into_iter().find(|d| d.name == "postgres") else {
        return; // PostgreSQL only (scripts/test provides it).
    };
    let wd = WorkdaySim::start(SimConfig {
        suppliers: 4,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let zendesk = ZendeskSim::start(zsim::SimConfig::default()).await.unwrap();
    let shared = db.shared();
    let one = TestApp::spawn(db, |_| {}).await;
    add_tenant(&one, "acme", &wd, &zendesk, SECRET_A).await;
    // The same master key: a replica opens the secrets the other sealed.
    let key_file = one.data_dir().join("master.key");
    let two = TestApp::spawn(shared, |c| {
        c.vault.key_file = key_file.display().to_string()
    })
    .await;
    let jwt = token(SECRET_A);
    let key = wd.universe().invoice(1).reference_id;
    let path = format!("/api/v1/acme/invoices/{key}");
    wd.clear_requests();
    for _ in 0..2 {
        let (status, body) = get(&two, &path, Some(&jwt)).await;
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(invoice_reads(&wd), 1, "cached in replica two");
    // Replica one's sync changed that invoice (announced again while waiting: replica one's listener may still be
    // connecting when the first announcement is made).
    let change = ml_connector::app::invalidation::Changed {
        tenant: TenantId::parse("acme").unwrap(),
        kind: ml_connector::app::invalidation::ChangedKind::Invoice,
        id: key.clone(),
    };
    common::wait_until(
        "replica two to drop its copy",
        Duration::from_secs(10),
        || async {
            one.app().invalidate(change.clone());
            get(&two, &path, Some(&jwt)).await;
            invoice_reads(&wd) >= 2
        },
    )
    .await;
    two.stop().await;
    one.stop().await;
}
