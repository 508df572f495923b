//! `ml-connector tenant zendesk-oauth`: authorizing ml-connector as the tenant's Zendesk OAuth client, with
//! PKCE (S256) and a checked `state`.
//!
//! 1. Without `--complete`: a fresh `state` and PKCE verifier are sealed in the store
//!    (`zendesk-oauth-pending`) and the approval URL (with `state` and `code_challenge`) is printed.
//! 2. With `--complete`: the address Zendesk redirected the admin to (it carries `code` and `state`) is read from
//!    standard input, or from the environment variable named by `--from-env` — never from the command line,
//!    where other users could read it. The `state` must be the stored one; the code is exchanged with the stored
//!    verifier; the token pair is stored and the pending authorization deleted.

use std::time::Duration;

use anyhow::{Context as _, bail};
use ml_connector::app::App;
use ml_connector::app::tokens::SealedTokens;
use ml_connector::store::now_ms;
use ml_connector::tenant::{SecretName, TenantId, ZendeskAuthMode};
use ml_connector::upstream::{TokenPair, TokenPersistence as _};
use ml_connector::zendesk::auth::{Pkce, authorization_url, exchange_authorization_code};
use ml_connector::zendesk::{OAuthClient, ZendeskError};
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq as _;

/// How long an authorization may stay pending between the two steps.
const PENDING_TTL_MS: i64 = 30 * 60 * 1000;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Zendesk subdomain.
    id: TenantId,
    /// The redirect URL registered on the Zendesk OAuth client (the same in both steps).
    #[arg(long, value_name = "URL")]
    redirect_uri: url::Url,
    /// Second step: read the address Zendesk redirected to (`...?code=...&state=...`) from standard input (or
    /// `--from-env`), check its state and exchange the code. Without it, the URL to approve is printed.
    #[arg(long)]
    complete: bool,
    /// With `--complete`: read the redirected address from this environment variable instead of stdin.
    #[arg(long, value_name = "VAR", requires = "complete")]
    from_env: Option<String>,
    /// Scopes to ask for.
    #[arg(long, default_value = "read write")]
    scope: String,
}

/// What is kept (sealed) between the two steps.
#[derive(Serialize, Deserialize)]
struct Pending {
    state: String,
    code_verifier: String,
    redirect_uri: String,
    created_at_ms: i64,
}

