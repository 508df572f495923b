//! What to run to fix an error: the command line's own hints, added to the errors of the layers below (which
//! describe what is wrong, never which command fixes it).

use ml_connector::app::{ContextError, TenantSetting};
use ml_connector::tenant::TenantId;
use ml_connector::zendesk::ZendeskError;

/// The command that fixes `err` (for `tenant`), when there is one.
pub fn hint(err: &ContextError, tenant: &TenantId) -> Option<String> {
    match err {
        ContextError::UnknownTenant(_) => Some("see `ml-connector tenant list`".into()),
        ContextError::MissingSecret { tenant, secret } => Some(format!(
            "run `ml-connector tenant set-credentials {tenant} {secret}`"
        )),
        ContextError::MissingSetting { tenant, setting } => {
            let option = match setting {
                TenantSetting::WorkdayUrl => "--workday-url URL",
                TenantSetting::WorkdayTenant => "--workday-tenant NAME",
                TenantSetting::WorkdayUser => "--workday-user USER",
                TenantSetting::ZendeskEmail => "--zendesk-email EMAIL",
                TenantSetting::ZendeskOAuthClientId => "--zendesk-client-id ID",
            };
            Some(format!(
                "run `ml-connector tenant update {tenant} {option}`"
            ))
        }
        ContextError::Zendesk(ZendeskError::OAuth {
            reauthorize: true, ..
        }) => Some(format!(
            "authorize again: `ml-connector tenant zendesk-oauth {tenant} --redirect-uri URL`, then with \
             `--complete`"
        )),
        ContextError::Zendesk(ZendeskError::MissingCredentials(_)) => Some(format!(
            "authorize first: `ml-connector tenant zendesk-oauth {tenant} --redirect-uri URL`, then with \
             `--complete`"
        )),
        _ => None,
    }
}

/// `err`, followed by its hint.
pub fn explain(err: &ContextError, tenant: &TenantId) -> String {
    match hint(err, tenant) {
        Some(h) => format!("{err}; {h}"),
        None => err.to_string(),
    }
}
