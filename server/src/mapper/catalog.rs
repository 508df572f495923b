//! The Zendesk fields a mapping may write, described as data (ids/keys, types, drop-down options), and the
//! check of a list of writes against them. The sync keeps this catalog from Zendesk; the mapper never calls
//! Zendesk itself.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::write::{FieldTarget, FieldValue, FieldWrite, Subject};
// Dates are read exactly as the Workday decoder reads them: `YYYY-MM-DD`, with an offset or a timestamp.
use crate::xsd::parse_date;

/// Zendesk's custom field types: the one table, shared with the Zendesk client.
pub use crate::zendesk::fields::FieldType;

/// The kind of value a write (or a declarative rule's conversion) puts in a field, for [`ValueKind::fits`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValueKind {
    /// Text.
    Text,
    /// A decimal; `whole` when it has no fraction digits (all an integer field takes).
    Decimal {
        /// No fraction digits.
        whole: bool,
    },
    /// A date.
    Date,
    /// A checkbox.
    Checkbox,
    /// A drop-down option.
    DropdownOption,
}

impl ValueKind {
    /// Whether a field of type `field` takes a value of this kind (the one compatibility table of the mapper). A
    /// lookup field takes none: the mapper has no record ids to write.
    pub(crate) fn fits(self, field: FieldType) -> bool {
        match self {
            Self::Text => matches!(
                field,
                FieldType::Text | FieldType::Textarea | FieldType::Regexp
            ),
            Self::Decimal { whole } => {
                field == FieldType::Decimal || (field == FieldType::Integer && whole)
            }
            Self::Date => field == FieldType::Date,
            Self::Checkbox => field == FieldType::Checkbox,
            Self::DropdownOption => field.is_dropdown(),
        }
    }
}

/// Whether Zendesk takes `name` as a tag: 1 to 80 characters without whitespace or commas (a comma would split
/// it into two tags).
pub(crate) fn valid_tag(name: &str) -> bool {
    !name.is_empty() && name.len() <= 80 && !name.chars().any(|c| c.is_whitespace() || c == ',')
}

/// A ticket custom field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketFieldSpec {
    /// Zendesk field id.
    pub id: u64,
    /// Field type.
    #[serde(rename = "type")]
    pub field_type: FieldType,
    /// Title, for messages.
    #[serde(default)]
    pub title: String,
    /// Option values (tags) of a drop-down.
    #[serde(default)]
    pub options: Vec<String>,
}

/// An organization custom field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationFieldSpec {
    /// Zendesk field key.
    pub key: String,
    /// Field type.
    #[serde(rename = "type")]
    pub field_type: FieldType,
    /// Title, for messages.
    #[serde(default)]
    pub title: String,
    /// Option values of a drop-down.
    #[serde(default)]
    pub options: Vec<String>,
}

/// The writable fields of one Zendesk account. An empty list of a kind means "types unknown": writes of that
/// kind are then checked only for well-formed values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct FieldCatalog {
    /// Ticket custom fields.
    #[serde(default)]
    pub ticket_fields: Vec<TicketFieldSpec>,
    /// Organization custom fields.
    #[serde(default)]
    pub organization_fields: Vec<OrganizationFieldSpec>,
}

/// A write that cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("write #{index} ({target}): {reason}")]
pub struct WriteProblem {
    /// Position in the list (0-based).
    pub index: usize,
    /// The target, as text.
    pub target: String,
    /// Why.
    pub reason: String,
}

impl FieldCatalog {
    /// Whether the catalog lists no field at all (the tenant's fields were never read from Zendesk).
    pub fn is_empty(&self) -> bool {
        self.ticket_fields.is_empty() && self.organization_fields.is_empty()
    }

    /// The type and options of a target, if the catalog knows it. `Err` when the catalog lists fields of that
    /// kind but not this one.
    pub fn lookup(&self, target: &FieldTarget) -> Result<Option<(FieldType, &[String])>, String> {
        match target {
            FieldTarget::TicketField { id } if !self.ticket_fields.is_empty() => self
                .ticket_fields
                .iter()
                .find(|f| f.id == *id)
                .map(|f| Some((f.field_type, f.options.as_slice())))
                .ok_or_else(|| format!("ticket field {id} is not in the tenant's field catalog")),
            FieldTarget::OrganizationField { key } if !self.organization_fields.is_empty() => self
                .organization_fields
                .iter()
                .find(|f| f.key == *key)
                .map(|f| Some((f.field_type, f.options.as_slice())))
                .ok_or_else(|| {
                    format!("organization field `{key}` is not in the tenant's field catalog")
                }),
            _ => Ok(None),
        }
    }

