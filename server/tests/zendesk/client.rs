//! The Zendesk client against the simulator: both auth modes (with OAuth rotation persisted in the store),
//! organizations (create, update, bulk jobs, name collisions, reconciliation), organization fields, tickets and
//! ticket fields, rate limits, retries and idempotent writes under injected faults, and the `check` probe.

use crate::support as common;
use crate::support::zendesk as zendesk_support;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use ml_connector::app::tokens::SealedTokens;
use ml_connector::app::{App, ContextError};
use ml_connector::config::Config;
use ml_connector::store::Store;
use ml_connector::tenant::{
    SecretName, Tenant, TenantId, WorkdaySettings, ZendeskAuthMode, ZendeskSettings,
};
use ml_connector::upstream::{MemoryTokens, TokenPair, TokenPersistence as _};
use ml_connector::vault::{KeySource, MasterKey, Vault};
use ml_connector::zendesk::auth;
use ml_connector::zendesk::fields::FieldType;
use ml_connector::zendesk::org_fields::OrganizationFieldSpec;
use ml_connector::zendesk::organizations::{
    OrgAction, OrganizationInput, OrganizationUpdate, WrittenOrg,
};
use ml_connector::zendesk::tickets::{CustomFieldValue, TicketFieldsUpdate};
use ml_connector::zendesk::{Credentials, OAuthClient, ZendeskClient, ZendeskConfig, ZendeskError};
use ml_connector_sim::zendesk::{
    DEFAULT_AGENT_EMAIL, DEFAULT_API_TOKEN, DEFAULT_OAUTH_CLIENT_ID, DEFAULT_OAUTH_CLIENT_SECRET,
    Fault, FaultKind, SimConfig, TicketSeed, ZendeskSim,
};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::json;
use zendesk_support::{
    api_token_client, fast_config, org, organizations_sent, sim_client, statuses,
};

fn token_client(sim: &ZendeskSim) -> ZendeskClient {
    api_token_client(sim, DEFAULT_API_TOKEN, &fast_config())
}

async fn sim() -> ZendeskSim {
    ZendeskSim::start(SimConfig::default()).await.unwrap()
}

/// The simulator's OAuth client (its id and secret).
fn oauth_app() -> OAuthClient {
    OAuthClient {
        client_id: DEFAULT_OAUTH_CLIENT_ID.into(),
        client_secret: SecretString::from(DEFAULT_OAUTH_CLIENT_SECRET),
    }
}

/// An OAuth client of `sim` whose token pair is held in memory.
fn memory_oauth_client(sim: &ZendeskSim, tokens: TokenPair) -> ZendeskClient {
    sim_client(
        sim,
        Credentials::OAuth {
            client: oauth_app(),
            tokens: Arc::new(MemoryTokens::new(Some(tokens))),
        },
        &fast_config(),
    )
}

/// `n` organizations `Org i` with external ids `S-i`.
fn numbered_orgs(n: usize) -> Vec<OrganizationInput> {
    (0..n)
        .map(|i| org(&format!("Org {i}"), &format!("S-{i}")))
        .collect()
}

fn orgs_with_external_id(sim: &ZendeskSim, ext: &str) -> usize {
    sim.organizations()
        .iter()
        .filter(|o| {
            o["external_id"]
                .as_str()
                .is_some_and(|e| e.eq_ignore_ascii_case(ext))
        })
        .count()
}

// ------------------------------------------------------------------------------------------------- auth

#[tokio::test]
async fn api_token_auth_sends_email_token_basic_credentials() {
    let sim = sim().await;
    let client = token_client(&sim);
    let (user, rate) = client.current_user().await.unwrap();
    assert_eq!(user.email.as_deref(), Some(DEFAULT_AGENT_EMAIL));
    assert_eq!(user.role, "admin");
    assert_eq!(rate.limit, Some(700));
    assert_eq!(rate.remaining, Some(699));

    let log = sim.requests();
    let auth = &log[0].headers["authorization"];
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(auth.strip_prefix("Basic ").unwrap())
        .unwrap();
    assert_eq!(
        String::from_utf8(decoded).unwrap(),
        format!("{DEFAULT_AGENT_EMAIL}/token:{DEFAULT_API_TOKEN}")
    );
}

#[tokio::test]
async fn a_wrong_api_token_is_unauthorized_and_not_retried() {
    let sim = sim().await;
    let client = api_token_client(&sim, "not-the-token", &fast_config());
    let err = client.current_user().await.unwrap_err();
    assert!(
        matches!(&err, ZendeskError::Unauthorized { message } if message.contains("Couldn't authenticate")),
        "{err}"
    );
    assert!(!err.to_string().contains("not-the-token"));
    assert_eq!(sim.requests().len(), 1);
}

struct OauthTenant {
    app: App,
    store: Store,
    vault: Arc<Vault>,
    tenant: Tenant,
    _db: common::TestDb,
}

/// The application over `store` (the fast Zendesk configuration, a vault unlocked with a new master key), and
/// the tenant `acme` with these Zendesk settings.
async fn acme_tenant(store: &Store, zendesk: ZendeskSettings) -> (App, Tenant) {
    let vault = store
        .unlock_vault(&KeySource::Env(MasterKey::generate().to_base64()))
        .await
        .unwrap();
    let config = Config {
        zendesk: fast_config(),
        ..Config::default()
    };
    let app = App::new(config, store.clone(), vault);
    let tenant = store
        .create_tenant(
            &TenantId::parse("acme").unwrap(),
            "Acme",
            &WorkdaySettings::default(),
            &zendesk,
        )
        .await
        .unwrap();
    (app, tenant)
}

/// A tenant in OAuth mode whose token pair was issued by the simulator and stored sealed.
async fn oauth_tenant(db: common::TestDb, sim: &ZendeskSim) -> OauthTenant {
    let store = db.store().await;
    let (app, tenant) = acme_tenant(
        &store,
        ZendeskSettings {
            base_url: sim.base_url(),
            auth: ZendeskAuthMode::Oauth,
            oauth_client_id: DEFAULT_OAUTH_CLIENT_ID.into(),
            ..Default::default()
        },
    )
    .await;
    let issued = sim.issue_tokens(DEFAULT_OAUTH_CLIENT_ID);
    let access = SecretString::from(issued.access_token);
    let refresh = SecretString::from(issued.refresh_token);
    let secret = SecretString::from(DEFAULT_OAUTH_CLIENT_SECRET);
    store
        .put_secrets(
            app.vault(),
            &tenant.id,
            &[
                (SecretName::ZendeskOauthClientSecret, &secret),
                (SecretName::ZendeskOauthAccessToken, &access),
                (SecretName::ZendeskOauthRefreshToken, &refresh),
            ],
        )
        .await
        .unwrap();
    OauthTenant {
        vault: app.vault_handle(),
        app,
        store,
        tenant,
        _db: db,
    }
}

