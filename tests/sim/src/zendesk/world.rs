//! The simulated account's records and the rules Zendesk applies to them: organization name and `external_id`
//! uniqueness (case-insensitive), organization fields by key, tickets with custom fields validated against their
//! ticket fields, and bulk jobs that progress over time.
//!
//! Nothing here knows about HTTP; handlers in `api.rs` translate requests into calls on [`World`].

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use serde_json::{Map, Value, json};

/// A Zendesk-shaped failure: an HTTP status and the JSON body Zendesk would send, plus a one-line summary
/// (`"Name: has already been taken"`) that bulk job results carry in `details`.
#[derive(Debug, Clone)]
pub struct ZdError {
    /// HTTP status.
    pub status: u16,
    /// Response body.
    pub body: Value,
    /// `error` code of the first detail (e.g. `DuplicateValue`), used in job results.
    pub code: String,
    /// Human summary, used in job results.
    pub summary: String,
}

impl ZdError {
    /// 422 `RecordInvalid` with one field detail, the shape Zendesk uses for validation errors.
    pub fn invalid(field: &str, code: &str, description: &str) -> Self {
        Self {
            status: 422,
            body: json!({
                "error": "RecordInvalid",
                "description": "Record validation errors",
                "details": { field: [{ "description": description, "error": code }] }
            }),
            code: code.to_string(),
            summary: description.to_string(),
        }
    }

    /// 404 `RecordNotFound`.
    pub fn not_found() -> Self {
        Self {
            status: 404,
            body: json!({"error": "RecordNotFound", "description": "Not found"}),
            code: "RecordNotFound".into(),
            summary: "Not found".into(),
        }
    }

    /// 400 with an error code and description.
    pub fn bad_request(code: &str, description: &str) -> Self {
        Self {
            status: 400,
            body: json!({"error": code, "description": description}),
            code: code.to_string(),
            summary: description.to_string(),
        }
    }
}

/// Current time as Zendesk writes it (`2024-01-01T00:00:00Z`).
pub fn now_iso() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[derive(Debug, Clone)]
pub struct Org {
    pub id: u64,
    pub name: String,
    pub external_id: Option<String>,
    pub details: Option<String>,
    pub notes: Option<String>,
    pub tags: Vec<String>,
    pub domain_names: Vec<String>,
    pub group_id: Option<u64>,
    pub shared_tickets: bool,
    pub shared_comments: bool,
    pub fields: BTreeMap<String, Value>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone)]
pub struct OrgField {
    pub id: u64,
    pub key: String,
    pub kind: String,
    pub title: String,
    pub description: String,
    pub position: u64,
    pub options: Vec<FieldOption>,
    pub created_at: String,
}

#[derive(Debug, Clone)]
pub struct FieldOption {
    pub id: u64,
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone)]
pub struct TicketField {
    pub id: u64,
    pub kind: String,
    pub title: String,
    pub active: bool,
    pub required: bool,
    pub options: Vec<FieldOption>,
    pub created_at: String,
}

#[derive(Debug, Clone)]
pub struct Ticket {
    pub id: u64,
    pub subject: String,
    pub description: String,
    pub status: String,
    pub priority: Option<String>,
    pub kind: Option<String>,
    pub tags: Vec<String>,
    pub custom: BTreeMap<u64, Value>,
    pub organization_id: Option<u64>,
    pub requester_id: u64,
    pub submitter_id: u64,
    pub assignee_id: Option<u64>,
    pub group_id: Option<u64>,
    pub external_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// What changed on a ticket, as Zendesk event types (`ticket.created`, `ticket.custom_field_changed`, ...) with
/// their `event` objects. The webhook sender turns each into one event-subscription delivery.
#[derive(Debug, Clone)]
pub struct TicketChange {
    pub ticket: Ticket,
    pub actor_id: Option<u64>,
    pub events: Vec<(String, Value)>,
}

/// Status of a bulk job, as the API spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Queued,
    Working,
    Completed,
    Failed,
    Killed,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Working => "working",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Killed => "killed",
        }
    }

    pub fn is_done(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Killed)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    CreateOrganizations,
    UpdateOrganizations,
    UpdateTickets,
}

