//! Organizations, keyed by `external_id` (the Workday Supplier_ID).
//!
//! Writes are idempotent: a create whose outcome is unknown (connection dropped, 5xx, job killed) is reconciled
//! by looking the `external_id` up before anything is created again, and an `external_id` that is already taken
//! resolves to the organization holding it. Names are unique in Zendesk (case-insensitively): when a name is
//! taken by another organization, the supplier gets a deterministic disambiguated name —
//! `Name (EXTERNAL_ID)`, then `Name (EXTERNAL_ID-2)`, ... — and the batch carries on.

use std::collections::HashMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::client::{Call, ZendeskClient};
use super::de;
use super::error::ZendeskError;
use super::jobs::{JobResult, JobState, JobStatus};

/// Items per `create_many` / `update_many` / `show_many` call (Zendesk's limit).
pub const MAX_BATCH: usize = 100;
/// Disambiguation levels tried before an item is reported as failed.
pub const MAX_NAME_ATTEMPTS: u32 = 5;
const MAX_NAME_CHARS: usize = 255;

/// An organization as Zendesk returns it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Organization {
    /// Zendesk id.
    #[serde(deserialize_with = "de::id")]
    pub id: u64,
    /// API URL.
    #[serde(default)]
    pub url: Option<String>,
    /// Unique name.
    pub name: String,
    /// The Workday Supplier_ID.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub external_id: Option<String>,
    /// Free-text details.
    #[serde(default)]
    pub details: Option<String>,
    /// Free-text notes.
    #[serde(default)]
    pub notes: Option<String>,
    /// Tags.
    #[serde(default, deserialize_with = "de::null_default")]
    pub tags: Vec<String>,
    /// E-mail domains whose users join the organization automatically.
    #[serde(default, deserialize_with = "de::null_default")]
    pub domain_names: Vec<String>,
    /// Default group.
    #[serde(default, deserialize_with = "de::opt_id")]
    pub group_id: Option<u64>,
    /// Whether members see each other's tickets.
    #[serde(default)]
    pub shared_tickets: bool,
    /// Whether members see each other's comments.
    #[serde(default)]
    pub shared_comments: bool,
    /// Custom organization field values by key.
    #[serde(default, deserialize_with = "de::null_default")]
    pub organization_fields: Map<String, Value>,
    /// ISO 8601.
    #[serde(default)]
    pub created_at: Option<String>,
    /// ISO 8601.
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// An organization to create (or, in [`ZendeskClient::upsert_organizations`], the desired state).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrganizationInput {
    /// Desired name (disambiguated if another organization has it).
    pub name: String,
    /// The Workday Supplier_ID; required, it is what makes writes idempotent.
    pub external_id: String,
    /// Details (`None`: not set / left as is).
    pub details: Option<String>,
    /// Notes (`None`: not set / left as is).
    pub notes: Option<String>,
    /// Tags (`None`: not set / left as is).
    pub tags: Option<Vec<String>>,
    /// Domain names; an update replaces the whole list (`None`: left as is).
    pub domain_names: Option<Vec<String>>,
    /// Organization field values by key (only the keys given are written).
    pub organization_fields: Map<String, Value>,
}

/// Changes to an existing organization; `None` leaves a property as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrganizationUpdate {
    /// Zendesk id.
    pub id: u64,
    /// New name (disambiguated if taken).
    pub name: Option<String>,
    /// New external id; also the suffix used to disambiguate the name (the id is used when absent).
    pub external_id: Option<String>,
    /// Details.
    pub details: Option<String>,
    /// Notes.
    pub notes: Option<String>,
    /// Tags (replaces the list).
    pub tags: Option<Vec<String>>,
    /// Domain names (replaces the list).
    pub domain_names: Option<Vec<String>>,
    /// Organization field values by key (merged key by key).
    pub organization_fields: Map<String, Value>,
}

/// What happened to one organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgAction {
    /// Created by this call.
    Created,
    /// Updated by this call.
    Updated,
    /// Already as desired; nothing sent.
    Unchanged,
    /// The outcome of a write was unknown (or the `external_id` was taken); the organization was found by its
    /// `external_id` instead of being created again.
    Reconciled,
}

/// A written organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WrittenOrg {
    /// Zendesk id.
    pub id: u64,
    /// The name it has in Zendesk.
    pub name: String,
    /// What happened.
    pub action: OrgAction,
    /// Whether the name differs from the one asked for because of a collision.
    pub disambiguated: bool,
}

