//! Tenant setup (`ml-connector setup`, `POST /admin/v1/{tenant}/setup`) and mapping management (`ml-connector
//! mapping`): one idempotent routine that finds or creates what the tenant's Zendesk needs — the standard
//! organization and ticket fields, the webhook receiving ticket activity and the trigger feeding it — seals the
//! webhook's signing secret, and writes the default declarative mapping against the real field ids; and the
//! checked replacement of a tenant's mapping against the field catalog read from Zendesk.
//!
//! Nothing is ever deleted or changed in Zendesk: a field is found by its key (organization fields) or its
//! title (ticket fields, which have no key) and created only when missing; a second run makes no write.

use std::collections::BTreeMap;
use std::fmt;

use secrecy::ExposeSecret as _;
use serde::Serialize;

use super::App;
use super::context::{ContextError, TenantContext};
use super::probe::probe_tenant;
use crate::mapper::FailurePolicy;
use crate::mapper::catalog::{FieldCatalog, FieldType, OrganizationFieldSpec, TicketFieldSpec};
use crate::mapper::declarative::{Convert, MappingRules, Rule, Sources, WhenMissing};
use crate::store::StoreError;
use crate::tenant::{SecretName, TenantSettings, ZendeskSetup};
use crate::zendesk::ZendeskError;
use crate::zendesk::automation::TicketFieldSpec as ZdTicketFieldSpec;
use crate::zendesk::fields::ReportedType;
use crate::zendesk::org_fields::OrganizationFieldSpec as ZdOrgFieldSpec;

/// A standard organization field: role, key, title, type.
pub const ORGANIZATION_FIELDS: [(&str, &str, &str, FieldType); 7] = [
    (
        "supplier_id",
        "wd_supplier_id",
        "Workday supplier ID",
        FieldType::Text,
    ),
    (
        "status",
        "wd_supplier_status",
        "Workday supplier status",
        FieldType::Text,
    ),
    (
        "payment_terms",
        "wd_payment_terms",
        "Workday payment terms",
        FieldType::Text,
    ),
    (
        "currency",
        "wd_currency",
        "Workday currency",
        FieldType::Text,
    ),
    (
        "open_amount",
        "wd_open_amount",
        "Workday open amount",
        FieldType::Decimal,
    ),
    (
        "overdue_amount",
        "wd_overdue_amount",
        "Workday overdue amount",
        FieldType::Decimal,
    ),
    (
        "last_synced",
        "wd_last_synced",
        "Workday last synced",
        FieldType::Date,
    ),
];

/// A standard ticket field: role, title, type.
pub const TICKET_FIELDS: [(&str, &str, FieldType); 6] = [
    ("invoice_number", "Workday invoice number", FieldType::Text),
    ("amount", "Workday invoice amount", FieldType::Decimal),
    ("currency", "Workday invoice currency", FieldType::Text),
    ("due_date", "Workday invoice due date", FieldType::Date),
    ("po_number", "Workday PO number", FieldType::Text),
    (
        "payment_status",
        "Workday payment status",
        FieldType::Tagger,
    ),
];

/// The options of the payment status drop-down: name, value (tag), and the mapper's source value.
pub const PAYMENT_STATUS_OPTIONS: [(&str, &str, &str); 4] = [
    ("paid", "wd_paid", "Paid"),
    ("partially paid", "wd_partially_paid", "Partially Paid"),
    ("unpaid", "wd_unpaid", "Unpaid"),
    ("overdue", "wd_overdue", "Overdue"),
];

/// The trigger's title (also how it is found again, with its webhook).
pub const TRIGGER_TITLE: &str = "ml-connector: ticket activity to Workday enrichment";
/// The body the trigger sends (the receiver reads `ticket_id`).
pub const TRIGGER_PAYLOAD: &str = r#"{"ticket_id": "{{ticket.id}}"}"#;

/// What happened to one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// It existed as needed.
    Found,
    /// It was created.
    Created,
    /// It was changed (a secret re-sealed, the mapping rewritten).
    Changed,
    /// Dry run: it would be created.
    WouldCreate,
    /// Dry run: it would be changed.
    WouldChange,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Found => "found",
            Self::Created => "created",
            Self::Changed => "changed",
            Self::WouldCreate => "would create",
            Self::WouldChange => "would change",
        })
    }
}

