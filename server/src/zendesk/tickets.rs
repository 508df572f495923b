//! Tickets: reading one, writing custom fields (`PUT /api/v2/tickets/{id}`, `update_many`), and ticket field
//! definitions (`GET /api/v2/ticket_fields/{id}`) to check a value fits its target before writing it.

use std::str::FromStr as _;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::client::{Call, ZendeskClient};
use super::de;
use super::error::ZendeskError;
use super::fields::{FieldType, ReportedType};
use super::jobs::JobState;
use super::limiter::Endpoint;
use super::org_fields::FieldOption;

/// A custom field value: `{"id": 27642, "value": "745"}`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct CustomFieldValue {
    /// Ticket field id.
    #[serde(deserialize_with = "de::id")]
    pub id: u64,
    /// Value (`null` clears).
    #[serde(default)]
    pub value: Value,
}

/// The parts of a ticket ml-connector reads.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Ticket {
    /// Ticket id.
    #[serde(deserialize_with = "de::id")]
    pub id: u64,
    /// Subject.
    #[serde(default)]
    pub subject: Option<String>,
    /// First comment.
    #[serde(default)]
    pub description: Option<String>,
    /// `new`, `open`, `pending`, `hold`, `solved`, `closed`.
    #[serde(default)]
    pub status: Option<String>,
    /// Tags.
    #[serde(default, deserialize_with = "de::null_default")]
    pub tags: Vec<String>,
    /// Custom field values.
    #[serde(default, deserialize_with = "de::null_default")]
    pub custom_fields: Vec<CustomFieldValue>,
    /// Organization.
    #[serde(default, deserialize_with = "de::opt_id")]
    pub organization_id: Option<u64>,
    /// Requester.
    #[serde(default, deserialize_with = "de::opt_id")]
    pub requester_id: Option<u64>,
    /// External id.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub external_id: Option<String>,
    /// ISO 8601.
    #[serde(default)]
    pub updated_at: Option<String>,
}

impl Ticket {
    /// The value of custom field `id` (`Null` when unset).
    pub fn custom_field(&self, id: u64) -> &Value {
        self.custom_fields
            .iter()
            .find(|f| f.id == id)
            .map_or(&Value::Null, |f| &f.value)
    }
}

/// A ticket field definition.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct TicketField {
    /// Field id.
    #[serde(deserialize_with = "de::id")]
    pub id: u64,
    /// A custom field type (`tagger` for drop-downs), or a system type (`subject`, `status`, ...).
    #[serde(rename = "type")]
    pub field_type: ReportedType,
    /// Title.
    #[serde(default)]
    pub title: String,
    /// Whether it is active.
    #[serde(default = "yes")]
    pub active: bool,
    /// Whether agents must fill it.
    #[serde(default)]
    pub required: bool,
    /// Dropdown / multiselect options.
    #[serde(default, deserialize_with = "de::null_default")]
    pub custom_field_options: Vec<FieldOption>,
    /// Pattern of `regexp` fields.
    #[serde(default)]
    pub regexp_for_validation: Option<String>,
}

fn yes() -> bool {
    true
}

impl TicketField {
    fn reject(&self, reason: impl Into<String>) -> ZendeskError {
        ZendeskError::FieldValue {
            field: format!("{} ({}, {})", self.id, self.title, self.field_type),
            reason: reason.into(),
        }
    }

    fn option_value(&self, v: &Value) -> Result<Value, ZendeskError> {
        let s = match v {
            Value::String(s) => s.trim(),
            other => return Err(self.reject(format!("expected an option value, got {other}"))),
        };
        // The option's value (its tag) is what Zendesk stores; an exact option name is accepted too.
        if let Some(o) = self.custom_field_options.iter().find(|o| o.value == s) {
            return Ok(json!(o.value));
        }
        if let Some(o) = self.custom_field_options.iter().find(|o| o.name == s) {
            return Ok(json!(o.value));
        }
        let known: Vec<&str> = self
            .custom_field_options
            .iter()
            .map(|o| o.value.as_str())
            .collect();
        Err(self.reject(format!(
            "`{s}` is not one of its options ({})",
            known.join(", ")
        )))
    }

