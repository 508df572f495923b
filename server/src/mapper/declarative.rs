//! The declarative mapping: a per-tenant list of rules from Workday fields to Zendesk ticket fields,
//! organization fields and tags, with type conversion. It is the default when a tenant has no plugin, and the
//! fallback when a plugin fails (see [`super::policy`]).
//!
//! Stored as JSON in the tenant's settings under `mapping`; the same shape in TOML reads naturally:
//!
//! ```toml
//! [[invoice]]
//! source = ["invoice.purchase_order.number", "invoice.number"]   # first one present wins
//! ticket_field = 360000101
//!
//! [[invoice]]
//! source = "invoice.amount_due"
//! ticket_field = 360000103
//! convert = { type = "decimal", scale = 2 }
//!
//! [[invoice]]
//! source = "invoice.payment_status"
//! ticket_field = 360000201
//! convert = { type = "dropdown", options = { "Paid" = "wd_paid", "Unpaid" = "wd_unpaid" }, default = "wd_unpaid" }
//!
//! [[invoice]]
//! source = "invoice.payment_status"
//! tags = { "Paid" = "wd_paid", "Unpaid" = "wd_unpaid" }      # adds the matching tag, removes the others
//!
//! [[supplier]]
//! source = "supplier.payment_terms"
//! organization_field = "payment_terms"
//! default = "Net 30"
//! ```
//!
//! Sources are dotted paths into the input (see [`KNOWN_SOURCES`]); `invoice.extra.NAME` and
//! `supplier.extra.NAME` read extra Workday fields. A rule's `default` applies when no source has a value;
//! without one the rule writes nothing, or empties the field with `when_missing = "clear"`.

use std::collections::BTreeMap;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::catalog::{FieldCatalog, ValueKind, describe_target, is_decimal, valid_tag};
use super::input::{Invoice, Supplier, TicketContext};
use super::write::{FieldTarget, FieldValue, FieldWrite, Subject};
use crate::xsd::parse_date;

/// Every source path a rule may name (plus `invoice.extra.NAME` and `supplier.extra.NAME`).
pub const KNOWN_SOURCES: &[&str] = &[
    "supplier.id",
    "supplier.reference_id",
    "supplier.name",
    "supplier.status",
    "supplier.category",
    "supplier.tax_id",
    "supplier.payment_terms",
    "supplier.currency",
    "supplier.email",
    "supplier.phone",
    "supplier.address",
    "invoice.number",
    "invoice.reference_id",
    "invoice.supplier_id",
    "invoice.supplier_name",
    "invoice.status",
    "invoice.payment_status",
    "invoice.invoice_date",
    "invoice.due_date",
    "invoice.total.amount",
    "invoice.total.currency",
    "invoice.amount_due",
    "invoice.memo",
    "invoice.payments_count",
    "invoice.purchase_order.number",
    "invoice.purchase_order.reference_id",
    "invoice.purchase_order.status",
    "invoice.purchase_order.order_date",
    "invoice.purchase_order.total.amount",
    "invoice.purchase_order.total.currency",
    "invoice.purchase_order.buyer",
    "invoice.latest_payment.reference_id",
    "invoice.latest_payment.status",
    "invoice.latest_payment.payment_date",
    "invoice.latest_payment.amount.amount",
    "invoice.latest_payment.amount.currency",
    "invoice.latest_payment.method",
    "invoice.latest_payment.reference",
    "ticket.ticket_id",
    "ticket.subject",
    "ticket.organization_id",
    "ticket.requester_email",
    "ticket.brand_id",
];

/// A tenant's declarative mapping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct MappingRules {
    /// The Zendesk fields the rules may target, with their types (kept from Zendesk by the sync).
    #[serde(default)]
    pub catalog: FieldCatalog,
    /// Rules applied to a supplier (organization fields and tags).
    #[serde(default)]
    pub supplier: Vec<Rule>,
    /// Rules applied to an invoice (ticket fields and tags).
    #[serde(default)]
    pub invoice: Vec<Rule>,
}

/// One or several source paths.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Sources {
    /// One path.
    One(String),
    /// Paths tried in order; the first with a value wins.
    Many(Vec<String>),
}

impl Sources {
    fn paths(&self) -> &[String] {
        match self {
            Self::One(p) => std::slice::from_ref(p),
            Self::Many(ps) => ps,
        }
    }
}