/// One line of a setup report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SetupStep {
    /// What, e.g. `ticket field "Workday invoice amount"`.
    pub item: String,
    /// What happened.
    pub outcome: Outcome,
    /// Ids and particulars.
    pub detail: String,
}

impl fmt::Display for SetupStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:<13} {}", self.outcome.to_string(), self.item)?;
        if !self.detail.is_empty() {
            write!(f, " ({})", self.detail)?;
        }
        Ok(())
    }
}

/// What a setup run did (or, dry, would do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SetupReport {
    /// Whether nothing was written.
    pub dry_run: bool,
    /// One line per item, in order.
    pub steps: Vec<SetupStep>,
}

impl SetupReport {
    /// Whether the run created or changed anything (or, dry, would).
    pub fn changed_anything(&self) -> bool {
        self.steps.iter().any(|s| s.outcome != Outcome::Found)
    }
}

/// Why setup or a mapping change stopped.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// An upstream failed its check.
    #[error("upstream check failed: {0}")]
    Probe(String),
    /// `server.public_url` is not set.
    #[error(
        "server.public_url is not set: Zendesk needs the URL it reaches this server at to send ticket activity"
    )]
    NoPublicUrl,
    /// A field exists with the standard key or title but another type; it is left alone.
    #[error("{item} exists with type `{actual}`, expected `{expected}`; it was left unchanged")]
    FieldTypeMismatch {
        /// The field.
        item: String,
        /// The standard type.
        expected: String,
        /// Its type in Zendesk.
        actual: String,
    },
    /// The mapping is not valid (the message names the rule and the field).
    #[error("{0}")]
    Mapping(String),
    /// The tenant's context.
    #[error(transparent)]
    Context(#[from] ContextError),
    /// Zendesk refused or failed.
    #[error("zendesk: {0}")]
    Zendesk(#[from] ZendeskError),
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SetupError {
    /// A stable code for APIs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Probe(_) => "upstream_check_failed",
            Self::NoPublicUrl => "public_url_not_set",
            Self::FieldTypeMismatch { .. } => "field_type_mismatch",
            Self::Mapping(_) => "invalid_mapping",
            Self::Context(e) => e.code(),
            Self::Zendesk(_) => "zendesk_error",
            Self::Store(_) => "store_error",
        }
    }
}

/// The webhook URL of tenant `tenant` under `public_url`.
pub fn webhook_url(public_url: &str, tenant: &str) -> String {
    format!(
        "{}/webhooks/zendesk/{tenant}",
        public_url.trim().trim_end_matches('/')
    )
}

/// The field catalog of the tenant's Zendesk account: its active custom ticket fields and active organization
/// fields, with types and drop-down options. A field deleted or deactivated in Zendesk is not in it, so a rule
/// or a write naming it is refused.
pub async fn read_catalog(ctx: &TenantContext) -> Result<FieldCatalog, SetupError> {
    let zendesk = ctx.zendesk().await?;
    let ticket_fields = zendesk.ticket_fields().await?;
    let org_fields = zendesk.organization_fields().await?;
    Ok(catalog_of(&ticket_fields, &org_fields))
}

fn catalog_of(
    ticket_fields: &[crate::zendesk::tickets::TicketField],
    org_fields: &[crate::zendesk::org_fields::OrganizationField],
) -> FieldCatalog {
    FieldCatalog {
        ticket_fields: ticket_fields
            .iter()
            .filter(|f| f.active)
            .filter_map(|f| match &f.field_type {
                ReportedType::Custom(t) => Some(TicketFieldSpec {
                    id: f.id,
                    field_type: *t,
                    title: f.title.clone(),
                    options: f
                        .custom_field_options
                        .iter()
                        .map(|o| o.value.clone())
                        .collect(),
                }),
                ReportedType::Other(_) => None,
            })
            .collect(),
        organization_fields: org_fields
            .iter()
            .filter(|f| f.active)
            .filter_map(|f| match &f.field_type {
                ReportedType::Custom(t) => Some(OrganizationFieldSpec {
                    key: f.key.clone(),
                    field_type: *t,
                    title: f.title.clone(),
                    options: f
                        .custom_field_options
                        .iter()
                        .map(|o| o.value.clone())
                        .collect(),
                }),
                ReportedType::Other(_) => None,
            })
            .collect(),
    }
}

