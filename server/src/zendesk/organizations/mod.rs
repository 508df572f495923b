//! Organizations, keyed by `external_id` (the Workday Supplier_ID).
//!
//! Writes are idempotent: a create whose outcome is unknown (connection dropped, 5xx, job killed) is reconciled
//! by looking the `external_id` up before anything is created again, and an `external_id` that is already taken
//! resolves to the organization holding it. Names are unique in Zendesk (case-insensitively): when a name is
//! taken by another organization, the supplier gets a deterministic disambiguated name —
//! `Name (EXTERNAL_ID)`, then `Name (EXTERNAL_ID-2)`, ... — and the batch carries on.

mod bulk;
mod names;
mod values;

use std::collections::HashMap;

use backon::BackoffBuilder as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::client::{Call, ZendeskClient};
use super::de;
use super::error::ZendeskError;
use super::limiter::Endpoint;
pub use names::disambiguated_name;
use names::{Conflict, conflict_in_validation, sent_values};
pub use values::same_value;

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

fn fold(s: &str) -> String {
    s.trim().to_lowercase()
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

    /// Waits before resubmitting after round `round` (from 1) left an outcome unknown: the client's retry
    /// backoff, jitter included.
    pub(crate) async fn pause_before_retry(&self, round: u32) {
        let delay = self
            .backoff()
            .build()
            .nth(round as usize)
            .unwrap_or_default();
        tokio::time::sleep(delay).await;
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
                } => conflict_in_validation(
                    details,
                    description,
                    &sent_values(&name, &input.external_id),
                ),
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
                    if unknown_outcomes > self.config().retry.max_retries {
                        return Err(error);
                    }
                    self.pause_before_retry(unknown_outcomes).await;
                }
                _ => return Err(error),
            }
        }
    }

    /// `PUT /api/v2/organizations/{id}`; a taken name moves to the next disambiguation level. Update
    /// Organization has its own limit (5 requests per minute), which the client paces at
    /// `zendesk.organization_update_rpm`: for many organizations use [`Self::update_many_organizations`].
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
            )
            .endpoint(Endpoint::OrganizationUpdate);
            match self.call_json::<OneOrg>(call).await {
                Ok(one) => return Ok(one.organization),
                Err(ZendeskError::Validation {
                    details,
                    description,
                    status,
                    error,
                }) if conflict_in_validation(
                    &details,
                    &description,
                    &sent_values(
                        name.as_deref().unwrap_or_default(),
                        update.external_id.as_deref().unwrap_or_default(),
                    ),
                ) == Conflict::Name
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
}