impl OauthTenant {
    /// A client of the tenant's own, built by its context (tokens read from and rotated into the store).
    async fn client(&self, config: &ZendeskConfig) -> ZendeskClient {
        let ctx = self.app.tenant(&self.tenant.id).await.unwrap();
        ctx.zendesk_with(config).await.unwrap()
    }

    async fn stored(&self, name: SecretName) -> String {
        self.store
            .secret(&self.vault, &self.tenant.id, name)
            .await
            .unwrap()
            .unwrap()
            .expose_secret()
            .to_string()
    }
}

#[tokio::test]
async fn oauth_refresh_rotates_both_tokens_and_persists_them() {
    for db in common::test_dbs().await {
        let sim = sim().await;
        let t = oauth_tenant(db, &sim).await;
        let original_refresh = t.stored(SecretName::ZendeskOauthRefreshToken).await;
        let client = t.client(&fast_config()).await;
        client.current_user().await.unwrap();
        assert!(
            sim.token_grants().is_empty(),
            "a valid token needs no refresh"
        );

        sim.expire_access_tokens();
        let (user, _) = client.current_user().await.unwrap();
        assert_eq!(user.email.as_deref(), Some(DEFAULT_AGENT_EMAIL));
        let grants = sim.token_grants();
        assert_eq!(grants.len(), 1);
        assert_eq!(grants[0].grant_type, "refresh_token");
        assert_eq!(
            grants[0].refresh_token.as_deref(),
            Some(original_refresh.as_str())
        );
        assert_eq!(grants[0].status, 200);
        // The rotated pair is in the store, sealed.
        let stored_refresh = t.stored(SecretName::ZendeskOauthRefreshToken).await;
        assert_eq!(
            Some(&stored_refresh),
            grants[0].issued_refresh_token.as_ref()
        );
        assert_ne!(stored_refresh, original_refresh);
        // The grant asked for the configured lifetimes, and the refresh token's expiry Zendesk answered is
        // sealed with the pair.
        assert_eq!(grants[0].expires_in.as_deref(), Some("7200"));
        assert_eq!(
            grants[0].refresh_token_expires_in.as_deref(),
            Some("7776000")
        );
        let expires_at = chrono::DateTime::parse_from_rfc3339(
            &t.stored(SecretName::ZendeskOauthRefreshExpiresAt).await,
        )
        .unwrap();
        let days = (expires_at.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_hours() / 24;
        assert!((89..=90).contains(&days), "{expires_at}");
        assert_eq!(
            client.oauth_refresh_expires_at().await.unwrap(),
            Some(expires_at.with_timezone(&chrono::Utc))
        );
        let log = sim.requests_to("GET", "/api/v2/users/me");
        let last_bearer = log.last().unwrap().headers["authorization"].clone();
        assert_eq!(
            last_bearer,
            format!(
                "Bearer {}",
                t.stored(SecretName::ZendeskOauthAccessToken).await
            )
        );

        // A restart: a new client reads the new pair from the store and needs no refresh...
        let restarted = t.client(&fast_config()).await;
        restarted.current_user().await.unwrap();
        assert_eq!(sim.token_grants().len(), 1);
        // ...and can refresh with the rotated refresh token when its access token expires.
        sim.expire_access_tokens();
        restarted.current_user().await.unwrap();
        let grants = sim.token_grants();
        assert_eq!(grants.len(), 2);
        assert_eq!(
            grants[1].refresh_token.as_deref(),
            Some(stored_refresh.as_str())
        );
        assert_eq!(grants[1].status, 200);
    }
}

/// Several secrets come from one read, in the order asked (`None` for one not set); the OAuth token store
/// reads its pair that way, so a rotation can never hand it one old and one new token.
#[tokio::test]
async fn secrets_are_read_together_in_the_order_asked() {
    for db in common::test_dbs().await {
        let backend = db.name;
        let sim = sim().await;
        let t = oauth_tenant(db, &sim).await;
        let expose = |v: &Option<SecretString>| v.as_ref().map(|s| s.expose_secret().to_string());
        let access = t.stored(SecretName::ZendeskOauthAccessToken).await;
        let refresh = t.stored(SecretName::ZendeskOauthRefreshToken).await;
        let got = t
            .store
            .secrets(
                &t.vault,
                &t.tenant.id,
                &[
                    SecretName::ZendeskOauthRefreshToken,
                    SecretName::ZendeskApiToken,
                    SecretName::ZendeskOauthAccessToken,
                ],
            )
            .await
            .unwrap();
        assert_eq!(
            got.iter().map(expose).collect::<Vec<_>>(),
            [Some(refresh.clone()), None, Some(access.clone())],
            "{backend}"
        );
        assert!(
            t.store
                .secrets(&t.vault, &t.tenant.id, &[])
                .await
                .unwrap()
                .is_empty()
        );

        let tokens = SealedTokens::zendesk(t.store.clone(), t.vault.clone(), t.tenant.id.clone());
        let pair = tokens.load().await.unwrap().unwrap();
        assert_eq!(expose(&pair.access_token), Some(access), "{backend}");
        assert_eq!(expose(&pair.refresh_token), Some(refresh.clone()));
        t.store
            .delete_secret(&t.tenant.id, SecretName::ZendeskOauthAccessToken)
            .await
            .unwrap();
        let pair = tokens.load().await.unwrap().unwrap();
        assert!(pair.access_token.is_none(), "{backend}");
        assert_eq!(expose(&pair.refresh_token), Some(refresh));
        t.store
            .delete_secret(&t.tenant.id, SecretName::ZendeskOauthRefreshToken)
            .await
            .unwrap();
        assert!(tokens.load().await.unwrap().is_none(), "{backend}");
    }
}

#[tokio::test]
async fn concurrent_callers_share_one_refresh() {
    let sim = sim().await;
    let t = oauth_tenant(common::sqlite_db(), &sim).await;
    let client = t.client(&fast_config()).await;
    client.current_user().await.unwrap();
    sim.expire_access_tokens();
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.current_user().await })
        })
        .collect();
    for c in calls {
        c.await.unwrap().unwrap();
    }
    let grants = sim.token_grants();
    assert_eq!(
        grants.len(),
        1,
        "one refresh token must never be presented twice: {grants:?}"
    );
    assert_eq!(grants[0].status, 200);
}

#[tokio::test]
async fn a_token_about_to_expire_is_refreshed_before_use() {
    let sim = ZendeskSim::start(SimConfig::default()).await.unwrap();
    let t = oauth_tenant(common::sqlite_db(), &sim).await;
    // The shortest lifetime Zendesk accepts (300 s), refreshed when less than 299 s are left.
    let client = t
        .client(&ZendeskConfig {
            oauth_expires_in_secs: 300,
            oauth_refresh_leeway_secs: 299,
            ..fast_config()
        })
        .await;
    // The stored token's expiry is unknown: it is used until Zendesk says no.
    sim.expire_access_tokens();
    let before_refresh = tokio::time::Instant::now();
    client.current_user().await.unwrap();
    assert_eq!(sim.token_grants().len(), 1);
    // The refreshed token expires 300 s after it was issued: once less than the 299 s leeway is left, it is
    // refreshed before the request.
    tokio::time::sleep_until(before_refresh + Duration::from_millis(1100)).await;
    client.current_user().await.unwrap();
    assert_eq!(sim.token_grants().len(), 2);
    assert_eq!(
        statuses(&sim, "GET", "/api/v2/users/me"),
        [Some(401), Some(200), Some(200)]
    );
}

