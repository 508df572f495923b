//! The simulated account's records and the rules Zendesk applies to them: organization name and `external_id`
//! uniqueness (case-insensitive), organization fields by key, tickets with custom fields validated against their
//! ticket fields, and bulk jobs that progress over time.
//!
//! Nothing here knows about HTTP; handlers in `api.rs` translate requests into calls on [`World`].

mod fields;
mod jobs;
mod orgs;
mod tickets;
mod values;

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use serde_json::{Value, json};

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

    /// 422 for any update of a closed ticket, as Zendesk words it: `details.status` =
    /// `Status: closed prevents ticket update`.
    pub fn closed_ticket() -> Self {
        let description = "Status: closed prevents ticket update";
        Self {
            status: 422,
            body: json!({
                "error": "RecordInvalid",
                "description": "Record validation errors",
                "details": {"status": [{"description": description}]}
            }),
            code: "RecordInvalid".into(),
            summary: description.into(),
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
    /// Comments, oldest first (the first is the description).
    pub comments: Vec<Comment>,
}

/// A ticket comment (`GET /api/v2/tickets/{id}/comments`).
#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    pub id: u64,
    pub body: String,
    /// `false`: an internal note, seen by agents only.
    pub public: bool,
    pub author_id: u64,
    pub created_at: String,
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
    /// Status requests still to be answered 404 (fault injection: a job not visible yet).
    pub hidden_polls: u32,
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
    /// Webhooks and triggers.
    pub automation: super::automation::Automation,
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

/// Tags as Zendesk keeps them: lower case, and a "tag" with spaces is several tags (`nice person` is saved as
/// `nice` and `person`: zendesk/zendesk_api_client_rb#156); duplicates once.
fn normalize_tags(tags: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in tags.iter().flat_map(|t| t.split_whitespace()) {
        let t = t.to_lowercase();
        if !out.contains(&t) {
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
            automation: Default::default(),
        }
    }

    fn id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
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
