//! `[zendesk]`: process-wide defaults of the Zendesk client and the webhook receiver.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::upstream::RetryPolicy;

/// `[zendesk]` section of the configuration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ZendeskConfig {
    /// Requests per minute when a tenant does not set its plan's limit (`rate_limit_rpm` 0). Zendesk plans:
    /// Team 200, Growth/Professional 400, Enterprise 700, Enterprise Plus or High Volume 2,500.
    pub default_rate_limit_rpm: u32,
    /// Requests the client-side limiter lets through back to back before pacing at the plan's rate.
    pub rate_limit_burst: u32,
    /// Seconds to establish a connection to Zendesk.
    pub connect_timeout_secs: u64,
    /// Seconds one request (including reading the answer) may take.
    pub request_timeout_secs: u64,
    /// `[zendesk.retry]`: retries of one request after a 429, a 5xx or a dropped connection (writes that may have
    /// been applied are reconciled before they are retried), with exponential backoff and jitter.
    pub retry: RetryPolicy,
    /// A `Retry-After` longer than this many seconds is not waited out: the call fails with `rate_limited`
    /// (and requests are held for at most this long, whatever `Retry-After` or `ratelimit-reset` says).
    pub max_retry_after_secs: u64,
    /// Seconds to wait after a `429` that came without `Retry-After` (endpoint limits such as Update Ticket's
    /// may answer that way), before the request is retried.
    pub default_retry_after_secs: u64,
    /// Ticket updates (`PUT /api/v2/tickets/{id}`) per minute: Zendesk limits Update Ticket to 100 requests per
    /// minute per account (300 with the High Volume add-on), on top of the plan's limit.
    pub ticket_update_rpm: u32,
    /// Organization updates (`PUT /api/v2/organizations/{id}`) per minute: Zendesk limits Update Organization
    /// to 5 requests per minute (announced March 2022), on top of the plan's limit. Bulk writes use
    /// `update_many` and are not affected.
    pub organization_update_rpm: u32,
    /// Milliseconds between two polls of a bulk job's status.
    pub job_poll_interval_ms: u64,
    /// Polls of one job before giving up (the job keeps running in Zendesk; its results are then unknown).
    pub job_poll_limit: u32,
    /// Refresh an OAuth access token this many seconds before it expires.
    pub oauth_refresh_leeway_secs: u64,
    /// `expires_in` sent with every OAuth grant (authorization code and refresh): the access token's lifetime in
    /// seconds, 300 to 172,800 as Zendesk accepts. Sending it is what makes Zendesk issue a refresh token to an
    /// OAuth client created before it supported refresh tokens.
    pub oauth_expires_in_secs: u64,
    /// `refresh_token_expires_in` sent with every OAuth grant: the refresh token's lifetime in seconds, 604,800
    /// (7 days) to 7,776,000 (90 days), longer than `oauth_expires_in_secs`.
    pub oauth_refresh_token_expires_in_secs: u64,
    /// Warn (log, `check --tenant`) this many days before the OAuth refresh token expires.
    pub oauth_refresh_expiry_warning_days: u64,
    /// Seconds a ticket field definition is cached (used to validate writes).
    pub ticket_field_cache_secs: u64,
    /// Accepted age of a webhook's `X-Zendesk-Webhook-Signature-Timestamp`, in seconds, in both directions.
    pub webhook_timestamp_window_secs: u64,
    /// Largest accepted webhook body in bytes.
    pub webhook_max_body_bytes: usize,
    /// `Retry-After` (seconds) of the `503` answered when a webhook event cannot be stored, so that Zendesk
    /// sends it again; Zendesk retries a 503 only when `Retry-After` is under 60 seconds.
    pub webhook_retry_after_secs: u64,
}

impl Default for ZendeskConfig {
    fn default() -> Self {
        Self {
            default_rate_limit_rpm: 200,
            rate_limit_burst: 5,
            connect_timeout_secs: 10,
            request_timeout_secs: 30,
            retry: RetryPolicy::default(),
            max_retry_after_secs: 120,
            default_retry_after_secs: 10,
            ticket_update_rpm: 100,
            organization_update_rpm: 5,
            job_poll_interval_ms: 1_000,
            job_poll_limit: 300,
            oauth_refresh_leeway_secs: 60,
            oauth_expires_in_secs: 7_200,
            oauth_refresh_token_expires_in_secs: 7_776_000,
            oauth_refresh_expiry_warning_days: 14,
            ticket_field_cache_secs: 300,
            webhook_timestamp_window_secs: 300,
            webhook_max_body_bytes: 256 * 1024,
            webhook_retry_after_secs: 10,
        }
    }
}

/// The `expires_in` values Zendesk accepts on a grant (5 minutes to 48 hours).
pub const ACCESS_TOKEN_EXPIRES_IN: std::ops::RangeInclusive<u64> = 300..=172_800;
/// The `refresh_token_expires_in` values Zendesk accepts on a grant (7 to 90 days).
pub const REFRESH_TOKEN_EXPIRES_IN: std::ops::RangeInclusive<u64> = 604_800..=7_776_000;

