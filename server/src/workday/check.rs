//! `ml-connector check --tenant ID`, Workday part: one cheap SOAP call with the tenant's stored credentials,
//! and the OAuth token exchange when the tenant has an OAuth client. One line per upstream.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use chrono::{SubsecRound as _, Utc};

use super::client::WorkdayClient;
use super::config::WorkdayConfig;
use super::error::WorkdayError;
use super::ops::Operation;
use super::request::{PageRequest, SupplierQuery};
use crate::store::Store;
use crate::tenant::Tenant;
use crate::vault::Vault;

/// The outcome of probing one upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckLine {
    /// Which upstream, e.g. `workday soap`.
    pub upstream: &'static str,
    /// Whether it answered as expected.
    pub ok: bool,
    /// What was seen: a summary on success, the exact failure otherwise.
    pub detail: String,
}

impl fmt::Display for CheckLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ok {
            write!(f, "{}: ok ({})", self.upstream, self.detail)
        } else {
            write!(f, "{}: FAILED: {}", self.upstream, self.detail)
        }
    }
}

/// Probes the tenant's Workday: `Get_Suppliers` with `Count` 1 (no retries: a check reports what happens
/// now), then the refresh-token grant if `workday.oauth_client_id` is set.
pub async fn check_tenant(
    config: &WorkdayConfig,
    store: &Store,
    vault: Arc<Vault>,
    tenant: &Tenant,
) -> Vec<CheckLine> {
    let mut config = config.clone();
    config.max_retries = 0;
    let client = match WorkdayClient::for_tenant(&config, store, vault, tenant).await {
        Ok(c) => c,
        Err(e) => {
            return vec![CheckLine {
                upstream: "workday soap",
                ok: false,
                detail: e.to_string(),
            }];
        }
    };
    let mut lines = vec![soap_line(&client).await];
    if client.has_oauth() {
        lines.push(oauth_line(&client).await);
    }
    lines
}

/// One `Get_Suppliers` page of one record.
pub async fn soap_line(client: &WorkdayClient) -> CheckLine {
    let started = Instant::now();
    let page = PageRequest {
        page: 1,
        count: 1,
        as_of: Utc::now().trunc_subsecs(3),
    };
    let op = Operation::GetSuppliers;
    match client.page(&SupplierQuery::all(), page).await {
        Ok(p) => CheckLine {
            upstream: "workday soap",
            ok: true,
            detail: format!(
                "{} answered {} {} in {} ms; {} suppliers",
                client.soap_url(op),
                op,
                client.version(),
                started.elapsed().as_millis(),
                p.info.total_results
            ),
        },
        Err(e) => CheckLine {
            upstream: "workday soap",
            ok: false,
            detail: format!("{} at {}", e, client.soap_url(op)),
        },
    }
}

/// The refresh-token grant.
pub async fn oauth_line(client: &WorkdayClient) -> CheckLine {
    let Some(oauth) = client.oauth() else {
        return CheckLine {
            upstream: "workday oauth",
            ok: false,
            detail: WorkdayError::NotConfigured("no OAuth client".into()).to_string(),
        };
    };
    // A refresh token Workday rotates to is stored by the session itself, before the token is handed out.
    match oauth.access_token(client.http()).await {
        Ok(_) => CheckLine {
            upstream: "workday oauth",
            ok: true,
            detail: format!(
                "access token issued by {}{}",
                oauth.token_url(),
                if oauth.rotations().await > 0 {
                    "; rotated refresh token stored"
                } else {
                    ""
                }
            ),
        },
        Err(e) => CheckLine {
            upstream: "workday oauth",
            ok: false,
            detail: format!("{} at {}", e, oauth.token_url()),
        },
    }
}