    /// Checks `value` against the field and returns it in the form Zendesk expects (`null` clears any field):
    /// text → string; integer → number; decimal → decimal string (never a float); checkbox → bool;
    /// date → `YYYY-MM-DD`; dropdown (`tagger`) → an option value; multiselect → option values;
    /// lookup → a record id.
    pub fn check_value(&self, value: &Value) -> Result<Value, ZendeskError> {
        if !self.active {
            return Err(self.reject("the field is inactive"));
        }
        if value.is_null() {
            return Ok(Value::Null);
        }
        let custom = match &self.field_type {
            ReportedType::Custom(t) => *t,
            ReportedType::Other(other) => {
                return Err(self.reject(format!(
                    "type `{other}` is not a custom field type ml-connector writes"
                )));
            }
        };
        match custom {
            FieldType::Text | FieldType::Textarea | FieldType::Regexp => match value {
                Value::String(s) => Ok(json!(s)),
                Value::Number(n) => Ok(json!(n.to_string())),
                Value::Bool(b) => Ok(json!(b.to_string())),
                other => Err(self.reject(format!("expected text, got {other}"))),
            },
            FieldType::Integer => {
                let n = match value {
                    Value::Number(n) => n.as_i64(),
                    Value::String(s) => s.trim().parse::<i64>().ok(),
                    _ => None,
                };
                n.map(|n| json!(n))
                    .ok_or_else(|| self.reject(format!("expected a whole number, got {value}")))
            }
            FieldType::Decimal => {
                let text = match value {
                    Value::Number(n) => n.to_string(),
                    Value::String(s) => s.trim().to_string(),
                    _ => String::new(),
                };
                rust_decimal::Decimal::from_str(&text)
                    .map(|d| json!(d.normalize().to_string()))
                    .map_err(|_| self.reject(format!("expected a decimal number, got {value}")))
            }
            FieldType::Checkbox => match value {
                Value::Bool(b) => Ok(json!(b)),
                Value::String(s) if s == "true" || s == "false" => Ok(json!(s == "true")),
                other => Err(self.reject(format!("expected true or false, got {other}"))),
            },
            FieldType::Date => {
                let s = value.as_str().unwrap_or_default().trim();
                chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .map(|d| json!(d.format("%Y-%m-%d").to_string()))
                    .map_err(|_| self.reject(format!("expected a date YYYY-MM-DD, got {value}")))
            }
            FieldType::Tagger | FieldType::Dropdown => self.option_value(value),
            FieldType::Multiselect => {
                let items = match value {
                    Value::Array(items) => items.clone(),
                    single @ Value::String(_) => vec![single.clone()],
                    other => {
                        return Err(self.reject(format!("expected a list of options, got {other}")));
                    }
                };
                items
                    .iter()
                    .map(|v| self.option_value(v))
                    .collect::<Result<Vec<_>, _>>()
                    .map(Value::Array)
            }
            FieldType::Lookup => {
                let id = match value {
                    Value::Number(n) => n.as_u64(),
                    Value::String(s) => s.trim().parse::<u64>().ok(),
                    _ => None,
                };
                id.map(|id| json!(id))
                    .ok_or_else(|| self.reject(format!("expected a record id, got {value}")))
            }
        }
    }
}

/// Custom field writes for one ticket (bulk).
#[derive(Debug, Clone, PartialEq)]
pub struct TicketFieldsUpdate {
    /// Ticket id.
    pub ticket_id: u64,
    /// Values to write.
    pub custom_fields: Vec<CustomFieldValue>,
}

/// The outcome for one ticket of a bulk update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TicketWrite {
    /// Ticket id.
    pub ticket_id: u64,
    /// `Ok(())`, or Zendesk's error and details.
    pub outcome: Result<(), String>,
}