/// A token answer with an `expires_in` no real server sends (`u64::MAX`) arrives after Zendesk has already
/// rotated the pair: the new pair is stored first and the expiry is clamped, so nothing panics and the tenant
/// does not have to authorize again.
#[tokio::test]
async fn a_huge_expires_in_is_stored_first_and_clamped() {
    let sim = ZendeskSim::start(SimConfig {
        reported_expires_in: Some(u64::MAX),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let t = oauth_tenant(common::sqlite_db(), &sim).await;
    let client = t.client(&fast_config()).await;
    sim.expire_access_tokens();
    client.current_user().await.unwrap();
    let grants = sim.token_grants();
    assert_eq!((grants.len(), grants[0].status), (1, 200));
    assert_eq!(
        Some(t.stored(SecretName::ZendeskOauthRefreshToken).await),
        grants[0].issued_refresh_token
    );
    // The clamped expiry is far enough away: the token is used as is.
    client.current_user().await.unwrap();
    assert_eq!(sim.token_grants().len(), 1);
    // And the stored pair works after a restart.
    t.client(&fast_config()).await.current_user().await.unwrap();
    assert_eq!(sim.token_grants().len(), 1);
}

#[tokio::test]
async fn a_dead_refresh_token_asks_for_reauthorization() {
    let sim = sim().await;
    let client = memory_oauth_client(
        &sim,
        TokenPair {
            access_token: Some(SecretString::from("revoked")),
            refresh_token: Some(SecretString::from("used-already")),
            refresh_expires_at: None,
        },
    );
    let err = client.current_user().await.unwrap_err();
    assert!(
        matches!(&err, ZendeskError::OAuth { reauthorize: true, message } if message.contains("invalid_grant")),
        "{err}"
    );
    assert!(!err.to_string().contains("used-already"));
}

#[tokio::test]
async fn authorization_code_exchange_sets_up_oauth() {
    let sim = sim().await;
    let redirect = "https://ml-connector.example/oauth/callback";
    let url = auth::authorization_url(
        &sim.base_url(),
        DEFAULT_OAUTH_CLIENT_ID,
        redirect,
        "read write",
        "st4te",
        None,
    )
    .unwrap();
    assert_eq!(url.path(), "/oauth/authorizations/new");
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], DEFAULT_OAUTH_CLIENT_ID);
    assert_eq!(q["redirect_uri"], redirect);

    let client_creds = oauth_app();
    let code = sim.authorization_code(DEFAULT_OAUTH_CLIENT_ID, redirect, "read write");
    let http = reqwest::Client::new();
    let issued = auth::exchange_authorization_code(
        &http,
        &sim.base_url(),
        &client_creds,
        &code,
        redirect,
        None,
        ZendeskConfig::default().token_lifetimes(),
    )
    .await
    .unwrap();
    assert!(issued.refresh_token.is_some());
    // The lifetimes asked for are the ones applied.
    assert_eq!(issued.expires_in, Some(7200));
    assert_eq!(issued.refresh_token_expires_in, Some(7_776_000));
    // The code works once.
    let again = auth::exchange_authorization_code(
        &http,
        &sim.base_url(),
        &client_creds,
        &code,
        redirect,
        None,
        ZendeskConfig::default().token_lifetimes(),
    )
    .await
    .unwrap_err();
    assert!(matches!(again, ZendeskError::OAuth { .. }), "{again}");

    let client = memory_oauth_client(
        &sim,
        TokenPair {
            access_token: Some(issued.access_token),
            refresh_token: issued.refresh_token,
            refresh_expires_at: None,
        },
    );
    client.current_user().await.unwrap();
}

// ------------------------------------------------------------------------------------------------- organizations

