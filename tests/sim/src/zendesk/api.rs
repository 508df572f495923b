//! The Support API endpoints the simulator serves, with Zendesk's JSON shapes and status codes.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Extension, Json, Router};
use serde_json::{Value, json};

use super::Shared;
use super::faults::{self, FaultKind};
use super::gate::Principal;
use super::pages;
use super::world::{JobKind, JobState, TicketChange, ZdError, now_iso};

impl IntoResponse for ZdError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
        (status, Json(self.body)).into_response()
    }
}

type Q = Query<HashMap<String, String>>;

/// Every `/api/v2` route.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/api/v2/users/me", get(users_me))
        .route("/api/v2/organizations", get(list_orgs).post(create_org))
        .route("/api/v2/organizations/search", get(search_orgs))
        .route("/api/v2/organizations/show_many", get(show_many_orgs))
        .route("/api/v2/organizations/create_many", post(create_many_orgs))
        .route("/api/v2/organizations/update_many", put(update_many_orgs))
        .route("/api/v2/organizations/{id}", get(show_org).put(update_org))
        .route(
            "/api/v2/organization_fields",
            get(list_org_fields).post(create_org_field),
        )
        .route("/api/v2/job_statuses/{id}", get(show_job))
        .route("/api/v2/tickets", post(create_ticket))
        .route("/api/v2/tickets/update_many", put(update_many_tickets))
        .route("/api/v2/tickets/{id}", get(show_ticket).put(update_ticket))
        .route("/api/v2/tickets/{id}/comments", get(list_comments))
        .route(
            "/api/v2/ticket_fields",
            get(list_ticket_fields).post(super::automation::create_ticket_field),
        )
        .route(
            "/api/v2/ticket_fields/{id}",
            get(show_ticket_field).delete(super::automation::delete_ticket_field),
        )
}

fn parse_id(raw: &str) -> Result<u64, ZdError> {
    raw.parse().map_err(|_| ZdError::not_found())
}

fn object<'a>(body: &'a Value, key: &str) -> Result<&'a Value, ZdError> {
    body.get(key).filter(|v| v.is_object()).ok_or_else(|| {
        ZdError::bad_request("InvalidValue", &format!("Parameter {key} is required"))
    })
}

fn list<'a>(body: &'a Value, key: &str) -> Result<&'a Vec<Value>, ZdError> {
    let items = body.get(key).and_then(Value::as_array).ok_or_else(|| {
        ZdError::bad_request("InvalidValue", &format!("Parameter {key} is required"))
    })?;
    if items.is_empty() || items.len() > 100 {
        return Err(ZdError::bad_request(
            "InvalidValue",
            &format!("{key} must contain between 1 and 100 records"),
        ));
    }
    Ok(items)
}

fn comma_list(raw: &str) -> Result<Vec<String>, ZdError> {
    let items: Vec<String> = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if items.len() > 100 {
        return Err(ZdError::bad_request(
            "TooManyValues",
            "A maximum of 100 values is allowed",
        ));
    }
    Ok(items)
}

fn parse_body(bytes: &[u8]) -> Result<Value, ZdError> {
    serde_json::from_slice(bytes)
        .map_err(|_| ZdError::bad_request("InvalidJSON", "The request body is not valid JSON"))
}

// ---------------------------------------------------------------- users

async fn users_me(
    State(shared): State<Arc<Shared>>,
    Extension(p): Extension<Principal>,
) -> Response {
    let base = shared.base_url();
    let user = p
        .user_id()
        .and_then(|id| shared.config.agents.iter().find(|a| a.id == id));
    let body = match user {
        Some(a) => json!({"user": {
            "id": a.id,
            "url": format!("{base}/api/v2/users/{}.json", a.id),
            "name": a.name,
            "email": a.email,
            "role": a.role,
            "active": true,
            "verified": true,
            "time_zone": "UTC",
            "locale": "en-US",
        }}),
        None => json!({"user": {
            "id": null, "url": null, "name": "Anonymous user", "email": "invalid@example.com",
            "role": "end-user", "active": true, "verified": false, "time_zone": "UTC", "locale": "en-US",
        }}),
    };
    Json(body).into_response()
}