/// Why one item of a batch failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemFailure {
    /// Zendesk's error code, or ml-connector's.
    pub error: String,
    /// Explanation.
    pub details: String,
}

/// The outcome for one item of a batch, in input order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrgWrite {
    /// Position in the input.
    pub index: usize,
    /// The item's external id, if it has one.
    pub external_id: Option<String>,
    /// The organization, or why this item failed.
    pub outcome: Result<WrittenOrg, ItemFailure>,
}

/// The name to use at disambiguation level `attempt`: 0 is `name` itself, 1 is `name (KEY)`, n ≥ 2 is
/// `name (KEY-n)`. The result is trimmed and at most 255 characters (the name is shortened, never the key).
pub fn disambiguated_name(name: &str, key: &str, attempt: u32) -> String {
    let name = name.trim();
    let suffix = match attempt {
        0 => String::new(),
        1 => format!(" ({})", key.trim()),
        n => format!(" ({}-{n})", key.trim()),
    };
    let room = MAX_NAME_CHARS.saturating_sub(suffix.chars().count());
    let base: String = name.chars().take(room).collect();
    format!("{}{suffix}", base.trim_end())
}

fn fold(s: &str) -> String {
    s.trim().to_lowercase()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Conflict {
    Name,
    ExternalId,
    Other,
}

fn conflict_in_text(text: &str) -> Conflict {
    let t = text.to_lowercase();
    if !(t.contains("taken") || t.contains("duplicate")) {
        return Conflict::Other;
    }
    if t.contains("external") {
        Conflict::ExternalId
    } else if t.contains("name") {
        Conflict::Name
    } else {
        Conflict::Other
    }
}

fn conflict_in_validation(details: &Value, description: &str) -> Conflict {
    if let Some(map) = details.as_object() {
        for (field, errors) in map {
            let duplicate = match errors {
                Value::Array(items) => items.iter().any(|e| {
                    e.get("error").and_then(Value::as_str) == Some("DuplicateValue")
                        || e.get("description")
                            .and_then(Value::as_str)
                            .is_some_and(|d| d.contains("taken"))
                }),
                _ => false,
            };
            if duplicate {
                if field.contains("external") {
                    return Conflict::ExternalId;
                }
                if field == "name" {
                    return Conflict::Name;
                }
            }
        }
    }
    conflict_in_text(description)
}

fn conflict_in_result(r: &JobResult) -> Conflict {
    let text = format!(
        "{} {}",
        r.details.as_deref().unwrap_or_default(),
        r.error.as_deref().unwrap_or_default()
    );
    conflict_in_text(&text)
}

fn failure(r: &JobResult) -> ItemFailure {
    ItemFailure {
        error: r.error.clone().unwrap_or_else(|| "Failed".into()),
        details: r.details.clone().unwrap_or_default(),
    }
}

fn check_input(input: &OrganizationInput) -> Result<(), ZendeskError> {
    if input.name.trim().is_empty() {
        return Err(ZendeskError::InvalidInput(format!(
            "organization with external_id `{}` has an empty name",
            input.external_id
        )));
    }
    if input.external_id.trim().is_empty() {
        return Err(ZendeskError::InvalidInput(format!(
            "organization `{}` has no external_id",
            input.name
        )));
    }
    Ok(())
}

fn create_body(input: &OrganizationInput, name: &str) -> Value {
    let mut org = Map::new();
    org.insert("name".into(), json!(name));
    org.insert("external_id".into(), json!(input.external_id.trim()));
    if let Some(v) = &input.details {
        org.insert("details".into(), json!(v));
    }
    if let Some(v) = &input.notes {
        org.insert("notes".into(), json!(v));
    }
    if let Some(v) = &input.tags {
        org.insert("tags".into(), json!(v));
    }
    if let Some(v) = &input.domain_names {
        org.insert("domain_names".into(), json!(v));
    }
    if !input.organization_fields.is_empty() {
        org.insert(
            "organization_fields".into(),
            Value::Object(input.organization_fields.clone()),
        );
    }
    Value::Object(org)
}

fn update_body(update: &OrganizationUpdate, name: Option<&str>, with_id: bool) -> Value {
    let mut org = Map::new();
    if with_id {
        org.insert("id".into(), json!(update.id));
    }
    if let Some(n) = name {
        org.insert("name".into(), json!(n));
    }
    if let Some(v) = &update.external_id {
        org.insert("external_id".into(), json!(v));
    }
    if let Some(v) = &update.details {
        org.insert("details".into(), json!(v));
    }
    if let Some(v) = &update.notes {
        org.insert("notes".into(), json!(v));
    }
    if let Some(v) = &update.tags {
        org.insert("tags".into(), json!(v));
    }
    if let Some(v) = &update.domain_names {
        org.insert("domain_names".into(), json!(v));
    }
    if !update.organization_fields.is_empty() {
        org.insert(
            "organization_fields".into(),
            Value::Object(update.organization_fields.clone()),
        );
    }
    Value::Object(org)
}

impl OrganizationUpdate {
    fn key(&self) -> String {
        self.external_id
            .clone()
            .unwrap_or_else(|| self.id.to_string())
    }

    fn name_at(&self, attempt: u32) -> Option<String> {
        self.name
            .as_deref()
            .map(|n| disambiguated_name(n, &self.key(), attempt))
    }

    /// Whether it changes anything.
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.external_id.is_none()
            && self.details.is_none()
            && self.notes.is_none()
            && self.tags.is_none()
            && self.domain_names.is_none()
            && self.organization_fields.is_empty()
    }
}

