//! The Zendesk client against the simulator where Zendesk's real formats and rules are easy to get wrong:
//! messages that carry the value (`Name: External Services Ltd has already been taken`), job results in the
//! OpenAPI shapes (update results have no `index`), Update Ticket's own limits (429 in plain text, with or
//! without `Retry-After`), closed tickets, `ratelimit-*` headers on list endpoints only, and rate-limit header values
//! of any size.

use crate::support as common;
use crate::support::zendesk as zendesk_support;

use std::time::Duration;

use ml_connector::zendesk::limiter::Endpoint;
use ml_connector::zendesk::organizations::{OrgAction, OrganizationUpdate};
use ml_connector::zendesk::tickets::CustomFieldValue;
use ml_connector::zendesk::{ZendeskClient, ZendeskConfig, ZendeskError};
use ml_connector_sim::zendesk::{
    DEFAULT_API_TOKEN, Fault, FaultKind, Plan, SimConfig, TicketSeed, ZendeskSim,
};
use serde_json::json;
use zendesk_support::{api_token_client, fast_config, org, statuses};

/// The shared short waits, with Retry-After defaults and caps small enough to wait out in a test.
fn config() -> ZendeskConfig {
    ZendeskConfig {
        default_retry_after_secs: 1,
        max_retry_after_secs: 3,
        ticket_update_rpm: 6000,
        ..fast_config()
    }
}

fn client_with(sim: &ZendeskSim, config: &ZendeskConfig) -> ZendeskClient {
    api_token_client(sim, DEFAULT_API_TOKEN, config)
}

fn client(sim: &ZendeskSim) -> ZendeskClient {
    client_with(sim, &config())
}

async fn sim_with(config: SimConfig) -> ZendeskSim {
    ZendeskSim::start(config).await.unwrap()
}

/// How much longer the client holds requests for the tenant (zero when it does not).
fn remaining_hold(client: &ZendeskClient) -> Duration {
    client
        .limiter()
        .held_until()
        .map(|t| t - tokio::time::Instant::now())
        .unwrap_or_default()
}

// ------------------------------------------------------------------------------------------------- names

/// Zendesk's message names the value: a supplier called "External Services Ltd" must not read as an
/// `external_id` conflict (it would be looked up by external id, not found, resubmitted until it gave up).
#[tokio::test]
async fn a_supplier_named_external_is_disambiguated_not_given_up() {
    let sim = sim_with(SimConfig::default()).await;
    sim.seed_organization("External Services Ltd", Some("OTHER-1"))
        .unwrap();
    sim.seed_organization("External ID Partners", Some("OTHER-2"))
        .unwrap();
    let client = client(&sim);

    let one = client
        .create_organization(&org("External Services Ltd", "SUP-1"))
        .await
        .unwrap();
    assert_eq!(
        (one.name.as_str(), one.action, one.disambiguated),
        ("External Services Ltd (SUP-1)", OrgAction::Created, true)
    );
    assert_eq!(
        statuses(&sim, "POST", "/api/v2/organizations"),
        [Some(422), Some(201)],
        "one 422, then the disambiguated name"
    );

    sim.clear_log();
    let many = client
        .create_many_organizations(&[
            org("External Services Ltd", "SUP-2"),
            org("External ID Partners", "SUP-3"),
            org("Name Brands", "SUP-4"),
        ])
        .await
        .unwrap();
    let names: Vec<&str> = many
        .iter()
        .map(|w| w.outcome.as_ref().unwrap().name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "External Services Ltd (SUP-2)",
            "External ID Partners (SUP-3)",
            "Name Brands"
        ]
    );
    assert!(
        many.iter()
            .all(|w| w.outcome.as_ref().unwrap().action == OrgAction::Created)
    );
    // Two jobs: the batch, then the two renamed items — not a string of resubmissions.
    let jobs = sim.requests_to("POST", "/api/v2/organizations/create_many");
    assert_eq!(jobs.len(), 2);
    assert_eq!(
        jobs[1].body.as_ref().unwrap()["organizations"],
        json!([
            {"name": "External Services Ltd (SUP-2)", "external_id": "SUP-2"},
            {"name": "External ID Partners (SUP-3)", "external_id": "SUP-3"}
        ])
    );

    // A rename onto a taken name, in an update job: disambiguated too.
    let id = many[2].outcome.as_ref().unwrap().id;
    let renamed = client
        .update_many_organizations(&[OrganizationUpdate {
            id,
            name: Some("External Services Ltd".into()),
            external_id: Some("SUP-4".into()),
            ..Default::default()
        }])
        .await
        .unwrap();
    let written = renamed[0].outcome.as_ref().unwrap();
    assert_eq!(written.name, "External Services Ltd (SUP-4)");
    assert_eq!(written.action, OrgAction::Updated);
}