impl JobKind {
    fn job_type(self) -> &'static str {
        match self {
            Self::CreateOrganizations => "bulk_create_organizations",
            Self::UpdateOrganizations => "bulk_update_organizations",
            Self::UpdateTickets => "bulk_update_tickets",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Job {
    pub id: String,
    pub kind: JobKind,
    pub items: Vec<Value>,
    pub created: Instant,
    pub state: JobState,
    pub progress: usize,
    pub results: Vec<Value>,
    pub message: Option<String>,
    /// End the job in this state after this many items (fault injection: killed or failed).
    pub stop_after: Option<(usize, JobState)>,
    pub actor_id: Option<u64>,
}

/// Every record of the simulated account.
#[derive(Debug)]
pub struct World {
    pub base_url: String,
    next_id: u64,
    next_ticket_id: u64,
    pub orgs: BTreeMap<u64, Org>,
    org_by_name: HashMap<String, u64>,
    org_by_ext: HashMap<String, u64>,
    pub org_fields: BTreeMap<u64, OrgField>,
    pub ticket_fields: BTreeMap<u64, TicketField>,
    pub tickets: BTreeMap<u64, Ticket>,
    /// Agent user ids (the first is the default requester).
    pub users: Vec<u64>,
    pub jobs: HashMap<String, Job>,
    job_seq: u64,
}

fn fold(s: &str) -> String {
    s.trim().to_lowercase()
}

fn opt_string(v: Option<&Value>) -> Option<Option<String>> {
    match v {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(s)) => Some(Some(s.clone())),
        Some(other) => Some(Some(other.to_string())),
    }
}

fn string_list(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        Value::String(s) => s.split_whitespace().map(str::to_string).collect(),
        _ => Vec::new(),
    }
}

