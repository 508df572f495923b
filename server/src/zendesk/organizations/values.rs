//! Organization field values compared as Zendesk keeps them, so that a value written in one form and read
//! back in Zendesk's is recognised as unchanged: a date field answers `2018-11-04T00:00:00+00:00` for a
//! written `2018-11-04`, a decimal field a number (`1200.5`) for a written `"1200.50"`, an integer field a
//! number for `"745"`. Values are compared by the type of their field; a key whose type is unknown is
//! compared as JSON.

use std::collections::{BTreeSet, HashMap};
use std::str::FromStr as _;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::Value;

use super::super::fields::{FieldType, ReportedType};
use super::super::org_fields::OrganizationField;

/// The types of the account's organization fields, by key (a field of a type that is not a custom field type
/// is listed with none: its values compare as JSON).
#[derive(Debug, Clone, Default)]
pub(super) struct FieldTypes(HashMap<String, Option<FieldType>>);

impl FieldTypes {
    pub(super) fn from_fields(fields: &[OrganizationField]) -> Self {
        Self(
            fields
                .iter()
                .map(|f| {
                    let custom = match f.field_type {
                        ReportedType::Custom(t) => Some(t),
                        ReportedType::Other(_) => None,
                    };
                    (f.key.clone(), custom)
                })
                .collect(),
        )
    }

    /// Whether the definitions are known at all (an empty set means "not fetched": every key compares as
    /// JSON and is written).
    pub(super) fn is_known(&self) -> bool {
        !self.0.is_empty()
    }

    /// `None` when no field has the key; `Some(None)` for a field whose type is not a custom field type.
    pub(super) fn get(&self, key: &str) -> Option<Option<FieldType>> {
        self.0.get(key).copied()
    }
}

/// A value reduced to what it means for its field.
#[derive(Debug, PartialEq)]
enum Normal {
    Empty,
    Date(NaiveDate),
    Decimal(Decimal),
    Integer(i64),
    Checkbox(bool),
    Text(String),
    Options(BTreeSet<String>),
    Json(Value),
}

/// `YYYY-MM-DD`, or a date-time (`2018-11-04T00:00:00+00:00`, `2019-07-23T00:00:00Z`): its calendar date.
fn date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().or_else(|| {
        chrono::DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.date_naive())
    })
}

fn decimal(v: &Value) -> Option<Decimal> {
    match v {
        Value::Number(n) => Decimal::from_str(&n.to_string())
            .or_else(|_| Decimal::from_scientific(&n.to_string()))
            .ok(),
        Value::String(s) => Decimal::from_str(s.trim()).ok(),
        _ => None,
    }
    .map(|d| d.normalize())
}

fn normal(field_type: Option<FieldType>, v: &Value) -> Normal {
    let text = v.as_str();
    if v.is_null() || text.is_some_and(|s| s.is_empty()) {
        return Normal::Empty;
    }
    let json = || Normal::Json(v.clone());
    match field_type {
        Some(FieldType::Date) => text.and_then(date).map_or_else(json, Normal::Date),
        Some(FieldType::Decimal) => decimal(v).map_or_else(json, Normal::Decimal),
        Some(FieldType::Integer) => match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
        .map_or_else(json, Normal::Integer),
        Some(FieldType::Checkbox) => match v {
            Value::Bool(b) => Some(*b),
            Value::String(s) if s == "true" || s == "false" => Some(s == "true"),
            _ => None,
        }
        .map_or_else(json, Normal::Checkbox),
        Some(FieldType::Multiselect) => match v {
            Value::Array(items) => items
                .iter()
                .map(|i| i.as_str().map(str::to_string))
                .collect::<Option<BTreeSet<_>>>()
                .map_or_else(json, Normal::Options),
            Value::String(s) => Normal::Options(BTreeSet::from([s.clone()])),
            _ => json(),
        },
        Some(
            FieldType::Text
            | FieldType::Textarea
            | FieldType::Regexp
            | FieldType::Dropdown
            | FieldType::Tagger
            | FieldType::Lookup,
        ) => match v {
            Value::String(s) => Normal::Text(s.clone()),
            Value::Number(n) => Normal::Text(n.to_string()),
            _ => json(),
        },
        None => json(),
    }
}

/// Whether `existing` (as Zendesk answered it) already holds `desired` for a field of `field_type`.
pub fn same_value(field_type: Option<FieldType>, existing: &Value, desired: &Value) -> bool {
    normal(field_type, existing) == normal(field_type, desired)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_compare_as_their_field_type() {
        let same = |t: &str, a: Value, b: Value| same_value(FieldType::parse(t), &a, &b);
        assert!(same(
            "date",
            json!("2018-11-04T00:00:00+00:00"),
            json!("2018-11-04")
        ));
        assert!(same(
            "date",
            json!("2019-07-23T00:00:00Z"),
            json!("2019-07-23")
        ));
        assert!(!same(
            "date",
            json!("2018-11-04T00:00:00+00:00"),
            json!("2018-11-05")
        ));
        assert!(same("decimal", json!(1200.5), json!("1200.50")));
        assert!(same("decimal", json!(1200), json!("1200.00")));
        assert!(same("decimal", json!(5.1), json!("5.1")));
        assert!(!same("decimal", json!(1200.5), json!("1200.51")));
        assert!(same("integer", json!(745), json!("745")));
        assert!(same("checkbox", json!(true), json!("true")));
        assert!(!same("checkbox", json!(false), json!(true)));
        assert!(same("multiselect", json!(["b", "a"]), json!(["a", "b"])));
        assert!(same("text", Value::Null, json!("")));
        assert!(
            !same("text", json!("A"), json!("a")),
            "text is kept as written"
        );
        assert!(same("lookup", json!(42), json!("42")));
        // Unknown type: JSON equality.
        assert!(same_value(None, &json!("x"), &json!("x")));
        assert!(!same_value(None, &json!(1.5), &json!("1.5")));
    }
}
