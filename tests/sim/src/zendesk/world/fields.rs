//! Organization field definitions, unique by key.

use serde_json::{Value, json};

use super::{FieldOption, OrgField, World, ZdError, now_iso, options_json};

impl World {
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
}