fn normalized_tags(tags: &[String]) -> Vec<String> {
    let mut t: Vec<String> = tags
        .iter()
        .flat_map(|t| t.split_whitespace())
        .map(|t| t.to_lowercase())
        .collect();
    t.sort();
    t.dedup();
    t
}

/// Whether `existing` already carries `name` for supplier `key` (as is or disambiguated).
fn name_matches(existing: &str, name: &str, key: &str) -> bool {
    (0..=MAX_NAME_ATTEMPTS).any(|a| fold(existing) == fold(&disambiguated_name(name, key, a)))
}

/// The update that brings `org` to `desired`, or `None` when nothing differs.
fn diff(org: &Organization, desired: &OrganizationInput) -> Option<OrganizationUpdate> {
    let mut update = OrganizationUpdate {
        id: org.id,
        external_id: None,
        ..Default::default()
    };
    if !name_matches(&org.name, &desired.name, &desired.external_id) {
        update.name = Some(desired.name.clone());
        update.external_id = Some(desired.external_id.trim().to_string());
    }
    if desired.details.is_some() && desired.details != org.details {
        update.details.clone_from(&desired.details);
    }
    if desired.notes.is_some() && desired.notes != org.notes {
        update.notes.clone_from(&desired.notes);
    }
    if let Some(tags) = &desired.tags
        && normalized_tags(tags) != normalized_tags(&org.tags)
    {
        update.tags = Some(tags.clone());
    }
    if let Some(domains) = &desired.domain_names {
        let mut a: Vec<String> = domains.iter().map(|d| fold(d)).collect();
        let mut b: Vec<String> = org.domain_names.iter().map(|d| fold(d)).collect();
        a.sort();
        b.sort();
        if a != b {
            update.domain_names = Some(domains.clone());
        }
    }
    for (key, value) in &desired.organization_fields {
        if org.organization_fields.get(key).unwrap_or(&Value::Null) != value {
            update
                .organization_fields
                .insert(key.clone(), value.clone());
        }
    }
    if update.is_empty() {
        None
    } else {
        // Keep the key used for disambiguation stable even when only the name changes.
        if update.name.is_some() && update.external_id.is_none() {
            update.external_id = Some(desired.external_id.clone());
        }
        Some(update)
    }
}

#[derive(Deserialize)]
struct OneOrg {
    organization: Organization,
}

#[derive(Deserialize)]
struct ManyOrgs {
    #[serde(default, deserialize_with = "de::null_default")]
    organizations: Vec<Organization>,
}

impl ZendeskClient {
    /// `GET /api/v2/organizations/{id}`.
    pub async fn organization(&self, id: u64) -> Result<Organization, ZendeskError> {
        let one: OneOrg = self
            .call_json(Call::get(format!("organizations/{id}")))
            .await?;
        Ok(one.organization)
    }