/// An `external_id` that is taken means the organization exists: it is found, whatever its name says.
#[tokio::test]
async fn a_taken_external_id_is_reconciled_even_with_a_name_like_a_label() {
    let sim = sim_with(SimConfig::default()).await;
    let existing = sim
        .seed_organization("Name: Brands", Some("SUP-9"))
        .unwrap();
    let client = client(&sim);
    let written = client
        .create_organization(&org("Name: Brands Renamed", "sup-9"))
        .await
        .unwrap();
    assert_eq!(
        (written.id, written.action),
        (existing, OrgAction::Reconciled)
    );
    let many = client
        .create_many_organizations(&[org("Another Name", "SUP-9")])
        .await
        .unwrap();
    assert_eq!(many[0].outcome.as_ref().unwrap().id, existing);
    assert_eq!(sim.organizations().len(), 1);
}

// ------------------------------------------------------------------------------------------------- job shapes

/// Update results are `{id, action, status, success}` without `index`: they are matched by id, so each item
/// gets its own outcome.
#[tokio::test]
async fn update_many_results_are_matched_by_id() {
    let sim = sim_with(SimConfig::default()).await;
    let client = client(&sim);
    let a = sim.seed_organization("Alpha", Some("S-1")).unwrap();
    let b = sim.seed_organization("Beta", Some("S-2")).unwrap();
    let c = sim.seed_organization("Gamma", Some("S-3")).unwrap();
    let missing = c + 1000;
    let updates = [
        OrganizationUpdate {
            id: b,
            notes: Some("b".into()),
            ..Default::default()
        },
        OrganizationUpdate {
            id: missing,
            notes: Some("nobody".into()),
            ..Default::default()
        },
        OrganizationUpdate {
            id: c,
            name: Some("Alpha".into()),
            external_id: Some("S-3".into()),
            ..Default::default()
        },
        OrganizationUpdate {
            id: a,
            notes: Some("a".into()),
            ..Default::default()
        },
    ];
    let results = client.update_many_organizations(&updates).await.unwrap();
    let ok = |i: usize| results[i].outcome.as_ref().unwrap().clone();
    assert_eq!((ok(0).id, ok(0).action), (b, OrgAction::Updated));
    assert_eq!((ok(3).id, ok(3).action), (a, OrgAction::Updated));
    assert_eq!((ok(2).id, ok(2).name.as_str()), (c, "Alpha (S-3)"));
    let failed = results[1].outcome.as_ref().unwrap_err();
    assert_eq!(failed.error, "RecordNotFound", "{failed:?}");
    // The first job's answer had no index anywhere: the simulator speaks the documented shape.
    let jobs = sim.requests_to("PUT", "/api/v2/organizations/update_many");
    assert_eq!(jobs.len(), 2, "the renamed item alone goes again");
    assert_eq!(
        jobs[1].body.as_ref().unwrap()["organizations"],
        json!([{"id": c, "name": "Alpha (S-3)", "external_id": "S-3"}])
    );
    let orgs = sim.organizations();
    let notes = |id: u64| {
        orgs.iter().find(|o| o["id"] == id).unwrap()["notes"]
            .as_str()
            .map(str::to_string)
    };
    assert_eq!(
        (notes(a).as_deref(), notes(b).as_deref()),
        (Some("a"), Some("b"))
    );
}

// ------------------------------------------------------------------------------------------------- tickets

fn ticket(sim: &ZendeskSim) -> u64 {
    sim.create_ticket(TicketSeed {
        subject: "Where is my payment?".into(),
        description: "INV-2024-0042".into(),
        ..Default::default()
    })
    .unwrap()
}

fn text_field(sim: &ZendeskSim) -> u64 {
    sim.seed_ticket_field("text", "Invoice number", &[])
}

fn value(field: u64, v: &str) -> Vec<CustomFieldValue> {
    vec![CustomFieldValue {
        id: field,
        value: json!(v),
    }]
}