impl ZendeskConfig {
    /// The lifetimes asked for on every OAuth grant.
    pub fn token_lifetimes(&self) -> super::auth::TokenLifetimes {
        super::auth::TokenLifetimes {
            expires_in: self.oauth_expires_in_secs,
            refresh_token_expires_in: self.oauth_refresh_token_expires_in_secs,
        }
    }

    /// Checks value ranges; the error names the first invalid key (under `zendesk.`) and what is wrong.
    pub fn validate(&self) -> Result<(), (String, String)> {
        self.retry.validate("zendesk")?;
        let checks = [
            (
                "zendesk.default_rate_limit_rpm",
                self.default_rate_limit_rpm > 0,
                "must be at least 1",
            ),
            (
                "zendesk.rate_limit_burst",
                self.rate_limit_burst > 0,
                "must be at least 1",
            ),
            (
                "zendesk.connect_timeout_secs",
                self.connect_timeout_secs > 0,
                "must be at least 1",
            ),
            (
                "zendesk.request_timeout_secs",
                self.request_timeout_secs > 0,
                "must be at least 1",
            ),
            (
                "zendesk.max_retry_after_secs",
                self.max_retry_after_secs > 0,
                "must be at least 1",
            ),
            (
                "zendesk.default_retry_after_secs",
                self.default_retry_after_secs > 0
                    && self.default_retry_after_secs <= self.max_retry_after_secs,
                "must be between 1 and zendesk.max_retry_after_secs",
            ),
            (
                "zendesk.ticket_update_rpm",
                self.ticket_update_rpm > 0,
                "must be at least 1",
            ),
            (
                "zendesk.organization_update_rpm",
                self.organization_update_rpm > 0,
                "must be at least 1",
            ),
            (
                "zendesk.job_poll_interval_ms",
                self.job_poll_interval_ms > 0,
                "must be at least 1",
            ),
            (
                "zendesk.job_poll_limit",
                self.job_poll_limit > 0,
                "must be at least 1",
            ),
            (
                "zendesk.oauth_expires_in_secs",
                ACCESS_TOKEN_EXPIRES_IN.contains(&self.oauth_expires_in_secs),
                "must be between 300 and 172800 (what Zendesk accepts as expires_in)",
            ),
            (
                "zendesk.oauth_refresh_token_expires_in_secs",
                REFRESH_TOKEN_EXPIRES_IN.contains(&self.oauth_refresh_token_expires_in_secs)
                    && self.oauth_refresh_token_expires_in_secs > self.oauth_expires_in_secs,
                "must be between 604800 and 7776000 (what Zendesk accepts as refresh_token_expires_in) and longer \
                 than zendesk.oauth_expires_in_secs",
            ),
            (
                "zendesk.oauth_refresh_expiry_warning_days",
                self.oauth_refresh_expiry_warning_days <= 90,
                "must be at most 90 (refresh tokens live at most 90 days)",
            ),
            (
                "zendesk.webhook_timestamp_window_secs",
                self.webhook_timestamp_window_secs > 0,
                "must be at least 1",
            ),
            (
                "zendesk.webhook_max_body_bytes",
                self.webhook_max_body_bytes >= 1024,
                "must be at least 1024",
            ),
            (
                "zendesk.webhook_retry_after_secs",
                (1..60).contains(&self.webhook_retry_after_secs),
                "must be between 1 and 59 (Zendesk does not retry a longer Retry-After)",
            ),
        ];
        match checks.into_iter().find(|(_, ok, _)| !ok) {
            Some((key, _, message)) => Err((key.to_string(), message.to_string())),
            None => Ok(()),
        }
    }

    /// The webhook timestamp window.
    pub fn webhook_window(&self) -> Duration {
        Duration::from_secs(self.webhook_timestamp_window_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_lifetimes_are_held_to_what_zendesk_accepts() {
        let ok = ZendeskConfig::default();
        assert_eq!(ok.validate(), Ok(()));
        for (access, refresh, key) in [
            (299, 7_776_000, "zendesk.oauth_expires_in_secs"),
            (172_801, 7_776_000, "zendesk.oauth_expires_in_secs"),
            (7200, 604_799, "zendesk.oauth_refresh_token_expires_in_secs"),
            (
                7200,
                7_776_001,
                "zendesk.oauth_refresh_token_expires_in_secs",
            ),
        ] {
            let config = ZendeskConfig {
                oauth_expires_in_secs: access,
                oauth_refresh_token_expires_in_secs: refresh,
                ..ZendeskConfig::default()
            };
            let (failed, _) = config.validate().unwrap_err();
            assert_eq!(failed, key, "{access} {refresh}");
        }
        let edges = ZendeskConfig {
            oauth_expires_in_secs: 300,
            oauth_refresh_token_expires_in_secs: 604_800,
            ..ZendeskConfig::default()
        };
        assert_eq!(edges.validate(), Ok(()));
        assert_eq!(
            edges.token_lifetimes(),
            crate::zendesk::auth::TokenLifetimes {
                expires_in: 300,
                refresh_token_expires_in: 604_800
            }
        );
    }
}
