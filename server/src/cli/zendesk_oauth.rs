//! `ml-connector tenant zendesk-oauth`: authorizing ml-connector as the tenant's Zendesk OAuth client.

use anyhow::{Context as _, bail};
use ml_connector::startup::Services;
use ml_connector::tenant::{SecretName, TenantId, ZendeskAuthMode};
use ml_connector::zendesk::OauthClient;
use ml_connector::zendesk::auth::{authorization_url, exchange_authorization_code};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Zendesk subdomain.
    id: TenantId,
    /// The redirect URL registered on the Zendesk OAuth client.
    #[arg(long, value_name = "URL")]
    redirect_uri: url::Url,
    /// The `code` Zendesk added to the redirect URL after an admin approved; without it, the URL to approve
    /// is printed.
    #[arg(long)]
    code: Option<String>,
    /// Scopes to ask for.
    #[arg(long, default_value = "read write")]
    scope: String,
}

pub async fn run(services: &Services, args: Args) -> anyhow::Result<()> {
    let store = &services.store;
    let tenant = store.tenant(&args.id).await?;
    let client_id = tenant.zendesk.oauth_client_id.trim().to_string();
    if client_id.is_empty() {
        bail!(
            "tenant {} has no Zendesk OAuth client id; run `ml-connector tenant update {} --zendesk-client-id ID`",
            args.id,
            args.id
        );
    }
    let base = tenant.zendesk.effective_base_url(&tenant.id);
    let redirect = args.redirect_uri.as_str();
    let Some(code) = args.code else {
        let state = hex::encode(rand::random::<[u8; 16]>());
        let url = authorization_url(&base, &client_id, redirect, &args.scope, &state, None)?;
        println!("{url}");
        eprintln!(
            "open this URL as a Zendesk admin and approve; then run this command again with --code CODE \
             (the `code` parameter of the redirect; check that its `state` is {state})"
        );
        return Ok(());
    };
    let secret = store
        .secret(&services.vault, &args.id, SecretName::ZendeskOauthClientSecret)
        .await?
        .with_context(|| {
            format!(
                "tenant {} has no zendesk-oauth-client-secret; set it with `ml-connector tenant set-credentials`",
                args.id
            )
        })?;
    let client = OauthClient {
        client_id,
        client_secret: secret,
    };
    let issued = exchange_authorization_code(
        &reqwest::Client::new(),
        &base,
        &client,
        code.trim(),
        redirect,
        None,
    )
    .await?;
    let refresh = issued.refresh_token.as_ref().context(
        "Zendesk issued no refresh token; the access token would stop working when it expires",
    )?;
    store
        .put_secrets(
            &services.vault,
            &args.id,
            &[
                (SecretName::ZendeskOauthAccessToken, &issued.access_token),
                (SecretName::ZendeskOauthRefreshToken, refresh),
            ],
        )
        .await?;
    println!(
        "stored the Zendesk OAuth token pair for {} (access token expires in {}, scope {})",
        args.id,
        issued
            .expires_in
            .map_or("never".to_string(), |s| format!("{s}s")),
        issued.scope.as_deref().unwrap_or("-")
    );
    if tenant.zendesk.auth != ZendeskAuthMode::Oauth {
        eprintln!(
            "note: the tenant still authenticates with an API token; switch with `ml-connector tenant update {} \
             --zendesk-auth oauth`",
            args.id
        );
    }
    Ok(())
}