    /// `GET /api/v2/organizations/search?external_id=` (exact, case-insensitive).
    pub async fn organization_by_external_id(
        &self,
        external_id: &str,
    ) -> Result<Option<Organization>, ZendeskError> {
        let many: ManyOrgs = self
            .call_json(Call::get("organizations/search").query("external_id", external_id.trim()))
            .await?;
        let wanted = fold(external_id);
        Ok(many
            .organizations
            .into_iter()
            .find(|o| o.external_id.as_deref().is_some_and(|e| fold(e) == wanted)))
    }

    /// `GET /api/v2/organizations/show_many?external_ids=` in calls of up to 100 (ids containing a comma,
    /// which the list cannot carry, are searched one by one). Returns the organizations found, any order.
    pub async fn organizations_by_external_ids(
        &self,
        external_ids: &[String],
    ) -> Result<Vec<Organization>, ZendeskError> {
        let (listable, single): (Vec<&String>, Vec<&String>) = external_ids
            .iter()
            .filter(|e| !e.trim().is_empty())
            .partition(|e| !e.contains(','));
        let mut found = Vec::new();
        for chunk in listable.chunks(MAX_BATCH) {
            let joined = chunk.iter().map(|e| e.trim()).collect::<Vec<_>>().join(",");
            let many: ManyOrgs = self
                .call_json(Call::get("organizations/show_many").query("external_ids", joined))
                .await?;
            found.extend(many.organizations);
        }
        for e in single {
            if let Some(org) = self.organization_by_external_id(e).await? {
                found.push(org);
            }
        }
        Ok(found)
    }

    async fn found_by_external_id(
        &self,
        external_ids: &[String],
    ) -> Result<HashMap<String, Organization>, ZendeskError> {
        Ok(self
            .organizations_by_external_ids(external_ids)
            .await?
            .into_iter()
            .filter_map(|o| o.external_id.clone().map(|e| (fold(&e), o)))
            .collect())
    }

    async fn pause_before_retry(&self, round: u32) {
        let c = self.config();
        let factor = 1u64 << round.min(10);
        let ms = c
            .retry_min_delay_ms
            .saturating_mul(factor)
            .min(c.retry_max_delay_ms);
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }

    /// `POST /api/v2/organizations`, idempotent and collision-resolving: an unknown outcome is reconciled by
    /// `external_id` before creating again; a taken `external_id` returns the organization holding it; a taken
    /// name moves to the next disambiguation level.
    pub async fn create_organization(
        &self,
        input: &OrganizationInput,
    ) -> Result<WrittenOrg, ZendeskError> {
        check_input(input)?;
        let mut attempt = 0;
        let mut unknown_outcomes = 0;
        loop {
            let name = disambiguated_name(&input.name, &input.external_id, attempt);
            let call = Call::post(
                "organizations",
                json!({"organization": create_body(input, &name)}),
            );
            let result = self.call_json::<OneOrg>(call).await;
            let error = match result {
                Ok(one) => {
                    return Ok(WrittenOrg {
                        id: one.organization.id,
                        name: one.organization.name,
                        action: OrgAction::Created,
                        disambiguated: attempt > 0,
                    });
                }
                Err(e) => e,
            };
            let conflict = match &error {
                ZendeskError::Validation {
                    details,
                    description,
                    ..
                } => conflict_in_validation(details, description),
                e if e.is_ambiguous() => Conflict::Other,
                _ => return Err(error),
            };
            if error.is_ambiguous() || conflict != Conflict::Other {
                // Did an earlier attempt (or someone) create it? Then that is the answer.
                if let Some(org) = self.organization_by_external_id(&input.external_id).await? {
                    return Ok(WrittenOrg {
                        disambiguated: fold(&org.name) != fold(&input.name),
                        id: org.id,
                        name: org.name,
                        action: OrgAction::Reconciled,
                    });
                }
            }
            match conflict {
                Conflict::Name if attempt < MAX_NAME_ATTEMPTS => attempt += 1,
                Conflict::Other if error.is_ambiguous() => {
                    unknown_outcomes += 1;
                    if unknown_outcomes > self.config().max_retries {
                        return Err(error);
                    }
                    self.pause_before_retry(unknown_outcomes).await;
                }
                _ => return Err(error),
            }
        }
    }

