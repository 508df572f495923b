//! Organizations: case-insensitive uniqueness of `name` and `external_id`, field values by key.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::{
    Org, World, ZdError, fold, id_of, normalize_tags, now_iso, opt_string, string_list, values,
};

/// Zendesk puts the value in the message: `Name: Lorem Ipsum has already been taken`.
fn name_taken(name: &str) -> ZdError {
    ZdError::invalid(
        "name",
        "DuplicateValue",
        &format!("Name: {name} has already been taken"),
    )
}

/// `External ID: SUP-1 has already been taken`.
fn external_id_taken(external_id: &str) -> ZdError {
    ZdError::invalid(
        "external_id",
        "DuplicateValue",
        &format!("External ID: {external_id} has already been taken"),
    )
}

impl World {
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
            // Stored (and answered) in Zendesk's normal form: dates at midnight UTC, decimals as numbers.
            let Some(stored) = values::stored_org_value(&field.kind, &field.options, value) else {
                return Err(ZdError::invalid(
                    "organization_fields",
                    "InvalidValue",
                    &format!("{}: is invalid", field.title),
                ));
            };
            out.insert(key.clone(), stored);
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
            return Err(name_taken(&name));
        }
        let external_id = opt_string(obj.get("external_id"))
            .flatten()
            .filter(|e| !e.trim().is_empty());
        if let Some(e) = &external_id
            && self.org_by_ext.contains_key(&fold(e))
        {
            return Err(external_id_taken(e));
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
                return Err(name_taken(&name));
            }
            org.name = name;
        }
        if let Some(ext) = opt_string(obj.get("external_id")) {
            let ext = ext.filter(|e| !e.trim().is_empty());
            if let Some(e) = &ext
                && let Some(holder) = self.org_by_ext.get(&fold(e))
                && *holder != id
            {
                return Err(external_id_taken(e));
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
}
