//! Organization fields (`organization_fields`), provisioned by key: a field is created when no field has its
//! key, never twice (a create whose answer was lost, or that lost a race, is found by listing again).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::client::{Call, ZendeskClient};
use super::de;
use super::error::ZendeskError;
use super::fields::{FieldType, ReportedType};

/// An option of a dropdown or multiselect field.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct FieldOption {
    /// Option id.
    #[serde(default, deserialize_with = "de::opt_id")]
    pub id: Option<u64>,
    /// Display name.
    pub name: String,
    /// The value (a tag) written to records.
    pub value: String,
}

/// An organization field definition.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct OrganizationField {
    /// Field id.
    #[serde(deserialize_with = "de::id")]
    pub id: u64,
    /// Key used in `organization_fields`.
    pub key: String,
    /// Type (`text`, `dropdown`, ...).
    #[serde(rename = "type")]
    pub field_type: ReportedType,
    /// Title shown to agents.
    #[serde(default)]
    pub title: String,
    /// Whether it is active.
    #[serde(default = "yes")]
    pub active: bool,
    /// Options of dropdown / multiselect fields.
    #[serde(default, deserialize_with = "de::null_default")]
    pub custom_field_options: Vec<FieldOption>,
}

fn yes() -> bool {
    true
}

/// An organization field that must exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationFieldSpec {
    /// Key (letters, digits, underscores; not only digits).
    pub key: String,
    /// Title.
    pub title: String,
    /// A type organization fields can have ([`FieldType::on_organizations`]).
    pub field_type: FieldType,
    /// Description shown to agents.
    pub description: Option<String>,
    /// `(name, value)` options for dropdown / multiselect.
    pub options: Vec<(String, String)>,
}

impl OrganizationFieldSpec {
    fn check(&self) -> Result<(), ZendeskError> {
        let key_ok = !self.key.is_empty()
            && self
                .key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && !self.key.bytes().all(|b| b.is_ascii_digit());
        if !key_ok {
            return Err(ZendeskError::InvalidInput(format!(
                "organization field key `{}`: use letters, digits and underscores (not only digits)",
                self.key
            )));
        }
        if !self.field_type.on_organizations() {
            let allowed: Vec<&str> = FieldType::ALL
                .into_iter()
                .filter(|t| t.on_organizations())
                .map(FieldType::as_str)
                .collect();
            return Err(ZendeskError::InvalidInput(format!(
                "organization field `{}`: type `{}` is for ticket fields (one of {})",
                self.key,
                self.field_type,
                allowed.join(", ")
            )));
        }
        if self.title.trim().is_empty() {
            return Err(ZendeskError::InvalidInput(format!(
                "organization field `{}` needs a title",
                self.key
            )));
        }
        Ok(())
    }

    fn body(&self) -> Value {
        let mut f = json!({"type": self.field_type.as_str(), "title": self.title, "key": self.key});
        if let Some(d) = &self.description {
            f["description"] = json!(d);
        }
        if !self.options.is_empty() {
            f["custom_field_options"] = Value::Array(
                self.options
                    .iter()
                    .map(|(name, value)| json!({"name": name, "value": value}))
                    .collect(),
            );
        }
        json!({"organization_field": f})
    }
}

#[derive(Deserialize)]
struct One {
    organization_field: OrganizationField,
}

impl ZendeskClient {
    /// `GET /api/v2/organization_fields`, every page (cursor pagination).
    pub async fn organization_fields(&self) -> Result<Vec<OrganizationField>, ZendeskError> {
        self.list_all("organization_fields", "organization_fields")
            .await
    }

    /// Makes sure a field exists for every spec (by key), creating the missing ones; returns the fields in
    /// spec order. A field with the key but another type is an error (it is not changed).
    pub async fn ensure_organization_fields(
        &self,
        specs: &[OrganizationFieldSpec],
    ) -> Result<Vec<OrganizationField>, ZendeskError> {
        for s in specs {
            s.check()?;
        }
        let mut existing = self.organization_fields().await?;
        let mut out = Vec::with_capacity(specs.len());
        for spec in specs {
            let field = match existing.iter().find(|f| f.key == spec.key) {
                Some(f) => f.clone(),
                None => {
                    let f = self.create_organization_field(spec).await?;
                    existing.push(f.clone());
                    f
                }
            };
            if field.field_type != spec.field_type {
                return Err(ZendeskError::FieldTypeMismatch {
                    key: spec.key.clone(),
                    expected: spec.field_type.to_string(),
                    actual: field.field_type.to_string(),
                });
            }
            out.push(field);
        }
        Ok(out)
    }

    async fn create_organization_field(
        &self,
        spec: &OrganizationFieldSpec,
    ) -> Result<OrganizationField, ZendeskError> {
        let mut unknown = 0;
        loop {
            let error = match self
                .call_json::<One>(Call::post("organization_fields", spec.body()))
                .await
            {
                Ok(one) => return Ok(one.organization_field),
                Err(e) => e,
            };
            let key_taken = matches!(&error, ZendeskError::Validation { details, .. }
                if details.get("key").is_some());
            if !(key_taken || error.is_ambiguous()) {
                return Err(error);
            }
            // Created by a lost attempt or by someone else in the meantime?
            if let Some(f) = self
                .organization_fields()
                .await?
                .into_iter()
                .find(|f| f.key == spec.key)
            {
                return Ok(f);
            }
            unknown += 1;
            if key_taken || unknown > self.config().retry.max_retries {
                return Err(error);
            }
        }
    }
}