pub async fn run(app: &App, args: Args) -> anyhow::Result<()> {
    let store = app.store();
    let config = &app.config().zendesk;
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
    if !args.complete {
        let state = hex::encode(rand::random::<[u8; 16]>());
        let pkce = Pkce::generate();
        let url = authorization_url(
            &base,
            &client_id,
            redirect,
            &args.scope,
            &state,
            Some(&pkce.challenge),
        )?;
        let pending = Pending {
            state,
            code_verifier: pkce.verifier.expose_secret().to_string(),
            redirect_uri: redirect.to_string(),
            created_at_ms: now_ms(),
        };
        let sealed = SecretString::from(serde_json::to_string(&pending)?);
        store
            .put_secret(
                app.vault(),
                &args.id,
                SecretName::ZendeskOauthPending,
                &sealed,
            )
            .await?;
        println!("{url}");
        eprintln!(
            "open this URL as a Zendesk admin and approve; right after approving, run\n  \
             ml-connector tenant zendesk-oauth {} --redirect-uri {redirect} --complete\n\
             and paste the address Zendesk redirected to (it carries the code and the state) on its standard input:\n\
             the code in it expires within minutes",
            args.id
        );
        return Ok(());
    }

    let pending = store
        .secret(app.vault(), &args.id, SecretName::ZendeskOauthPending)
        .await?
        .with_context(|| {
            format!(
                "no Zendesk authorization is in progress for {}; run this command without --complete first",
                args.id
            )
        })?;
    let pending: Pending = serde_json::from_str(pending.expose_secret())
        .context("the pending authorization is unreadable; start again without --complete")?;
    if now_ms().saturating_sub(pending.created_at_ms) > PENDING_TTL_MS {
        store
            .delete_secret(&args.id, SecretName::ZendeskOauthPending)
            .await?;
        bail!("the pending authorization is older than 30 minutes; start again without --complete");
    }
    if pending.redirect_uri != redirect {
        bail!(
            "the authorization was started with --redirect-uri {}; use the same here",
            pending.redirect_uri
        );
    }
    let callback = super::read_private(
        args.from_env.as_deref(),
        "address Zendesk redirected to",
        false,
    )?;
    let code = check_callback(&callback, &pending.state)?;
    let secret = store
        .secret(app.vault(), &args.id, SecretName::ZendeskOauthClientSecret)
        .await?
        .with_context(|| {
            format!(
                "tenant {} has no zendesk-oauth-client-secret; set it with `ml-connector tenant set-credentials`",
                args.id
            )
        })?;
    let client = OAuthClient {
        client_id,
        client_secret: secret,
    };
    // The same timeouts as the Zendesk client of the server: a hung token endpoint must not hang the command.
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(config.connect_timeout_secs))
        .timeout(Duration::from_secs(config.request_timeout_secs))
        .user_agent(concat!("ml-connector/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("cannot build the HTTP client")?;
    let lifetimes = config.token_lifetimes();
    let exchanged = exchange_authorization_code(
        &http,
        &base,
        &client,
        code.expose_secret(),
        redirect,
        Some(&pending.code_verifier),
        lifetimes,
    )
    .await;
    let issued = match exchanged {
        Ok(issued) => issued,
        Err(e @ ZendeskError::OAuth { .. }) => {
            // The code is spent (or was never good): this authorization cannot be completed.
            store
                .delete_secret(&args.id, SecretName::ZendeskOauthPending)
                .await?;
            return Err(anyhow::Error::new(e)
                .context("Zendesk refused the code; start again without --complete"));
        }
        Err(e) => return Err(e.into()),
    };
    // The code is spent either way: a retry must start again.
    store
        .delete_secret(&args.id, SecretName::ZendeskOauthPending)
        .await?;
    let Some(refresh) = issued.refresh_token.as_ref() else {
        bail!(
            "{}",
            no_refresh_token(&client.client_id, lifetimes, &args.id)
        );
    };
    let refresh_expires_at = issued
        .refresh_token_expires_in
        .and_then(|s| i64::try_from(s).ok())
        .and_then(chrono::TimeDelta::try_seconds)
        .and_then(|d| chrono::Utc::now().checked_add_signed(d));
    // Where the tenant's OAuth session reads them, all in one transaction.
    SealedTokens::zendesk(store.clone(), app.vault_handle(), args.id.clone())
        .save(&TokenPair {
            access_token: Some(issued.access_token.clone()),
            refresh_token: Some(refresh.clone()),
            refresh_expires_at,
        })
        .await
        .context("cannot store the token pair")?;
    println!(
        "stored the Zendesk OAuth token pair for {} (access token expires in {}, refresh token {}, scope {})",
        args.id,
        issued
            .expires_in
            .map_or("never".to_string(), |s| format!("{s}s")),
        refresh_expires_at.map_or("expiry not given".to_string(), |at| format!(
            "expires {}",
            at.format("%Y-%m-%d %H:%M UTC")
        )),
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

/// Why a token answer without a refresh token cannot be used, and what to do.
fn no_refresh_token(
    client_id: &str,
    lifetimes: ml_connector::zendesk::auth::TokenLifetimes,
    tenant: &TenantId,
) -> String {
    format!(
        "Zendesk issued an access token but no refresh token, although ml-connector asked for expiring tokens \
         (expires_in={}, refresh_token_expires_in={}); without a refresh token the connection would stop when the \
         access token is revoked or expires, so nothing was stored. Zendesk answers this way for an OAuth client \
         created before it supported refresh tokens when the grant does not carry those parameters: check that \
         `{client_id}` is a confidential OAuth client of this account (Admin Center > Apps and integrations > APIs > \
         OAuth clients), or create a new one, then run `ml-connector tenant zendesk-oauth {tenant} --redirect-uri URL` \
         again",
        lifetimes.expires_in, lifetimes.refresh_token_expires_in
    )
}

/// The `code` of a redirected address (`https://HOST/callback?code=...&state=...`, or just its query), once its
/// `state` is the expected one.
fn check_callback(callback: &SecretString, expected_state: &str) -> anyhow::Result<SecretString> {
    let text = callback.expose_secret().trim();
    let query = match url::Url::parse(text) {
        Ok(url) => url.query().unwrap_or_default().to_string(),
        Err(_) if text.contains('=') => text.trim_start_matches('?').to_string(),
        Err(_) => bail!(
            "give the whole address Zendesk redirected to (it carries the code and the state), not the code alone"
        ),
    };
    let param = |name: &str| {
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    if let Some(error) = param("error") {
        let description = param("error_description").unwrap_or_default();
        bail!("Zendesk did not authorize ml-connector: {error} {description}");
    }
    let state = param("state").context("the redirected address has no state")?;
    if !bool::from(state.as_bytes().ct_eq(expected_state.as_bytes())) {
        bail!(
            "the state in the redirected address is not the one of the authorization started here; \
             nothing was exchanged"
        );
    }
    let code = param("code").context("the redirected address has no code")?;
    Ok(SecretString::from(code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_callback_must_carry_the_expected_state() {
        let ok = |s: &str| check_callback(&SecretString::from(s.to_string()), "abc123");
        assert_eq!(
            ok("https://app.example/cb?code=C0DE&state=abc123")
                .unwrap()
                .expose_secret(),
            "C0DE"
        );
        assert_eq!(
            ok("?state=abc123&code=C0DE").unwrap().expose_secret(),
            "C0DE"
        );
        for bad in [
            "https://app.example/cb?code=C0DE&state=abc124",
            "https://app.example/cb?code=C0DE",
            "https://app.example/cb?state=abc123",
            "https://app.example/cb?error=access_denied&state=abc123",
            "C0DE",
        ] {
            assert!(ok(bad).is_err(), "{bad}");
        }
    }
}
