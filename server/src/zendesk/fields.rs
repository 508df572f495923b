//! Zendesk custom field types: the one table of their names, and of which ones ticket fields and organization
//! fields may have. The field definitions read from Zendesk (`tickets`, `org_fields`) and the tenant's field
//! catalog the mapper checks writes against (`crate::mapper::catalog`) all use it.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::ToSchema;

/// A custom field type. Drop-downs are `tagger` on tickets and `dropdown` on organizations (and users).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// Single-line text.
    Text,
    /// Multi-line text.
    Textarea,
    /// Text matching a pattern.
    Regexp,
    /// Decimal number.
    Decimal,
    /// Whole number.
    Integer,
    /// Date (`YYYY-MM-DD`).
    Date,
    /// Checkbox.
    Checkbox,
    /// Drop-down (ticket fields).
    Tagger,
    /// Drop-down (organization and user fields).
    Dropdown,
    /// Multi-select; its value is a list of options.
    Multiselect,
    /// A lookup relationship; its value is a record id.
    Lookup,
}

impl FieldType {
    /// Every type, in Zendesk's documentation order.
    pub const ALL: [FieldType; 11] = [
        Self::Text,
        Self::Textarea,
        Self::Checkbox,
        Self::Date,
        Self::Integer,
        Self::Decimal,
        Self::Regexp,
        Self::Tagger,
        Self::Dropdown,
        Self::Multiselect,
        Self::Lookup,
    ];

    /// The name Zendesk uses (`type`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Textarea => "textarea",
            Self::Regexp => "regexp",
            Self::Decimal => "decimal",
            Self::Integer => "integer",
            Self::Date => "date",
            Self::Checkbox => "checkbox",
            Self::Tagger => "tagger",
            Self::Dropdown => "dropdown",
            Self::Multiselect => "multiselect",
            Self::Lookup => "lookup",
        }
    }

    /// The type named `name`, if it is a custom field type.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// A drop-down of some kind: its values are options of the field.
    pub fn is_dropdown(self) -> bool {
        matches!(self, Self::Tagger | Self::Dropdown | Self::Multiselect)
    }

    /// Whether a ticket field can have this type.
    pub fn on_tickets(self) -> bool {
        self != Self::Dropdown
    }

    /// Whether an organization field can have this type.
    pub fn on_organizations(self) -> bool {
        self != Self::Tagger
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `type` of a field as Zendesk reports it: a custom field type, or another one (a system field such as
/// `subject` or `status`, or a type this version does not know).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportedType {
    /// A custom field type.
    Custom(FieldType),
    /// Any other type name.
    Other(String),
}

impl ReportedType {
    /// The type name as Zendesk sent it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Custom(t) => t.as_str(),
            Self::Other(name) => name,
        }
    }
}

impl From<&str> for ReportedType {
    fn from(name: &str) -> Self {
        FieldType::parse(name).map_or_else(|| Self::Other(name.to_string()), Self::Custom)
    }
}

impl From<FieldType> for ReportedType {
    fn from(t: FieldType) -> Self {
        Self::Custom(t)
    }
}

impl PartialEq<FieldType> for ReportedType {
    fn eq(&self, other: &FieldType) -> bool {
        *self == Self::Custom(*other)
    }
}

impl fmt::Display for ReportedType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ReportedType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ReportedType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Ok(Self::from(name.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_kinds_differ_by_record() {
        for t in FieldType::ALL {
            assert_eq!(FieldType::parse(t.as_str()), Some(t));
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
        assert!(FieldType::Tagger.on_tickets() && !FieldType::Tagger.on_organizations());
        assert!(FieldType::Dropdown.on_organizations() && !FieldType::Dropdown.on_tickets());
        assert_eq!(
            ReportedType::from("subject"),
            ReportedType::Other("subject".into())
        );
        let reported: ReportedType = serde_json::from_value(serde_json::json!("tagger")).unwrap();
        assert_eq!(reported, FieldType::Tagger);
        assert_eq!(serde_json::to_value(&reported).unwrap(), "tagger");
    }
}
