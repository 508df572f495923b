//! Probing a tenant's Workday (what `ml-connector check --tenant ID` prints): one cheap SOAP call, and the OAuth
//! token exchange when the client has an OAuth client. One line per upstream; a client configured without
//! retries reports what happens now.

use std::fmt;
use std::time::Instant;

use chrono::{SubsecRound as _, Utc};

use super::client::WorkdayClient;
use super::error::WorkdayError;
use super::ops::Operation;
use super::request::{PageRequest, SupplierQuery};

/// The outcome of probing one upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeLine {
    /// Which upstream, e.g. `workday soap`.
    pub upstream: &'static str,
    /// Whether it answered as expected.
    pub ok: bool,
    /// What was seen: a summary on success, the exact failure otherwise.
    pub detail: String,
}

impl fmt::Display for ProbeLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ok {
            write!(f, "{}: ok ({})", self.upstream, self.detail)
        } else {
            write!(f, "{}: FAILED: {}", self.upstream, self.detail)
        }
    }
}

/// One `Get_Suppliers` page of one record.
pub async fn soap_line(client: &WorkdayClient) -> ProbeLine {
    let started = Instant::now();
    let page = PageRequest {
        page: 1,
        count: 1,
        as_of: Utc::now().trunc_subsecs(3),
    };
    let op = Operation::GetSuppliers;
    match client.page(&SupplierQuery::all(), page).await {
        Ok(p) => ProbeLine {
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
        Err(e) => ProbeLine {
            upstream: "workday soap",
            ok: false,
            detail: format!("{} at {}", e, client.soap_url(op)),
        },
    }
}

/// The refresh-token grant (a refresh token Workday rotates to is stored by the session before the token is
/// handed out).
pub async fn oauth_line(client: &WorkdayClient) -> ProbeLine {
    let Some(oauth) = client.oauth() else {
        return ProbeLine {
            upstream: "workday oauth",
            ok: false,
            detail: WorkdayError::NotConfigured("no OAuth client".into()).to_string(),
        };
    };
    match oauth.access_token().await {
        Ok(_) => ProbeLine {
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
        Err(e) => ProbeLine {
            upstream: "workday oauth",
            ok: false,
            detail: format!("{} at {}", e, oauth.token_url()),
        },
    }
}
