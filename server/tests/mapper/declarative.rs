//! The declarative mapping: TOML/JSON rules, type conversion, defaults and fallbacks, tags, and validation
//! against the tenant's Zendesk field catalog.

use crate::support::plugins as plugin_support;

use ml_connector::mapper::declarative::MappingRules;
use ml_connector::mapper::policy::{FailurePolicy, TenantMapping};
use ml_connector::mapper::{FieldTarget, FieldValue, FieldWrite, Sample};
use ml_connector::tenant::TenantSettings;
use plugin_support::sample;

const MAPPING: &str = r#"
[catalog]
ticket_fields = [
  { id = 101, type = "text", title = "PO or invoice" },
  { id = 102, type = "decimal" },
  { id = 103, type = "date" },
  { id = 104, type = "tagger", options = ["wd_paid", "wd_unpaid", "wd_partially_paid"] },
  { id = 105, type = "checkbox" },
  { id = 106, type = "integer" },
  { id = 107, type = "text" },
]
organization_fields = [
  { key = "payment_terms", type = "text" },
  { key = "supplier_status", type = "dropdown", options = ["active", "inactive"] },
]

[[invoice]]
source = ["invoice.purchase_order.number", "invoice.number"]
ticket_field = 101

[[invoice]]
source = "invoice.amount_due"
ticket_field = 102
convert = { type = "decimal", scale = 2 }

[[invoice]]
source = "invoice.due_date"
ticket_field = 103
convert = { type = "date" }
when_missing = "clear"

[[invoice]]
source = "invoice.payment_status"
ticket_field = 104
convert = { type = "dropdown", options = { "Paid" = "wd_paid", "Unpaid" = "wd_unpaid", "Partially Paid" = "wd_partially_paid" } }

[[invoice]]
source = "invoice.payment_status"
tags = { "paid" = "wd_paid", "unpaid" = "wd_unpaid" }

[[invoice]]
source = "invoice.extra.Cost_Center"
ticket_field = 105
convert = { type = "checkbox", true_values = ["CC-4100"] }

[[invoice]]
source = "invoice.payments_count"
ticket_field = 106
convert = { type = "decimal", scale = 0 }

[[invoice]]
source = "invoice.latest_payment.reference"
ticket_field = 107
default = "none yet"

[[supplier]]
source = "supplier.payment_terms"
organization_field = "payment_terms"
default = "Net 30"

[[supplier]]
source = "supplier.status"
organization_field = "supplier_status"
convert = { type = "dropdown", options = { "Active" = "active" }, default = "inactive" }
"#;

fn w(target: FieldTarget, value: FieldValue) -> FieldWrite {
    FieldWrite { target, value }
}

fn t(id: u64) -> FieldTarget {
    FieldTarget::TicketField { id }
}

#[test]
fn invoice_rules_convert_to_the_field_types() {
    let config = MappingRules::from_toml(MAPPING).unwrap();
    let Sample::Invoice { invoice, ticket } = sample("invoice.json") else {
        panic!()
    };
    let mapped = config.map_invoice(&invoice, &ticket);
    // The tag rule has no entry for "Partially Paid": it writes no tag and says so.
    assert_eq!(
        mapped.notes,
        vec!["rule 4: no tag for value `Partially Paid`".to_string()]
    );
    assert_eq!(
        mapped.writes,
        vec![
            w(t(101), FieldValue::Text("PO-2024-0042".into())),
            // 4450.005 rounds half away from zero.
            w(t(102), FieldValue::Decimal("4450.01".into())),
            // Workday's zone offset is dropped.
            w(t(103), FieldValue::Date("2024-03-31".into())),
            w(
                t(104),
                FieldValue::DropdownOption("wd_partially_paid".into())
            ),
            w(t(105), FieldValue::Checkbox(true)),
            w(t(106), FieldValue::Decimal("1".into())),
            w(t(107), FieldValue::Text("WIRE-20240315-0042".into())),
        ]
    );
    let Sample::Invoice { invoice, ticket } = sample("invoice-no-po.json") else {
        panic!()
    };
    let mapped = config.map_invoice(&invoice, &ticket);
    assert_eq!(
        mapped.writes[0],
        w(t(101), FieldValue::Text("INV-90017".into())),
        "falls back to the invoice number"
    );
    assert_eq!(
        mapped.writes[1],
        w(t(102), FieldValue::Decimal("1234567.50".into()))
    );
    assert_eq!(
        mapped.writes[2],
        w(t(103), FieldValue::Clear),
        "missing due date clears the field"
    );
    let tags: Vec<_> = mapped
        .writes
        .iter()
        .filter(|w| matches!(w.target, FieldTarget::Tag { .. }))
        .cloned()
        .collect();
    assert_eq!(
        tags,
        vec![
            w(
                FieldTarget::Tag {
                    name: "wd_paid".into()
                },
                FieldValue::Checkbox(false)
            ),
            w(
                FieldTarget::Tag {
                    name: "wd_unpaid".into()
                },
                FieldValue::Checkbox(true)
            ),
        ]
    );
    assert!(
        !mapped.writes.iter().any(|w| w.target == t(105)),
        "no cost centre: the rule writes nothing"
    );
    assert!(
        mapped
            .writes
            .contains(&w(t(107), FieldValue::Text("none yet".into()))),
        "default applies"
    );
}

#[test]
fn supplier_rules_use_defaults() {
    let config = MappingRules::from_toml(MAPPING).unwrap();
    let Sample::Supplier { mut supplier } = sample("supplier.json") else {
        panic!()
    };
    supplier.payment_terms = None;
    let mapped = config.map_supplier(&supplier);
    assert_eq!(
        mapped.writes,
        vec![
            w(
                FieldTarget::OrganizationField {
                    key: "payment_terms".into()
                },
                FieldValue::Text("Net 30".into())
            ),
            w(
                FieldTarget::OrganizationField {
                    key: "supplier_status".into()
                },
                FieldValue::DropdownOption("inactive".into())
            ),
        ]
    );
}