fn rule(source: &str, convert: Convert) -> Rule {
    Rule {
        source: Sources::One(source.into()),
        ticket_field: None,
        organization_field: None,
        tags: None,
        convert,
        default: None,
        when_missing: WhenMissing::Skip,
    }
}

/// The default rules against the ids in `ids`.
pub fn default_rules(ids: &ZendeskSetup) -> (Vec<Rule>, Vec<Rule>) {
    let org = |role: &str, source: &str| {
        ids.organization_fields.get(role).map(|key| Rule {
            organization_field: Some(key.clone()),
            ..rule(source, Convert::Text)
        })
    };
    let supplier = [
        org("supplier_id", "supplier.id"),
        org("status", "supplier.status"),
        org("payment_terms", "supplier.payment_terms"),
        org("currency", "supplier.currency"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let ticket = |role: &str, source: &str, convert: Convert| {
        ids.ticket_fields.get(role).map(|id| Rule {
            ticket_field: Some(*id),
            ..rule(source, convert)
        })
    };
    let options: BTreeMap<String, String> = PAYMENT_STATUS_OPTIONS
        .iter()
        .map(|(_, value, source)| ((*source).to_string(), (*value).to_string()))
        .collect();
    let invoice = [
        ticket("invoice_number", "invoice.number", Convert::Text),
        ticket(
            "amount",
            "invoice.total.amount",
            Convert::Decimal { scale: Some(2) },
        ),
        ticket("currency", "invoice.total.currency", Convert::Text),
        ticket("due_date", "invoice.due_date", Convert::Date),
        ticket("po_number", "invoice.purchase_order.number", Convert::Text),
        ticket(
            "payment_status",
            "invoice.payment_status",
            Convert::Dropdown {
                options,
                default: None,
            },
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    (supplier, invoice)
}

fn same_target(a: &Rule, b: &Rule) -> bool {
    (a.ticket_field.is_some() && a.ticket_field == b.ticket_field)
        || (a.organization_field.is_some() && a.organization_field == b.organization_field)
}

/// The tenant's rules with the default rules added for every standard field no rule targets yet: a rule the
/// tenant wrote or edited is never replaced.
fn merged(
    existing: Option<&MappingRules>,
    catalog: FieldCatalog,
    ids: &ZendeskSetup,
) -> MappingRules {
    let (supplier_defaults, invoice_defaults) = default_rules(ids);
    let mut rules = existing.cloned().unwrap_or_default();
    rules.catalog = catalog;
    for d in supplier_defaults {
        if !rules.supplier.iter().any(|r| same_target(r, &d)) {
            rules.supplier.push(d);
        }
    }
    for d in invoice_defaults {
        if !rules.invoice.iter().any(|r| same_target(r, &d)) {
            rules.invoice.push(d);
        }
    }
    rules
}

fn step(item: String, outcome: Outcome, detail: String) -> SetupStep {
    SetupStep {
        item,
        outcome,
        detail,
    }
}

/// Runs setup for the tenant of `ctx` (see the module documentation). With `dry_run` nothing is written, in
/// Zendesk, the vault or the database; the report says what would be.
pub async fn run_setup(
    app: &App,
    ctx: &TenantContext,
    dry_run: bool,
) -> Result<SetupReport, SetupError> {
    let public_url = app.config().server.public_url.trim().to_string();
    if public_url.is_empty() {
        return Err(SetupError::NoPublicUrl);
    }
    let probe = probe_tenant(ctx).await;
    if !probe.ok() {
        let mut reasons = Vec::new();
        match &probe.workday {
            Ok(lines) => reasons.extend(lines.iter().filter(|l| !l.ok).map(|l| l.to_string())),
            Err(e) => reasons.push(format!("workday: {e}")),
        }
        if let Err(e) = &probe.zendesk {
            reasons.push(format!("zendesk: {e}"));
        }
        return Err(SetupError::Probe(reasons.join("; ")));
    }
    let would = |created: Outcome| {
        if dry_run {
            Outcome::WouldCreate
        } else {
            created
        }
    };
    let zendesk = ctx.zendesk().await?;
    let mut steps = Vec::new();
    let mut ids = ZendeskSetup::default();

    // Organization fields, by key.
    let mut org_fields = zendesk.organization_fields().await?;
    for (role, key, title, field_type) in ORGANIZATION_FIELDS {
        let item = format!("organization field `{key}`");
        match org_fields.iter().find(|f| f.key == key) {
            Some(f) if f.field_type != field_type => {
                return Err(SetupError::FieldTypeMismatch {
                    item,
                    expected: field_type.to_string(),
                    actual: f.field_type.to_string(),
                });
            }
            Some(f) => steps.push(step(item, Outcome::Found, format!("id {}", f.id))),
            None if dry_run => steps.push(step(item, Outcome::WouldCreate, field_type.to_string())),
            None => {
                let created = zendesk
                    .ensure_organization_fields(&[ZdOrgFieldSpec {
                        key: key.into(),
                        title: title.into(),
                        field_type,
                        description: Some("Kept from Workday by ml-connector.".into()),
                        options: Vec::new(),
                    }])
                    .await?;
                let f = created
                    .into_iter()
                    .next()
                    .ok_or_else(|| SetupError::Mapping(format!("{item} was not created")))?;
                steps.push(step(item, Outcome::Created, format!("id {}", f.id)));
                org_fields.push(f);
            }
        }
        ids.organization_fields.insert(role.into(), key.into());
    }

    // Ticket fields, by title (an inactive one is not reused).
    let mut ticket_fields = zendesk.ticket_fields().await?;
    for (role, title, field_type) in TICKET_FIELDS {
        let item = format!("ticket field \"{title}\"");
        let options: Vec<(String, String)> = if field_type == FieldType::Tagger {
            PAYMENT_STATUS_OPTIONS
                .iter()
                .map(|(name, value, _)| ((*name).to_string(), (*value).to_string()))
                .collect()
        } else {
            Vec::new()
        };
        match ticket_fields.iter().find(|f| f.active && f.title == title) {
            Some(f) if f.field_type != field_type => {
                return Err(SetupError::FieldTypeMismatch {
                    item,
                    expected: field_type.to_string(),
                    actual: f.field_type.to_string(),
                });
            }
            Some(f) => {
                let missing: Vec<&str> = options
                    .iter()
                    .filter(|(_, v)| !f.custom_field_options.iter().any(|o| &o.value == v))
                    .map(|(_, v)| v.as_str())
                    .collect();
                let detail = if missing.is_empty() {
                    format!("id {}", f.id)
                } else {
                    format!(
                        "id {}; options missing in Zendesk, rules using them are refused: {}",
                        f.id,
                        missing.join(", ")
                    )
                };
                steps.push(step(item, Outcome::Found, detail));
                ids.ticket_fields.insert(role.into(), f.id);
            }
            None if dry_run => steps.push(step(item, Outcome::WouldCreate, field_type.to_string())),
            None => {
                let f = zendesk
                    .create_ticket_field(&ZdTicketFieldSpec {
                        title: title.into(),
                        field_type,
                        description: Some("Kept from Workday by ml-connector.".into()),
                        options,
                    })
                    .await?;
                steps.push(step(item, Outcome::Created, format!("id {}", f.id)));
                ids.ticket_fields.insert(role.into(), f.id);
                ticket_fields.push(f);
            }
        }
    }

    // The webhook, by endpoint.
    let endpoint = webhook_url(&public_url, ctx.id().as_str());
    let webhooks = zendesk.webhooks().await?;
    let webhook = match webhooks.into_iter().find(|w| w.endpoint == endpoint) {
        Some(w) => {
            steps.push(step(
                format!("webhook {endpoint}"),
                Outcome::Found,
                format!("id {}", w.id),
            ));
            Some(w)
        }
        None if dry_run => {
            steps.push(step(
                format!("webhook {endpoint}"),
                Outcome::WouldCreate,
                String::new(),
            ));
            None
        }
        None => {
            let w = zendesk
                .create_trigger_webhook(
                    &format!("ml-connector ({})", ctx.id()),
                    &endpoint,
                    "Ticket activity for ml-connector's Workday enrichment.",
                )
                .await?;
            steps.push(step(
                format!("webhook {endpoint}"),
                would(Outcome::Created),
                format!("id {}", w.id),
            ));
            Some(w)
        }
    };

    // Its signing secret, sealed; and the trigger, by the webhook it notifies.
    if let Some(w) = &webhook {
        ids.webhook_id = Some(w.id.clone());
        let secret = zendesk.webhook_signing_secret(&w.id).await?;
        let stored = ctx.secret(SecretName::WebhookSigningSecret).await?;
        let item = format!("secret {}", SecretName::WebhookSigningSecret);
        if stored.as_ref().map(|s| s.expose_secret()) == Some(secret.expose_secret()) {
            steps.push(step(item, Outcome::Found, "sealed, current".into()));
        } else if dry_run {
            steps.push(step(item, Outcome::WouldChange, String::new()));
        } else {
            app.store()
                .put_secret(
                    app.vault(),
                    ctx.id(),
                    SecretName::WebhookSigningSecret,
                    &secret,
                )
                .await?;
            let outcome = if stored.is_some() {
                Outcome::Changed
            } else {
                Outcome::Created
            };
            steps.push(step(item, outcome, "sealed".into()));
        }
        let triggers = zendesk.triggers().await?;
        let item = format!("trigger \"{TRIGGER_TITLE}\"");
        match triggers.into_iter().find(|t| t.notifies(&w.id)) {
            Some(t) => {
                let detail = if t.active {
                    format!("id {}", t.id)
                } else {
                    format!("id {}; INACTIVE: activate it in Zendesk", t.id)
                };
                steps.push(step(item, Outcome::Found, detail));
                ids.trigger_id = Some(t.id);
            }
            None if dry_run => steps.push(step(item, Outcome::WouldCreate, String::new())),
            None => {
                let t = zendesk
                    .create_webhook_trigger(TRIGGER_TITLE, &w.id, TRIGGER_PAYLOAD)
                    .await?;
                steps.push(step(item, Outcome::Created, format!("id {}", t.id)));
                ids.trigger_id = Some(t.id);
            }
        }
    } else {
        steps.push(step(
            format!("secret {}", SecretName::WebhookSigningSecret),
            Outcome::WouldCreate,
            String::new(),
        ));
        steps.push(step(
            format!("trigger \"{TRIGGER_TITLE}\""),
            Outcome::WouldCreate,
            String::new(),
        ));
    }

    // The mapping and the ids, in the tenant's settings.
    let catalog = catalog_of(&ticket_fields, &org_fields);
    let current = ctx.settings();
    let rules = merged(current.mapping.as_ref(), catalog, &ids);
    rules
        .validate()
        .map_err(|e| SetupError::Mapping(e.to_string()))?;
    let rules_changed =
        current.mapping.as_ref().map(rules_without_catalog) != Some(rules_without_catalog(&rules));
    let catalog_changed = current.mapping.as_ref().map(|m| &m.catalog) != Some(&rules.catalog);
    let ids_changed = current.zendesk_setup.as_ref() != Some(&ids);
    let item = "mapping and field ids in the tenant's settings".to_string();
    if !(rules_changed || catalog_changed || ids_changed) {
        steps.push(step(item, Outcome::Found, "current".into()));
    } else if dry_run {
        steps.push(step(item, Outcome::WouldChange, String::new()));
    } else {
        let detail = format!(
            "{} supplier and {} invoice rules, {} ticket and {} organization fields in the catalog",
            rules.supplier.len(),
            rules.invoice.len(),
            rules.catalog.ticket_fields.len(),
            rules.catalog.organization_fields.len()
        );
        app.store()
            .modify_tenant(ctx.id(), |t| {
                // Rules edited since the context was read are kept: merge into the row as it is now.
                let latest = merged(t.settings.mapping.as_ref(), rules.catalog.clone(), &ids);
                t.settings.mapping = Some(latest);
                t.settings.zendesk_setup = Some(ids.clone());
                Ok::<_, StoreError>(())
            })
            .await?;
        app.forget(ctx.id()).await;
        steps.push(step(item, Outcome::Changed, detail));
    }
    Ok(SetupReport { dry_run, steps })
}

fn rules_without_catalog(m: &MappingRules) -> (Vec<Rule>, Vec<Rule>) {
    (m.supplier.clone(), m.invoice.clone())
}

/// A mapping as a person edits it: the rules and the plugin failure policy, no catalog (that is read from
/// Zendesk).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MappingFile {
    /// The rules (their catalog is ignored).
    pub rules: MappingRules,
    /// `plugin_failure_policy`, if the file sets one.
    pub failure_policy: Option<FailurePolicy>,
}

impl MappingFile {
    /// Reads the TOML form: `[[supplier]]` and `[[invoice]]` rules and an optional top-level
    /// `plugin_failure_policy = "fallback" | "write_nothing"`. A `[catalog]` is refused.
    pub fn from_toml(text: &str) -> Result<Self, SetupError> {
        let value: toml::Table = toml::from_str(text)
            .map_err(|e| SetupError::Mapping(format!("invalid mapping TOML: {e}")))?;
        let json = serde_json::to_value(&value)
            .map_err(|e| SetupError::Mapping(format!("invalid mapping TOML: {e}")))?;
        Self::from_json(json)
    }

    /// Reads the JSON form (the admin API's): the same keys as the TOML form.
    pub fn from_json(value: serde_json::Value) -> Result<Self, SetupError> {
        let serde_json::Value::Object(mut value) = value else {
            return Err(SetupError::Mapping(
                "a mapping is an object with `supplier` and `invoice` rule lists".into(),
            ));
        };
        if value.contains_key("catalog") {
            return Err(SetupError::Mapping(
                "remove [catalog]: the field catalog is read from Zendesk".into(),
            ));
        }
        let failure_policy = match value.remove("plugin_failure_policy") {
            None | Some(serde_json::Value::Null) => None,
            Some(v) => Some(serde_json::from_value(v.clone()).map_err(|_| {
                SetupError::Mapping(format!(
                    "plugin_failure_policy: expected \"fallback\" or \"write_nothing\", got {v}"
                ))
            })?),
        };
        let rules: MappingRules =
            serde_path_to_error::deserialize(serde_json::Value::Object(value)).map_err(|e| {
                SetupError::Mapping(format!("invalid mapping at `{}`: {}", e.path(), e.inner()))
            })?;
        Ok(Self {
            rules,
            failure_policy,
        })
    }

    /// The JSON form of a tenant's mapping (the admin API's): `supplier`, `invoice`, `plugin_failure_policy`.
    pub fn to_json(settings: &TenantSettings) -> serde_json::Value {
        let mut out = serde_json::Map::new();
        let (supplier, invoice) = settings
            .mapping
            .as_ref()
            .map(|m| (m.supplier.clone(), m.invoice.clone()))
            .unwrap_or_default();
        out.insert(
            "supplier".into(),
            serde_json::to_value(supplier).unwrap_or_default(),
        );
        out.insert(
            "invoice".into(),
            serde_json::to_value(invoice).unwrap_or_default(),
        );
        out.insert(
            "plugin_failure_policy".into(),
            serde_json::to_value(settings.plugin_failure_policy).unwrap_or_default(),
        );
        serde_json::Value::Object(out)
    }

    /// The TOML form of a tenant's mapping (rules and policy; no catalog).
    pub fn to_toml(settings: &TenantSettings) -> String {
        let mut table = toml::Table::new();
        if let Some(p) = settings.plugin_failure_policy {
            table.insert(
                "plugin_failure_policy".into(),
                toml::Value::String(
                    serde_json::to_value(p)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                ),
            );
        }
        if let Some(m) = &settings.mapping {
            for (name, rules) in [("supplier", &m.supplier), ("invoice", &m.invoice)] {
                if let Ok(toml::Value::Array(a)) = toml::Value::try_from(rules) {
                    table.insert(name.into(), toml::Value::Array(a));
                }
            }
        }
        toml::to_string_pretty(&table).unwrap_or_default()
    }
}

/// Checks `file` against the tenant's Zendesk fields, read now. Returns the rules with that catalog.
pub async fn check_mapping(
    ctx: &TenantContext,
    file: &MappingFile,
) -> Result<MappingRules, SetupError> {
    let mut rules = file.rules.clone();
    rules.catalog = read_catalog(ctx).await?;
    rules
        .validate()
        .map_err(|e| SetupError::Mapping(e.to_string()))?;
    Ok(rules)
}

/// Replaces the tenant's mapping with `file`, checked first against the catalog read from Zendesk now; a
/// refused mapping leaves the stored one as it was.
pub async fn set_mapping(
    app: &App,
    ctx: &TenantContext,
    file: &MappingFile,
) -> Result<MappingRules, SetupError> {
    let rules = check_mapping(ctx, file).await?;
    let stored = rules.clone();
    let policy = file.failure_policy;
    app.store()
        .modify_tenant(ctx.id(), move |t| {
            t.settings.mapping = Some(stored);
            if policy.is_some() {
                t.settings.plugin_failure_policy = policy;
            }
            Ok::<_, StoreError>(())
        })
        .await?;
    app.forget(ctx.id()).await;
    Ok(rules)
}