// ---------------------------------------------------------------- organizations

async fn list_orgs(State(shared): State<Arc<Shared>>, Query(q): Q) -> Result<Response, ZdError> {
    let w = shared.world();
    let orgs = w.orgs.values().map(|o| (o.id, w.org_json(o))).collect();
    let page = pages::page(
        &shared.base_url,
        "/api/v2/organizations",
        &q,
        "organizations",
        orgs,
    )?;
    Ok(Json(page).into_response())
}

async fn create_org(
    State(shared): State<Arc<Shared>>,
    body: axum::body::Bytes,
) -> Result<Response, ZdError> {
    let body = parse_body(&body)?;
    let input = object(&body, "organization")?;
    let mut w = shared.world();
    let id = w.create_org(input)?;
    let org = w
        .orgs
        .get(&id)
        .map(|o| w.org_json(o))
        .unwrap_or(Value::Null);
    Ok((StatusCode::CREATED, Json(json!({"organization": org}))).into_response())
}

async fn show_org(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<Response, ZdError> {
    let id = parse_id(&id)?;
    let w = shared.world();
    let org = w.orgs.get(&id).ok_or_else(ZdError::not_found)?;
    Ok(Json(json!({"organization": w.org_json(org)})).into_response())
}

async fn update_org(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ZdError> {
    let id = parse_id(&id)?;
    let body = parse_body(&body)?;
    let input = object(&body, "organization")?;
    let mut w = shared.world();
    w.update_org(id, input)?;
    let org = w
        .orgs
        .get(&id)
        .map(|o| w.org_json(o))
        .unwrap_or(Value::Null);
    Ok(Json(json!({"organization": org})).into_response())
}

async fn search_orgs(State(shared): State<Arc<Shared>>, Query(q): Q) -> Result<Response, ZdError> {
    let w = shared.world();
    let found = if let Some(ext) = q.get("external_id") {
        w.org_by_external_id(ext)
    } else if let Some(name) = q.get("name") {
        w.org_by_name(name)
    } else {
        return Err(ZdError::bad_request(
            "InvalidValue",
            "external_id or name is required",
        ));
    };
    let orgs: Vec<Value> = found.into_iter().map(|o| w.org_json(o)).collect();
    Ok(Json(json!({"organizations": orgs, "next_page": null, "previous_page": null, "count": orgs.len()})).into_response())
}

async fn show_many_orgs(
    State(shared): State<Arc<Shared>>,
    Query(q): Q,
) -> Result<Response, ZdError> {
    let w = shared.world();
    let orgs: Vec<Value> = if let Some(ids) = q.get("ids") {
        comma_list(ids)?
            .iter()
            .filter_map(|i| i.parse::<u64>().ok())
            .filter_map(|id| w.orgs.get(&id))
            .map(|o| w.org_json(o))
            .collect()
    } else if let Some(exts) = q.get("external_ids") {
        comma_list(exts)?
            .iter()
            .filter_map(|e| w.org_by_external_id(e))
            .map(|o| w.org_json(o))
            .collect()
    } else {
        return Err(ZdError::bad_request(
            "InvalidValue",
            "ids or external_ids is required",
        ));
    };
    Ok(Json(json!({"organizations": orgs, "next_page": null, "previous_page": null, "count": orgs.len()})).into_response())
}

/// Queues a bulk job for the request `method path`, taking the job fault armed for exactly that request.
fn start_job(
    shared: &Shared,
    kind: JobKind,
    method: &Method,
    path: &str,
    items: Vec<Value>,
    actor: Option<u64>,
) -> Result<Response, ZdError> {
    let (stop, hidden_polls) = {
        let mut armed = shared.faults.lock().unwrap_or_else(|e| e.into_inner());
        match faults::take(&mut armed, method.as_str(), path, true) {
            Some(FaultKind::KillJob { after_items }) => (Some((after_items, JobState::Killed)), 0),
            Some(FaultKind::FailJob { after_items }) => (Some((after_items, JobState::Failed)), 0),
            Some(FaultKind::JobNotYetVisible { polls }) => (None, polls),
            _ => (None, 0),
        }
    };
    let mut w = shared.world();
    if w.active_jobs() >= shared.config.max_active_jobs {
        let mut r = (
            StatusCode::TOO_MANY_REQUESTS,
            Json(json!({"error": "TooManyJobs", "description": "Number of allowed concurrent jobs exceeded"})),
        )
            .into_response();
        r.headers_mut()
            .insert("retry-after", axum::http::HeaderValue::from_static("1"));
        return Ok(r);
    }
    let id = w.enqueue_job(kind, items, stop, actor);
    if let Some(job) = w.jobs.get_mut(&id) {
        job.hidden_polls = hidden_polls;
    }
    let job = w
        .jobs
        .get(&id)
        .map(|j| w.job_json(j))
        .unwrap_or(Value::Null);
    Ok(Json(json!({"job_status": job})).into_response())
}

async fn create_many_orgs(
    State(shared): State<Arc<Shared>>,
    Extension(p): Extension<Principal>,
    method: Method,
    body: axum::body::Bytes,
) -> Result<Response, ZdError> {
    let body = parse_body(&body)?;
    let items = list(&body, "organizations")?.clone();
    start_job(
        &shared,
        JobKind::CreateOrganizations,
        &method,
        "/api/v2/organizations/create_many",
        items,
        p.user_id(),
    )
}

/// `?ids=` / `?external_ids=` with one `organization`, or an `organizations` list with ids.
fn bulk_items(
    shared: &Shared,
    q: &HashMap<String, String>,
    body: &Value,
    one: &str,
    many: &str,
) -> Result<Vec<Value>, ZdError> {
    let with_id = |id: Option<u64>, template: &Value| {
        let mut item = template.clone();
        if let (Some(map), Some(id)) = (item.as_object_mut(), id) {
            map.insert("id".into(), json!(id));
        }
        item
    };
    if let Some(ids) = q.get("ids") {
        let template = object(body, one)?;
        let ids = comma_list(ids)?;
        return Ok(ids
            .iter()
            .map(|i| with_id(i.parse().ok(), template))
            .collect());
    }
    if let Some(exts) = q.get("external_ids") {
        let template = object(body, one)?;
        let exts = comma_list(exts)?;
        let w = shared.world();
        return Ok(exts
            .iter()
            .map(|e| with_id(w.org_by_external_id(e).map(|o| o.id), template))
            .collect());
    }
    Ok(list(body, many)?.clone())
}

async fn update_many_orgs(
    State(shared): State<Arc<Shared>>,
    Extension(p): Extension<Principal>,
    method: Method,
    Query(q): Q,
    body: axum::body::Bytes,
) -> Result<Response, ZdError> {
    let body = parse_body(&body)?;
    let items = bulk_items(&shared, &q, &body, "organization", "organizations")?;
    start_job(
        &shared,
        JobKind::UpdateOrganizations,
        &method,
        "/api/v2/organizations/update_many",
        items,
        p.user_id(),
    )
}

async fn list_org_fields(
    State(shared): State<Arc<Shared>>,
    Query(q): Q,
) -> Result<Response, ZdError> {
    let w = shared.world();
    let fields = w
        .org_fields
        .values()
        .map(|f| (f.id, w.org_field_json(f)))
        .collect();
    let page = pages::page(
        &shared.base_url,
        "/api/v2/organization_fields",
        &q,
        "organization_fields",
        fields,
    )?;
    Ok(Json(page).into_response())
}

async fn create_org_field(
    State(shared): State<Arc<Shared>>,
    body: axum::body::Bytes,
) -> Result<Response, ZdError> {
    let body = parse_body(&body)?;
    let input = object(&body, "organization_field")?;
    let mut w = shared.world();
    let id = w.create_org_field(input)?;
    let field = w
        .org_fields
        .get(&id)
        .map(|f| w.org_field_json(f))
        .unwrap_or(Value::Null);
    Ok((
        StatusCode::CREATED,
        Json(json!({"organization_field": field})),
    )
        .into_response())
}

async fn show_job(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<Response, ZdError> {
    let mut w = shared.world();
    let job = w.jobs.get_mut(&id).ok_or_else(ZdError::not_found)?;
    if job.hidden_polls > 0 {
        // Queued, but not visible yet (fault knob): Zendesk's 404 for an unknown record.
        job.hidden_polls -= 1;
        return Err(ZdError::not_found());
    }
    let job = job.clone();
    Ok(Json(json!({"job_status": w.job_json(&job)})).into_response())
}

// ---------------------------------------------------------------- tickets

fn audit(change: &TicketChange) -> Value {
    let events: Vec<Value> = change
        .events
        .iter()
        .enumerate()
        .map(|(i, (kind, event))| {
            let field_name = event
                .pointer("/custom_field/id")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| {
                    kind.trim_start_matches("ticket.")
                        .trim_end_matches("_changed")
                        .to_string()
                });
            json!({
                "id": 1000 + i,
                "type": if kind == "ticket.created" { "Create" } else { "Change" },
                "field_name": field_name,
                "value": event.get("current").cloned().unwrap_or(Value::Null),
                "previous_value": event.get("previous").cloned().unwrap_or(Value::Null),
            })
        })
        .collect();
    json!({
        "id": rand::random::<u32>(),
        "ticket_id": change.ticket.id,
        "created_at": now_iso(),
        "author_id": change.actor_id,
        "metadata": {"system": {}, "custom": {}},
        "events": events,
        "via": {"channel": "api"},
    })
}

/// `GET /api/v2/tickets/{id}/comments`: oldest first, one page (offset pagination fields).
async fn list_comments(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<Response, ZdError> {
    let id = parse_id(&id)?;
    let w = shared.world();
    let t = w.tickets.get(&id).ok_or_else(ZdError::not_found)?;
    let comments: Vec<Value> = t
        .comments
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "type": "Comment",
                "author_id": c.author_id,
                "body": c.body,
                "html_body": format!("<div class=\"zd-comment\"><p>{}</p></div>", c.body),
                "plain_body": c.body,
                "public": c.public,
                "attachments": [],
                "audit_id": c.id,
                "via": {"channel": "api", "source": {"from": {}, "to": {}, "rel": null}},
                "created_at": c.created_at,
                "metadata": {"system": {}, "custom": {}},
            })
        })
        .collect();
    let count = comments.len();
    Ok(Json(
        json!({"comments": comments, "next_page": null, "previous_page": null, "count": count}),
    )
    .into_response())
}