/// Update Ticket's per-ticket limit answers 429 in plain text without `Retry-After`: the client waits its
/// bounded default, for ticket updates only, and succeeds once the window has passed.
#[tokio::test]
async fn an_update_ticket_429_without_retry_after_is_waited_out_for_ticket_updates_only() {
    let sim = sim_with(SimConfig {
        ticket_update_per_ticket_limit: 2,
        ticket_update_per_ticket_window: Duration::from_millis(1500),
        ..SimConfig::default()
    })
    .await;
    let client = client(&sim);
    let (id, field) = (ticket(&sim), text_field(&sim));
    let path = format!("/api/v2/tickets/{id}");
    client
        .update_ticket_custom_fields(id, &value(field, "INV-1"))
        .await
        .unwrap();
    client
        .update_ticket_custom_fields(id, &value(field, "INV-2"))
        .await
        .unwrap();
    let third = tokio::spawn({
        let c = client.clone();
        async move {
            c.update_ticket_custom_fields(id, &value(field, "INV-3"))
                .await
        }
    });
    // Once the 429 is in, other work for the tenant is not held by it.
    common::wait_until("the 429 on the update", Duration::from_secs(5), || async {
        statuses(&sim, "PUT", &path).contains(&Some(429))
    })
    .await;
    client.ticket(id).await.unwrap();
    let written = third.await.unwrap().unwrap();
    assert_eq!(written.custom_field(field), &json!("INV-3"));
    let lines = read_went_out_during_the_hold(&sim, &path);
    let limited = lines.iter().filter(|l| l.1 == Some(429)).count();
    assert!(
        (1..=2).contains(&limited),
        "bounded retries, each after the default wait: {lines:?}"
    );
}