    /// `PUT /api/v2/organizations/{id}`; a taken name moves to the next disambiguation level.
    pub async fn update_organization(
        &self,
        update: &OrganizationUpdate,
    ) -> Result<Organization, ZendeskError> {
        let mut attempt = 0;
        loop {
            let name = update.name_at(attempt);
            let call = Call::put(
                format!("organizations/{}", update.id),
                json!({"organization": update_body(update, name.as_deref(), false)}),
            );
            match self.call_json::<OneOrg>(call).await {
                Ok(one) => return Ok(one.organization),
                Err(ZendeskError::Validation {
                    details,
                    description,
                    status,
                    error,
                }) if conflict_in_validation(&details, &description) == Conflict::Name
                    && update.name.is_some()
                    && attempt < MAX_NAME_ATTEMPTS =>
                {
                    tracing::debug!(status, %error, id = update.id, "organization name taken; disambiguating");
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Submits a bulk call and waits for its job. `Ok(None)` means the outcome is unknown (the call's answer
    /// was lost, or the job was killed / failed / not finished): the caller reconciles.
    async fn run_bulk(&self, call: Call) -> Result<Option<JobStatus>, ZendeskError> {
        let label = format!("{} {}", call.method, call.path);
        let job = match self.call(call).await {
            Ok(reply) => match Self::job_from(&label, &reply.body) {
                Ok(job) => job,
                Err(e) => {
                    tracing::warn!(error = %e, "bulk call answer unreadable; reconciling");
                    return Ok(None);
                }
            },
            Err(e) if e.is_ambiguous() => {
                tracing::warn!(error = %e, "bulk call outcome unknown; reconciling");
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        match self.wait_for_job(job).await {
            Ok(job) if job.status == JobState::Completed => Ok(Some(job)),
            Ok(job) => {
                tracing::warn!(job = %job.id, status = job.status.as_str(), message = ?job.message,
                    "bulk job did not complete; reconciling");
                Ok(None)
            }
            Err(e @ ZendeskError::JobTimeout { .. }) => Err(e),
            Err(e) if e.is_ambiguous() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `POST /api/v2/organizations/create_many` in jobs of up to 100, polling each job. Every item must have a
    /// distinct `external_id`. Names that collide within the input are disambiguated up front (the smallest
    /// `external_id` keeps the plain name); names taken in Zendesk move to the next level and are resubmitted;
    /// items whose outcome is unknown are looked up by `external_id` before being submitted again.
    pub async fn create_many_organizations(
        &self,
        inputs: &[OrganizationInput],
    ) -> Result<Vec<OrgWrite>, ZendeskError> {
        let mut seen = HashMap::new();
        for (i, input) in inputs.iter().enumerate() {
            check_input(input)?;
            if let Some(first) = seen.insert(fold(&input.external_id), i) {
                return Err(ZendeskError::InvalidInput(format!(
                    "external_id `{}` appears twice (items {first} and {i})",
                    input.external_id
                )));
            }
        }
        let mut attempts = initial_attempts(inputs);
        let mut outcomes: Vec<Option<Result<WrittenOrg, ItemFailure>>> = vec![None; inputs.len()];
        let order: Vec<usize> = (0..inputs.len()).collect();
        for chunk in order.chunks(MAX_BATCH) {
            self.create_chunk(inputs, chunk.to_vec(), &mut attempts, &mut outcomes)
                .await?;
        }
        Ok(collect(
            outcomes,
            |i| Some(inputs[i].external_id.clone()),
            "not processed",
        ))
    }

    async fn create_chunk(
        &self,
        inputs: &[OrganizationInput],
        mut pending: Vec<usize>,
        attempts: &mut [u32],
        outcomes: &mut [Option<Result<WrittenOrg, ItemFailure>>],
    ) -> Result<(), ZendeskError> {
        let max_rounds = MAX_NAME_ATTEMPTS + self.config().max_retries + 1;
        let name_of = |i: usize, attempts: &[u32]| {
            disambiguated_name(&inputs[i].name, &inputs[i].external_id, attempts[i])
        };
        let reconciled = |i: usize, org: &Organization| {
            Ok(WrittenOrg {
                id: org.id,
                name: org.name.clone(),
                action: OrgAction::Reconciled,
                disambiguated: fold(&org.name) != fold(&inputs[i].name),
            })
        };
        let mut round = 0;
        while !pending.is_empty() {
            round += 1;
            if round > max_rounds {
                for i in pending.drain(..) {
                    outcomes[i] = Some(Err(ItemFailure {
                        error: "GaveUp".into(),
                        details: format!("not created after {max_rounds} rounds"),
                    }));
                }
                break;
            }
            let body: Vec<Value> = pending
                .iter()
                .map(|&i| create_body(&inputs[i], &name_of(i, attempts)))
                .collect();
            let job = self
                .run_bulk(Call::post(
                    "organizations/create_many",
                    json!({"organizations": body}),
                ))
                .await?;
            let mut check = Vec::new();
            let mut name_taken = Vec::new();
            match job {
                None => {
                    check.extend(pending.iter().copied());
                }
                Some(job) => {
                    for (pos, &i) in pending.iter().enumerate() {
                        match job.result_for(pos) {
                            Some(r) if r.succeeded() => match r.id {
                                Some(id) => {
                                    outcomes[i] = Some(Ok(WrittenOrg {
                                        id,
                                        name: name_of(i, attempts),
                                        action: OrgAction::Created,
                                        disambiguated: attempts[i] > 0,
                                    }));
                                }
                                None => check.push(i),
                            },
                            Some(r) => match conflict_in_result(r) {
                                Conflict::Name => name_taken.push(i),
                                Conflict::ExternalId => check.push(i),
                                Conflict::Other => outcomes[i] = Some(Err(failure(r))),
                            },
                            None => check.push(i),
                        }
                    }
                }
            }
            let lookups: Vec<String> = check
                .iter()
                .chain(name_taken.iter())
                .map(|&i| inputs[i].external_id.clone())
                .collect();
            let found = if lookups.is_empty() {
                HashMap::new()
            } else {
                self.found_by_external_id(&lookups).await?
            };
            let mut next = Vec::new();
            let mut resubmit_unknown = false;
            for i in check {
                match found.get(&fold(&inputs[i].external_id)) {
                    Some(org) => outcomes[i] = Some(reconciled(i, org)),
                    None => {
                        resubmit_unknown = true;
                        next.push(i);
                    }
                }
            }
            for i in name_taken {
                match found.get(&fold(&inputs[i].external_id)) {
                    Some(org) => outcomes[i] = Some(reconciled(i, org)),
                    None if attempts[i] < MAX_NAME_ATTEMPTS => {
                        attempts[i] += 1;
                        next.push(i);
                    }
                    None => {
                        outcomes[i] = Some(Err(ItemFailure {
                            error: "DuplicateValue".into(),
                            details: format!(
                                "name `{}` and {MAX_NAME_ATTEMPTS} disambiguations are taken",
                                inputs[i].name
                            ),
                        }));
                    }
                }
            }
            next.sort_unstable();
            if resubmit_unknown {
                // Something went wrong upstream: back off before submitting again (renames go straight on).
                self.pause_before_retry(round).await;
            }
            pending = next;
        }
        Ok(())
    }

    /// `PUT /api/v2/organizations/update_many` (`{"organizations": [{id, ...}]}`) in jobs of up to 100; a taken
    /// name moves to the next disambiguation level and the item is resubmitted; a job that did not complete is
    /// resubmitted (updates are idempotent).
    pub async fn update_many_organizations(
        &self,
        updates: &[OrganizationUpdate],
    ) -> Result<Vec<OrgWrite>, ZendeskError> {
        let mut seen = HashMap::new();
        for (i, u) in updates.iter().enumerate() {
            if let Some(first) = seen.insert(u.id, i) {
                return Err(ZendeskError::InvalidInput(format!(
                    "organization {} appears twice (items {first} and {i})",
                    u.id
                )));
            }
        }
        let mut attempts = vec![0u32; updates.len()];
        let mut outcomes: Vec<Option<Result<WrittenOrg, ItemFailure>>> = vec![None; updates.len()];
        let order: Vec<usize> = (0..updates.len()).collect();
        let max_rounds = MAX_NAME_ATTEMPTS + self.config().max_retries + 1;
        for chunk in order.chunks(MAX_BATCH) {
            let mut pending = chunk.to_vec();
            let mut round = 0;
            while !pending.is_empty() && round < max_rounds {
                round += 1;
                let body: Vec<Value> = pending
                    .iter()
                    .map(|&i| {
                        update_body(
                            &updates[i],
                            updates[i].name_at(attempts[i]).as_deref(),
                            true,
                        )
                    })
                    .collect();
                let job = self
                    .run_bulk(Call::put(
                        "organizations/update_many",
                        json!({"organizations": body}),
                    ))
                    .await?;
                let Some(job) = job else {
                    self.pause_before_retry(round).await;
                    continue;
                };
                let by_index = job.results.iter().any(|r| r.index.is_some());
                let mut next = Vec::new();
                for (pos, &i) in pending.iter().enumerate() {
                    let result = if by_index {
                        job.result_for(pos)
                    } else {
                        job.results.iter().find(|r| r.id == Some(updates[i].id))
                    };
                    match result {
                        Some(r) if r.succeeded() => {
                            outcomes[i] = Some(Ok(WrittenOrg {
                                id: updates[i].id,
                                name: updates[i].name_at(attempts[i]).unwrap_or_default(),
                                action: OrgAction::Updated,
                                disambiguated: attempts[i] > 0,
                            }));
                        }
                        Some(r)
                            if conflict_in_result(r) == Conflict::Name
                                && updates[i].name.is_some()
                                && attempts[i] < MAX_NAME_ATTEMPTS =>
                        {
                            attempts[i] += 1;
                            next.push(i);
                        }
                        Some(r) => outcomes[i] = Some(Err(failure(r))),
                        None => next.push(i),
                    }
                }
                pending = next;
            }
        }
        Ok(collect(
            outcomes,
            |i| updates[i].external_id.clone(),
            "not updated after the retries",
        ))
    }

    /// Brings Zendesk to `desired`: looks every `external_id` up (`show_many`), creates the missing
    /// organizations (`create_many`), updates those that differ (`update_many`) and leaves the rest alone.
    /// An organization whose name was disambiguated earlier keeps that name.
    pub async fn upsert_organizations(
        &self,
        desired: &[OrganizationInput],
    ) -> Result<Vec<OrgWrite>, ZendeskError> {
        let mut seen = HashMap::new();
        for (i, d) in desired.iter().enumerate() {
            check_input(d)?;
            if let Some(first) = seen.insert(fold(&d.external_id), i) {
                return Err(ZendeskError::InvalidInput(format!(
                    "external_id `{}` appears twice (items {first} and {i})",
                    d.external_id
                )));
            }
        }
        let ids: Vec<String> = desired.iter().map(|d| d.external_id.clone()).collect();
        let existing = self.found_by_external_id(&ids).await?;
        let mut results: Vec<Option<OrgWrite>> = vec![None; desired.len()];
        let mut creates = Vec::new();
        let mut create_at = Vec::new();
        let mut updates = Vec::new();
        let mut update_at = Vec::new();
        for (i, d) in desired.iter().enumerate() {
            match existing.get(&fold(&d.external_id)) {
                None => {
                    creates.push(d.clone());
                    create_at.push(i);
                }
                Some(org) => match diff(org, d) {
                    None => {
                        results[i] = Some(OrgWrite {
                            index: i,
                            external_id: Some(d.external_id.clone()),
                            outcome: Ok(WrittenOrg {
                                id: org.id,
                                name: org.name.clone(),
                                action: OrgAction::Unchanged,
                                disambiguated: fold(&org.name) != fold(&d.name),
                            }),
                        });
                    }
                    Some(mut u) => {
                        if u.name.is_none() {
                            u.external_id = None;
                        }
                        updates.push(u);
                        update_at.push(i);
                    }
                },
            }
        }
        if !creates.is_empty() {
            for w in self.create_many_organizations(&creates).await? {
                let i = create_at[w.index];
                results[i] = Some(OrgWrite { index: i, ..w });
            }
        }
        if !updates.is_empty() {
            for w in self.update_many_organizations(&updates).await? {
                let i = update_at[w.index];
                let mut w = OrgWrite {
                    index: i,
                    external_id: Some(desired[i].external_id.clone()),
                    ..w
                };
                // A name that was not sent is the one Zendesk already has.
                if let Ok(written) = &mut w.outcome
                    && written.name.is_empty()
                    && let Some(org) = existing.get(&fold(&desired[i].external_id))
                {
                    written.name.clone_from(&org.name);
                    written.disambiguated = fold(&org.name) != fold(&desired[i].name);
                }
                results[i] = Some(w);
            }
        }
        Ok(results
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                r.unwrap_or_else(|| OrgWrite {
                    index: i,
                    external_id: Some(desired[i].external_id.clone()),
                    outcome: Err(ItemFailure {
                        error: "NotProcessed".into(),
                        details: "no result".into(),
                    }),
                })
            })
            .collect())
    }
}

/// Disambiguation levels to start from: within the input, the first of a group of equal names (by smallest
/// `external_id`) keeps the name; the others start at level 1.
fn initial_attempts(inputs: &[OrganizationInput]) -> Vec<u32> {
    let mut groups: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, input) in inputs.iter().enumerate() {
        groups.entry(fold(&input.name)).or_default().push(i);
    }
    let mut attempts = vec![0; inputs.len()];
    for members in groups.values() {
        if members.len() < 2 {
            continue;
        }
        let mut sorted = members.clone();
        sorted.sort_by_key(|&i| fold(&inputs[i].external_id));
        for &i in sorted.iter().skip(1) {
            attempts[i] = 1;
        }
    }
    attempts
}

fn collect(
    outcomes: Vec<Option<Result<WrittenOrg, ItemFailure>>>,
    external_id: impl Fn(usize) -> Option<String>,
    missing: &str,
) -> Vec<OrgWrite> {
    outcomes
        .into_iter()
        .enumerate()
        .map(|(i, o)| OrgWrite {
            index: i,
            external_id: external_id(i),
            outcome: o.unwrap_or_else(|| {
                Err(ItemFailure {
                    error: "NotProcessed".into(),
                    details: missing.to_string(),
                })
            }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disambiguation_is_deterministic_and_bounded() {
        assert_eq!(disambiguated_name(" Acme ", "S-1", 0), "Acme");
        assert_eq!(disambiguated_name("Acme", "S-1", 1), "Acme (S-1)");
        assert_eq!(disambiguated_name("Acme", "S-1", 3), "Acme (S-1-3)");
        let long = "x".repeat(400);
        let n = disambiguated_name(&long, "SUP-000123", 2);
        assert_eq!(n.chars().count(), 255);
        assert!(n.ends_with(" (SUP-000123-2)"));
    }

    #[test]
    fn in_batch_duplicates_keep_the_smallest_key() {
        let input = |name: &str, ext: &str| OrganizationInput {
            name: name.into(),
            external_id: ext.into(),
            ..Default::default()
        };
        let inputs = [
            input("Acme", "S-9"),
            input("Other", "S-5"),
            input("ACME ", "S-2"),
        ];
        assert_eq!(initial_attempts(&inputs), vec![1, 0, 0]);
    }

    #[test]
    fn conflicts_are_told_apart() {
        let name = json!({"name": [{"description": "Name: has already been taken", "error": "DuplicateValue"}]});
        assert_eq!(conflict_in_validation(&name, ""), Conflict::Name);
        let ext = json!({"external_id": [{"description": "External ID: has already been taken", "error": "DuplicateValue"}]});
        assert_eq!(conflict_in_validation(&ext, ""), Conflict::ExternalId);
        assert_eq!(
            conflict_in_validation(&Value::Null, "Name: is too long"),
            Conflict::Other
        );
        let r = JobResult {
            id: None,
            index: Some(0),
            action: None,
            status: Some("Failed".into()),
            success: Some(false),
            error: Some("DuplicateValue".into()),
            details: Some("Name: has already been taken".into()),
        };
        assert_eq!(conflict_in_result(&r), Conflict::Name);
    }

    #[test]
    fn diff_keeps_a_disambiguated_name_and_compares_fields() {
        let org: Organization = serde_json::from_value(json!({
            "id": 7, "name": "Acme (S-1)", "external_id": "s-1", "tags": ["b", "a"],
            "organization_fields": {"supplier_status": "active"}, "domain_names": null
        }))
        .unwrap();
        let mut desired = OrganizationInput {
            name: "Acme".into(),
            external_id: "S-1".into(),
            tags: Some(vec!["A".into(), "b".into()]),
            ..Default::default()
        };
        desired
            .organization_fields
            .insert("supplier_status".into(), json!("active"));
        assert_eq!(diff(&org, &desired), None);
        desired
            .organization_fields
            .insert("supplier_status".into(), json!("inactive"));
        let u = diff(&org, &desired).unwrap();
        assert_eq!(u.name, None);
        assert_eq!(u.organization_fields["supplier_status"], "inactive");
        desired.name = "Acme Holdings".into();
        assert_eq!(
            diff(&org, &desired).unwrap().name.as_deref(),
            Some("Acme Holdings")
        );
    }
}
