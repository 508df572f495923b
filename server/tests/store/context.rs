//! The application layer over the store, on every backend: a tenant's context is resolved once and shared until
//! the tenant or its secrets change; what a tenant lacks is named, never guessed; OAuth tokens are sealed.

use std::sync::Arc;

use crate::support as common;

use ml_connector::app::tokens::SealedTokens;
use ml_connector::app::{App, ContextError, TenantSetting};
use ml_connector::config::Config;
use ml_connector::store::TenantUpdate;
use ml_connector::tenant::{
    SecretName, TenantId, TenantSettings, WorkdaySettings, ZendeskAuthMode, ZendeskSettings,
};
use ml_connector::upstream::{TokenPair, TokenPersistence as _};
use ml_connector::vault::{KeySource, MasterKey};
use secrecy::{ExposeSecret as _, SecretString};

fn acme() -> TenantId {
    TenantId::parse("acme").unwrap()
}

/// The application over `db`, with tenant `acme` (no settings, no secrets).
async fn app_with_acme(db: &common::TestDb) -> App {
    let store = db.store().await;
    let vault = store
        .unlock_vault(&KeySource::Env(MasterKey::generate().to_base64()))
        .await
        .unwrap();
    store
        .create_tenant(
            &acme(),
            "Acme",
            &WorkdaySettings::default(),
            &ZendeskSettings::default(),
        )
        .await
        .unwrap();
    App::new(Config::default(), store, vault)
}