/// Update Organization's own limit: the client paces single organization updates at
/// `zendesk.organization_update_rpm`, one at a time, so they never meet the endpoint's 429.
#[tokio::test]
async fn single_organization_updates_are_paced_under_their_own_limit() {
    let sim = sim_with(SimConfig {
        organization_update_limit: 3,
        organization_update_window: Duration::from_secs(2),
        ..SimConfig::default()
    })
    .await;
    // 60 a minute is one a second: never more than 3 in any 2 s, even with network jitter.
    let client = client_with(
        &sim,
        &ZendeskConfig {
            organization_update_rpm: 60,
            ..config()
        },
    );
    let id = sim.seed_organization("Acme", Some("S-1")).unwrap();
    for i in 0..4 {
        client
            .update_organization(&OrganizationUpdate {
                id,
                notes: Some(format!("note {i}")),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    let path = format!("/api/v2/organizations/{id}");
    assert_eq!(statuses(&sim, "PUT", &path), [Some(200); 4]);
    assert_eq!(client.limiter().organization_update_rpm(), 60);
}

/// When Update Organization's limit answers 429 anyway (another client used it up), only organization updates
/// wait (the default wait, as it comes without `Retry-After`); other work for the tenant goes on.
#[tokio::test]
async fn an_update_organization_429_holds_organization_updates_only() {
    let sim = sim_with(SimConfig {
        organization_update_limit: 1,
        organization_update_window: Duration::from_millis(1500),
        ..SimConfig::default()
    })
    .await;
    let client = client_with(
        &sim,
        &ZendeskConfig {
            organization_update_rpm: 6000,
            ..config()
        },
    );
    let id = sim.seed_organization("Acme", Some("S-1")).unwrap();
    let path = format!("/api/v2/organizations/{id}");
    let update = |notes: &str| OrganizationUpdate {
        id,
        notes: Some(notes.into()),
        ..Default::default()
    };
    client.update_organization(&update("first")).await.unwrap();
    let second = tokio::spawn({
        let c = client.clone();
        let u = update("second");
        async move { c.update_organization(&u).await }
    });
    while !statuses(&sim, "PUT", &path).contains(&Some(429)) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(
        client
            .limiter()
            .endpoint_held_until(Endpoint::OrganizationUpdate)
            .is_some()
    );
    assert!(
        client.limiter().held_until().is_none(),
        "the tenant is not held"
    );
    client.organization(id).await.unwrap();
    let written = second.await.unwrap().unwrap();
    assert_eq!(written.notes.as_deref(), Some("second"));
    read_went_out_during_the_hold(&sim, &path);
}

/// Update Ticket's limit may answer with `Retry-After` too. While the account still has budget
/// (`X-Rate-Limit-Remaining` > 0) that is the endpoint's limit, not the plan's: only ticket updates wait, as
/// long as it says, and other work for the tenant goes on.
#[tokio::test]
async fn an_update_ticket_429_with_retry_after_holds_ticket_updates_only() {
    let sim = sim_with(SimConfig {
        ticket_update_limit: 2,
        ticket_update_window: Duration::from_secs(1),
        endpoint_limit_retry_after: true,
        ..SimConfig::default()
    })
    .await;
    let client = client(&sim);
    let (id, field) = (ticket(&sim), text_field(&sim));
    let path = format!("/api/v2/tickets/{id}");
    for v in ["INV-1", "INV-2"] {
        client
            .update_ticket_custom_fields(id, &value(field, v))
            .await
            .unwrap();
    }
    let third = tokio::spawn({
        let c = client.clone();
        async move {
            c.update_ticket_custom_fields(id, &value(field, "INV-3"))
                .await
        }
    });
    let limiter = client.limiter();
    common::wait_until(
        "a 429 on ticket updates",
        Duration::from_secs(5),
        || async {
            limiter
                .endpoint_held_until(Endpoint::TicketUpdate)
                .is_some()
        },
    )
    .await;
    assert_eq!(
        remaining_hold(&client),
        Duration::ZERO,
        "an endpoint's 429 does not hold the tenant"
    );
    client.ticket(id).await.unwrap();
    let written = third.await.unwrap().unwrap();
    assert_eq!(written.custom_field(field), &json!("INV-3"));
    read_went_out_during_the_hold(&sim, &path);
}

/// When the limit does not lift, the call fails with `rate_limited` after the configured retries: bounded.
#[tokio::test]
async fn an_update_ticket_limit_that_does_not_lift_fails_with_rate_limited() {
    let sim = sim_with(SimConfig {
        ticket_update_per_ticket_limit: 1,
        ..SimConfig::default()
    })
    .await;
    let client = client_with(&sim, &{
        let mut c = config();
        c.retry.max_retries = 2;
        c
    });
    let (id, field) = (ticket(&sim), text_field(&sim));
    client
        .update_ticket_custom_fields(id, &value(field, "INV-1"))
        .await
        .unwrap();
    let err = client
        .update_ticket_custom_fields(id, &value(field, "INV-2"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ZendeskError::RateLimited { retry_after } if retry_after == Duration::from_secs(1)),
        "{err}"
    );
    assert_eq!(err.code(), "rate_limited");
    assert_eq!(
        statuses(&sim, "PUT", &format!("/api/v2/tickets/{id}")),
        [Some(200), Some(429), Some(429), Some(429)]
    );
}

/// Updating a closed ticket: Zendesk's 422 becomes `TicketClosed`, sent once, never retried.
#[tokio::test]
async fn a_closed_ticket_is_a_typed_error_and_is_not_retried() {
    let sim = sim_with(SimConfig::default()).await;
    let client = client(&sim);
    let (id, field) = (ticket(&sim), text_field(&sim));
    sim.update_ticket(id, json!({"status": "closed"})).unwrap();
    let err = client
        .update_ticket_custom_fields(id, &value(field, "INV-1"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ZendeskError::TicketClosed { ticket_id } if ticket_id == id),
        "{err}"
    );
    assert_eq!(err.code(), "ticket_closed");
    assert!(!err.is_ambiguous() && !err.is_rejected_before_processing());
    assert_eq!(
        statuses(&sim, "PUT", &format!("/api/v2/tickets/{id}")),
        [Some(422)]
    );
    assert_eq!(sim.ticket(id).unwrap()["status"], "closed");
}

// ------------------------------------------------------------------------------------------------- headers

/// List endpoints carry `ratelimit-reset`: an exhausted budget is waited out to the reset, with no 429.
#[tokio::test]
async fn list_endpoint_headers_pace_the_client_without_a_429() {
    let sim = sim_with(SimConfig {
        plan: Plan::Custom(3),
        rate_window: Duration::from_secs(1),
        ..SimConfig::default()
    })
    .await;
    sim.seed_organization("Acme", Some("S-1")).unwrap();
    let client = client(&sim);
    for _ in 0..7 {
        assert!(
            client
                .organization_by_external_id("S-1")
                .await
                .unwrap()
                .is_some()
        );
    }
    let log = sim.requests();
    assert_eq!(log.len(), 7);
    assert!(log.iter().all(|r| r.status == Some(200)), "no 429");
    assert!(client.limiter().last_seen().reset_secs.is_some());
}

/// Other endpoints carry only `X-Rate-Limit` / `X-Rate-Limit-Remaining`: no reset to wait for, so the client
/// holds briefly and lets one request find out (a 429's `Retry-After` says how long); every call succeeds.
#[tokio::test]
async fn x_rate_limit_headers_alone_pace_the_client() {
    let sim = sim_with(SimConfig {
        plan: Plan::Custom(3),
        rate_window: Duration::from_secs(1),
        ..SimConfig::default()
    })
    .await;
    let client = client(&sim);
    for _ in 0..7 {
        client.current_user().await.unwrap();
    }
    assert_eq!(client.limiter().last_seen().reset_secs, None);
    let log = sim.requests();
    let limited = log.iter().filter(|r| r.status == Some(429)).count();
    assert_eq!(log.len() - limited, 7);
    assert!(limited <= 2, "{limited} requests were refused");
}

/// `Retry-After` values no real server sends must neither panic nor hold the tenant past the cap: beyond
/// `max_retry_after_secs` the call fails with `rate_limited` at once; unreadable ones get the default wait.
#[tokio::test]
async fn absurd_retry_after_values_fail_fast_and_hold_at_most_the_cap() {
    let sim = sim_with(SimConfig::default()).await;
    for raw in ["1e20", "1e19", "18446744073709551615", "99999999", "inf"] {
        let client = client(&sim);
        sim.clear_log();
        sim.inject(
            Fault::new(FaultKind::RateLimitedRaw {
                retry_after: Some(raw.into()),
            })
            .on("GET", "/api/v2/users/me"),
        );
        let err = client.current_user().await.unwrap_err();
        assert!(
            matches!(err, ZendeskError::RateLimited { retry_after } if retry_after > Duration::from_secs(3)),
            "{raw}: {err}"
        );
        assert_eq!(sim.requests().len(), 1, "{raw}: not retried");
        let held = remaining_hold(&client);
        assert!(
            held > Duration::ZERO && held <= Duration::from_secs(3),
            "{raw}: held {held:?}"
        );
    }
    for raw in [Some("-1"), Some("NaN"), Some("soon"), None] {
        let client = client(&sim);
        sim.clear_log();
        sim.inject(
            Fault::new(FaultKind::RateLimitedRaw {
                retry_after: raw.map(str::to_string),
            })
            .on("GET", "/api/v2/users/me"),
        );
        client.current_user().await.unwrap();
        assert_eq!(
            statuses(&sim, "GET", "/api/v2/users/me"),
            [Some(429), Some(200)],
            "{raw:?}"
        );
        let log = sim.requests();
        assert!(
            log[1].received.duration_since(log[0].received) >= Duration::from_secs(1),
            "{raw:?}: retried after the default wait"
        );
    }
}

/// A `ratelimit-reset` of any size on an exhausted budget holds requests for at most the cap.
#[tokio::test]
async fn an_absurd_ratelimit_reset_holds_at_most_the_cap() {
    let sim = sim_with(SimConfig::default()).await;
    sim.seed_organization("Acme", Some("S-1")).unwrap();
    for reset in ["18446744073709551615", "99999999999"] {
        let client = client_with(
            &sim,
            &ZendeskConfig {
                max_retry_after_secs: 1,
                default_retry_after_secs: 1,
                ..config()
            },
        );
        sim.clear_log();
        sim.inject(
            Fault::new(FaultKind::Headers(vec![
                ("ratelimit-remaining".into(), "0".into()),
                ("x-rate-limit-remaining".into(), "0".into()),
                ("ratelimit-reset".into(), reset.into()),
            ]))
            .on("GET", "/api/v2/organizations/search"),
        );
        client.organization_by_external_id("S-1").await.unwrap();
        let held = remaining_hold(&client);
        assert!(
            held > Duration::ZERO && held <= Duration::from_secs(1),
            "{reset}: held {held:?}"
        );
        // The next request goes out once the capped hold is over.
        client.organization_by_external_id("S-1").await.unwrap();
        assert_eq!(sim.requests().len(), 2, "{reset}");
    }
}

/// The ticket's requests as (method, status): a 429 on an update, then the read (sent while updates were held),
/// then the retried update, which succeeded.
fn read_went_out_during_the_hold(sim: &ZendeskSim, path: &str) -> Vec<(String, Option<u16>)> {
    let lines: Vec<(String, Option<u16>)> = sim
        .requests()
        .iter()
        .filter(|r| r.path == path)
        .map(|r| (r.method.clone(), r.status))
        .collect();
    let first_429 = lines.iter().position(|l| l.1 == Some(429)).expect("a 429");
    let read = lines.iter().position(|l| l.0 == "GET").unwrap();
    let retried = lines.iter().rposition(|l| l.0 == "PUT").unwrap();
    assert!(
        first_429 < read && read < retried,
        "the read went out during the ticket-update hold: {lines:?}"
    );
    assert_eq!(lines[retried].1, Some(200));
    lines
}
