//! The Zendesk simulator: the Support API endpoints ml-connector uses, with Zendesk's JSON shapes, status codes
//! and headers; organization name / `external_id` uniqueness (case-insensitive); asynchronous bulk jobs; per-plan
//! rate limiting (`429` + `Retry-After`, `X-Rate-Limit*` and `ratelimit-*` headers); API-token and OAuth auth
//! (expiring access tokens, rotating refresh tokens); fault injection; signed webhook sending; a request log.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use ml_connector_sim::zendesk::{SimConfig, ZendeskSim};
//! let sim = ZendeskSim::start(SimConfig::default()).await?;
//! let base = sim.base_url(); // http://127.0.0.1:PORT — use it as the tenant's Zendesk base URL
//! # let _ = base; Ok(()) }
//! ```

mod api;
mod automation;
mod faults;
mod gate;
mod log;
mod net;
mod oauth;
mod pages;
mod webhooks;
mod world;

#[cfg(test)]
mod tests;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use axum::Router;
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::watch;

pub use faults::{Fault, FaultKind};
pub use log::LoggedRequest;
pub use oauth::{IssuedTokens, TokenGrant};
pub use webhooks::{Delivery, TRIGGER_DELIVERY, WebhookTarget, sign_webhook};

/// A Zendesk plan and its requests-per-minute limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Suite Team: 200 requests/minute.
    Team,
    /// Suite Growth: 400.
    Growth,
    /// Suite Professional: 400.
    Professional,
    /// Suite Enterprise: 700.
    Enterprise,
    /// Suite Enterprise Plus, or the High Volume API add-on: 2,500.
    EnterprisePlus,
    /// Any other limit (tests and benchmarks).
    Custom(u32),
}

impl Plan {
    /// Requests allowed per rate window.
    pub fn rpm(self) -> u32 {
        match self {
            Self::Team => 200,
            Self::Growth | Self::Professional => 400,
            Self::Enterprise => 700,
            Self::EnterprisePlus => 2500,
            Self::Custom(n) => n.max(1),
        }
    }
}

impl std::str::FromStr for Plan {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "team" => Self::Team,
            "growth" => Self::Growth,
            "professional" => Self::Professional,
            "enterprise" => Self::Enterprise,
            "enterprise-plus" | "high-volume" => Self::EnterprisePlus,
            other => Self::Custom(other.parse().map_err(|_| {
                format!("unknown plan `{s}`: team, growth, professional, enterprise, enterprise-plus, or a number")
            })?),
        })
    }
}

/// An agent who can call the API.
#[derive(Debug, Clone)]
pub struct SimAgent {
    /// User id.
    pub id: u64,
    /// Display name.
    pub name: String,
    /// Sign-in e-mail (API token auth uses `{email}/token:{api_token}`).
    pub email: String,
    /// API token.
    pub api_token: String,
    /// `admin` or `agent`.
    pub role: String,
}

/// A registered OAuth client.
#[derive(Debug, Clone)]
pub struct SimOauthClient {
    /// The client's unique identifier (`client_id`).
    pub identifier: String,
    /// The client secret.
    pub secret: String,
    /// Created before Zendesk supported refresh tokens: a grant that does not pass `expires_in` gets an access
    /// token that never expires and no refresh token (newer clients get Zendesk's default lifetimes).
    pub legacy: bool,
}