/// One rule: a source, exactly one target, a conversion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Source path(s).
    pub source: Sources,
    /// Target: a ticket field id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_field: Option<u64>,
    /// Target: an organization field key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_field: Option<String>,
    /// Target: tags, by source value (case-insensitive). The matching tag is added and the others removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    /// How the value is converted for the field.
    #[serde(default)]
    pub convert: Convert,
    /// Value used when no source has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// What to do when there is no value and no default.
    #[serde(default)]
    pub when_missing: WhenMissing,
}

/// Conversion of a source value (text) to a typed field value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, Default)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Convert {
    /// As text.
    #[default]
    Text,
    /// A decimal, optionally rounded (half away from zero) to `scale` places.
    Decimal {
        /// Fraction digits, 0–10.
        #[serde(default)]
        scale: Option<u32>,
    },
    /// A date, `YYYY-MM-DD` (Workday offsets and timestamps are reduced to their date).
    Date,
    /// A checkbox: true when the value is one of `true_values` (case-insensitive).
    Checkbox {
        /// Values meaning "checked"; default `true`, `yes`, `y`, `1`.
        #[serde(default = "default_true_values")]
        true_values: Vec<String>,
    },
    /// A drop-down option: source value (case-insensitive) → option value.
    Dropdown {
        /// Source value → option value.
        options: BTreeMap<String, String>,
        /// Option for source values not listed (otherwise such a value is skipped and noted).
        #[serde(default)]
        default: Option<String>,
    },
}

fn default_true_values() -> Vec<String> {
    ["true", "yes", "y", "1"].map(String::from).to_vec()
}

/// Behaviour when a rule has no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum WhenMissing {
    /// Write nothing.
    #[default]
    Skip,
    /// Empty the field.
    Clear,
}

/// Why a mapping configuration is not valid. Names the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("mapping rule {section}[{index}]: {reason}")]
pub struct RuleProblem {
    /// `supplier` or `invoice`.
    pub section: &'static str,
    /// Position of the rule (0-based).
    pub index: usize,
    /// What is wrong.
    pub reason: String,
}

/// The writes of a declarative mapping, and the rules that could not be applied (with why).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, ToSchema)]
pub struct Mapped {
    /// Writes, in rule order.
    pub writes: Vec<FieldWrite>,
    /// Rules skipped because their value could not be converted.
    pub notes: Vec<String>,
}

impl MappingRules {
    /// Parses and validates the JSON form (as stored in tenant settings).
    pub fn from_json_value(value: serde_json::Value) -> Result<Self, String> {
        Self::from_json(&value)
    }

    /// [`Self::from_json_value`] from a borrowed value: reads the tenant's settings without copying them.
    pub fn from_json(value: &serde_json::Value) -> Result<Self, String> {
        let config: Self = serde_path_to_error::deserialize(value)
            .map_err(|e| format!("invalid mapping at `{}`: {}", e.path(), e.inner()))?;
        config.validate().map_err(|e| e.to_string())?;
        Ok(config)
    }

    /// Parses and validates the TOML form.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        let value: toml::Value =
            toml::from_str(text).map_err(|e| format!("invalid mapping TOML: {e}"))?;
        let json = serde_json::to_value(value).map_err(|e| format!("invalid mapping TOML: {e}"))?;
        Self::from_json_value(json)
    }

    /// Checks every rule: known sources of the right subject, exactly one target of an allowed kind, and a
    /// conversion that fits the target field's type in the catalog.
    pub fn validate(&self) -> Result<(), RuleProblem> {
        for (subject, section, rules) in [
            (Subject::Supplier, "supplier", &self.supplier),
            (Subject::Invoice, "invoice", &self.invoice),
        ] {
            for (index, rule) in rules.iter().enumerate() {
                validate_rule(&self.catalog, subject, rule).map_err(|reason| RuleProblem {
                    section,
                    index,
                    reason,
                })?;
            }
        }
        Ok(())
    }

    /// Maps a supplier to organization writes.
    pub fn map_supplier(&self, supplier: &Supplier) -> Mapped {
        let view = serde_json::json!({ "supplier": supplier });
        apply(&self.supplier, &view)
    }

    /// Maps an invoice to ticket writes.
    pub fn map_invoice(&self, invoice: &Invoice, ticket: &TicketContext) -> Mapped {
        let mut invoice_view = serde_json::to_value(invoice).unwrap_or_default();
        if let Some(obj) = invoice_view.as_object_mut() {
            let latest = invoice
                .payments
                .iter()
                .enumerate()
                .max_by_key(|(i, p)| (p.payment_date.as_deref().and_then(parse_date), *i))
                .map(|(_, p)| p);
            obj.insert(
                "latest_payment".into(),
                serde_json::to_value(latest).unwrap_or_default(),
            );
            obj.insert("payments_count".into(), invoice.payments.len().into());
        }
        let view = serde_json::json!({ "invoice": invoice_view, "ticket": ticket });
        apply(&self.invoice, &view)
    }
}