async fn put(app: &App, name: SecretName, value: &str) {
    app.store()
        .put_secret(app.vault(), &acme(), name, &SecretString::from(value))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_context_is_shared_until_the_tenant_or_its_secrets_change() {
    for db in common::test_dbs().await {
        let app = app_with_acme(&db).await;
        let first = app.tenant(&acme()).await.unwrap();
        let again = app.tenant(&acme()).await.unwrap();
        assert!(Arc::ptr_eq(&first, &again), "{}: resolved twice", db.name);

        put(&app, SecretName::ZendeskApiToken, "t1").await;
        let after_secret = app.tenant(&acme()).await.unwrap();
        assert!(!Arc::ptr_eq(&again, &after_secret), "{}", db.name);

        app.store()
            .update_tenant(
                &acme(),
                TenantUpdate {
                    name: Some("Acme Corp".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let after_update = app.tenant(&acme()).await.unwrap();
        assert!(!Arc::ptr_eq(&after_secret, &after_update), "{}", db.name);
        assert_eq!(after_update.tenant().name, "Acme Corp");

        app.store()
            .delete_secret(&acme(), SecretName::ZendeskApiToken)
            .await
            .unwrap();
        let after_delete = app.tenant(&acme()).await.unwrap();
        assert!(!Arc::ptr_eq(&after_update, &after_delete), "{}", db.name);

        let unknown = app
            .tenant(&TenantId::parse("nobody").unwrap())
            .await
            .unwrap_err();
        assert!(
            matches!(&unknown, ContextError::UnknownTenant(id) if id.as_str() == "nobody"),
            "{}: {unknown}",
            db.name
        );
    }
}

#[tokio::test]
async fn what_a_tenant_lacks_is_named() {
    let db = common::sqlite_db();
    let app = app_with_acme(&db).await;
    let ctx = app.tenant(&acme()).await.unwrap();
    // Defaults the tenant did not set.
    assert_eq!(ctx.limits().zendesk_requests_per_minute, 200);
    assert_eq!(ctx.mapping().catalog(), None);

    let err = ctx.workday().await.unwrap_err();
    assert!(
        matches!(
            err,
            ContextError::MissingSecret {
                secret: SecretName::WorkdayPassword,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("workday-password is not set"),
        "{err}"
    );
    put(&app, SecretName::WorkdayPassword, "pw").await;
    let ctx = app.tenant(&acme()).await.unwrap();
    let err = ctx.workday().await.unwrap_err();
    assert!(
        matches!(
            err,
            ContextError::MissingSetting {
                setting: TenantSetting::WorkdayUrl,
                ..
            }
        ),
        "{err}"
    );

    let err = ctx.zendesk().await.unwrap_err();
    assert!(
        matches!(
            err,
            ContextError::MissingSecret {
                secret: SecretName::ZendeskApiToken,
                ..
            }
        ),
        "{err}"
    );
    put(&app, SecretName::ZendeskApiToken, "tok").await;
    let err = app
        .tenant(&acme())
        .await
        .unwrap()
        .zendesk()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ContextError::MissingSetting {
                setting: TenantSetting::ZendeskEmail,
                ..
            }
        ),
        "{err}"
    );
    // No message names a command: that is the caller's business.
    assert!(!err.to_string().contains("ml-connector"), "{err}");

    app.store()
        .modify_tenant(&acme(), |t| {
            t.zendesk.email = "agent@acme.example".into();
            t.zendesk.rate_limit_rpm = 700;
            Ok::<_, ml_connector::store::StoreError>(())
        })
        .await
        .unwrap();
    let ctx = app.tenant(&acme()).await.unwrap();
    let client = ctx.zendesk().await.unwrap();
    // Built once per context: every user gets the same limiter.
    let same = ctx.zendesk().await.unwrap();
    assert!(std::ptr::eq(client.limiter(), same.limiter()));
    assert_eq!(client.limiter().rpm(), 700);
    assert_eq!(ctx.limits().zendesk_requests_per_minute, 700);

    app.store()
        .modify_tenant(&acme(), |t| {
            t.zendesk.auth = ZendeskAuthMode::Oauth;
            Ok::<_, ml_connector::store::StoreError>(())
        })
        .await
        .unwrap();
    let err = app
        .tenant(&acme())
        .await
        .unwrap()
        .zendesk()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ContextError::MissingSetting {
                setting: TenantSetting::ZendeskOAuthClientId,
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn invalid_mapping_rules_are_refused_when_the_context_is_resolved() {
    let db = common::sqlite_db();
    let app = app_with_acme(&db).await;
    let settings = TenantSettings::from_json(&serde_json::json!({
        "mapping": {"invoice": [{"source": "invoice.colour", "ticket_field": 1}]},
        "plugin_failure_policy": "write_nothing",
    }))
    .unwrap();
    app.store()
        .update_tenant(
            &acme(),
            TenantUpdate {
                settings: Some(settings),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let err = app.tenant(&acme()).await.unwrap_err();
    assert!(
        matches!(&err, ContextError::InvalidSettings { message, .. } if message.contains("invoice[0]")),
        "{err}"
    );
    // The tenant itself stays readable.
    app.store().tenant(&acme()).await.unwrap();
}

#[tokio::test]
async fn oauth_tokens_are_sealed_per_upstream() {
    for db in common::test_dbs().await {
        let app = app_with_acme(&db).await;
        let workday = SealedTokens::workday(app.store().clone(), app.vault_handle(), acme());
        let zendesk = SealedTokens::zendesk(app.store().clone(), app.vault_handle(), acme());
        assert!(workday.load().await.unwrap().is_none());
        let pair = |a: &str, r: &str| TokenPair {
            access_token: Some(SecretString::from(a)),
            refresh_token: Some(SecretString::from(r)),
            refresh_expires_at: None,
        };
        // Workday keeps only the refresh token; Zendesk the pair.
        workday
            .save(&pair("wd-access", "wd-refresh"))
            .await
            .unwrap();
        zendesk
            .save(&pair("zd-access", "zd-refresh"))
            .await
            .unwrap();
        let wd = workday.load().await.unwrap().unwrap();
        assert!(wd.access_token.is_none(), "{}", db.name);
        assert_eq!(wd.refresh_token.unwrap().expose_secret(), "wd-refresh");
        let zd = zendesk.load().await.unwrap().unwrap();
        assert_eq!(zd.access_token.unwrap().expose_secret(), "zd-access");
        assert_eq!(zd.refresh_token.unwrap().expose_secret(), "zd-refresh");
        let stored = app
            .store()
            .secret(app.vault(), &acme(), SecretName::WorkdayRefreshToken)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.expose_secret(), "wd-refresh");
        // Nothing in clear.
        let sealed: Vec<Vec<u8>> = sqlx::query_scalar("SELECT sealed FROM credentials")
            .fetch_all(app.store().pool())
            .await
            .unwrap();
        assert!(
            sealed
                .iter()
                .all(|s| !s.windows(10).any(|w| w == b"wd-refresh")),
            "{}",
            db.name
        );
    }
}