/// Everything about the simulated account.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Account subdomain (only cosmetic: the simulator answers on its own address).
    pub subdomain: String,
    /// `account_id` in webhook payloads.
    pub account_id: u64,
    /// Rate-limit plan.
    pub plan: Plan,
    /// Length of the sliding rate window (60 s, as in Zendesk).
    pub rate_window: Duration,
    /// Update Ticket (`PUT /api/v2/tickets/{id}`) requests allowed per `ticket_update_window` per account, on
    /// top of the plan's limit (Zendesk: 100 per minute; 300 with the High Volume add-on).
    pub ticket_update_limit: u32,
    /// The Update Ticket window (60 s).
    pub ticket_update_window: Duration,
    /// Updates of one ticket by one user per `ticket_update_per_ticket_window` (Zendesk: 30 per 10 minutes).
    pub ticket_update_per_ticket_limit: u32,
    /// The per-ticket window (10 minutes).
    pub ticket_update_per_ticket_window: Duration,
    /// Update Organization (`PUT /api/v2/organizations/{id}`) requests allowed per
    /// `organization_update_window` per account (Zendesk: 5 per minute, announced March 2022). Beyond: 429 with
    /// `{"errors": [{"code": "TooManyRequests", "title": "Too many requests to update"}]}`.
    pub organization_update_limit: u32,
    /// The Update Organization window (60 s).
    pub organization_update_window: Duration,
    /// Whether the endpoint limits' 429s carry `Retry-After` (the window's length). Off by default: they come
    /// without `Retry-After` (Update Ticket's with a plain-text body).
    pub endpoint_limit_retry_after: bool,
    /// Agents and their API tokens.
    pub agents: Vec<SimAgent>,
    /// OAuth clients.
    pub oauth_clients: Vec<SimOauthClient>,
    /// Lifetime of OAuth access tokens unless the token request sets `expires_in`.
    pub access_token_ttl: Duration,
    /// Lifetime of OAuth refresh tokens unless the token request sets `refresh_token_expires_in`.
    pub refresh_token_ttl: Duration,
    /// Fault knob: the `expires_in` the token endpoint reports, whatever the real lifetime (e.g. `u64::MAX`).
    pub reported_expires_in: Option<u64>,
    /// How long a bulk job stays `queued`.
    pub job_start_delay: Duration,
    /// How often jobs advance.
    pub job_tick: Duration,
    /// Items a job processes per tick.
    pub job_items_per_tick: usize,
    /// Jobs allowed queued or working at once (Zendesk's job limit is about 30).
    pub max_active_jobs: usize,
    /// Where ticket events are sent, signed.
    pub webhook: Option<WebhookTarget>,
    /// Delivery attempts per event. Retried as Zendesk does: connection failures and timeouts, 409, and 429 /
    /// 503 with a `Retry-After` under 60 seconds (waited out); never a 500.
    pub webhook_attempts: u32,
}

/// The default agent's e-mail.
pub const DEFAULT_AGENT_EMAIL: &str = "admin@acme.test";
/// The default agent's API token.
pub const DEFAULT_API_TOKEN: &str = "sim-api-token-6f1c2b";
/// The default OAuth client.
pub const DEFAULT_OAUTH_CLIENT_ID: &str = "ml_connector";
/// The default OAuth client's secret.
pub const DEFAULT_OAUTH_CLIENT_SECRET: &str = "sim-oauth-client-secret-9d3e";

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            subdomain: "acme".into(),
            account_id: 9_242_270,
            plan: Plan::Enterprise,
            rate_window: Duration::from_secs(60),
            ticket_update_limit: 100,
            ticket_update_window: Duration::from_secs(60),
            ticket_update_per_ticket_limit: 30,
            ticket_update_per_ticket_window: Duration::from_secs(600),
            organization_update_limit: 5,
            organization_update_window: Duration::from_secs(60),
            endpoint_limit_retry_after: false,
            agents: vec![SimAgent {
                id: 361_000_000_001,
                name: "Ada Admin".into(),
                email: DEFAULT_AGENT_EMAIL.into(),
                api_token: DEFAULT_API_TOKEN.into(),
                role: "admin".into(),
            }],
            oauth_clients: vec![SimOauthClient {
                identifier: DEFAULT_OAUTH_CLIENT_ID.into(),
                secret: DEFAULT_OAUTH_CLIENT_SECRET.into(),
                legacy: false,
            }],
            access_token_ttl: Duration::from_secs(30 * 60),
            refresh_token_ttl: Duration::from_secs(30 * 24 * 3600),
            reported_expires_in: None,
            job_start_delay: Duration::from_millis(60),
            job_tick: Duration::from_millis(25),
            job_items_per_tick: 10,
            max_active_jobs: 30,
            webhook: None,
            webhook_attempts: 4,
        }
    }
}

