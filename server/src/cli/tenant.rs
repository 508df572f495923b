//! `ml-connector tenant ...`: tenants and their sealed credentials.
//!
//! Secrets are read from standard input (or from a named environment variable), never from the command line,
//! where they would land in shell history and process listings.

use std::io::{BufRead as _, IsTerminal as _};
use std::path::Path;

use anyhow::bail;
use ml_connector::tenant::{
    AdminKey, SecretName, Tenant, TenantId, WorkdaySettings, ZendeskAuthMode, ZendeskSettings,
};
use ml_connector::workday::config::is_version;
use secrecy::ExposeSecret as _;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Add a tenant. The id is the Zendesk subdomain (`acme` for acme.zendesk.com).
    Add {
        /// Zendesk subdomain.
        id: TenantId,
        #[command(flatten)]
        settings: SettingsArgs,
    },
    /// Change a tenant's settings (only the options given change).
    Update {
        /// Zendesk subdomain.
        id: TenantId,
        #[command(flatten)]
        settings: SettingsArgs,
        #[command(flatten)]
        schedule: super::sync::ScheduleArgs,
        /// Also add an internal note summarising the invoice when enrichment writes a ticket's fields (for
        /// accounts that do not show custom fields to every agent).
        #[arg(long, value_name = "on|off")]
        internal_note: Option<super::sync::OnOff>,
    },
    /// List tenants.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one tenant and which secrets are set (never their values).
    Show {
        /// Zendesk subdomain.
        id: TenantId,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove a tenant with its credentials, links, queue and plugins (the audit log is kept).
    Remove {
        /// Zendesk subdomain.
        id: TenantId,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Store a secret, sealed. The value is read from standard input (one line), or from --from-env.
    SetCredentials {
        /// Zendesk subdomain.
        id: TenantId,
        /// Which secret: workday-password, workday-client-secret, workday-refresh-token, zendesk-api-token,
        /// zendesk-oauth-client-secret, zendesk-oauth-access-token, zendesk-oauth-refresh-token,
        /// jwt-shared-secret, webhook-signing-secret.
        secret: SecretName,
        /// Read the value from this environment variable instead of standard input.
        #[arg(long, value_name = "VAR")]
        from_env: Option<String>,
    },
    /// Delete a stored secret.
    UnsetCredentials {
        /// Zendesk subdomain.
        id: TenantId,
        /// Which secret.
        secret: SecretName,
    },
    /// Create (or replace) the tenant's admin API key and print it once.
    AdminKey {
        /// Zendesk subdomain.
        id: TenantId,
    },
    /// Authorize ml-connector as the tenant's Zendesk OAuth client (PKCE, checked state): first print the URL an
    /// admin approves; then, with --complete, read the redirected address from stdin, exchange its code and
    /// store the access/refresh token pair.
    ZendeskOauth(super::zendesk_oauth::Args),
}

/// Non-secret tenant settings.
#[derive(Debug, clap::Args)]
pub struct SettingsArgs {
    /// Display name (default: the id).
    #[arg(long)]
    name: Option<String>,
    /// Workday services host, e.g. https://wd2-impl-services1.workday.com.
    #[arg(long, value_name = "URL")]
    workday_url: Option<url::Url>,
    /// Workday tenant name, e.g. acme_dpt1.
    #[arg(long, value_name = "NAME")]
    workday_tenant: Option<String>,
    /// Workday integration system user (without @tenant).
    #[arg(long, value_name = "USER")]
    workday_user: Option<String>,
    /// Workday web service version (default: the process default, v46.1).
    #[arg(long, value_name = "vNN.N")]
    workday_version: Option<String>,
    /// OAuth2 client id of the Workday API client (enables REST reads).
    #[arg(long, value_name = "ID")]
    workday_client_id: Option<String>,
    /// Zendesk API base URL override (default https://{id}.zendesk.com).
    #[arg(long, value_name = "URL")]
    zendesk_url: Option<url::Url>,
    /// Zendesk agent e-mail used with the API token.
    #[arg(long, value_name = "EMAIL")]
    zendesk_email: Option<String>,
    /// Zendesk authentication: api-token or oauth.
    #[arg(long, value_enum)]
    zendesk_auth: Option<AuthArg>,
    /// Zendesk OAuth client id.
    #[arg(long, value_name = "ID")]
    zendesk_client_id: Option<String>,
    /// Requests per minute of the Zendesk plan (Team 200, Professional 400, Enterprise 700, High Volume 2500).
    #[arg(long, value_name = "N")]
    zendesk_rpm: Option<u32>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum AuthArg {
    ApiToken,
    Oauth,
}

impl SettingsArgs {
    fn apply(
        &self,
        workday: &mut WorkdaySettings,
        zendesk: &mut ZendeskSettings,
    ) -> anyhow::Result<()> {
        if let Some(u) = &self.workday_url {
            if u.scheme() != "https" && u.scheme() != "http" {
                bail!("--workday-url must be an http(s) URL");
            }
            workday.base_url = u.as_str().trim_end_matches('/').to_string();
        }
        set(&mut workday.tenant, &self.workday_tenant);
        set(&mut workday.username, &self.workday_user);
        set(&mut workday.api_version, &self.workday_version);
        set(&mut workday.oauth_client_id, &self.workday_client_id);
        if let Some(u) = &self.zendesk_url {
            zendesk.base_url = u.as_str().trim_end_matches('/').to_string();
        }
        set(&mut zendesk.email, &self.zendesk_email);
        set(&mut zendesk.oauth_client_id, &self.zendesk_client_id);
        if let Some(a) = self.zendesk_auth {
            zendesk.auth = match a {
                AuthArg::ApiToken => ZendeskAuthMode::ApiToken,
                AuthArg::Oauth => ZendeskAuthMode::Oauth,
            };
        }
        if let Some(rpm) = self.zendesk_rpm {
            if rpm == 0 {
                bail!("--zendesk-rpm must be at least 1");
            }
            zendesk.rate_limit_rpm = rpm;
        }
        if !workday.api_version.is_empty() && !is_version(&workday.api_version) {
            bail!("--workday-version must look like v46.1");
        }
        Ok(())
    }
}

fn set(target: &mut String, value: &Option<String>) {
    if let Some(v) = value {
        *target = v.trim().to_string();
    }
}

pub async fn run(config_path: Option<&Path>, cmd: Command) -> anyhow::Result<()> {
    let config = super::load_config(config_path)?;
    super::init_cli_logging(&config);
    let app = super::open(&config).await?;
    let store = app.store();
    match cmd {
        Command::Add { id, settings } => {
            let (mut workday, mut zendesk) =
                (WorkdaySettings::default(), ZendeskSettings::default());
            settings.apply(&mut workday, &mut zendesk)?;
            let name = settings.name.clone().unwrap_or_else(|| id.to_string());
            let tenant = store.create_tenant(&id, &name, &workday, &zendesk).await?;
            println!("added tenant {}", tenant.id);
            let missing = missing_settings(&tenant);
            if !missing.is_empty() {
                println!("still to set: {}", missing.join(", "));
            }
        }
        Command::Update {
            id,
            settings,
            schedule,
            internal_note,
        } => {
            // Applied to the row as it is when written, so a concurrent update of other options is kept.
            store
                .modify_tenant(&id, |tenant| -> anyhow::Result<()> {
                    settings.apply(&mut tenant.workday, &mut tenant.zendesk)?;
                    schedule.apply(&mut tenant.settings)?;
                    if let Some(on) = internal_note {
                        tenant
                            .settings
                            .enrichment
                            .get_or_insert_with(Default::default)
                            .internal_note = Some(matches!(on, super::sync::OnOff::On));
                    }
                    if let Some(name) = &settings.name {
                        tenant.name.clone_from(name);
                    }
                    Ok(())
                })
                .await?;
            println!("updated tenant {id}");
        }
        Command::List { json } => {
            let tenants = store.tenants().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&tenants)?);
            } else if tenants.is_empty() {
                println!("no tenants; add one with `ml-connector tenant add SUBDOMAIN ...`");
            } else {
                println!(
                    "{:<24} {:<28} {:<20} ZENDESK",
                    "ID", "NAME", "WORKDAY TENANT"
                );
                for t in tenants {
                    println!(
                        "{:<24} {:<28} {:<20} {}",
                        t.id,
                        t.name,
                        t.workday.tenant,
                        t.zendesk.effective_base_url(&t.id)
                    );
                }
            }
        }
        Command::Show { id, json } => {
            let tenant = store.tenant(&id).await?;
            let secrets = store.secret_infos(&id).await?;
            if json {
                let value = serde_json::json!({ "tenant": tenant, "secrets": secrets });
                println!("{}", serde_json::to_string_pretty(&value)?);
            } else {
                print_tenant(&tenant);
                println!("secrets:");
                for name in SecretName::ALL {
                    match secrets.iter().find(|s| s.name == name) {
                        Some(s) => {
                            println!("  {:<28} set (sealed with key {})", name.as_str(), s.key_id)
                        }
                        None => println!("  {:<28} -", name.as_str()),
                    }
                }
            }
        }
        Command::Remove { id, yes } => {
            store.tenant(&id).await?;
            if !yes
                && !confirm(&format!(
                    "remove tenant {id} and all its credentials, links, queue and plugins?"
                ))?
            {
                bail!("not removed");
            }
            store.remove_tenant(&id).await?;
            println!("removed tenant {id}");
        }
        Command::SetCredentials {
            id,
            secret,
            from_env,
        } => {
            let value = super::read_private(from_env.as_deref(), secret.as_str(), true)?;
            store.put_secret(app.vault(), &id, secret, &value).await?;
            println!(
                "stored {secret} for {id} (sealed with key {})",
                app.vault().key_id()
            );
        }
        Command::UnsetCredentials { id, secret } => {
            if store.delete_secret(&id, secret).await? {
                println!("deleted {secret} for {id}");
            } else {
                println!("{secret} was not set for {id}");
            }
        }
        Command::ZendeskOauth(args) => super::zendesk_oauth::run(&app, args).await?,
        Command::AdminKey { id } => {
            let (key, hash) = AdminKey::generate();
            store.set_admin_key_hash(&id, &hash).await?;
            eprintln!("admin API key for {id} (shown once; any previous key no longer works):");
            println!("{}", key.expose_secret());
        }
    }
    Ok(())
}