#[test]
fn unconvertible_values_are_skipped_and_noted() {
    let config = MappingRules::from_toml(MAPPING).unwrap();
    let Sample::Invoice {
        mut invoice,
        ticket,
    } = sample("invoice.json")
    else {
        panic!()
    };
    invoice.amount_due = "12,50".into();
    invoice.due_date = Some("31/03/2024".into());
    invoice.payment_status = "Written Off".into();
    let mapped = config.map_invoice(&invoice, &ticket);
    let notes = mapped.notes.join("\n");
    assert!(notes.contains("`12,50` is not a decimal"), "{notes}");
    assert!(notes.contains("`31/03/2024` is not a date"), "{notes}");
    assert!(
        notes.contains("`Written Off` has no drop-down option"),
        "{notes}"
    );
    assert!(notes.contains("no tag for value `Written Off`"), "{notes}");
    assert!(
        !mapped
            .writes
            .iter()
            .any(|w| [t(102), t(103), t(104)].contains(&w.target))
    );
}

#[test]
fn invalid_rules_are_refused_naming_the_rule() {
    let base = r#"
[catalog]
ticket_fields = [{ id = 1, type = "decimal" }, { id = 2, type = "tagger", options = ["a"] }, { id = 3, type = "integer" }]
"#;
    let cases = [
        (
            "[[invoice]]\nsource = \"invoice.nope\"\nticket_field = 1\nconvert = { type = \"decimal\" }",
            "invoice[0]: unknown source `invoice.nope`",
        ),
        (
            "[[invoice]]\nsource = \"supplier.name\"\nticket_field = 1",
            "unknown source `supplier.name` for a invoice rule",
        ),
        (
            "[[invoice]]\nsource = \"invoice.number\"\nticket_field = 9",
            "ticket field 9 is not in the tenant's field catalog",
        ),
        (
            "[[invoice]]\nsource = \"invoice.number\"\nticket_field = 1",
            "conversion text does not fit ticket field 1",
        ),
        (
            "[[invoice]]\nsource = \"invoice.status\"\nticket_field = 2\nconvert = { type = \"dropdown\", options = { X = \"b\" } }",
            "`b` is not an option",
        ),
        (
            "[[invoice]]\nsource = \"invoice.total.amount\"\nticket_field = 3\nconvert = { type = \"decimal\" }",
            "integer field needs decimal with scale 0",
        ),
        (
            "[[invoice]]\nsource = \"invoice.number\"\nticket_field = 1\norganization_field = \"x\"",
            "exactly one target",
        ),
        (
            "[[invoice]]\nsource = \"invoice.number\"\norganization_field = \"x\"",
            "can only target ticket fields",
        ),
        (
            "[[supplier]]\nsource = \"supplier.name\"\nticket_field = 1",
            "supplier[0]: a supplier rule can only target organization fields",
        ),
        (
            "[[invoice]]\nsource = \"invoice.amount_due\"\nticket_field = 1\nconvert = { type = \"decimal\" }\ndefault = \"n/a\"",
            "default: `n/a` is not a decimal",
        ),
        (
            "[[invoice]]\nsource = \"invoice.status\"\ntags = { X = \"has space\" }",
            "`has space` is not a valid tag",
        ),
        (
            // A comma would reach Zendesk as two tags.
            "[[invoice]]\nsource = \"invoice.status\"\ntags = { X = \"a,b\" }",
            "`a,b` is not a valid tag",
        ),
        (
            "[[invoice]]\nsource = \"invoice.number\"\nticket_field = 1\ncolour = \"red\"",
            "unknown field `colour`",
        ),
    ];
    for (rule, needle) in cases {
        let err = MappingRules::from_toml(&format!("{base}\n{rule}")).unwrap_err();
        assert!(err.contains(needle), "{rule}\n=> {err}");
    }
}

#[test]
fn tenant_settings_carry_mapping_and_policy() {
    // Settings are read into their type once; the mapping is then taken from them with the process default.
    let mapping = |json: serde_json::Value| -> Result<TenantMapping, String> {
        let settings = TenantSettings::from_json(&json)?;
        TenantMapping::from_settings(&settings, FailurePolicy::Fallback)
    };
    let m = mapping(serde_json::json!({
        "mapping": {"invoice": [{"source": "invoice.number", "ticket_field": 7}]},
        "plugin_failure_policy": "write_nothing",
    }))
    .unwrap();
    assert_eq!(m.failure_policy, FailurePolicy::WriteNothing);
    assert_eq!(m.declarative.unwrap().invoice.len(), 1);
    let m = mapping(serde_json::json!({})).unwrap();
    assert_eq!(
        (m.declarative, m.failure_policy),
        (None, FailurePolicy::Fallback)
    );
    let err = mapping(serde_json::json!({"plugin_failure_policy": "panic"})).unwrap_err();
    assert!(err.contains("write_nothing"), "{err}");
    let err = mapping(serde_json::json!({"mapping": {"invoice": [{"source": 1}]}})).unwrap_err();
    assert!(err.contains("invoice[0]"), "{err}");
    // A rule with an unknown source has the right shape but does not hold together.
    let err = mapping(serde_json::json!({
        "mapping": {"invoice": [{"source": "invoice.colour", "ticket_field": 7}]},
    }))
    .unwrap_err();
    assert!(err.contains("invoice[0]"), "{err}");
}