/// State shared by the handlers.
#[derive(Debug)]
pub(crate) struct Shared {
    config: SimConfig,
    world: Mutex<world::World>,
    log: Mutex<Vec<LoggedRequest>>,
    faults: Mutex<Vec<Fault>>,
    random_faults: Mutex<Option<faults::RandomFaults>>,
    rate: Mutex<VecDeque<Instant>>,
    ticket_updates: Mutex<VecDeque<Instant>>,
    ticket_updates_per_ticket: Mutex<HashMap<(u64, u64), VecDeque<Instant>>>,
    organization_updates: Mutex<VecDeque<Instant>>,
    oauth: Mutex<oauth::OauthRegistry>,
    hooks: webhooks::Sender,
    base_url: String,
}

impl Shared {
    fn world(&self) -> MutexGuard<'_, world::World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn base_url(&self) -> String {
        self.base_url.clone()
    }
}

/// A custom ticket field value for [`TicketSeed`].
pub type CustomFieldSeed = (u64, Value);

/// A ticket to create through [`ZendeskSim::create_ticket`].
#[derive(Debug, Clone, Default)]
pub struct TicketSeed {
    /// Subject.
    pub subject: String,
    /// First comment.
    pub description: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Custom field values.
    pub custom_fields: Vec<CustomFieldSeed>,
    /// Organization.
    pub organization_id: Option<u64>,
    /// Requester (default: the first agent).
    pub requester_id: Option<u64>,
}

/// A running simulator. Dropping it stops it.
#[derive(Debug)]
pub struct ZendeskSim {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
}

impl ZendeskSim {
    /// Starts on `127.0.0.1:0`.
    pub async fn start(config: SimConfig) -> anyhow::Result<Self> {
        Self::start_on("127.0.0.1:0".parse()?, config).await
    }

