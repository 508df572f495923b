//! `ml-connector check --tenant ID`: one cheap call to each of the tenant's upstreams, with clients of their own
//! configured to report what happens now (no Workday retries, at most one short Zendesk retry).

use super::context::{ContextError, TenantContext};
use crate::workday::probe::{ProbeLine, oauth_line, soap_line};
use crate::zendesk::probe::{ProbeReport, probe, probe_config};

/// What probing a tenant found.
#[derive(Debug)]
pub struct TenantProbe {
    /// One line per Workday upstream (SOAP, and OAuth when the tenant has an API client), or why no Workday
    /// client could be built.
    pub workday: Result<Vec<ProbeLine>, ContextError>,
    /// Who the Zendesk credentials are and the plan's limit, or exactly what failed.
    pub zendesk: Result<ProbeReport, ContextError>,
}

impl TenantProbe {
    /// Whether every upstream answered as expected.
    pub fn ok(&self) -> bool {
        self.zendesk.is_ok()
            && self
                .workday
                .as_ref()
                .is_ok_and(|lines| lines.iter().all(|l| l.ok))
    }
}

/// Probes the tenant's Workday, then its Zendesk.
pub async fn probe_tenant(ctx: &TenantContext) -> TenantProbe {
    TenantProbe {
        workday: probe_workday(ctx).await,
        zendesk: probe_zendesk(ctx).await,
    }
}

/// `Get_Suppliers` with `Count` 1, then the refresh-token grant when the tenant has an OAuth client.
pub async fn probe_workday(ctx: &TenantContext) -> Result<Vec<ProbeLine>, ContextError> {
    let mut config = ctx.workday_config().clone();
    config.retry.max_retries = 0;
    let client = ctx.workday_with(&config).await?;
    let mut lines = vec![soap_line(&client).await];
    if client.has_oauth() {
        lines.push(oauth_line(&client).await);
    }
    Ok(lines)
}

/// `GET /api/v2/users/me` with the tenant's credentials.
pub async fn probe_zendesk(ctx: &TenantContext) -> Result<ProbeReport, ContextError> {
    let client = ctx
        .zendesk_with(&probe_config(ctx.zendesk_config()))
        .await?;
    probe(&client, ctx.tenant().zendesk.auth)
        .await
        .map_err(ContextError::Zendesk)
}