fn normalize_tags(tags: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in tags {
        let t = t.trim().to_lowercase().replace(' ', "_");
        if !t.is_empty() && !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

fn id_of(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

impl World {
    pub fn new(users: Vec<u64>) -> Self {
        Self {
            base_url: String::new(),
            next_id: 360_000_000_001,
            next_ticket_id: 1,
            orgs: BTreeMap::new(),
            org_by_name: HashMap::new(),
            org_by_ext: HashMap::new(),
            org_fields: BTreeMap::new(),
            ticket_fields: BTreeMap::new(),
            tickets: BTreeMap::new(),
            users,
            jobs: HashMap::new(),
            job_seq: 0,
        }
    }

    fn id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    // ---------------------------------------------------------------- organizations

    pub fn org_json(&self, org: &Org) -> Value {
        let mut fields = Map::new();
        for f in self.org_fields.values() {
            fields.insert(
                f.key.clone(),
                org.fields.get(&f.key).cloned().unwrap_or(Value::Null),
            );
        }
        json!({
            "id": org.id,
            "url": format!("{}/api/v2/organizations/{}.json", self.base_url, org.id),
            "name": org.name,
            "external_id": org.external_id,
            "details": org.details,
            "notes": org.notes,
            "tags": org.tags,
            "domain_names": org.domain_names,
            "group_id": org.group_id,
            "shared_tickets": org.shared_tickets,
            "shared_comments": org.shared_comments,
            "organization_fields": fields,
            "created_at": org.created_at,
            "updated_at": org.updated_at,
        })
    }

    pub fn org_by_external_id(&self, external_id: &str) -> Option<&Org> {
        self.org_by_ext
            .get(&fold(external_id))
            .and_then(|id| self.orgs.get(id))
    }

    pub fn org_by_name(&self, name: &str) -> Option<&Org> {
        self.org_by_name
            .get(&fold(name))
            .and_then(|id| self.orgs.get(id))
    }

    fn check_org_fields(
        &self,
        input: &Map<String, Value>,
    ) -> Result<BTreeMap<String, Value>, ZdError> {
        let mut out = BTreeMap::new();
        for (key, value) in input {
            // Zendesk ignores values for keys that are not defined organization fields.
            let Some(field) = self.org_fields.values().find(|f| f.key == *key) else {
                continue;
            };
            if !value.is_null() && !value_fits(&field.kind, &field.options, value) {
                return Err(ZdError::invalid(
                    "organization_fields",
                    "InvalidValue",
                    &format!("{}: is invalid", field.title),
                ));
            }
            out.insert(key.clone(), value.clone());
        }
        Ok(out)
    }

    /// Creates an organization from a request's `organization` object.
    pub fn create_org(&mut self, input: &Value) -> Result<u64, ZdError> {
        let obj = input.as_object().ok_or_else(|| {
            ZdError::bad_request("InvalidValue", "organization must be an object")
        })?;
        let name = obj
            .get("name")
            .and_then(Value::as_str)
            .map(str::trim)
            .unwrap_or_default()
            .to_string();
        if name.is_empty() {
            return Err(ZdError::invalid(
                "name",
                "BlankValue",
                "Name: cannot be blank",
            ));
        }
        if self.org_by_name.contains_key(&fold(&name)) {
            return Err(ZdError::invalid(
                "name",
                "DuplicateValue",
                "Name: has already been taken",
            ));
        }
        let external_id = opt_string(obj.get("external_id"))
            .flatten()
            .filter(|e| !e.trim().is_empty());
        if let Some(e) = &external_id
            && self.org_by_ext.contains_key(&fold(e))
        {
            return Err(ZdError::invalid(
                "external_id",
                "DuplicateValue",
                "External ID: has already been taken",
            ));
        }
        let fields = match obj.get("organization_fields") {
            Some(Value::Object(m)) => self.check_org_fields(m)?,
            _ => BTreeMap::new(),
        };
        let id = self.id();
        let now = now_iso();
        let org = Org {
            id,
            name: name.clone(),
            external_id: external_id.clone(),
            details: opt_string(obj.get("details")).flatten(),
            notes: opt_string(obj.get("notes")).flatten(),
            tags: normalize_tags(obj.get("tags").map(string_list).unwrap_or_default()),
            domain_names: obj.get("domain_names").map(string_list).unwrap_or_default(),
            group_id: obj.get("group_id").and_then(id_of),
            shared_tickets: obj
                .get("shared_tickets")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            shared_comments: obj
                .get("shared_comments")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            fields,
            created_at: now.clone(),
            updated_at: now,
        };
        self.org_by_name.insert(fold(&name), id);
        if let Some(e) = external_id {
            self.org_by_ext.insert(fold(&e), id);
        }
        self.orgs.insert(id, org);
        Ok(id)
    }

    /// Applies a request's `organization` object to organization `id`.
    pub fn update_org(&mut self, id: u64, input: &Value) -> Result<(), ZdError> {
        let obj = input.as_object().ok_or_else(|| {
            ZdError::bad_request("InvalidValue", "organization must be an object")
        })?;
        let current = self.orgs.get(&id).cloned().ok_or_else(ZdError::not_found)?;
        let mut org = current.clone();
        if let Some(name) = obj.get("name").and_then(Value::as_str) {
            let name = name.trim().to_string();
            if name.is_empty() {
                return Err(ZdError::invalid(
                    "name",
                    "BlankValue",
                    "Name: cannot be blank",
                ));
            }
            if let Some(holder) = self.org_by_name.get(&fold(&name))
                && *holder != id
            {
                return Err(ZdError::invalid(
                    "name",
                    "DuplicateValue",
                    "Name: has already been taken",
                ));
            }
            org.name = name;
        }
        if let Some(ext) = opt_string(obj.get("external_id")) {
            let ext = ext.filter(|e| !e.trim().is_empty());
            if let Some(e) = &ext
                && let Some(holder) = self.org_by_ext.get(&fold(e))
                && *holder != id
            {
                return Err(ZdError::invalid(
                    "external_id",
                    "DuplicateValue",
                    "External ID: has already been taken",
                ));
            }
            org.external_id = ext;
        }
        if let Some(v) = opt_string(obj.get("details")) {
            org.details = v;
        }
        if let Some(v) = opt_string(obj.get("notes")) {
            org.notes = v;
        }
        if let Some(v) = obj.get("tags") {
            org.tags = normalize_tags(string_list(v));
        }
        if let Some(v) = obj.get("domain_names") {
            // An update replaces the whole list.
            org.domain_names = string_list(v);
        }
        if let Some(v) = obj.get("group_id") {
            org.group_id = id_of(v);
        }
        if let Some(v) = obj.get("shared_tickets").and_then(Value::as_bool) {
            org.shared_tickets = v;
        }
        if let Some(v) = obj.get("shared_comments").and_then(Value::as_bool) {
            org.shared_comments = v;
        }
        if let Some(Value::Object(m)) = obj.get("organization_fields") {
            // Fields are merged key by key; null clears one.
            for (k, v) in self.check_org_fields(m)? {
                org.fields.insert(k, v);
            }
        }
        org.updated_at = now_iso();
        self.org_by_name.remove(&fold(&current.name));
        if let Some(e) = &current.external_id {
            self.org_by_ext.remove(&fold(e));
        }
        self.org_by_name.insert(fold(&org.name), id);
        if let Some(e) = &org.external_id {
            self.org_by_ext.insert(fold(e), id);
        }
        self.orgs.insert(id, org);
        Ok(())
    }

    // ---------------------------------------------------------------- organization fields

    pub fn org_field_json(&self, f: &OrgField) -> Value {
        let mut v = json!({
            "id": f.id,
            "url": format!("{}/api/v2/organization_fields/{}.json", self.base_url, f.id),
            "key": f.key,
            "type": f.kind,
            "title": f.title,
            "raw_title": f.title,
            "description": f.description,
            "raw_description": f.description,
            "position": f.position,
            "active": true,
            "system": false,
            "regexp_for_validation": null,
            "created_at": f.created_at,
            "updated_at": f.created_at,
        });
        if !f.options.is_empty() {
            v["custom_field_options"] = options_json(&f.options);
        }
        v
    }

    pub fn create_org_field(&mut self, input: &Value) -> Result<u64, ZdError> {
        const TYPES: [&str; 10] = [
            "text",
            "textarea",
            "checkbox",
            "date",
            "integer",
            "decimal",
            "regexp",
            "dropdown",
            "lookup",
            "multiselect",
        ];
        let key = input
            .get("key")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim()
            .to_string();
        let title = input
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim()
            .to_string();
        let kind = input
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if key.is_empty() {
            return Err(ZdError::invalid(
                "key",
                "BlankValue",
                "Key: cannot be blank",
            ));
        }
        if !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            || key.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(ZdError::invalid(
                "key",
                "InvalidFormat",
                "Key: can only contain letters, numbers and underscores and must contain a letter",
            ));
        }
        if title.is_empty() {
            return Err(ZdError::invalid(
                "title",
                "BlankValue",
                "Title: cannot be blank",
            ));
        }
        if !TYPES.contains(&kind.as_str()) {
            return Err(ZdError::invalid(
                "type",
                "InvalidValue",
                "Type: is not included in the list",
            ));
        }
        if self.org_fields.values().any(|f| f.key == key) {
            return Err(ZdError::invalid(
                "key",
                "DuplicateValue",
                "Key: has already been taken",
            ));
        }
        let mut options = Vec::new();
        if let Some(Value::Array(opts)) = input.get("custom_field_options") {
            for o in opts {
                let id = self.id();
                options.push(FieldOption {
                    id,
                    name: o
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    value: o
                        .get("value")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                });
            }
        }
        let id = self.id();
        let position = self.org_fields.len() as u64;
        self.org_fields.insert(
            id,
            OrgField {
                id,
                key,
                kind,
                title,
                description: input
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                position,
                options,
                created_at: now_iso(),
            },
        );
        Ok(id)
    }

    // ---------------------------------------------------------------- tickets

    pub fn ticket_field_json(&self, f: &TicketField) -> Value {
        let mut v = json!({
            "id": f.id,
            "url": format!("{}/api/v2/ticket_fields/{}.json", self.base_url, f.id),
            "type": f.kind,
            "title": f.title,
            "raw_title": f.title,
            "description": "",
            "raw_description": "",
            "position": 0,
            "active": f.active,
            "required": f.required,
            "collapsed_for_agents": false,
            "regexp_for_validation": null,
            "title_in_portal": f.title,
            "visible_in_portal": false,
            "editable_in_portal": false,
            "required_in_portal": false,
            "tag": null,
            "removable": true,
            "created_at": f.created_at,
            "updated_at": f.created_at,
        });
        if matches!(f.kind.as_str(), "tagger" | "multiselect") {
            v["custom_field_options"] = options_json(&f.options);
        }
        v
    }

    pub fn add_ticket_field(&mut self, kind: &str, title: &str, options: &[(&str, &str)]) -> u64 {
        let mut opts = Vec::new();
        for (name, value) in options {
            let id = self.id();
            opts.push(FieldOption {
                id,
                name: (*name).to_string(),
                value: (*value).to_string(),
            });
        }
        let id = self.id();
        self.ticket_fields.insert(
            id,
            TicketField {
                id,
                kind: kind.to_string(),
                title: title.to_string(),
                active: true,
                required: false,
                options: opts,
                created_at: now_iso(),
            },
        );
        id
    }

    pub fn ticket_json(&self, t: &Ticket) -> Value {
        let custom: Vec<Value> = self
            .ticket_fields
            .values()
            .map(|f| json!({"id": f.id, "value": t.custom.get(&f.id).cloned().unwrap_or(Value::Null)}))
            .collect();
        json!({
            "id": t.id,
            "url": format!("{}/api/v2/tickets/{}.json", self.base_url, t.id),
            "external_id": t.external_id,
            "type": t.kind,
            "subject": t.subject,
            "raw_subject": t.subject,
            "description": t.description,
            "priority": t.priority,
            "status": t.status,
            "recipient": null,
            "requester_id": t.requester_id,
            "submitter_id": t.submitter_id,
            "assignee_id": t.assignee_id,
            "organization_id": t.organization_id,
            "group_id": t.group_id,
            "collaborator_ids": [],
            "follower_ids": [],
            "email_cc_ids": [],
            "tags": t.tags,
            "custom_fields": custom,
            "fields": custom,
            "via": {"channel": "api", "source": {"from": {}, "to": {}, "rel": null}},
            "satisfaction_rating": null,
            "has_incidents": false,
            "is_public": true,
            "created_at": t.created_at,
            "updated_at": t.updated_at,
        })
    }

    /// Creates a ticket from a `ticket` object (`subject`, `comment.body` or `description`, `tags`,
    /// `custom_fields`, `organization_id`, `requester_id`, ...).
    pub fn create_ticket(
        &mut self,
        input: &Value,
        actor_id: Option<u64>,
    ) -> Result<TicketChange, ZdError> {
        let subject = input
            .get("subject")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let description = input
            .pointer("/comment/body")
            .or_else(|| input.get("description"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if description.trim().is_empty() {
            return Err(ZdError::invalid(
                "description",
                "BlankValue",
                "Description: cannot be blank",
            ));
        }
        let default_user = self.users.first().copied().unwrap_or(1);
        let id = self.next_ticket_id;
        let now = now_iso();
        let mut ticket = Ticket {
            id,
            subject,
            description,
            status: input
                .get("status")
                .and_then(Value::as_str)
                .unwrap_or("new")
                .to_string(),
            priority: input
                .get("priority")
                .and_then(Value::as_str)
                .map(str::to_string),
            kind: input
                .get("type")
                .and_then(Value::as_str)
                .map(str::to_string),
            tags: normalize_tags(input.get("tags").map(string_list).unwrap_or_default()),
            custom: BTreeMap::new(),
            organization_id: input.get("organization_id").and_then(id_of),
            requester_id: input
                .get("requester_id")
                .and_then(id_of)
                .unwrap_or(default_user),
            submitter_id: actor_id.unwrap_or(default_user),
            assignee_id: input.get("assignee_id").and_then(id_of),
            group_id: input.get("group_id").and_then(id_of),
            external_id: opt_string(input.get("external_id")).flatten(),
            created_at: now.clone(),
            updated_at: now,
        };
        if let Some(Value::Array(cf)) = input.get("custom_fields") {
            self.apply_custom_fields(&mut ticket, cf)?;
        }
        self.next_ticket_id += 1;
        self.tickets.insert(id, ticket.clone());
        Ok(TicketChange {
            ticket,
            actor_id,
            events: vec![(
                "ticket.created".into(),
                json!({"meta": {"sequence": {"position": 1, "total": 1}}}),
            )],
        })
    }

    /// Validates `custom_fields: [{id, value}]` against the ticket fields and writes them (a dropdown option's
    /// tag is added to the tags, as Zendesk does). Returns `(field, previous, current)` per changed field.
    fn apply_custom_fields(
        &self,
        ticket: &mut Ticket,
        writes: &[Value],
    ) -> Result<Vec<(TicketField, Value, Value)>, ZdError> {
        let mut staged = Vec::new();
        for w in writes {
            let Some(fid) = w.get("id").and_then(id_of) else {
                return Err(ZdError::invalid(
                    "custom_fields",
                    "InvalidValue",
                    "Custom fields: id is missing",
                ));
            };
            // Unknown field ids are ignored, as Zendesk does.
            let Some(field) = self.ticket_fields.get(&fid) else {
                continue;
            };
            let value = w.get("value").cloned().unwrap_or(Value::Null);
            if !value.is_null() && !value_fits(&field.kind, &field.options, &value) {
                return Err(ZdError::invalid(
                    "base",
                    "InvalidValue",
                    &format!("{}: {} is not a valid value", field.title, value),
                ));
            }
            staged.push((field.clone(), value));
        }
        let mut changed = Vec::new();
        for (field, value) in staged {
            let previous = ticket.custom.get(&field.id).cloned().unwrap_or(Value::Null);
            if previous == value {
                continue;
            }
            if field.kind == "tagger" {
                if let Some(old) = previous.as_str() {
                    ticket.tags.retain(|t| t != old);
                }
                if let Some(new) = value.as_str()
                    && !ticket.tags.iter().any(|t| t == new)
                {
                    ticket.tags.push(new.to_string());
                }
            }
            if value.is_null() {
                ticket.custom.remove(&field.id);
            } else {
                ticket.custom.insert(field.id, value.clone());
            }
            changed.push((field, previous, value));
        }
        Ok(changed)
    }

    /// Applies a `ticket` update object; returns the change with its events (none when nothing changed).
    pub fn update_ticket(
        &mut self,
        id: u64,
        input: &Value,
        actor_id: Option<u64>,
    ) -> Result<TicketChange, ZdError> {
        let mut ticket = self
            .tickets
            .get(&id)
            .cloned()
            .ok_or_else(ZdError::not_found)?;
        let before = ticket.clone();
        let mut events = Vec::new();
        if let Some(Value::Array(cf)) = input.get("custom_fields").or_else(|| input.get("fields")) {
            for (field, previous, current) in self.apply_custom_fields(&mut ticket, cf)? {
                events.push((
                    "ticket.custom_field_changed".to_string(),
                    json!({
                        "current": current,
                        "previous": previous,
                        "custom_field": {"id": field.id.to_string(), "title": field.title, "type": field.kind},
                    }),
                ));
            }
        }
        if let Some(s) = input.get("subject").and_then(Value::as_str)
            && s != ticket.subject
        {
            events.push((
                "ticket.subject_changed".into(),
                json!({"current": s, "previous": ticket.subject}),
            ));
            ticket.subject = s.to_string();
        }
        if let Some(s) = input.get("status").and_then(Value::as_str)
            && s != ticket.status
        {
            events.push((
                "ticket.status_changed".into(),
                json!({"current": s.to_uppercase(), "previous": ticket.status.to_uppercase()}),
            ));
            ticket.status = s.to_string();
        }
        if let Some(p) = input.get("priority").and_then(Value::as_str)
            && ticket.priority.as_deref() != Some(p)
        {
            events.push((
                "ticket.priority_changed".into(),
                json!({"current": p.to_uppercase(), "previous": ticket.priority.as_ref().map(|p| p.to_uppercase())}),
            ));
            ticket.priority = Some(p.to_string());
        }
        if let Some(org) = input.get("organization_id") {
            let org = id_of(org);
            if org != ticket.organization_id {
                events.push((
                    "ticket.organization_changed".into(),
                    json!({"current": org.map(|o| o.to_string()), "previous": ticket.organization_id.map(|o| o.to_string())}),
                ));
                ticket.organization_id = org;
            }
        }
        if let Some(tags) = input.get("tags") {
            ticket.tags = normalize_tags(string_list(tags));
        }
        if ticket.tags != before.tags {
            let added: Vec<&String> = ticket
                .tags
                .iter()
                .filter(|t| !before.tags.contains(t))
                .collect();
            let removed: Vec<&String> = before
                .tags
                .iter()
                .filter(|t| !ticket.tags.contains(t))
                .collect();
            events.push((
                "ticket.tags_changed".into(),
                json!({"tags_added": added, "tags_removed": removed}),
            ));
        }
        if !events.is_empty() {
            ticket.updated_at = now_iso();
        }
        self.tickets.insert(id, ticket.clone());
        Ok(TicketChange {
            ticket,
            actor_id,
            events,
        })
    }

    // ---------------------------------------------------------------- jobs

    pub fn job_json(&self, job: &Job) -> Value {
        json!({
            "id": job.id,
            "url": format!("{}/api/v2/job_statuses/{}.json", self.base_url, job.id),
            "job_type": job.kind.job_type(),
            "total": job.items.len(),
            "progress": job.progress,
            "status": job.state.as_str(),
            "message": job.message,
            "results": if job.state == JobState::Completed { Value::Array(job.results.clone()) } else { Value::Null },
        })
    }

    pub fn active_jobs(&self) -> usize {
        self.jobs.values().filter(|j| !j.state.is_done()).count()
    }

    pub fn enqueue_job(
        &mut self,
        kind: JobKind,
        items: Vec<Value>,
        stop_after: Option<(usize, JobState)>,
        actor_id: Option<u64>,
    ) -> String {
        self.job_seq += 1;
        let id = format!("{:016x}{:016x}", self.job_seq, rand::random::<u64>());
        self.jobs.insert(
            id.clone(),
            Job {
                id: id.clone(),
                kind,
                items,
                created: Instant::now(),
                state: JobState::Queued,
                progress: 0,
                results: Vec::new(),
                message: None,
                stop_after,
                actor_id,
            },
        );
        id
    }

    /// Advances every job: a job waits `start_delay` in `queued`, then processes up to `per_step` items per call.
    /// Returns the ticket changes that bulk ticket updates made (they send webhooks).
    pub fn step_jobs(
        &mut self,
        start_delay: std::time::Duration,
        per_step: usize,
    ) -> Vec<TicketChange> {
        let mut changes = Vec::new();
        let mut ids: Vec<String> = self
            .jobs
            .values()
            .filter(|j| !j.state.is_done() && j.created.elapsed() >= start_delay)
            .map(|j| j.id.clone())
            .collect();
        ids.sort();
        for id in ids {
            let Some(mut job) = self.jobs.remove(&id) else {
                continue;
            };
            job.state = JobState::Working;
            let end = (job.progress + per_step.max(1)).min(job.items.len());
            for index in job.progress..end {
                if let Some((after, state)) = job.stop_after
                    && after == index
                {
                    job.state = state;
                    job.message = Some(if state == JobState::Failed {
                        "Job failed".into()
                    } else {
                        "Job was killed".into()
                    });
                    break;
                }
                let item = job.items[index].clone();
                let result = self.run_job_item(job.kind, index, &item, job.actor_id, &mut changes);
                job.results.push(result);
                job.progress = index + 1;
            }
            if job.state == JobState::Working && job.progress >= job.items.len() {
                job.state = JobState::Completed;
                job.message = Some(format!(
                    "Completed at {}",
                    chrono::Utc::now().format("%Y-%m-%d %H:%M:%S +0000")
                ));
            }
            self.jobs.insert(id, job);
        }
        changes
    }

    fn run_job_item(
        &mut self,
        kind: JobKind,
        index: usize,
        item: &Value,
        actor_id: Option<u64>,
        changes: &mut Vec<TicketChange>,
    ) -> Value {
        let failed = |action: &str, id: Option<u64>, e: ZdError| {
            let mut v = json!({
                "index": index,
                "action": action,
                "success": false,
                "status": "Failed",
                "error": e.code,
                "details": e.summary,
            });
            if let Some(id) = id {
                v["id"] = json!(id);
            }
            v
        };
        match kind {
            JobKind::CreateOrganizations => match self.create_org(item) {
                Ok(id) => {
                    json!({"id": id, "index": index, "action": "create", "success": true, "status": "Created"})
                }
                Err(e) => failed("create", None, e),
            },
            JobKind::UpdateOrganizations => {
                let Some(id) = item.get("id").and_then(id_of) else {
                    return failed(
                        "update",
                        None,
                        ZdError::bad_request("InvalidValue", "Id: is missing"),
                    );
                };
                match self.update_org(id, item) {
                    Ok(()) => {
                        json!({"id": id, "index": index, "action": "update", "success": true, "status": "Updated"})
                    }
                    Err(e) => failed("update", Some(id), e),
                }
            }
            JobKind::UpdateTickets => {
                let Some(id) = item.get("id").and_then(id_of) else {
                    return failed(
                        "update",
                        None,
                        ZdError::bad_request("InvalidValue", "Id: is missing"),
                    );
                };
                match self.update_ticket(id, item, actor_id) {
                    Ok(change) => {
                        if !change.events.is_empty() {
                            changes.push(change);
                        }
                        json!({"id": id, "index": index, "action": "update", "success": true, "status": "Updated"})
                    }
                    Err(e) => failed("update", Some(id), e),
                }
            }
        }
    }
}

fn options_json(options: &[FieldOption]) -> Value {
    Value::Array(
        options
            .iter()
            .map(|o| json!({"id": o.id, "name": o.name, "raw_name": o.name, "value": o.value, "default": false}))
            .collect(),
    )
}

/// Whether `value` is acceptable for a field of type `kind` (the checks Zendesk makes before saving).
fn value_fits(kind: &str, options: &[FieldOption], value: &Value) -> bool {
    let is_option = |v: &Value| {
        v.as_str()
            .is_some_and(|s| options.iter().any(|o| o.value == s))
    };
    match kind {
        "text" | "textarea" | "regexp" => value.is_string(),
        "checkbox" => value.is_boolean(),
        "integer" => {
            value.as_i64().is_some()
                || value
                    .as_str()
                    .is_some_and(|s| s.trim().parse::<i64>().is_ok())
        }
        "decimal" => {
            value.is_number()
                || value
                    .as_str()
                    .is_some_and(|s| s.trim().parse::<f64>().is_ok())
        }
        "date" => value
            .as_str()
            .is_some_and(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()),
        "tagger" | "dropdown" => is_option(value),
        "multiselect" => value.as_array().is_some_and(|a| a.iter().all(is_option)),
        _ => true,
    }
}
