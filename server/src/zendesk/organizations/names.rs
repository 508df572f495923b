//! Names and differences: deterministic disambiguation of taken names, telling a taken name from a taken
//! `external_id` in Zendesk's errors, and what an update must change.

use serde_json::Value;

use super::super::jobs::JobResult;
use super::values::{FieldTypes, same_value};
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

/// Zendesk's field labels in its messages (`Name: Acme has already been taken`, `External ID: S-1 has already
/// been taken`), lower-cased, with the field each names.
const LABELS: [(&str, Conflict); 4] = [
    ("external id:", Conflict::ExternalId),
    ("external_id:", Conflict::ExternalId),
    ("external:", Conflict::ExternalId),
    ("name:", Conflict::Name),
];

fn says_duplicate(message: &str) -> bool {
    message.contains("taken") || message.contains("duplicate") || message.contains("already exists")
}

/// Which uniqueness rule a message breaks. Zendesk writes `{Label}: {value} {message}`, and the value is ours —
/// a supplier called "External Services Ltd" must not read as an `external_id` conflict — so the decision is
/// made on the label, never on words inside the value: each `{label}: {value}` we sent is first reduced to its
/// label, then the text is split at the labels and each part checked for "taken".
fn conflict_in_text(text: &str, sent: &[(&str, &str)]) -> Conflict {
    let mut t = text.to_lowercase();
    for (label, value) in sent {
        let value = value.trim().to_lowercase();
        if !value.is_empty() {
            t = t.replace(&format!("{label} {value}"), label);
        }
    }
    // Every label that starts a part: at the start, or after something that is not a letter or digit.
    let mut starts: Vec<(usize, usize, Conflict)> = Vec::new();
    for (label, field) in LABELS {
        for (at, _) in t.match_indices(label) {
            let boundary = t[..at]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_alphanumeric() && c != '_');
            let shadowed = starts.iter().any(|(s, e, _)| at >= *s && at < *e);
            if boundary && !shadowed {
                starts.push((at, at + label.len(), field));
            }
        }
    }
    starts.sort_by_key(|(at, _, _)| *at);
    let mut name = false;
    for (i, (_, body, field)) in starts.iter().enumerate() {
        let end = starts.get(i + 1).map_or(t.len(), |(next, _, _)| *next);
        if says_duplicate(&t[*body..end]) {
            match field {
                Conflict::ExternalId => return Conflict::ExternalId,
                _ => name = true,
            }
        }
    }
    if name {
        Conflict::Name
    } else {
        Conflict::Other
    }
}

fn entry_is_duplicate(e: &Value) -> bool {
    e.get("error").and_then(Value::as_str) == Some("DuplicateValue")
        || e.get("description")
            .and_then(Value::as_str)
            .is_some_and(|d| says_duplicate(&d.to_lowercase()))
}

/// A 422's verdict: by the `details` map's keys (`external_id` before `name`: a taken `external_id` means the
/// organization exists, whatever its name), else by the description's labels.
pub(super) fn conflict_in_validation(
    details: &Value,
    description: &str,
    sent: &[(&str, &str)],
) -> Conflict {
    if let Some(map) = details.as_object() {
        let duplicate = |key: &str| {
            map.get(key).is_some_and(|errors| match errors {
                Value::Array(items) => items.iter().any(entry_is_duplicate),
                other => entry_is_duplicate(other),
            })
        };
        if duplicate("external_id") {
            return Conflict::ExternalId;
        }
        if duplicate("name") {
            return Conflict::Name;
        }
        if !map.is_empty() {
            return Conflict::Other;
        }
    }
    conflict_in_text(description, sent)
}

/// A failed job item's verdict: its `details` (text, or a details map), then its `error`.
pub(super) fn conflict_in_result(r: &JobResult, sent: &[(&str, &str)]) -> Conflict {
    let details = r.details.as_deref().unwrap_or_default();
    if let Ok(map @ Value::Object(_)) = serde_json::from_str::<Value>(details) {
        return conflict_in_validation(&map, "", sent);
    }
    match conflict_in_text(details, sent) {
        Conflict::Other => conflict_in_text(r.error.as_deref().unwrap_or_default(), sent),
        found => found,
    }
}

/// What was sent for an organization, as Zendesk labels it in messages.
pub(super) fn sent_values<'a>(name: &'a str, external_id: &'a str) -> [(&'static str, &'a str); 4] {
    [
        ("name:", name),
        ("external id:", external_id),
        ("external_id:", external_id),
        ("external:", external_id),
    ]
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