fn is_known_source(path: &str, subject: Subject) -> bool {
    let prefix_ok = match subject {
        Subject::Supplier => path.starts_with("supplier."),
        Subject::Invoice => path.starts_with("invoice.") || path.starts_with("ticket."),
    };
    let extra = ["supplier.extra.", "invoice.extra."]
        .iter()
        .any(|p| path.strip_prefix(p).is_some_and(|name| !name.is_empty()));
    prefix_ok && (extra || KNOWN_SOURCES.contains(&path))
}

fn rule_target(rule: &Rule) -> Result<Option<FieldTarget>, String> {
    match (&rule.ticket_field, &rule.organization_field, &rule.tags) {
        (Some(id), None, None) => Ok(Some(FieldTarget::TicketField { id: *id })),
        (None, Some(key), None) => Ok(Some(FieldTarget::OrganizationField { key: key.clone() })),
        (None, None, Some(_)) => Ok(None),
        _ => Err("give exactly one target: ticket_field, organization_field or tags".into()),
    }
}

fn validate_rule(catalog: &FieldCatalog, subject: Subject, rule: &Rule) -> Result<(), String> {
    let paths = rule.source.paths();
    if paths.is_empty() {
        return Err("source is empty".into());
    }
    for path in paths {
        if !is_known_source(path, subject) {
            return Err(format!(
                "unknown source `{path}` for a {} rule (see KNOWN_SOURCES in docs/plugins.md)",
                subject.as_str()
            ));
        }
    }
    let Some(target) = rule_target(rule)? else {
        let tags = rule
            .tags
            .as_ref()
            .map(|t| t.values().collect::<Vec<_>>())
            .unwrap_or_default();
        if tags.is_empty() {
            return Err("tags needs at least one value → tag entry".into());
        }
        if let Some(bad) = tags.iter().find(|t| !valid_tag(t)) {
            return Err(format!(
                "`{bad}` is not a valid tag (1 to 80 characters without spaces or commas)"
            ));
        }
        return Ok(());
    };
    match (&target, subject) {
        (FieldTarget::TicketField { .. }, Subject::Supplier) => {
            return Err("a supplier rule can only target organization fields and tags".into());
        }
        (FieldTarget::OrganizationField { .. }, Subject::Invoice) => {
            return Err("an invoice rule can only target ticket fields and tags".into());
        }
        _ => {}
    }
    if let Convert::Decimal { scale: Some(s) } = rule.convert
        && s > 10
    {
        return Err("decimal scale must be 0 to 10".into());
    }
    if let Convert::Dropdown { options, .. } = &rule.convert
        && options.is_empty()
    {
        return Err("a dropdown conversion needs at least one option".into());
    }
    // A constant default must itself convert.
    if let Some(default) = &rule.default {
        convert(&rule.convert, default).map_err(|e| format!("default: {e}"))?;
    }
    let Some((field_type, options)) = catalog.lookup(&target)? else {
        return Ok(());
    };
    let kind = match &rule.convert {
        Convert::Text => ValueKind::Text,
        Convert::Decimal { scale } => ValueKind::Decimal {
            whole: *scale == Some(0),
        },
        Convert::Date => ValueKind::Date,
        Convert::Checkbox { .. } => ValueKind::Checkbox,
        Convert::Dropdown {
            options: map,
            default,
        } => {
            if field_type.is_dropdown()
                && let Some(v) = map
                    .values()
                    .chain(default.iter())
                    .find(|v| !options.contains(v))
            {
                return Err(format!(
                    "`{v}` is not an option of {}",
                    describe_target(&target)
                ));
            }
            ValueKind::DropdownOption
        }
    };
    if kind.fits(field_type) {
        Ok(())
    } else {
        Err(format!(
            "conversion {} does not fit {} of type {field_type:?} (an integer field needs decimal with scale 0)",
            convert_name(&rule.convert),
            describe_target(&target)
        ))
    }
}

