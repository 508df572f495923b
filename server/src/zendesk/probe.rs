//! Probing a tenant's Zendesk (what `ml-connector check --tenant ID` prints): `GET /api/v2/users/me` with the
//! client's credentials, reporting who they belong to and the plan's rate-limit headers, or exactly what failed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::client::{Call, ZendeskClient};
use super::config::ZendeskConfig;
use super::de;
use super::error::ZendeskError;
use super::limiter::RateLimitInfo;
use crate::tenant::ZendeskAuthMode;

/// The user the credentials act as.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct CurrentUser {
    /// User id (`None`: Zendesk answered as the anonymous user, i.e. no credentials were recognised).
    #[serde(default, deserialize_with = "de::opt_id")]
    pub id: Option<u64>,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// E-mail.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub email: Option<String>,
    /// `admin`, `agent` or `end-user`.
    #[serde(default)]
    pub role: String,
}

#[derive(Deserialize)]
struct Me {
    user: CurrentUser,
}

/// What the check found.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeReport {
    /// The API base URL used.
    pub base_url: String,
    /// Auth mode.
    pub auth: ZendeskAuthMode,
    /// Who the credentials are.
    pub user: CurrentUser,
    /// Rate-limit headers of the answer.
    pub rate_limit: RateLimitInfo,
    /// The requests per minute the client is configured for.
    pub configured_rpm: u32,
    /// OAuth: when the refresh token expires, when Zendesk said.
    pub refresh_token_expires_at: Option<DateTime<Utc>>,
    /// OAuth: warn this many days before the refresh token expires (`zendesk.oauth_refresh_expiry_warning_days`).
    pub refresh_expiry_warning_days: u64,
}

impl ProbeReport {
    /// One line for `ml-connector check`.
    pub fn summary(&self) -> String {
        let auth = match self.auth {
            ZendeskAuthMode::ApiToken => "api token",
            ZendeskAuthMode::Oauth => "oauth",
        };
        let who = self.user.email.as_deref().unwrap_or(&self.user.name);
        let rate = match (self.rate_limit.limit, self.rate_limit.remaining) {
            (Some(l), Some(r)) => format!("rate limit {l}/min, {r} remaining"),
            (Some(l), None) => format!("rate limit {l}/min"),
            _ => "no rate-limit headers".to_string(),
        };
        let mut line = format!(
            "ok ({}, {auth} as {who}, role {}; {rate}; client paced at {}/min)",
            self.base_url, self.user.role, self.configured_rpm
        );
        if let Some(at) = self.refresh_token_expires_at {
            line.push_str(&format!(
                "; refresh token expires {} ({} days)",
                at.format("%Y-%m-%d %H:%M UTC"),
                at.signed_duration_since(Utc::now()).num_days()
            ));
        }
        if let Some(l) = self.rate_limit.limit
            && l < self.configured_rpm
        {
            line.push_str(&format!(
                "; WARNING: the tenant is configured for {}/min but Zendesk allows {l}/min",
                self.configured_rpm
            ));
        }
        line
    }

    /// Days left before the OAuth refresh token expires, when that is within the warning window (or past).
    pub fn refresh_token_expiring(&self) -> Option<i64> {
        let left = self
            .refresh_token_expires_at?
            .signed_duration_since(Utc::now());
        let window = i64::try_from(self.refresh_expiry_warning_days).unwrap_or(i64::MAX);
        (left.num_days() < window).then(|| left.num_days())
    }
}

impl ZendeskClient {
    /// `GET /api/v2/users/me`, with the answer's rate-limit headers.
    pub async fn current_user(&self) -> Result<(CurrentUser, RateLimitInfo), ZendeskError> {
        let reply = self.call(Call::get("users/me")).await?;
        let me: Me = super::client::decode("GET users/me", &reply.body)?;
        Ok((me.user, reply.rate))
    }
}

/// The configuration of a probe: the process's, with retries limited so that a failure shows quickly.
pub fn probe_config(config: &ZendeskConfig) -> ZendeskConfig {
    let mut quick = config.clone();
    quick.retry.max_retries = config.retry.max_retries.min(1);
    quick.max_retry_after_secs = config.max_retry_after_secs.min(5);
    quick.default_retry_after_secs = quick
        .default_retry_after_secs
        .min(quick.max_retry_after_secs);
    quick
}

/// Probes Zendesk with `client` (authenticating as `auth`): one request, who the credentials are, the plan's
/// limit. Build the client with [`probe_config`].
pub async fn probe(
    client: &ZendeskClient,
    auth: ZendeskAuthMode,
) -> Result<ProbeReport, ZendeskError> {
    let (user, rate_limit) = client.current_user().await?;
    if user.id.is_none() {
        return Err(ZendeskError::Unauthorized {
            message: "Zendesk answered as the anonymous user: the credentials were not recognised"
                .into(),
        });
    }
    Ok(ProbeReport {
        base_url: client.base_url().to_string(),
        auth,
        user,
        rate_limit,
        configured_rpm: client.limiter().rpm(),
        refresh_token_expires_at: client.oauth_refresh_expires_at().await?,
        refresh_expiry_warning_days: client.config().oauth_refresh_expiry_warning_days,
    })
}