#[derive(Deserialize)]
struct OneTicket {
    ticket: Ticket,
}

#[derive(Deserialize)]
struct OneField {
    ticket_field: TicketField,
}

impl ZendeskClient {
    /// `GET /api/v2/tickets/{id}`.
    pub async fn ticket(&self, id: u64) -> Result<Ticket, ZendeskError> {
        let one: OneTicket = self.call_json(Call::get(format!("tickets/{id}"))).await?;
        Ok(one.ticket)
    }

    /// `GET /api/v2/ticket_fields/{id}`, cached for `zendesk.ticket_field_cache_secs`.
    pub async fn ticket_field(&self, id: u64) -> Result<TicketField, ZendeskError> {
        if let Some(f) = self.field_cache().get(&id).await {
            return Ok(f);
        }
        let one: OneField = self
            .call_json(Call::get(format!("ticket_fields/{id}")))
            .await?;
        self.field_cache()
            .insert(id, one.ticket_field.clone())
            .await;
        Ok(one.ticket_field)
    }

    /// Looks up each target field and checks its value (see [`TicketField::check_value`]); returns the
    /// values in the form to send. Nothing is written.
    pub async fn check_custom_fields(
        &self,
        values: &[CustomFieldValue],
    ) -> Result<Vec<CustomFieldValue>, ZendeskError> {
        let mut out = Vec::with_capacity(values.len());
        for v in values {
            let field = self.ticket_field(v.id).await.map_err(|e| match e {
                ZendeskError::NotFound { .. } => ZendeskError::FieldValue {
                    field: v.id.to_string(),
                    reason: "no ticket field has this id".into(),
                },
                other => other,
            })?;
            out.push(CustomFieldValue {
                id: v.id,
                value: field.check_value(&v.value)?,
            });
        }
        Ok(out)
    }

    /// `PUT /api/v2/tickets/{id}` with `custom_fields`, after checking every value against its field.
    /// Returns the updated ticket.
    pub async fn update_ticket_custom_fields(
        &self,
        ticket_id: u64,
        values: &[CustomFieldValue],
    ) -> Result<Ticket, ZendeskError> {
        if values.is_empty() {
            return Err(ZendeskError::InvalidInput(
                "no custom field values to write".into(),
            ));
        }
        let checked = self.check_custom_fields(values).await?;
        let one: OneTicket = self
            .call_json(
                Call::put(
                    format!("tickets/{ticket_id}"),
                    json!({"ticket": {"custom_fields": checked}}),
                )
                .endpoint(Endpoint::TicketUpdate),
            )
            .await
            .map_err(|e| closed_ticket(e, ticket_id))?;
        Ok(one.ticket)
    }