    /// Starts on `addr`.
    pub async fn start_on(addr: SocketAddr, config: SimConfig) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let addr = listener.local_addr()?;
        let base_url = format!("http://{addr}");
        let users = config.agents.iter().map(|a| a.id).collect();
        let mut world = world::World::new(users);
        world.base_url = base_url.clone();
        let hooks = webhooks::Sender::start(
            config.webhook.clone(),
            config.account_id,
            config.webhook_attempts,
        );
        let shared = Arc::new(Shared {
            config,
            world: Mutex::new(world),
            log: Mutex::new(Vec::new()),
            faults: Mutex::new(Vec::new()),
            random_faults: Mutex::new(None),
            rate: Mutex::new(VecDeque::new()),
            ticket_updates: Mutex::new(VecDeque::new()),
            ticket_updates_per_ticket: Mutex::new(HashMap::new()),
            organization_updates: Mutex::new(VecDeque::new()),
            oauth: Mutex::new(oauth::OauthRegistry::default()),
            hooks,
            base_url,
        });
        let app = Router::new()
            .merge(api::routes())
            .merge(automation::routes())
            .route("/oauth/tokens", post(oauth::token_endpoint))
            .route("/oauth/authorizations/new", get(oauth::authorize))
            .layer(axum::middleware::from_fn_with_state(
                shared.clone(),
                gate::rate_limit,
            ))
            .layer(axum::middleware::from_fn_with_state(
                shared.clone(),
                gate::authenticate_requests,
            ))
            .layer(axum::middleware::from_fn_with_state(
                shared.clone(),
                gate::inject_faults,
            ))
            .layer(axum::middleware::from_fn_with_state(
                shared.clone(),
                gate::log_requests,
            ))
            .with_state(shared.clone());
        let (stop, stopped) = watch::channel(false);
        tokio::spawn(net::serve(listener, app, stopped.clone()));
        tokio::spawn(run_jobs(shared.clone(), stopped));
        Ok(Self { addr, shared, stop })
    }

    /// `http://127.0.0.1:PORT`: the tenant's Zendesk base URL in tests.
    pub fn base_url(&self) -> String {
        self.shared.base_url()
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &SimConfig {
        &self.shared.config
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.shared
            .log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Requests with this method whose path starts with `path_prefix`.
    pub fn requests_to(&self, method: &str, path_prefix: &str) -> Vec<LoggedRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.method.eq_ignore_ascii_case(method) && r.path.starts_with(path_prefix))
            .collect()
    }

    /// Forgets the request log.
    pub fn clear_log(&self) {
        self.shared
            .log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// From now on, each API request (`/api/v2/...`) that no armed fault matches fails with probability `rate`
    /// (0.0–1.0; 0 turns it off), drawn from `seed`: evenly a `503`, a `429` with `Retry-After: 1`, a connection
    /// reset before processing, and — for writes — a reset after the write was committed.
    pub fn set_random_faults(&self, rate: f64, seed: u64) {
        *self
            .shared
            .random_faults
            .lock()
            .unwrap_or_else(|e| e.into_inner()) =
            (rate > 0.0).then(|| faults::RandomFaults::new(rate, seed));
    }

    /// Arms a fault.
    pub fn inject(&self, fault: Fault) {
        self.shared
            .faults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(fault);
    }

    /// Forgets the requests counted against the rate limits (the plan's and the endpoints').
    pub fn reset_rate_limit(&self) {
        self.shared
            .rate
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.shared
            .ticket_updates
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.shared
            .ticket_updates_per_ticket
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.shared
            .organization_updates
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    // ------------------------------------------------------------ data

    /// Every organization, as the API renders it, by id.
    pub fn organizations(&self) -> Vec<Value> {
        let w = self.shared.world();
        w.orgs.values().map(|o| w.org_json(o)).collect()
    }

    /// Creates an organization directly (no request, no log entry).
    pub fn seed_organization(&self, name: &str, external_id: Option<&str>) -> anyhow::Result<u64> {
        let mut w = self.shared.world();
        let input = serde_json::json!({"name": name, "external_id": external_id});
        w.create_org(&input)
            .map_err(|e| anyhow::anyhow!("{}", e.summary))
    }

    /// Every organization field definition.
    pub fn organization_fields(&self) -> Vec<Value> {
        let w = self.shared.world();
        w.org_fields.values().map(|f| w.org_field_json(f)).collect()
    }

    /// Every ticket field, as `GET /api/v2/ticket_fields` shows it.
    pub fn ticket_fields(&self) -> Vec<Value> {
        let w = self.shared.world();
        w.ticket_fields
            .values()
            .map(|f| w.ticket_field_json(f))
            .collect()
    }

    /// Defines a ticket field; `options` are `(name, value)` pairs for `tagger` / `multiselect`.
    pub fn seed_ticket_field(&self, kind: &str, title: &str, options: &[(&str, &str)]) -> u64 {
        self.shared.world().add_ticket_field(kind, title, options)
    }

    /// Creates a ticket (as an end user would) and sends its `ticket.created` webhook.
    pub fn create_ticket(&self, seed: TicketSeed) -> anyhow::Result<u64> {
        let input = serde_json::json!({
            "subject": seed.subject,
            "comment": {"body": seed.description},
            "tags": seed.tags,
            "organization_id": seed.organization_id,
            "requester_id": seed.requester_id,
            "custom_fields": seed.custom_fields.iter().map(|(id, v)| serde_json::json!({"id": id, "value": v})).collect::<Vec<_>>(),
        });
        let change = {
            let mut w = self.shared.world();
            w.create_ticket(&input, None)
                .map_err(|e| anyhow::anyhow!("{}", e.summary))?
        };
        self.shared.hooks.ticket_changed(&change);
        Ok(change.ticket.id)
    }

    /// Applies a `ticket` update object (as an agent in the UI would) and sends the resulting webhooks.
    pub fn update_ticket(&self, id: u64, update: Value) -> anyhow::Result<()> {
        let change = {
            let mut w = self.shared.world();
            w.update_ticket(id, &update, None)
                .map_err(|e| anyhow::anyhow!("{}", e.summary))?
        };
        self.shared.hooks.ticket_changed(&change);
        Ok(())
    }

    /// A ticket as the API renders it.
    pub fn ticket(&self, id: u64) -> Option<Value> {
        let w = self.shared.world();
        w.tickets.get(&id).map(|t| w.ticket_json(t))
    }

    // ------------------------------------------------------------ OAuth

    /// An authorization code, as if the first agent approved `client_id` on the consent screen.
    pub fn authorization_code(&self, client_id: &str, redirect_uri: &str, scope: &str) -> String {
        let user = self.shared.config.agents.first().map_or(1, |a| a.id);
        self.shared
            .oauth
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .new_code(client_id, redirect_uri, scope, user, None)
    }

    /// A fresh token pair for `client_id` (as if the authorization flow had run), with the default lifetimes.
    pub fn issue_tokens(&self, client_id: &str) -> IssuedTokens {
        let user = self.shared.config.agents.first().map_or(1, |a| a.id);
        self.shared
            .oauth
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .issue(
                client_id,
                user,
                "read write",
                self.shared.config.access_token_ttl,
                self.shared.config.refresh_token_ttl,
            )
    }

    /// Expires every access token now (refresh tokens stay valid).
    pub fn expire_access_tokens(&self) {
        self.shared
            .oauth
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .expire_access_tokens();
    }

    /// Every call of `POST /oauth/tokens`.
    pub fn token_grants(&self) -> Vec<TokenGrant> {
        self.shared
            .oauth
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .grants
            .clone()
    }

    // ------------------------------------------------------------ webhooks

    /// Sets (or clears) where ticket events are sent.
    pub fn set_webhook(&self, target: Option<WebhookTarget>) {
        *self
            .shared
            .hooks
            .target
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = target;
    }

    /// Every webhook delivery attempt so far.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.shared
            .hooks
            .deliveries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Waits until at least `n` delivery attempts were made, or `timeout` passes; returns them.
    pub async fn wait_for_deliveries(&self, n: usize, timeout: Duration) -> Vec<Delivery> {
        let deadline = Instant::now() + timeout;
        loop {
            let notified = self.shared.hooks.delivered.notified();
            let now = self.deliveries();
            if now.len() >= n || Instant::now() >= deadline {
                return now;
            }
            let _ = tokio::time::timeout(
                deadline
                    .saturating_duration_since(Instant::now())
                    .min(Duration::from_millis(50)),
                notified,
            )
            .await;
        }
    }

    /// Sends a recorded delivery again, byte for byte (same body, headers, timestamp and signature): a replay.
    /// Returns the status answered.
    pub async fn replay(&self, delivery: &Delivery) -> anyhow::Result<u16> {
        let resp = reqwest::Client::new()
            .post(&delivery.url)
            .header("content-type", "application/json; charset=utf-8")
            .header("user-agent", "Zendesk Webhook")
            .header(
                "x-zendesk-account-id",
                self.shared.config.account_id.to_string(),
            )
            .header("x-zendesk-webhook-id", &delivery.webhook_id)
            .header("x-zendesk-webhook-invocation-id", &delivery.invocation_id)
            .header("x-zendesk-webhook-signature", &delivery.signature)
            .header("x-zendesk-webhook-signature-timestamp", &delivery.timestamp)
            .body(delivery.body.clone())
            .send()
            .await?;
        Ok(resp.status().as_u16())
    }

    /// Stops serving.
    pub fn shutdown(&self) {
        let _ = self.stop.send(true);
    }
}

impl Drop for ZendeskSim {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

async fn run_jobs(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(shared.config.job_tick);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        let changes = shared.world().step_jobs(
            shared.config.job_start_delay,
            shared.config.job_items_per_tick,
        );
        for change in &changes {
            shared.hooks.ticket_changed(change);
        }
    }
}

/// Command-line options of `ml-connector-sim zendesk`.
#[derive(Debug, clap::Args)]
pub struct CliArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Rate-limit plan: team (200/min), growth, professional (400), enterprise (700), enterprise-plus (2500),
    /// or a number of requests per minute.
    #[arg(long, default_value = "enterprise")]
    pub plan: Plan,
    /// Account subdomain (cosmetic).
    #[arg(long, default_value = "acme")]
    pub subdomain: String,
    /// Send signed ticket events to this URL (e.g. http://127.0.0.1:8080/webhooks/zendesk/acme).
    #[arg(long, value_name = "URL", requires = "signing_secret_env")]
    pub webhook_url: Option<String>,
    /// Environment variable holding the webhook signing secret.
    #[arg(long, value_name = "VAR")]
    pub signing_secret_env: Option<String>,
    /// Send as a trigger-connected webhook with this JSON body on every ticket change (placeholders
    /// `{{ticket.id}}`, `{{ticket.status}}`), instead of event payloads.
    #[arg(long, value_name = "JSON", requires = "webhook_url")]
    pub webhook_trigger_body: Option<String>,
    /// Environment variable holding the agent's API token (default: a fixed demo token, printed).
    #[arg(long, value_name = "VAR")]
    pub api_token_env: Option<String>,
}