async fn show_ticket(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<Response, ZdError> {
    let id = parse_id(&id)?;
    let w = shared.world();
    let t = w.tickets.get(&id).ok_or_else(ZdError::not_found)?;
    Ok(Json(json!({"ticket": w.ticket_json(t)})).into_response())
}

async fn create_ticket(
    State(shared): State<Arc<Shared>>,
    Extension(p): Extension<Principal>,
    body: axum::body::Bytes,
) -> Result<Response, ZdError> {
    let body = parse_body(&body)?;
    let input = object(&body, "ticket")?;
    let (change, ticket) = {
        let mut w = shared.world();
        let change = w.create_ticket(input, p.user_id())?;
        let ticket = w.ticket_json(&change.ticket);
        (change, ticket)
    };
    shared.hooks.ticket_changed(&change);
    Ok((
        StatusCode::CREATED,
        Json(json!({"ticket": ticket, "audit": audit(&change)})),
    )
        .into_response())
}

async fn update_ticket(
    State(shared): State<Arc<Shared>>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ZdError> {
    let id = parse_id(&id)?;
    let body = parse_body(&body)?;
    let input = object(&body, "ticket")?;
    let (change, ticket) = {
        let mut w = shared.world();
        let change = w.update_ticket(id, input, p.user_id())?;
        let ticket = w.ticket_json(&change.ticket);
        (change, ticket)
    };
    shared.hooks.ticket_changed(&change);
    Ok(Json(json!({"ticket": ticket, "audit": audit(&change)})).into_response())
}

async fn update_many_tickets(
    State(shared): State<Arc<Shared>>,
    Extension(p): Extension<Principal>,
    method: Method,
    Query(q): Q,
    body: axum::body::Bytes,
) -> Result<Response, ZdError> {
    let body = parse_body(&body)?;
    let items = if q.contains_key("external_ids") {
        return Err(ZdError::bad_request(
            "InvalidValue",
            "external_ids is not supported for tickets",
        ));
    } else {
        bulk_items(&shared, &q, &body, "ticket", "tickets")?
    };
    start_job(
        &shared,
        JobKind::UpdateTickets,
        &method,
        "/api/v2/tickets/update_many",
        items,
        p.user_id(),
    )
}

async fn list_ticket_fields(
    State(shared): State<Arc<Shared>>,
    Query(q): Q,
) -> Result<Response, ZdError> {
    let w = shared.world();
    let fields = w
        .ticket_fields
        .values()
        .map(|f| (f.id, w.ticket_field_json(f)))
        .collect();
    let page = pages::page(
        &shared.base_url,
        "/api/v2/ticket_fields",
        &q,
        "ticket_fields",
        fields,
    )?;
    Ok(Json(page).into_response())
}

async fn show_ticket_field(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<Response, ZdError> {
    let id = parse_id(&id)?;
    let w = shared.world();
    let f = w.ticket_fields.get(&id).ok_or_else(ZdError::not_found)?;
    Ok(Json(json!({"ticket_field": w.ticket_field_json(f)})).into_response())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::{Value, json};

    use super::super::{
        DEFAULT_AGENT_EMAIL, DEFAULT_API_TOKEN, Fault, FaultKind, SimConfig, ZendeskSim,
    };

    /// Creates one organization through `create_many` and returns the state its job ends in.
    async fn create_many(sim: &ZendeskSim, external_id: &str) -> String {
        let http = reqwest::Client::new();
        let auth = (format!("{DEFAULT_AGENT_EMAIL}/token"), DEFAULT_API_TOKEN);
        let job: Value = http
            .post(format!(
                "{}/api/v2/organizations/create_many",
                sim.base_url()
            ))
            .basic_auth(&auth.0, Some(auth.1))
            .json(&json!({"organizations": [{"name": external_id, "external_id": external_id}]}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = job["job_status"]["id"].as_str().unwrap().to_string();
        for _ in 0..250 {
            let job: Value = http
                .get(format!("{}/api/v2/job_statuses/{id}", sim.base_url()))
                .basic_auth(&auth.0, Some(auth.1))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let status = job["job_status"]["status"].as_str().unwrap();
            if !matches!(status, "queued" | "working") {
                return status.to_string();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("job {id} never ended");
    }

    async fn get_job(sim: &ZendeskSim, id: &str) -> (u16, Value) {
        let r = reqwest::Client::new()
            .get(format!("{}/api/v2/job_statuses/{id}", sim.base_url()))
            .basic_auth(
                format!("{DEFAULT_AGENT_EMAIL}/token"),
                Some(DEFAULT_API_TOKEN),
            )
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or_default())
    }

    async fn submit(sim: &ZendeskSim, orgs: Value) -> String {
        let job: Value = reqwest::Client::new()
            .post(format!(
                "{}/api/v2/organizations/create_many",
                sim.base_url()
            ))
            .basic_auth(
                format!("{DEFAULT_AGENT_EMAIL}/token"),
                Some(DEFAULT_API_TOKEN),
            )
            .json(&json!({ "organizations": orgs }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        job["job_status"]["id"].as_str().unwrap().to_string()
    }

    /// Polls until the job is final (a 404 counts as "not yet").
    async fn final_job(sim: &ZendeskSim, id: &str) -> Value {
        for _ in 0..250 {
            let (status, body) = get_job(sim, id).await;
            let state = body["job_status"]["status"].as_str().unwrap_or("");
            if status == 200 && !matches!(state, "queued" | "working") {
                return body["job_status"].clone();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("job {id} never ended");
    }

    #[tokio::test]
    async fn a_failed_or_killed_job_reports_the_items_it_processed() {
        let sim = ZendeskSim::start(SimConfig::default()).await.unwrap();
        sim.seed_organization("Taken", None).unwrap();
        let path = "/api/v2/organizations/create_many";
        sim.inject(Fault::new(FaultKind::FailJob { after_items: 2 }).on("POST", path));
        let orgs = json!([
            {"name": "A", "external_id": "S-1"},
            {"name": "Taken", "external_id": "S-2"},
            {"name": "C", "external_id": "S-3"}
        ]);
        let id = submit(&sim, orgs.clone()).await;
        let job = final_job(&sim, &id).await;
        assert_eq!(job["status"], "failed");
        assert!(job["message"].as_str().unwrap().starts_with("Failed at "));
        let results = job["results"].as_array().unwrap();
        assert_eq!(results.len(), 2, "{job}");
        assert_eq!(results[0]["index"], 0);
        assert!(results[0]["id"].is_u64());
        assert_eq!(results[1]["index"], 1);
        assert_eq!(results[1]["error"], "DuplicateValue");
        assert_eq!(results[1]["details"], "Name: Taken has already been taken");

        sim.inject(Fault::new(FaultKind::KillJob { after_items: 1 }).on("POST", path));
        let id = submit(
            &sim,
            json!([{"name": "D", "external_id": "S-4"}, {"name": "E", "external_id": "S-5"}]),
        )
        .await;
        let job = final_job(&sim, &id).await;
        assert_eq!(job["status"], "killed");
        assert_eq!(job["results"].as_array().unwrap().len(), 1, "{job}");
        assert_eq!(job["progress"], 1);
    }

    #[tokio::test]
    async fn a_job_may_not_be_visible_on_its_first_polls() {
        let sim = ZendeskSim::start(SimConfig::default()).await.unwrap();
        sim.inject(
            Fault::new(FaultKind::JobNotYetVisible { polls: 2 })
                .on("POST", "/api/v2/organizations/create_many"),
        );
        let id = submit(&sim, json!([{"name": "A", "external_id": "S-1"}])).await;
        let (first, body) = get_job(&sim, &id).await;
        assert_eq!(
            (first, body["error"].as_str()),
            (404, Some("RecordNotFound"))
        );
        assert_eq!(get_job(&sim, &id).await.0, 404);
        let job = final_job(&sim, &id).await;
        assert_eq!(job["status"], "completed");
        assert_eq!(
            sim.organizations().len(),
            1,
            "the job ran while it was not visible"
        );
    }

    #[tokio::test]
    async fn a_job_fault_fires_only_for_the_method_it_was_armed_for() {
        let sim = ZendeskSim::start(SimConfig::default()).await.unwrap();
        let path = "/api/v2/organizations/create_many";
        let kill = || Fault::new(FaultKind::KillJob { after_items: 0 });
        sim.inject(kill().on("PUT", path));
        assert_eq!(create_many(&sim, "S-1").await, "completed");
        sim.inject(kill().on("POST", path));
        assert_eq!(create_many(&sim, "S-2").await, "killed");
        assert_eq!(
            create_many(&sim, "S-3").await,
            "completed",
            "the PUT fault never fires for a POST"
        );
    }
}