    /// `PUT /api/v2/tickets/update_many` (`{"tickets": [{id, custom_fields}]}`) in jobs of up to 100, after
    /// checking every value; polls each job and reports per ticket. A job that ended `failed` or `killed`
    /// settles the tickets it has results for; only the others are sent again (after a pause, at most
    /// `zendesk.retry.max_retries` times), never the whole batch blindly.
    pub async fn update_many_ticket_fields(
        &self,
        updates: &[TicketFieldsUpdate],
    ) -> Result<Vec<TicketWrite>, ZendeskError> {
        let mut checked = Vec::with_capacity(updates.len());
        for u in updates {
            checked.push((
                u.ticket_id,
                self.check_custom_fields(&u.custom_fields).await?,
            ));
        }
        let mut out = Vec::with_capacity(updates.len());
        for chunk in checked.chunks(super::organizations::MAX_BATCH) {
            let mut outcomes: Vec<Option<Result<(), String>>> = vec![None; chunk.len()];
            let mut pending: Vec<usize> = (0..chunk.len()).collect();
            let mut round = 0;
            let mut last_job = None;
            while !pending.is_empty() && round <= self.config().retry.max_retries {
                round += 1;
                let body: Vec<Value> = pending
                    .iter()
                    .map(|&i| json!({"id": chunk[i].0, "custom_fields": chunk[i].1}))
                    .collect();
                let job = self
                    .submit_job(Call::put("tickets/update_many", json!({"tickets": body})))
                    .await?;
                let mut next = Vec::new();
                for (pos, &i) in pending.iter().enumerate() {
                    match job.result_for_update(pos, chunk[i].0) {
                        Some(r) if r.succeeded() => outcomes[i] = Some(Ok(())),
                        Some(r) => {
                            outcomes[i] = Some(Err(format!(
                                "{}: {}",
                                r.error.as_deref().unwrap_or("Failed"),
                                r.details.as_deref().unwrap_or_default()
                            )));
                        }
                        None => next.push(i),
                    }
                }
                if !next.is_empty() && round <= self.config().retry.max_retries {
                    tracing::warn!(job = %job.id, status = job.status.as_str(), left = next.len(),
                        "ticket update job left tickets without a result; sending those again");
                    self.pause_before_retry(round).await;
                }
                last_job = Some((job.id, job.status));
                pending = next;
            }
            for (i, (id, _)) in chunk.iter().enumerate() {
                let outcome = outcomes[i].take().unwrap_or_else(|| {
                    Err(match &last_job {
                        Some((job, status)) if *status != JobState::Completed => format!(
                            "not processed: job {job} ended {} before reaching this ticket",
                            status.as_str()
                        ),
                        _ => "no result for this ticket".into(),
                    })
                });
                out.push(TicketWrite {
                    ticket_id: *id,
                    outcome,
                });
            }
        }
        Ok(out)
    }
}

/// Zendesk's wording for an update refused because the ticket is closed.
const CLOSED_PREVENTS_UPDATE: &str = "closed prevents ticket update";

/// Whether a 422's `details` (or description) says the ticket is closed: `{"status": [{"description":
/// "Status: closed prevents ticket update"}]}` (some accounts report it under `base`).
fn says_closed(details: &Value, description: &str) -> bool {
    let in_details = details.as_object().is_some_and(|map| {
        map.values().any(|errors| {
            errors.as_array().is_some_and(|items| {
                items.iter().any(|e| {
                    e.get("description")
                        .and_then(Value::as_str)
                        .is_some_and(|d| d.to_lowercase().contains(CLOSED_PREVENTS_UPDATE))
                })
            })
        })
    });
    in_details || description.to_lowercase().contains(CLOSED_PREVENTS_UPDATE)
}

/// Turns the 422 for a closed ticket into [`ZendeskError::TicketClosed`].
/// One ticket update: custom field values, tags added and removed (`additional_tags` / `remove_tags`, which
/// leave the ticket's other tags alone), and an optional internal note (`comment` with `public: false`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TicketUpdate {
    /// Custom field values (checked against their fields before sending).
    pub custom_fields: Vec<CustomFieldValue>,
    /// Tags to add.
    pub additional_tags: Vec<String>,
    /// Tags to remove.
    pub remove_tags: Vec<String>,
    /// An internal note (visible to agents only).
    pub internal_note: Option<String>,
}

impl TicketUpdate {
    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        self.custom_fields.is_empty()
            && self.additional_tags.is_empty()
            && self.remove_tags.is_empty()
            && self.internal_note.is_none()
    }
}