    /// Checks every write for `subject`: allowed target kind, well-formed value, and (where the catalog knows
    /// the field) a value of the field's type, drop-down options included.
    pub fn validate_writes(
        &self,
        subject: Subject,
        writes: &[FieldWrite],
    ) -> Result<(), WriteProblem> {
        for (index, write) in writes.iter().enumerate() {
            check_one(self, subject, write).map_err(|reason| WriteProblem {
                index,
                target: describe_target(&write.target),
                reason,
            })?;
        }
        Ok(())
    }
}

/// Human-readable target.
pub fn describe_target(target: &FieldTarget) -> String {
    match target {
        FieldTarget::TicketField { id } => format!("ticket field {id}"),
        FieldTarget::OrganizationField { key } => format!("organization field `{key}`"),
        FieldTarget::Tag { name } => format!("tag `{name}`"),
    }
}

fn check_one(catalog: &FieldCatalog, subject: Subject, write: &FieldWrite) -> Result<(), String> {
    match (&write.target, subject) {
        (FieldTarget::TicketField { .. }, Subject::Supplier) => {
            return Err("a supplier mapping can only write organization fields and tags".into());
        }
        (FieldTarget::OrganizationField { .. }, Subject::Invoice) => {
            return Err("an invoice mapping can only write ticket fields and tags".into());
        }
        (FieldTarget::OrganizationField { key }, _) if key.trim().is_empty() || key.len() > 128 => {
            return Err("an organization field key must be 1 to 128 characters".into());
        }
        (FieldTarget::Tag { name }, _) => {
            if !valid_tag(name) {
                return Err("a tag must be 1 to 80 characters without spaces or commas".into());
            }
            if !matches!(write.value, FieldValue::Checkbox(_)) {
                return Err("a tag write takes a checkbox value (true adds, false removes)".into());
            }
            return Ok(());
        }
        _ => {}
    }
    match &write.value {
        FieldValue::Decimal(d) if !is_decimal(d) => return Err(format!("`{d}` is not a decimal")),
        FieldValue::Date(d) if parse_date(d).is_none() => {
            return Err(format!("`{d}` is not a YYYY-MM-DD date"));
        }
        _ => {}
    }
    let Some((field_type, options)) = catalog.lookup(&write.target)? else {
        return Ok(());
    };
    let kind = match &write.value {
        FieldValue::Clear => return Ok(()),
        FieldValue::Text(_) => ValueKind::Text,
        FieldValue::Decimal(d) => ValueKind::Decimal {
            whole: !d.contains('.'),
        },
        FieldValue::Date(_) => ValueKind::Date,
        FieldValue::Checkbox(_) => ValueKind::Checkbox,
        FieldValue::DropdownOption(option) => {
            if field_type.is_dropdown() && !options.iter().any(|o| o == option) {
                return Err(format!(
                    "`{option}` is not an option of this drop-down (options: {})",
                    options.join(", ")
                ));
            }
            ValueKind::DropdownOption
        }
    };
    if kind.fits(field_type) {
        Ok(())
    } else {
        Err(format!(
            "a {} value does not fit a {field_type:?} field",
            value_kind(&write.value)
        ))
    }
}

fn value_kind(value: &FieldValue) -> &'static str {
    match value {
        FieldValue::Text(_) => "text",
        FieldValue::Decimal(_) => "decimal",
        FieldValue::Date(_) => "date",
        FieldValue::Checkbox(_) => "checkbox",
        FieldValue::DropdownOption(_) => "drop-down option",
        FieldValue::Clear => "clear",
    }
}

