//! What a mapping produces: a list of typed field writes. The declarative mapper and plugins both produce it.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a write goes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum FieldTarget {
    /// A ticket custom field by numeric id (invoice mappings only).
    TicketField {
        /// Zendesk ticket field id.
        id: u64,
    },
    /// An organization custom field by key (supplier mappings only).
    OrganizationField {
        /// Zendesk organization field key.
        key: String,
    },
    /// A tag on the mapped record; the value is `checkbox` (true adds, false removes).
    Tag {
        /// Tag name.
        name: String,
    },
}

/// A typed value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum FieldValue {
    /// Free text.
    Text(String),
    /// A decimal number as a string (`"1234.50"`).
    Decimal(String),
    /// A date, `YYYY-MM-DD`.
    Date(String),
    /// A checkbox (or, for a tag, add/remove).
    Checkbox(bool),
    /// A drop-down option by its value (tag).
    DropdownOption(String),
    /// Empty the field.
    Clear,
}

/// One write.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldWrite {
    /// Where it goes.
    pub target: FieldTarget,
    /// What is written.
    pub value: FieldValue,
}

impl FieldWrite {
    /// Bytes of text the write carries (for output size limits).
    pub fn text_bytes(&self) -> usize {
        let target = match &self.target {
            FieldTarget::TicketField { .. } => 8,
            FieldTarget::OrganizationField { key } => key.len(),
            FieldTarget::Tag { name } => name.len(),
        };
        let value = match &self.value {
            FieldValue::Text(s)
            | FieldValue::Decimal(s)
            | FieldValue::Date(s)
            | FieldValue::DropdownOption(s) => s.len(),
            FieldValue::Checkbox(_) | FieldValue::Clear => 1,
        };
        target + value
    }
}

/// What is being mapped: decides which targets are allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    /// A supplier → its Zendesk organization.
    Supplier,
    /// An invoice → the ticket that asks about it.
    Invoice,
}

impl Subject {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Supplier => "supplier",
            Self::Invoice => "invoice",
        }
    }
}
