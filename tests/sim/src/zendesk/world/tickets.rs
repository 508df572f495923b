//! Tickets and ticket fields: custom field values checked against their field, change events.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{
    Comment, FieldOption, Ticket, TicketChange, TicketField, World, ZdError, id_of, normalize_tags,
    now_iso, opt_string, options_json, string_list, value_fits,
};

impl World {
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
            updated_at: now.clone(),
            comments: Vec::new(),
        };
        ticket.comments.push(Comment {
            id: id * 1000 + 1,
            body: ticket.description.clone(),
            public: input
                .pointer("/comment/public")
                .and_then(Value::as_bool)
                .unwrap_or(true),
            author_id: ticket.requester_id,
            created_at: now,
        });
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
        if ticket.status == "closed" {
            return Err(ZdError::closed_ticket());
        }
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
        // `additional_tags` and `remove_tags` change the listed tags and leave the others alone.
        if let Some(tags) = input.get("additional_tags") {
            for tag in normalize_tags(string_list(tags)) {
                if !ticket.tags.contains(&tag) {
                    ticket.tags.push(tag);
                }
            }
        }
        if let Some(tags) = input.get("remove_tags") {
            let remove = normalize_tags(string_list(tags));
            ticket.tags.retain(|t| !remove.contains(t));
        }
        if let Some(comment) = input.get("comment") {
            let body = comment
                .get("body")
                .or_else(|| comment.get("html_body"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            if body.trim().is_empty() {
                return Err(ZdError::invalid(
                    "comment",
                    "BlankValue",
                    "Comment: cannot be blank",
                ));
            }
            let comment_id = id * 1000 + ticket.comments.len() as u64 + 1;
            let public = comment
                .get("public")
                .and_then(Value::as_bool)
                .unwrap_or(true);
            ticket.comments.push(Comment {
                id: comment_id,
                body: body.to_string(),
                public,
                author_id: actor_id.unwrap_or(ticket.requester_id),
                created_at: now_iso(),
            });
            events.push((
                "ticket.comment_added".into(),
                json!({"comment": {"id": comment_id.to_string(), "body": body, "is_public": public}}),
            ));
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
}