#[tokio::test]
async fn organizations_are_created_updated_and_found_by_external_id() {
    let sim = sim().await;
    let client = token_client(&sim);
    let mut input = org("Acme Supplies", "SUP-0001");
    input.notes = Some("Workday supplier".into());
    input.tags = Some(vec!["workday".into(), "supplier".into()]);
    let created = client.create_organization(&input).await.unwrap();
    assert_eq!(created.action, OrgAction::Created);
    assert!(!created.disambiguated);

    let found = client
        .organization_by_external_id("sup-0001")
        .await
        .unwrap()
        .expect("external_id matching is case-insensitive");
    assert_eq!(found.id, created.id);
    assert_eq!(found.notes.as_deref(), Some("Workday supplier"));
    assert!(
        client
            .organization_by_external_id("SUP-404")
            .await
            .unwrap()
            .is_none()
    );

    let updated = client
        .update_organization(&OrganizationUpdate {
            id: created.id,
            details: Some("Net 30".into()),
            domain_names: Some(vec!["acme.test".into()]),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(updated.details.as_deref(), Some("Net 30"));
    assert_eq!(updated.domain_names, ["acme.test"]);
    assert_eq!(updated.name, "Acme Supplies");
    let fetched = client.organization(created.id).await.unwrap();
    assert_eq!(fetched, updated);
    let missing = client.organization(1).await.unwrap_err();
    assert!(
        matches!(missing, ZendeskError::NotFound { .. }),
        "{missing}"
    );
}

#[tokio::test]
async fn a_taken_name_is_disambiguated_deterministically() {
    let sim = sim().await;
    sim.seed_organization("Acme Corp", Some("OTHER-1")).unwrap();
    let client = token_client(&sim);
    let created = client
        .create_organization(&org("acme corp", "SUP-1"))
        .await
        .unwrap();
    assert_eq!(created.name, "acme corp (SUP-1)");
    assert!(created.disambiguated);
    assert_eq!(created.action, OrgAction::Created);
    // Asking again finds the same organization: no second object, same name.
    let again = client
        .create_organization(&org("acme corp", "SUP-1"))
        .await
        .unwrap();
    assert_eq!(again.id, created.id);
    assert_eq!(again.action, OrgAction::Reconciled);
    assert_eq!(sim.organizations().len(), 2);

    // In a batch: equal names inside it and a name taken in Zendesk, resolved without failing the batch.
    let results = client
        .create_many_organizations(&[
            org("Globex", "SUP-10"),
            org("GLOBEX", "SUP-02"),
            org("Acme Corp", "SUP-3"),
            org("Initech", "SUP-4"),
        ])
        .await
        .unwrap();
    let names: Vec<String> = results
        .iter()
        .map(|r| r.outcome.as_ref().unwrap().name.clone())
        .collect();
    assert_eq!(
        names,
        ["Globex (SUP-10)", "GLOBEX", "Acme Corp (SUP-3)", "Initech"]
    );
    assert!(
        results
            .iter()
            .all(|r| r.outcome.as_ref().unwrap().action == OrgAction::Created)
    );
    assert_eq!(sim.organizations().len(), 6);
}

#[tokio::test]
async fn bulk_create_and_update_poll_their_jobs() {
    let sim = sim().await;
    let client = token_client(&sim);
    let inputs: Vec<OrganizationInput> = (0..150)
        .map(|i| org(&format!("Supplier {i:03}"), &format!("SUP-{i:05}")))
        .collect();
    let created = client.create_many_organizations(&inputs).await.unwrap();
    assert_eq!(created.len(), 150);
    for (i, w) in created.iter().enumerate() {
        let o = w.outcome.as_ref().unwrap();
        assert_eq!((w.index, o.action), (i, OrgAction::Created));
        assert_eq!(
            w.external_id.as_deref(),
            Some(inputs[i].external_id.as_str())
        );
    }
    assert_eq!(sim.organizations().len(), 150);
    // Two jobs (100 + 50), each polled until it completed; jobs do not finish instantly.
    let posts = sim.requests_to("POST", "/api/v2/organizations/create_many");
    let sizes: Vec<usize> = posts.iter().map(organizations_sent).collect();
    assert_eq!(sizes, [100, 50]);
    let polls = sim.requests_to("GET", "/api/v2/job_statuses/");
    assert!(
        polls.len() > 2,
        "jobs should be polled while queued/working: {}",
        polls.len()
    );

    let updates: Vec<OrganizationUpdate> = created
        .iter()
        .map(|w| OrganizationUpdate {
            id: w.outcome.as_ref().unwrap().id,
            notes: Some(format!("synced {}", w.index)),
            ..Default::default()
        })
        .collect();
    let updated = client.update_many_organizations(&updates).await.unwrap();
    assert!(
        updated
            .iter()
            .all(|w| w.outcome.as_ref().unwrap().action == OrgAction::Updated)
    );
    let orgs = sim.organizations();
    assert!(
        orgs.iter()
            .all(|o| o["notes"].as_str().unwrap().starts_with("synced "))
    );
    let puts = sim.requests_to("PUT", "/api/v2/organizations/update_many");
    assert_eq!(puts.len(), 2);
}

#[tokio::test]
async fn upsert_reconciles_with_show_many_when_local_state_is_lost() {
    let sim = sim().await;
    let client = token_client(&sim);
    // A previous run created these; the local links are gone.
    client
        .create_organization(&org("Alpha", "S-1"))
        .await
        .unwrap();
    let mut beta = org("Beta", "S-2");
    beta.notes = Some("old".into());
    client.create_organization(&beta).await.unwrap();
    sim.seed_organization("Gamma", Some("OTHER")).unwrap();
    client
        .create_organization(&org("Gamma", "S-3"))
        .await
        .unwrap(); // became "Gamma (S-3)"
    sim.clear_log();

    let mut beta_now = org("Beta", "s-2");
    beta_now.notes = Some("new".into());
    let desired = [
        org("Alpha", "S-1"),
        beta_now,
        org("Gamma", "S-3"),
        org("Delta", "S-4"),
        org("Epsilon", "S-5"),
    ];
    let results = client.upsert_organizations(&desired).await.unwrap();
    let actions: Vec<OrgAction> = results
        .iter()
        .map(|r| r.outcome.as_ref().unwrap().action)
        .collect();
    assert_eq!(
        actions,
        [
            OrgAction::Unchanged,
            OrgAction::Updated,
            OrgAction::Unchanged,
            OrgAction::Created,
            OrgAction::Created
        ]
    );
    assert_eq!(results[2].outcome.as_ref().unwrap().name, "Gamma (S-3)");
    assert_eq!(results[1].outcome.as_ref().unwrap().name, "Beta");

    let show_many = sim.requests_to("GET", "/api/v2/organizations/show_many");
    assert_eq!(show_many.len(), 1);
    assert_eq!(
        show_many[0].query_param("external_ids").as_deref(),
        Some("S-1,s-2,S-3,S-4,S-5")
    );
    let creates = sim.requests_to("POST", "/api/v2/organizations/create_many");
    assert_eq!(creates.len(), 1);
    assert_eq!(organizations_sent(&creates[0]), 2);
    let updates = sim.requests_to("PUT", "/api/v2/organizations/update_many");
    assert_eq!(updates.len(), 1);
    let sent = &updates[0].body.as_ref().unwrap()["organizations"];
    assert_eq!(sent.as_array().unwrap().len(), 1);
    assert_eq!(sent[0]["notes"], "new");
    assert!(
        sent[0].get("name").is_none(),
        "an unchanged name is not sent: {sent}"
    );
    assert_eq!(sim.organizations().len(), 6);
}

#[tokio::test]
async fn organization_fields_are_provisioned_once_by_key() {
    let sim = sim().await;
    let client = token_client(&sim);
    let specs = [
        OrganizationFieldSpec {
            key: "workday_supplier_status".into(),
            title: "Workday supplier status".into(),
            field_type: FieldType::Dropdown,
            description: None,
            options: vec![
                ("Active".into(), "wd_active".into()),
                ("Inactive".into(), "wd_inactive".into()),
            ],
        },
        OrganizationFieldSpec {
            key: "workday_payment_terms".into(),
            title: "Payment terms".into(),
            field_type: FieldType::Text,
            description: Some("From Workday".into()),
            options: vec![],
        },
    ];
    // The first create's answer is lost after Zendesk saved the field.
    sim.inject(Fault::new(FaultKind::ResetAfterCommit).on("POST", "/api/v2/organization_fields"));
    let fields = client.ensure_organization_fields(&specs).await.unwrap();
    assert_eq!(fields.len(), 2);
    assert_eq!(fields[0].custom_field_options.len(), 2);
    assert_eq!(sim.organization_fields().len(), 2, "no duplicate field");
    let posts_before = sim.requests_to("POST", "/api/v2/organization_fields").len();
    assert_eq!(posts_before, 2);

    let again = client.ensure_organization_fields(&specs).await.unwrap();
    assert_eq!(again, fields);
    assert_eq!(
        sim.requests_to("POST", "/api/v2/organization_fields").len(),
        2
    );

    // Values land on organizations.
    let mut input = org("Acme", "SUP-1");
    input
        .organization_fields
        .insert("workday_supplier_status".into(), json!("wd_active"));
    let created = client.create_organization(&input).await.unwrap();
    let fetched = client.organization(created.id).await.unwrap();
    assert_eq!(
        fetched.organization_fields["workday_supplier_status"],
        "wd_active"
    );

    let clash = [OrganizationFieldSpec {
        field_type: FieldType::Integer,
        ..specs[1].clone()
    }];
    let err = client.ensure_organization_fields(&clash).await.unwrap_err();
    assert!(
        matches!(err, ZendeskError::FieldTypeMismatch { .. }),
        "{err}"
    );
}

/// Lists are read with cursor pagination: `page[size]=100`, then `links.next` while `meta.has_more`.
#[tokio::test]
async fn organization_fields_are_listed_by_cursor() {
    let sim = sim().await;
    let client = token_client(&sim);
    let specs: Vec<OrganizationFieldSpec> = (0..130)
        .map(|i| OrganizationFieldSpec {
            key: format!("field_{i:03}"),
            title: format!("Field {i}"),
            field_type: FieldType::Text,
            description: None,
            options: vec![],
        })
        .collect();
    client.ensure_organization_fields(&specs).await.unwrap();
    sim.clear_log();
    let fields = client.organization_fields().await.unwrap();
    let keys: Vec<&str> = fields.iter().map(|f| f.key.as_str()).collect();
    let expected: Vec<&str> = specs.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(keys, expected);
    let gets = sim.requests_to("GET", "/api/v2/organization_fields");
    assert_eq!(gets.len(), 2, "{gets:?}");
    assert_eq!(gets[0].query_param("page[size]").as_deref(), Some("100"));
    assert!(gets[0].query_param("page[after]").is_none());
    assert_eq!(gets[1].query_param("page[size]").as_deref(), Some("100"));
    assert!(gets[1].query_param("page[after]").is_some());
    assert!(
        gets.iter().all(|g| g.query_param("page").is_none()),
        "no offset paging"
    );
}

/// Zendesk answers field values in its own normal form (a date field `2024-01-31T00:00:00+00:00`, a decimal a
/// number, tags split and lower-cased): an unchanged supplier must compare equal and cause no write.
#[tokio::test]
async fn an_unchanged_supplier_with_typed_fields_causes_no_write() {
    let sim = sim().await;
    let client = token_client(&sim);
    let spec = |key: &str, field_type: &str, options: &[(&str, &str)]| OrganizationFieldSpec {
        key: key.into(),
        title: key.replace('_', " "),
        field_type: FieldType::parse(field_type).unwrap(),
        description: None,
        options: options
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
    };
    client
        .ensure_organization_fields(&[
            spec("supplier_since", "date", &[]),
            spec("credit_limit", "decimal", &[]),
            spec("open_invoices", "integer", &[]),
            spec("preferred", "checkbox", &[]),
            spec("supplier_status", "dropdown", &[("Active", "wd_active")]),
            spec("payment_terms", "text", &[]),
        ])
        .await
        .unwrap();
    let supplier = || {
        let mut o = org("Acme Supplies", "SUP-7");
        o.tags = Some(vec!["Preferred Supplier".into(), "EMEA".into()]);
        o.notes = Some("From Workday".into());
        for (key, value) in [
            ("supplier_since", json!("2024-01-31")),
            ("credit_limit", json!("1200.50")),
            ("open_invoices", json!("3")),
            ("preferred", json!(true)),
            ("supplier_status", json!("wd_active")),
            ("payment_terms", json!("Net 30")),
            ("not_a_field", json!("ignored by Zendesk")),
        ] {
            o.organization_fields.insert(key.into(), value);
        }
        o
    };
    let first = client.upsert_organizations(&[supplier()]).await.unwrap();
    assert_eq!(
        first[0].outcome.as_ref().unwrap().action,
        OrgAction::Created
    );
    // What Zendesk answers is not what was written.
    let stored = &sim.organizations()[0];
    assert_eq!(
        stored["organization_fields"]["supplier_since"],
        "2024-01-31T00:00:00+00:00"
    );
    assert_eq!(stored["organization_fields"]["credit_limit"], json!(1200.5));
    assert_eq!(stored["organization_fields"]["open_invoices"], json!(3));
    assert_eq!(stored["tags"], json!(["preferred", "supplier", "emea"]));

    sim.clear_log();
    let second = client.upsert_organizations(&[supplier()]).await.unwrap();
    assert_eq!(
        second[0].outcome.as_ref().unwrap().action,
        OrgAction::Unchanged
    );
    assert!(sim.requests_to("PUT", "/api/v2/organizations").is_empty());
    assert!(
        sim.requests_to("POST", "/api/v2/organizations").is_empty(),
        "{:?}",
        sim.requests()
    );

    // A real change writes that field alone.
    let mut changed = supplier();
    changed
        .organization_fields
        .insert("credit_limit".into(), json!("1200.51"));
    let third = client.upsert_organizations(&[changed]).await.unwrap();
    assert_eq!(
        third[0].outcome.as_ref().unwrap().action,
        OrgAction::Updated
    );
    let puts = sim.requests_to("PUT", "/api/v2/organizations/update_many");
    assert_eq!(puts.len(), 1);
    let sent = &puts[0].body.as_ref().unwrap()["organizations"][0];
    assert_eq!(
        sent["organization_fields"],
        json!({"credit_limit": "1200.51"}),
        "{sent}"
    );
    assert_eq!(
        sim.organizations()[0]["organization_fields"]["credit_limit"],
        json!(1200.51)
    );
}

// ------------------------------------------------------------------------------------------------- tickets

#[tokio::test]
async fn ticket_custom_fields_are_checked_then_written() {
    let sim = sim().await;
    let client = token_client(&sim);
    let status_field = sim.seed_ticket_field(
        "tagger",
        "Invoice status",
        &[("Paid", "invoice_paid"), ("Open", "invoice_open")],
    );
    let due_field = sim.seed_ticket_field("date", "Due date", &[]);
    let amount_field = sim.seed_ticket_field("decimal", "Amount", &[]);
    let ticket_id = sim
        .create_ticket(TicketSeed {
            subject: "Where is my payment for INV-2024-0042?".into(),
            description: "Invoice INV-2024-0042 is unpaid.".into(),
            tags: vec!["billing".into()],
            ..Default::default()
        })
        .unwrap();

    let ticket = client.ticket(ticket_id).await.unwrap();
    assert_eq!(
        ticket.subject.as_deref(),
        Some("Where is my payment for INV-2024-0042?")
    );
    assert_eq!(
        ticket.description.as_deref(),
        Some("Invoice INV-2024-0042 is unpaid.")
    );
    assert_eq!(ticket.tags, ["billing"]);
    assert!(ticket.requester_id.is_some());

    let field = client.ticket_field(status_field).await.unwrap();
    assert_eq!(field.field_type, FieldType::Tagger);
    assert_eq!(field.custom_field_options.len(), 2);

    let updated = client
        .update_ticket_custom_fields(
            ticket_id,
            &[
                CustomFieldValue {
                    id: status_field,
                    value: json!("Paid"),
                },
                CustomFieldValue {
                    id: due_field,
                    value: json!("2024-03-31"),
                },
                CustomFieldValue {
                    id: amount_field,
                    value: json!("1200.50"),
                },
            ],
        )
        .await
        .unwrap();
    assert_eq!(updated.custom_field(status_field), &json!("invoice_paid"));
    assert_eq!(updated.custom_field(due_field), &json!("2024-03-31"));
    assert_eq!(updated.custom_field(amount_field), &json!("1200.5"));
    assert!(updated.tags.contains(&"invoice_paid".to_string()));
    let puts = sim.requests_to("PUT", &format!("/api/v2/tickets/{ticket_id}"));
    assert_eq!(puts.len(), 1);
    assert_eq!(
        puts[0].body.as_ref().unwrap()["ticket"]["custom_fields"][0],
        json!({"id": status_field, "value": "invoice_paid"})
    );

    // Values that do not fit their field are refused before anything is sent.
    for (id, value) in [
        (status_field, json!("refunded")),
        (due_field, json!("31/03/2024")),
        (amount_field, json!(true)),
        (999_999, json!("x")),
    ] {
        let err = client
            .update_ticket_custom_fields(ticket_id, &[CustomFieldValue { id, value }])
            .await
            .unwrap_err();
        assert!(matches!(err, ZendeskError::FieldValue { .. }), "{err}");
    }
    assert_eq!(sim.requests_to("PUT", "/api/v2/tickets/").len(), 1);
    // Field definitions were looked up once each (cached).
    assert_eq!(
        sim.requests_to("GET", &format!("/api/v2/ticket_fields/{status_field}"))
            .len(),
        1
    );
}

#[tokio::test]
async fn ticket_fields_are_written_in_bulk() {
    let sim = sim().await;
    let client = token_client(&sim);
    let field = sim.seed_ticket_field("text", "Supplier", &[]);
    let tickets: Vec<u64> = (0..3)
        .map(|i| {
            sim.create_ticket(TicketSeed {
                subject: format!("Question {i}"),
                description: "Hello".into(),
                ..Default::default()
            })
            .unwrap()
        })
        .collect();
    let updates: Vec<TicketFieldsUpdate> = tickets
        .iter()
        .map(|&t| TicketFieldsUpdate {
            ticket_id: t,
            custom_fields: vec![CustomFieldValue {
                id: field,
                value: json!(format!("SUP-{t}")),
            }],
        })
        .collect();
    let results = client.update_many_ticket_fields(&updates).await.unwrap();
    assert!(results.iter().all(|r| r.outcome.is_ok()), "{results:?}");
    for t in tickets {
        let ticket = sim.ticket(t).unwrap();
        let value = ticket["custom_fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == field)
            .unwrap()["value"]
            .clone();
        assert_eq!(value, json!(format!("SUP-{t}")));
    }
}

// ------------------------------------------------------------------------------------------------- limits and faults

#[tokio::test]
async fn a_429_is_waited_out_as_retry_after_says() {
    let sim = sim().await;
    let client = token_client(&sim);
    sim.inject(
        Fault::new(FaultKind::RateLimited {
            retry_after_secs: 2,
        })
        .on("POST", "/api/v2/organizations"),
    );
    let created = client
        .create_organization(&org("Acme", "SUP-1"))
        .await
        .unwrap();
    assert_eq!(created.action, OrgAction::Created);
    let log = sim.requests();
    assert_eq!(
        log.len(),
        2,
        "{:?}",
        log.iter().map(|r| r.line()).collect::<Vec<_>>()
    );
    assert_eq!(log[0].status, Some(429));
    assert_eq!(log[1].status, Some(201));
    let waited = log[1].received.duration_since(log[0].received);
    assert!(waited >= Duration::from_secs(2), "retried after {waited:?}");
    assert_eq!(sim.organizations().len(), 1);
}

#[tokio::test]
async fn a_429_holds_every_caller_of_the_tenant() {
    let sim = sim().await;
    let client = token_client(&sim);
    sim.inject(
        Fault::new(FaultKind::RateLimited {
            retry_after_secs: 1,
        })
        .on("GET", "/api/v2/users/me"),
    );
    let first = tokio::spawn({
        let c = client.clone();
        async move { c.current_user().await }
    });
    // Other work for the same tenant starts once the client has seen the 429 and waits out its Retry-After.
    common::wait_until(
        "the client to see the 429",
        Duration::from_secs(5),
        || async { client.limiter().held_until().is_some() },
    )
    .await;
    let others: Vec<_> = (0..4)
        .map(|i| {
            let c = client.clone();
            tokio::spawn(async move { c.ticket(1000 + i).await })
        })
        .collect();
    first.await.unwrap().unwrap();
    for c in others {
        let err = c.await.unwrap().unwrap_err();
        assert!(matches!(err, ZendeskError::NotFound { .. }), "{err}");
    }
    assert_eq!(sim.requests().len(), 6);
    let log = sim.requests();
    let limited = log.iter().find(|r| r.status == Some(429)).unwrap().received;
    for r in log.iter().filter(|r| r.status != Some(429)) {
        assert!(
            r.received.duration_since(limited) >= Duration::from_secs(1),
            "{} went out {:?} after the 429",
            r.line(),
            r.received.saturating_duration_since(limited)
        );
    }
}

#[tokio::test]
async fn server_errors_and_dropped_connections_are_retried_for_reads() {
    let sim = sim().await;
    let client = token_client(&sim);
    let id = sim
        .create_ticket(TicketSeed {
            subject: "s".into(),
            description: "d".into(),
            ..Default::default()
        })
        .unwrap();
    let path = format!("/api/v2/tickets/{id}");
    sim.inject(Fault::new(FaultKind::Status(503)).on("GET", &path).times(2));
    sim.inject(Fault::new(FaultKind::ResetBeforeProcessing).on("GET", &path));
    sim.inject(Fault::new(FaultKind::MalformedBody).on("GET", &path));
    let ticket = client.ticket(id).await.unwrap();
    assert_eq!(ticket.id, id);
    assert_eq!(sim.requests_to("GET", &path).len(), 5);

    // Retries are bounded.
    let bounded = api_token_client(&sim, DEFAULT_API_TOKEN, &{
        let mut c = fast_config();
        c.retry.max_retries = 2;
        c
    });
    sim.clear_log();
    sim.inject(
        Fault::new(FaultKind::Status(500))
            .on("GET", &path)
            .times(10),
    );
    let err = bounded.ticket(id).await.unwrap_err();
    assert!(
        matches!(err, ZendeskError::Upstream { status: 500, .. }),
        "{err}"
    );
    assert_eq!(sim.requests().len(), 3);
}

#[tokio::test]
async fn a_slow_answer_times_out_and_the_read_is_retried() {
    let sim = sim().await;
    let client = api_token_client(
        &sim,
        DEFAULT_API_TOKEN,
        &ZendeskConfig {
            request_timeout_secs: 1,
            ..fast_config()
        },
    );
    sim.inject(
        Fault::new(FaultKind::Delay(Duration::from_millis(1500))).on("GET", "/api/v2/users/me"),
    );
    client.current_user().await.unwrap();
    let log = sim.requests();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].fault.as_deref(), Some("delay"));
    assert_eq!(log[1].status, Some(200));
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_is_not_duplicated() {
    let sim = sim().await;
    let client = token_client(&sim);
    // Creates `org(name, ext)` with `fault` on the create request.
    let create_through = async |fault: FaultKind, name: &str, ext: &str| -> WrittenOrg {
        sim.inject(Fault::new(fault).on("POST", "/api/v2/organizations"));
        client.create_organization(&org(name, ext)).await.unwrap()
    };
    let written = create_through(FaultKind::ResetAfterCommit, "Acme", "SUP-1").await;
    assert_eq!(written.action, OrgAction::Reconciled);
    assert_eq!(orgs_with_external_id(&sim, "SUP-1"), 1);
    let log = sim.requests();
    assert_eq!(log[0].fault.as_deref(), Some("reset_after_commit"));
    assert_eq!(log[0].status, None, "the answer never left the simulator");
    assert_eq!(
        sim.requests_to("POST", "/api/v2/organizations").len(),
        1,
        "not created twice"
    );

    // A reset before Zendesk processed anything: the lookup finds nothing and the create is sent again.
    let written = create_through(FaultKind::ResetBeforeProcessing, "Globex", "SUP-2").await;
    assert_eq!(written.action, OrgAction::Created);
    assert_eq!(orgs_with_external_id(&sim, "SUP-2"), 1);

    // A 500 on a create is not blindly retried either.
    let written = create_through(FaultKind::Status(500), "Initech", "SUP-3").await;
    assert_eq!(written.action, OrgAction::Created);
    assert_eq!(sim.organizations().len(), 3);
}

#[tokio::test]
async fn a_bulk_create_whose_answer_was_lost_is_reconciled() {
    let sim = sim().await;
    let client = token_client(&sim);
    sim.inject(
        Fault::new(FaultKind::ResetAfterCommit).on("POST", "/api/v2/organizations/create_many"),
    );
    let results = client
        .create_many_organizations(&numbered_orgs(5))
        .await
        .unwrap();
    assert!(results.iter().all(|r| r.outcome.is_ok()), "{results:?}");
    assert_eq!(sim.organizations().len(), 5);
    for i in 0..5 {
        assert_eq!(orgs_with_external_id(&sim, &format!("S-{i}")), 1);
    }
}

/// A bulk create that was processed but answered with something unreadable is not sent again blindly: the
/// organizations are looked up by `external_id` first.
#[tokio::test]
async fn a_bulk_create_with_an_unreadable_answer_is_looked_up_before_resending() {
    let sim = sim().await;
    let client = token_client(&sim);
    sim.inject(
        Fault::new(FaultKind::MalformedBody).on("POST", "/api/v2/organizations/create_many"),
    );
    let results = client
        .create_many_organizations(&numbered_orgs(3))
        .await
        .unwrap();
    assert!(results.iter().all(|r| r.outcome.is_ok()), "{results:?}");
    for i in 0..3 {
        assert_eq!(orgs_with_external_id(&sim, &format!("S-{i}")), 1);
    }
    let log = sim.requests();
    assert_eq!(log[0].path, "/api/v2/organizations/create_many");
    assert_eq!(log[0].fault.as_deref(), Some("malformed_body"));
    assert_eq!(
        (log[1].method.as_str(), log[1].path.as_str()),
        ("GET", "/api/v2/organizations/show_many"),
        "looked up before anything is created again: {log:?}"
    );
}

/// A bulk ticket update is idempotent: an unreadable answer is retried like a dropped connection.
#[tokio::test]
async fn a_bulk_ticket_update_with_an_unreadable_answer_is_sent_again() {
    let sim = sim().await;
    let client = token_client(&sim);
    let field = sim.seed_ticket_field("text", "Supplier", &[]);
    let ticket = sim
        .create_ticket(TicketSeed {
            subject: "Question".into(),
            description: "Hello".into(),
            ..Default::default()
        })
        .unwrap();
    sim.inject(Fault::new(FaultKind::MalformedBody).on("PUT", "/api/v2/tickets/update_many"));
    let results = client
        .update_many_ticket_fields(&[TicketFieldsUpdate {
            ticket_id: ticket,
            custom_fields: vec![CustomFieldValue {
                id: field,
                value: json!("SUP-1"),
            }],
        }])
        .await
        .unwrap();
    assert!(results.iter().all(|r| r.outcome.is_ok()), "{results:?}");
    let sent = sim.requests_to("PUT", "/api/v2/tickets/update_many");
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[0].fault.as_deref(), Some("malformed_body"));
    assert_eq!(sent[1].fault, None);
}

/// A ticket update job killed half-way: the tickets it reached are done, only the others are sent again.
#[tokio::test]
async fn a_killed_ticket_update_job_resends_only_the_tickets_it_did_not_reach() {
    let sim = sim().await;
    let client = token_client(&sim);
    let field = sim.seed_ticket_field("text", "Supplier", &[]);
    let tickets: Vec<u64> = (0..3)
        .map(|i| {
            sim.create_ticket(TicketSeed {
                subject: format!("Question {i}"),
                description: "Hello".into(),
                ..Default::default()
            })
            .unwrap()
        })
        .collect();
    sim.inject(
        Fault::new(FaultKind::KillJob { after_items: 1 }).on("PUT", "/api/v2/tickets/update_many"),
    );
    let updates: Vec<TicketFieldsUpdate> = tickets
        .iter()
        .map(|&t| TicketFieldsUpdate {
            ticket_id: t,
            custom_fields: vec![CustomFieldValue {
                id: field,
                value: json!(format!("SUP-{t}")),
            }],
        })
        .collect();
    let results = client.update_many_ticket_fields(&updates).await.unwrap();
    assert!(results.iter().all(|r| r.outcome.is_ok()), "{results:?}");
    let sent = sim.requests_to("PUT", "/api/v2/tickets/update_many");
    assert_eq!(sent.len(), 2);
    let resent: Vec<u64> = sent[1].body.as_ref().unwrap()["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_u64().unwrap())
        .collect();
    assert_eq!(resent, tickets[1..]);
    for &t in &tickets {
        let ticket = sim.ticket(t).unwrap();
        let value = ticket["custom_fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == field)
            .unwrap()["value"]
            .clone();
        assert_eq!(value, json!(format!("SUP-{t}")));
    }
}

/// A killed job still reports the items it processed: those are taken as they are, and only the items it never
/// reached are looked up (not found) and sent again.
#[tokio::test]
async fn a_killed_job_keeps_its_results_and_only_the_rest_is_resubmitted() {
    let sim = sim().await;
    let client = token_client(&sim);
    sim.inject(
        Fault::new(FaultKind::KillJob { after_items: 2 })
            .on("POST", "/api/v2/organizations/create_many"),
    );
    let results = client
        .create_many_organizations(&numbered_orgs(5))
        .await
        .unwrap();
    let actions: Vec<OrgAction> = results
        .iter()
        .map(|r| r.outcome.as_ref().unwrap().action)
        .collect();
    assert_eq!(actions, [OrgAction::Created; 5]);
    assert_eq!(sim.organizations().len(), 5);
    let show_many = sim.requests_to("GET", "/api/v2/organizations/show_many");
    assert_eq!(show_many.len(), 1);
    assert_eq!(
        show_many[0].query_param("external_ids").as_deref(),
        Some("S-2,S-3,S-4"),
        "only the items without a result are unknown"
    );
    let resubmitted = sim.requests_to("POST", "/api/v2/organizations/create_many");
    assert_eq!(resubmitted.len(), 2);
    assert_eq!(organizations_sent(&resubmitted[1]), 3);
}

/// A job that ended `failed` reports a taken name: that item moves to the next disambiguation level (it is
/// not resubmitted under the taken name until the client gives up), the created ones stay created.
#[tokio::test]
async fn a_failed_jobs_results_settle_its_items() {
    let sim = sim().await;
    let client = token_client(&sim);
    sim.seed_organization("Org 1", Some("OTHER")).unwrap();
    sim.inject(
        Fault::new(FaultKind::FailJob { after_items: 3 })
            .on("POST", "/api/v2/organizations/create_many"),
    );
    let results = client
        .create_many_organizations(&numbered_orgs(4))
        .await
        .unwrap();
    let written: Vec<&WrittenOrg> = results
        .iter()
        .map(|r| r.outcome.as_ref().unwrap())
        .collect();
    assert_eq!(
        written.iter().map(|w| w.action).collect::<Vec<_>>(),
        [OrgAction::Created; 4]
    );
    assert_eq!(written[1].name, "Org 1 (S-1)");
    assert!(written[1].disambiguated);
    let posts = sim.requests_to("POST", "/api/v2/organizations/create_many");
    assert_eq!(posts.len(), 2, "one resubmission");
    let second = &posts[1].body.as_ref().unwrap()["organizations"];
    let names: Vec<&str> = second
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Org 1 (S-1)", "Org 3"],
        "the renamed item and the one never run"
    );
    let show_many = sim.requests_to("GET", "/api/v2/organizations/show_many");
    assert_eq!(
        show_many[0].query_param("external_ids").as_deref(),
        Some("S-3,S-1"),
        "the unprocessed item and the taken name are looked up, not the created ones"
    );
    assert_eq!(sim.organizations().len(), 5);
}

/// Updates in a job that stopped: the results settle the items processed (a success stays done, a failure is
/// reported, not resent); only the items never reached are sent again.
#[tokio::test]
async fn a_stopped_update_job_resends_only_what_it_did_not_reach() {
    let sim = sim().await;
    let client = token_client(&sim);
    let ids: Vec<u64> = (0..4)
        .map(|i| {
            sim.seed_organization(&format!("Org {i}"), Some(&format!("S-{i}")))
                .unwrap()
        })
        .collect();
    sim.seed_organization("Taken", None).unwrap();
    sim.inject(
        Fault::new(FaultKind::KillJob { after_items: 2 })
            .on("PUT", "/api/v2/organizations/update_many"),
    );
    let updates: Vec<OrganizationUpdate> = ids
        .iter()
        .enumerate()
        .map(|(i, &id)| OrganizationUpdate {
            id,
            notes: Some(format!("n{i}")),
            // An external id another organization has: a failure that is not a name conflict.
            external_id: (i == 1).then(|| "S-3".to_string()),
            ..Default::default()
        })
        .collect();
    let results = client.update_many_organizations(&updates).await.unwrap();
    assert_eq!(
        results[0].outcome.as_ref().unwrap().action,
        OrgAction::Updated
    );
    let failed = results[1].outcome.as_ref().unwrap_err();
    assert_eq!(failed.error, "DuplicateValue");
    assert!(
        results[2].outcome.is_ok() && results[3].outcome.is_ok(),
        "{results:?}"
    );
    let puts = sim.requests_to("PUT", "/api/v2/organizations/update_many");
    assert_eq!(puts.len(), 2);
    let resent: Vec<u64> = puts[1].body.as_ref().unwrap()["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_u64().unwrap())
        .collect();
    assert_eq!(resent, [ids[2], ids[3]]);
}

/// A job Zendesk has just accepted may answer 404 on its first polls: that is waited out, not a failure.
#[tokio::test]
async fn a_job_not_visible_yet_is_polled_again() {
    let sim = sim().await;
    let client = token_client(&sim);
    sim.inject(
        Fault::new(FaultKind::JobNotYetVisible { polls: 3 })
            .on("POST", "/api/v2/organizations/create_many"),
    );
    let results = client
        .create_many_organizations(&numbered_orgs(3))
        .await
        .unwrap();
    assert!(
        results
            .iter()
            .all(|r| r.outcome.as_ref().unwrap().action == OrgAction::Created),
        "{results:?}"
    );
    let polls = statuses(&sim, "GET", "/api/v2/job_statuses/");
    assert_eq!(&polls[..3], [Some(404); 3]);
    assert!(polls[3..].iter().all(|s| *s == Some(200)));
    assert_eq!(
        sim.requests_to("POST", "/api/v2/organizations/create_many")
            .len(),
        1
    );
    assert!(
        sim.requests_to("GET", "/api/v2/organizations/show_many")
            .is_empty()
    );

    // Bounded: a job that never shows is given up with a typed error, after the allowed polls.
    sim.clear_log();
    sim.inject(
        Fault::new(FaultKind::JobNotYetVisible { polls: 1000 })
            .on("POST", "/api/v2/organizations/create_many"),
    );
    let err = client
        .create_many_organizations(&[org("Late", "S-9")])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ZendeskError::JobTimeout { status, .. } if status == "not visible"),
        "{err}"
    );
    assert_eq!(
        sim.requests_to("GET", "/api/v2/job_statuses/").len(),
        ml_connector::zendesk::jobs::NOT_YET_VISIBLE_POLLS as usize + 1
    );
}

// ------------------------------------------------------------------------------------------------- check

#[tokio::test]
async fn check_reports_the_user_and_the_rate_limit_or_the_failure() {
    let sim = sim().await;
    let db = common::sqlite_db();
    let store = db.store().await;
    let (app, tenant) = acme_tenant(
        &store,
        ZendeskSettings {
            base_url: sim.base_url(),
            email: DEFAULT_AGENT_EMAIL.into(),
            rate_limit_rpm: 400,
            ..Default::default()
        },
    )
    .await;
    // What `ml-connector check --tenant` runs for Zendesk: the tenant's context, then the probe.
    let check = async || {
        let ctx = app.tenant(&tenant.id).await?;
        ml_connector::app::probe::probe_zendesk(&ctx).await
    };
    let set_token = async |token: &str| {
        store
            .put_secret(
                app.vault(),
                &tenant.id,
                SecretName::ZendeskApiToken,
                &SecretString::from(token),
            )
            .await
            .unwrap()
    };
    let missing = check().await.unwrap_err();
    assert!(
        matches!(
            missing,
            ContextError::MissingSecret {
                secret: SecretName::ZendeskApiToken,
                ..
            }
        ),
        "{missing}"
    );

    set_token(DEFAULT_API_TOKEN).await;
    let report = check().await.unwrap();
    let line = report.summary();
    assert!(line.contains(DEFAULT_AGENT_EMAIL), "{line}");
    assert!(line.contains("rate limit 700/min"), "{line}");
    assert!(line.contains("paced at 400/min"), "{line}");

    set_token("wrong").await;
    let err = check().await.unwrap_err();
    assert_eq!(err.code(), "unauthorized");
}
