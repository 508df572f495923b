//! Short constructors for field writes and values.

use crate::bindings::{FieldTarget, FieldValue, FieldWrite};
use crate::{Amount, Date};

/// A write to a ticket custom field (by numeric id). Valid from `map_invoice`.
pub fn ticket_field(id: u64, value: FieldValue) -> FieldWrite {
    FieldWrite {
        target: FieldTarget::TicketField(id),
        value,
    }
}

/// A write to an organization custom field (by key). Valid from `map_supplier`.
pub fn org_field(key: &str, value: FieldValue) -> FieldWrite {
    FieldWrite {
        target: FieldTarget::OrganizationField(key.to_string()),
        value,
    }
}

/// Adds a tag to the record being mapped. The name is normalised with [`tag_name`].
pub fn add_tag(name: &str) -> FieldWrite {
    FieldWrite {
        target: FieldTarget::Tag(tag_name(name)),
        value: FieldValue::Checkbox(true),
    }
}

/// Removes a tag from the record being mapped. The name is normalised with [`tag_name`].
pub fn remove_tag(name: &str) -> FieldWrite {
    FieldWrite {
        target: FieldTarget::Tag(tag_name(name)),
        value: FieldValue::Checkbox(false),
    }
}

/// A Zendesk-safe tag: lowercase; spaces and anything but letters, digits, `_`, `-`, `:` and `/` become `_`.
pub fn tag_name(name: &str) -> String {
    name.trim()
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_alphanumeric() || "_-:/".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A text value.
pub fn text(value: impl Into<String>) -> FieldValue {
    FieldValue::Text(value.into())
}

/// A decimal value (plain form, no separators).
pub fn decimal(amount: &Amount) -> FieldValue {
    FieldValue::Decimal(amount.to_plain())
}

/// A date value.
pub fn date_value(date: &Date) -> FieldValue {
    FieldValue::Date(date.to_iso())
}

/// A checkbox value.
pub fn checkbox(on: bool) -> FieldValue {
    FieldValue::Checkbox(on)
}

/// A drop-down option, by its value (tag).
pub fn dropdown(option_value: impl Into<String>) -> FieldValue {
    FieldValue::DropdownOption(option_value.into())
}

/// Empties the field.
pub fn clear() -> FieldValue {
    FieldValue::Clear
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_normalised() {
        assert_eq!(tag_name(" Partially Paid "), "partially_paid");
        assert_eq!(tag_name("wd:PO/42"), "wd:po/42");
        assert!(matches!(add_tag("X Y").target, FieldTarget::Tag(ref t) if t == "x_y"));
    }
}
