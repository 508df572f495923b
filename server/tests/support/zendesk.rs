//! Shared by the Zendesk client tests: short waits, a client of the simulator, organization inputs and what the
//! simulator logged.

use ml_connector::upstream::RetryPolicy;
use ml_connector::zendesk::organizations::OrganizationInput;
use ml_connector::zendesk::{ClientOptions, Credentials, ZendeskClient, ZendeskConfig};
use ml_connector_sim::zendesk::{DEFAULT_AGENT_EMAIL, LoggedRequest, ZendeskSim};
use secrecy::SecretString;

/// Short waits so the suite stays quick; the behaviour is the production one.
pub fn fast_config() -> ZendeskConfig {
    ZendeskConfig {
        default_rate_limit_rpm: 6000,
        rate_limit_burst: 20,
        retry: RetryPolicy {
            initial_delay_ms: 20,
            max_delay_ms: 200,
            ..RetryPolicy::default()
        },
        job_poll_interval_ms: 20,
        organization_update_rpm: 6000,
        ..ZendeskConfig::default()
    }
}

/// A client of `sim` with these credentials, unpaced by the tenant's own rate limit.
pub fn sim_client(
    sim: &ZendeskSim,
    credentials: Credentials,
    config: &ZendeskConfig,
) -> ZendeskClient {
    ZendeskClient::new(
        ClientOptions {
            base_url: sim.base_url(),
            rate_limit_rpm: 0,
            credentials,
        },
        config,
    )
    .unwrap()
}

/// A client of `sim` authenticating as the simulator's agent with the API token `token`.
pub fn api_token_client(sim: &ZendeskSim, token: &str, config: &ZendeskConfig) -> ZendeskClient {
    sim_client(
        sim,
        Credentials::ApiToken {
            email: DEFAULT_AGENT_EMAIL.into(),
            token: SecretString::from(token),
        },
        config,
    )
}

pub fn org(name: &str, ext: &str) -> OrganizationInput {
    OrganizationInput {
        name: name.into(),
        external_id: ext.into(),
        ..Default::default()
    }
}

/// The statuses of the requests to `method path…`, in order (`None`: no answer was sent).
pub fn statuses(sim: &ZendeskSim, method: &str, path: &str) -> Vec<Option<u16>> {
    sim.requests_to(method, path)
        .iter()
        .map(|r| r.status)
        .collect()
}

/// How many organizations a bulk request sent.
pub fn organizations_sent(request: &LoggedRequest) -> usize {
    request.body.as_ref().unwrap()["organizations"]
        .as_array()
        .unwrap()
        .len()
}