/// `-?digits(.digits)?`: the only decimal form Zendesk and the WIT contract accept.
pub fn is_decimal(text: &str) -> bool {
    let body = text.strip_prefix('-').unwrap_or(text);
    let (int, frac) = body.split_once('.').unwrap_or((body, "0"));
    !int.is_empty()
        && !frac.is_empty()
        && int.len() <= 30
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> FieldCatalog {
        serde_json::from_value(serde_json::json!({
            "ticket_fields": [
                {"id": 1, "type": "text"},
                {"id": 2, "type": "decimal"},
                {"id": 3, "type": "tagger", "options": ["wd_paid", "wd_unpaid"]},
                {"id": 4, "type": "integer"},
                {"id": 5, "type": "date"},
            ],
            "organization_fields": [{"key": "terms", "type": "text"}],
        }))
        .unwrap()
    }

    fn w(target: FieldTarget, value: FieldValue) -> FieldWrite {
        FieldWrite { target, value }
    }

    #[test]
    fn accepts_fitting_writes() {
        let writes = vec![
            w(
                FieldTarget::TicketField { id: 1 },
                FieldValue::Text("x".into()),
            ),
            w(
                FieldTarget::TicketField { id: 2 },
                FieldValue::Decimal("-12.50".into()),
            ),
            w(
                FieldTarget::TicketField { id: 3 },
                FieldValue::DropdownOption("wd_paid".into()),
            ),
            w(
                FieldTarget::TicketField { id: 4 },
                FieldValue::Decimal("12".into()),
            ),
            w(FieldTarget::TicketField { id: 5 }, FieldValue::Clear),
            w(
                FieldTarget::Tag {
                    name: "wd_x".into(),
                },
                FieldValue::Checkbox(true),
            ),
        ];
        catalog()
            .validate_writes(Subject::Invoice, &writes)
            .unwrap();
    }

    #[test]
    fn refuses_misfits_with_the_reason() {
        let cases = [
            (
                Subject::Invoice,
                w(
                    FieldTarget::TicketField { id: 9 },
                    FieldValue::Text("x".into()),
                ),
                "not in the tenant",
            ),
            (
                Subject::Invoice,
                w(
                    FieldTarget::TicketField { id: 2 },
                    FieldValue::Decimal("1e5".into()),
                ),
                "not a decimal",
            ),
            (
                Subject::Invoice,
                w(
                    FieldTarget::TicketField { id: 3 },
                    FieldValue::DropdownOption("nope".into()),
                ),
                "not an option",
            ),
            (
                Subject::Invoice,
                w(
                    FieldTarget::TicketField { id: 4 },
                    FieldValue::Decimal("1.5".into()),
                ),
                "does not fit",
            ),
            (
                Subject::Invoice,
                w(
                    FieldTarget::TicketField { id: 1 },
                    FieldValue::Checkbox(true),
                ),
                "does not fit",
            ),
            (
                Subject::Invoice,
                w(
                    FieldTarget::TicketField { id: 5 },
                    FieldValue::Date("2024-02-30".into()),
                ),
                "not a YYYY-MM-DD",
            ),
            (
                Subject::Invoice,
                w(
                    FieldTarget::OrganizationField {
                        key: "terms".into(),
                    },
                    FieldValue::Clear,
                ),
                "only write ticket",
            ),
            (
                Subject::Supplier,
                w(FieldTarget::TicketField { id: 1 }, FieldValue::Clear),
                "only write organization",
            ),
            (
                Subject::Supplier,
                w(
                    FieldTarget::Tag { name: "a b".into() },
                    FieldValue::Checkbox(true),
                ),
                "without spaces",
            ),
            (
                Subject::Supplier,
                w(
                    FieldTarget::Tag { name: "ab".into() },
                    FieldValue::Text("x".into()),
                ),
                "checkbox value",
            ),
        ];
        for (subject, write, expected) in cases {
            let err = catalog()
                .validate_writes(subject, std::slice::from_ref(&write))
                .unwrap_err()
                .to_string();
            assert!(err.contains(expected), "{write:?}: {err}");
        }
    }

    #[test]
    fn an_empty_catalog_checks_only_the_values() {
        let empty = FieldCatalog::default();
        empty
            .validate_writes(
                Subject::Invoice,
                &[w(
                    FieldTarget::TicketField { id: 77 },
                    FieldValue::Text("x".into()),
                )],
            )
            .unwrap();
        assert!(
            empty
                .validate_writes(
                    Subject::Invoice,
                    &[w(
                        FieldTarget::TicketField { id: 77 },
                        FieldValue::Decimal("x".into())
                    )]
                )
                .is_err()
        );
    }
}