fn convert_name(c: &Convert) -> &'static str {
    match c {
        Convert::Text => "text",
        Convert::Decimal { .. } => "decimal",
        Convert::Date => "date",
        Convert::Checkbox { .. } => "checkbox",
        Convert::Dropdown { .. } => "dropdown",
    }
}

/// The value at a dotted path, as text; `None` for missing, null or empty.
fn lookup(view: &serde_json::Value, path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for prefix in ["supplier.extra.", "invoice.extra."] {
        if let Some(name) = path.strip_prefix(prefix) {
            let head = prefix.trim_end_matches('.');
            parts.extend(head.split('.'));
            parts.push(name);
        }
    }
    if parts.is_empty() {
        parts.extend(path.split('.'));
    }
    let mut current = view;
    for part in parts {
        current = current.get(part)?;
    }
    match current {
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn convert(how: &Convert, raw: &str) -> Result<FieldValue, String> {
    match how {
        Convert::Text => Ok(FieldValue::Text(raw.to_string())),
        Convert::Decimal { scale } => {
            if !is_decimal(raw) {
                return Err(format!("`{raw}` is not a decimal"));
            }
            let mut d: Decimal = raw
                .parse()
                .map_err(|_| format!("`{raw}` is out of range for a decimal"))?;
            if let Some(s) = scale {
                d = d.round_dp_with_strategy(*s, RoundingStrategy::MidpointAwayFromZero);
                d.rescale(*s);
            }
            Ok(FieldValue::Decimal(d.to_string()))
        }
        Convert::Date => parse_date(raw)
            .map(|d| FieldValue::Date(d.format("%Y-%m-%d").to_string()))
            .ok_or_else(|| format!("`{raw}` is not a date (YYYY-MM-DD)")),
        Convert::Checkbox { true_values } => Ok(FieldValue::Checkbox(
            true_values.iter().any(|t| t.eq_ignore_ascii_case(raw)),
        )),
        Convert::Dropdown { options, default } => options
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(raw))
            .map(|(_, v)| v.clone())
            .or_else(|| default.clone())
            .map(FieldValue::DropdownOption)
            .ok_or_else(|| format!("`{raw}` has no drop-down option and the rule has no default")),
    }
}

fn apply(rules: &[Rule], view: &serde_json::Value) -> Mapped {
    let mut out = Mapped::default();
    for (index, rule) in rules.iter().enumerate() {
        let value = rule.source.paths().iter().find_map(|p| lookup(view, p));
        let target = match rule_target(rule) {
            Ok(t) => t,
            Err(e) => {
                out.notes.push(format!("rule {index}: {e}"));
                continue;
            }
        };
        let Some(target) = target else {
            // Tags: add the matching one, remove the others.
            let (Some(tags), Some(value)) = (&rule.tags, value.or_else(|| rule.default.clone()))
            else {
                continue;
            };
            let matched = tags
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&value))
                .map(|(_, t)| t);
            match matched {
                Some(tag) => {
                    for other in tags.values() {
                        out.writes.push(FieldWrite {
                            target: FieldTarget::Tag {
                                name: other.clone(),
                            },
                            value: FieldValue::Checkbox(other == tag),
                        });
                    }
                }
                None => out
                    .notes
                    .push(format!("rule {index}: no tag for value `{value}`")),
            }
            continue;
        };
        let field_value = match value.or_else(|| rule.default.clone()) {
            Some(raw) => match convert(&rule.convert, &raw) {
                Ok(v) => v,
                Err(e) => {
                    out.notes
                        .push(format!("rule {index} ({}): {e}", describe_target(&target)));
                    continue;
                }
            },
            None if rule.when_missing == WhenMissing::Clear => FieldValue::Clear,
            None => continue,
        };
        out.writes.push(FieldWrite {
            target,
            value: field_value,
        });
    }
    out
}
