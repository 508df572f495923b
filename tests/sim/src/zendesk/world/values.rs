//! Custom organization field values in the form Zendesk stores and returns them, whatever form they were
//! written in: a date field returns `2018-11-04T00:00:00+00:00` (the Organizations API's own example), a
//! decimal field a JSON number (`5.1`, as the Users API example shows for user fields), an integer field a
//! JSON integer. A value that does not fit its field is refused.

use serde_json::{Value, json};

use super::FieldOption;

fn is_option(options: &[FieldOption], v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| options.iter().any(|o| o.value == s))
}

/// `YYYY-MM-DD`, or an ISO 8601 date-time (`2019-07-23T00:00:00Z`, as Zendesk's own examples write into date
/// fields): the calendar date.
fn date_of(s: &str) -> Option<chrono::NaiveDate> {
    let s = s.trim();
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(d);
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.date_naive())
}

fn decimal_of(v: &Value) -> Option<f64> {
    let text = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_string(),
        _ => return None,
    };
    // Decimal syntax (no `inf`, `NaN`, `12,50`), then the number Zendesk answers with.
    let d: rust_decimal::Decimal = text.parse().ok()?;
    d.normalize()
        .to_string()
        .parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
}

/// The value stored for a field of type `kind`, or `None` when `value` does not fit it.
pub(super) fn stored_org_value(
    kind: &str,
    options: &[FieldOption],
    value: &Value,
) -> Option<Value> {
    if value.is_null() {
        return Some(Value::Null);
    }
    match kind {
        "text" | "textarea" | "regexp" => value.is_string().then(|| value.clone()),
        "checkbox" => value.as_bool().map(Value::Bool),
        "integer" => match value {
            Value::Number(n) => n.as_i64().map(|i| json!(i)),
            Value::String(s) => s.trim().parse::<i64>().ok().map(|i| json!(i)),
            _ => None,
        },
        "decimal" => decimal_of(value).map(|f| json!(f)),
        "date" => value
            .as_str()
            .and_then(date_of)
            .map(|d| json!(format!("{}T00:00:00+00:00", d.format("%Y-%m-%d")))),
        "dropdown" | "tagger" => is_option(options, value).then(|| value.clone()),
        "multiselect" => value
            .as_array()
            .filter(|a| a.iter().all(|v| is_option(options, v)))
            .map(|_| value.clone()),
        _ => Some(value.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_take_zendesks_normal_form() {
        let none: [FieldOption; 0] = [];
        let stored = |kind: &str, v: Value| stored_org_value(kind, &none, &v);
        assert_eq!(
            stored("date", json!("2018-11-04")),
            Some(json!("2018-11-04T00:00:00+00:00"))
        );
        assert_eq!(
            stored("date", json!("2019-07-23T00:00:00Z")),
            Some(json!("2019-07-23T00:00:00+00:00"))
        );
        assert_eq!(stored("date", json!("2023-02-29")), None);
        assert_eq!(stored("decimal", json!("1200.50")), Some(json!(1200.5)));
        assert_eq!(stored("decimal", json!(5.1)), Some(json!(5.1)));
        assert_eq!(stored("decimal", json!("12,50")), None);
        assert_eq!(stored("integer", json!("745")), Some(json!(745)));
        assert_eq!(stored("integer", json!("7.5")), None);
        assert_eq!(stored("checkbox", json!(true)), Some(json!(true)));
        assert_eq!(stored("text", json!("x")), Some(json!("x")));
        assert_eq!(stored("text", Value::Null), Some(Value::Null));
    }
}