fn missing_settings(t: &Tenant) -> Vec<&'static str> {
    let mut missing = Vec::new();
    if t.workday.base_url.is_empty() {
        missing.push("--workday-url");
    }
    if t.workday.tenant.is_empty() {
        missing.push("--workday-tenant");
    }
    if t.workday.username.is_empty() {
        missing.push("--workday-user");
    }
    if t.zendesk.auth == ZendeskAuthMode::ApiToken && t.zendesk.email.is_empty() {
        missing.push("--zendesk-email");
    }
    missing
}

fn print_tenant(t: &Tenant) {
    let or_dash = |s: &str| {
        if s.is_empty() {
            "-".to_string()
        } else {
            s.to_string()
        }
    };
    println!("id:               {}", t.id);
    println!("name:             {}", t.name);
    println!("workday url:      {}", or_dash(&t.workday.base_url));
    println!("workday tenant:   {}", or_dash(&t.workday.tenant));
    println!("workday user:     {}", or_dash(&t.workday.username));
    println!("workday version:  {}", or_dash(&t.workday.api_version));
    println!("zendesk url:      {}", t.zendesk.effective_base_url(&t.id));
    println!("zendesk auth:     {:?}", t.zendesk.auth);
    println!("zendesk email:    {}", or_dash(&t.zendesk.email));
    println!(
        "zendesk rpm:      {}",
        if t.zendesk.rate_limit_rpm == 0 {
            "default".into()
        } else {
            t.zendesk.rate_limit_rpm.to_string()
        }
    );
    println!(
        "admin key:        {}",
        if t.has_admin_key { "set" } else { "-" }
    );
    println!("sync schedule:    {}", super::sync::describe_schedule(t));
    let note = t
        .settings
        .enrichment
        .as_ref()
        .and_then(|e| e.internal_note)
        .unwrap_or(false);
    println!("internal note:    {}", if note { "on" } else { "off" });
}

fn confirm(question: &str) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!("refusing to {question} without a terminal; pass --yes");
    }
    eprint!("{question} [y/N] ");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes"))
}