/// Runs the simulator until interrupted.
pub async fn run_cli(args: CliArgs) -> anyhow::Result<()> {
    let mut config = SimConfig {
        plan: args.plan,
        subdomain: args.subdomain,
        ..SimConfig::default()
    };
    if let Some(var) = &args.api_token_env {
        let token =
            std::env::var(var).with_context(|| format!("environment variable {var} is not set"))?;
        if let Some(agent) = config.agents.first_mut() {
            agent.api_token = token;
        }
    }
    if let Some(url) = args.webhook_url {
        let var = args
            .signing_secret_env
            .context("--webhook-url needs --signing-secret-env")?;
        let secret = std::env::var(&var)
            .with_context(|| format!("environment variable {var} is not set"))?;
        let id = "01SIMWEBHOOK000000000000000";
        config.webhook = Some(match &args.webhook_trigger_body {
            Some(template) => WebhookTarget::trigger(&url, &secret, id, template),
            None => WebhookTarget::events(&url, &secret, id),
        });
    }
    let shown_token = args.api_token_env.is_none();
    let sim = ZendeskSim::start_on(args.listen, config).await?;
    let c = sim.config();
    println!(
        "zendesk simulator listening on {} (subdomain {}, plan {} requests/minute)",
        sim.base_url(),
        c.subdomain,
        c.plan.rpm()
    );
    if let Some(agent) = c.agents.first() {
        if shown_token {
            println!("api token auth: {}/token:{}", agent.email, agent.api_token);
        } else {
            println!("api token auth: {}/token:(from environment)", agent.email);
        }
    }
    println!(
        "oauth client: {} (secret {}); token endpoint {}/oauth/tokens",
        DEFAULT_OAUTH_CLIENT_ID,
        DEFAULT_OAUTH_CLIENT_SECRET,
        sim.base_url()
    );
    if let Some(w) = &c.webhook {
        match &w.trigger_body {
            Some(body) => println!(
                "webhooks: a trigger sends {body} on every ticket change, signed, to {}",
                w.url
            ),
            None => println!("webhooks: ticket events are signed and sent to {}", w.url),
        }
    }
    tokio::signal::ctrl_c().await?;
    sim.shutdown();
    Ok(())
}
