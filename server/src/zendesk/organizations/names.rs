//! Names and differences: deterministic disambiguation of taken names, telling a taken name from a taken
//! `external_id` in Zendesk's errors, and what an update must change.

use serde_json::Value;

use super::super::jobs::JobResult;
use super::{
    MAX_NAME_ATTEMPTS, MAX_NAME_CHARS, Organization, OrganizationInput, OrganizationUpdate, fold,
};

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Conflict {
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

pub(super) fn conflict_in_validation(details: &Value, description: &str) -> Conflict {
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

pub(super) fn conflict_in_result(r: &JobResult) -> Conflict {
    let text = format!(
        "{} {}",
        r.details.as_deref().unwrap_or_default(),
        r.error.as_deref().unwrap_or_default()
    );
    conflict_in_text(&text)
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
pub(super) fn diff(org: &Organization, desired: &OrganizationInput) -> Option<OrganizationUpdate> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