/// The update that brings `org` to `desired`, or `None` when nothing differs. Field values are compared by
/// their field's type in `types` (Zendesk answers in its own normal form); a key that is not one of the
/// account's organization fields (when `types` is known) is left out: Zendesk would ignore it anyway, and
/// writing it would repeat on every run.
pub(super) fn diff(
    org: &Organization,
    desired: &OrganizationInput,
    types: &FieldTypes,
) -> Option<OrganizationUpdate> {
    let mut update = OrganizationUpdate {
        id: org.id,
        external_id: None,
        ..Default::default()
    };
    if !name_matches(&org.name, &desired.name, &desired.external_id) {
        update.name = Some(desired.name.clone());
        // Sent with a new name only: it is the key a taken name is disambiguated with.
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
        let field_type = types.get(key);
        if types.is_known() && field_type.is_none() {
            tracing::warn!(key = %key, organization = org.id,
                "not an organization field of this account; value not written");
            continue;
        }
        let existing = org.organization_fields.get(key).unwrap_or(&Value::Null);
        if !same_value(field_type.flatten(), existing, value) {
            update
                .organization_fields
                .insert(key.clone(), value.clone());
        }
    }
    (!update.is_empty()).then_some(update)
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
        let sent = sent_values("Acme", "S-1");
        let name = json!({"name": [{"description": "Name: Acme has already been taken", "error": "DuplicateValue"}]});
        assert_eq!(conflict_in_validation(&name, "", &sent), Conflict::Name);
        let ext = json!({"external_id": [{"description": "External ID: S-1 has already been taken", "error": "DuplicateValue"}]});
        assert_eq!(
            conflict_in_validation(&ext, "", &sent),
            Conflict::ExternalId
        );
        let both = json!({
            "name": [{"description": "Name: Acme has already been taken", "error": "DuplicateValue"}],
            "external_id": [{"description": "External ID: S-1 has already been taken", "error": "DuplicateValue"}]
        });
        assert_eq!(
            conflict_in_validation(&both, "", &sent),
            Conflict::ExternalId
        );
        assert_eq!(
            conflict_in_validation(&Value::Null, "Name: is too long", &sent),
            Conflict::Other
        );
        let r = |details: &str| JobResult {
            id: None,
            index: Some(0),
            action: None,
            status: None,
            success: None,
            error: Some("DuplicateValue".into()),
            details: Some(details.into()),
        };
        assert_eq!(
            conflict_in_result(&r("Name: Acme has already been taken"), &sent),
            Conflict::Name
        );
        assert_eq!(
            conflict_in_result(&r("External ID: S-1 has already been taken"), &sent),
            Conflict::ExternalId
        );
        // The older wording without the value.
        assert_eq!(
            conflict_in_result(&r("Name: has already been taken"), &sent),
            Conflict::Name
        );
    }

    #[test]
    fn a_supplier_name_never_reads_as_another_field() {
        // Zendesk puts the value in the message; words in it decide nothing.
        for supplier in [
            "External Services Ltd",
            "External ID Solutions",
            "Name Brands Inc",
            "External: taken? Ltd",
            "Acme External ID: X has already been taken",
        ] {
            let sent = sent_values(supplier, "SUP-000042");
            let message = format!("Name: {supplier} has already been taken");
            assert_eq!(
                conflict_in_text(&message, &sent),
                Conflict::Name,
                "{message}"
            );
            let r = JobResult {
                id: None,
                index: Some(3),
                action: None,
                status: None,
                success: None,
                error: Some("DuplicateValue".into()),
                details: Some(message.clone()),
            };
            assert_eq!(conflict_in_result(&r, &sent), Conflict::Name, "{message}");
        }
        // Even without knowing what was sent, a name with "External" in it is a name conflict.
        assert_eq!(
            conflict_in_text("Name: External Services Ltd has already been taken", &[]),
            Conflict::Name
        );
        // And an external id that looks like a name label is still an external id conflict.
        let sent = sent_values("Acme", "name: x");
        assert_eq!(
            conflict_in_text("External ID: name: x has already been taken", &sent),
            Conflict::ExternalId
        );
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
        assert_eq!(diff(&org, &desired, &FieldTypes::default()), None);
        desired
            .organization_fields
            .insert("supplier_status".into(), json!("inactive"));
        let u = diff(&org, &desired, &FieldTypes::default()).unwrap();
        assert_eq!(u.name, None);
        assert_eq!(u.external_id, None, "sent with a new name only");
        assert_eq!(u.organization_fields["supplier_status"], "inactive");
        desired.name = "Acme Holdings".into();
        let renamed = diff(&org, &desired, &FieldTypes::default()).unwrap();
        assert_eq!(renamed.name.as_deref(), Some("Acme Holdings"));
        assert_eq!(renamed.external_id.as_deref(), Some("S-1"));
    }
}