impl ZendeskClient {
    /// `PUT /api/v2/tickets/{id}` with the parts of `update` that are set, after checking every custom field
    /// value against its field (a deleted or inactive field, a wrong type or an unknown option is refused
    /// before anything is sent). Returns the updated ticket.
    pub async fn update_ticket(
        &self,
        ticket_id: u64,
        update: &TicketUpdate,
    ) -> Result<Ticket, ZendeskError> {
        if update.is_empty() {
            return Err(ZendeskError::InvalidInput("an empty ticket update".into()));
        }
        let mut ticket = serde_json::Map::new();
        if !update.custom_fields.is_empty() {
            let checked = self.check_custom_fields(&update.custom_fields).await?;
            ticket.insert("custom_fields".into(), json!(checked));
        }
        if !update.additional_tags.is_empty() {
            ticket.insert("additional_tags".into(), json!(update.additional_tags));
        }
        if !update.remove_tags.is_empty() {
            ticket.insert("remove_tags".into(), json!(update.remove_tags));
        }
        if let Some(note) = &update.internal_note {
            ticket.insert("comment".into(), json!({"body": note, "public": false}));
        }
        let one: OneTicket = self
            .call_json(
                Call::put(format!("tickets/{ticket_id}"), json!({ "ticket": ticket }))
                    .endpoint(Endpoint::TicketUpdate),
            )
            .await
            .map_err(|e| closed_ticket(e, ticket_id))?;
        Ok(one.ticket)
    }
}

fn closed_ticket(error: ZendeskError, ticket_id: u64) -> ZendeskError {
    match error {
        ZendeskError::Validation {
            status: 422,
            ref details,
            ref description,
            ..
        } if says_closed(details, description) => ZendeskError::TicketClosed { ticket_id },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_ticket_is_recognised() {
        let details = json!({"status": [{"description": "Status: closed prevents ticket update"}]});
        let e = closed_ticket(
            ZendeskError::Validation {
                status: 422,
                error: "RecordInvalid".into(),
                description: "Record validation errors".into(),
                details,
            },
            7,
        );
        assert!(
            matches!(e, ZendeskError::TicketClosed { ticket_id: 7 }),
            "{e}"
        );
        assert_eq!(e.code(), "ticket_closed");
        let other = closed_ticket(
            ZendeskError::Validation {
                status: 422,
                error: "RecordInvalid".into(),
                description: "Record validation errors".into(),
                details: json!({"base": [{"description": "Type: is required when solving a ticket"}]}),
            },
            7,
        );
        assert!(matches!(other, ZendeskError::Validation { .. }));
    }

    fn field(kind: &str) -> TicketField {
        serde_json::from_value(json!({
            "id": 27642, "type": kind, "title": "Invoice status", "active": true,
            "custom_field_options": [
                {"id": 1, "name": "Paid", "value": "invoice_paid"},
                {"id": 2, "name": "Open", "value": "invoice_open"}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn values_are_checked_and_normalized() {
        assert_eq!(
            field("tagger").check_value(&json!("invoice_paid")).unwrap(),
            json!("invoice_paid")
        );
        assert_eq!(
            field("tagger").check_value(&json!("Open")).unwrap(),
            json!("invoice_open")
        );
        assert!(field("tagger").check_value(&json!("unknown")).is_err());
        assert_eq!(
            field("multiselect")
                .check_value(&json!(["Paid", "invoice_open"]))
                .unwrap(),
            json!(["invoice_paid", "invoice_open"])
        );
        assert_eq!(
            field("integer").check_value(&json!("745")).unwrap(),
            json!(745)
        );
        assert!(field("integer").check_value(&json!("7.5")).is_err());
        assert_eq!(
            field("decimal").check_value(&json!("1200.50")).unwrap(),
            json!("1200.5")
        );
        assert!(field("decimal").check_value(&json!("12,50")).is_err());
        assert_eq!(
            field("date").check_value(&json!("2024-02-29")).unwrap(),
            json!("2024-02-29")
        );
        assert!(field("date").check_value(&json!("2023-02-29")).is_err());
        assert_eq!(
            field("checkbox").check_value(&json!(true)).unwrap(),
            json!(true)
        );
        assert_eq!(field("text").check_value(&json!(42)).unwrap(), json!("42"));
        assert!(field("subject").check_value(&json!("x")).is_err());
        assert_eq!(
            field("date").check_value(&Value::Null).unwrap(),
            Value::Null
        );
        let mut inactive = field("text");
        inactive.active = false;
        assert!(inactive.check_value(&json!("x")).is_err());
    }
}
