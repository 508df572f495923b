//! Tenants: one Zendesk account (its subdomain is the tenant id) paired with one Workday tenant.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A tenant id: the Zendesk subdomain (`acme` for `acme.zendesk.com`).
///
/// Zendesk subdomains are 1–63 characters of lowercase letters, digits and hyphens, neither starting nor
/// ending with a hyphen (a DNS label).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct TenantId(String);

/// Why a string is not a tenant id.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid tenant id `{value}`: {reason}")]
pub struct InvalidTenantId {
    value: String,
    reason: &'static str,
}

impl TenantId {
    /// Validates a Zendesk subdomain.
    pub fn parse(value: &str) -> Result<Self, InvalidTenantId> {
        let shown: String = value.chars().take(80).collect();
        let fail = |reason| {
            Err(InvalidTenantId {
                value: shown.clone(),
                reason,
            })
        };
        if value.is_empty() || value.len() > 63 {
            return fail("must be 1 to 63 characters (the Zendesk subdomain)");
        }
        if !value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return fail(
                "only lowercase letters, digits and '-' are allowed (the Zendesk subdomain)",
            );
        }
        if value.starts_with('-') || value.ends_with('-') {
            return fail("must not start or end with '-'");
        }
        Ok(Self(value.to_string()))
    }

    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for TenantId {
    type Err = InvalidTenantId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl<'de> Deserialize<'de> for TenantId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The secrets a tenant can hold. All of them are sealed in the vault; none is ever shown back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SecretName {
    /// Password of the Workday integration system user (WS-Security PasswordText).
    WorkdayPassword,
    /// OAuth2 client secret of the Workday API client (REST reads).
    WorkdayClientSecret,
    /// OAuth2 refresh token issued by Workday for the API client.
    WorkdayRefreshToken,
    /// Zendesk API token (used with the tenant's Zendesk e-mail).
    ZendeskApiToken,
    /// OAuth2 client secret of the Zendesk OAuth client.
    ZendeskOauthClientSecret,
    /// Current Zendesk OAuth access token (rotated together with the refresh token).
    ZendeskOauthAccessToken,
    /// Current Zendesk OAuth refresh token (rotated on every refresh).
    ZendeskOauthRefreshToken,
    /// When the Zendesk OAuth refresh token expires (RFC 3339), as Zendesk said (`refresh_token_expires_in`);
    /// written with the pair it belongs to.
    ZendeskOauthRefreshExpiresAt,
    /// Shared secret of the sidebar app's HS256 JWTs.
    JwtSharedSecret,
    /// Signing secret of the Zendesk webhook.
    WebhookSigningSecret,
    /// A Zendesk OAuth authorization in progress (`tenant zendesk-oauth`): its `state` and PKCE verifier,
    /// kept between printing the approval URL and exchanging the code.
    ZendeskOauthPending,
}

impl SecretName {
    /// Every secret name, in display order.
    pub const ALL: [SecretName; 11] = [
        Self::WorkdayPassword,
        Self::WorkdayClientSecret,
        Self::WorkdayRefreshToken,
        Self::ZendeskApiToken,
        Self::ZendeskOauthClientSecret,
        Self::ZendeskOauthAccessToken,
        Self::ZendeskOauthRefreshToken,
        Self::ZendeskOauthRefreshExpiresAt,
        Self::JwtSharedSecret,
        Self::WebhookSigningSecret,
        Self::ZendeskOauthPending,
    ];

    /// The kebab-case name used on the command line and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WorkdayPassword => "workday-password",
            Self::WorkdayClientSecret => "workday-client-secret",
            Self::WorkdayRefreshToken => "workday-refresh-token",
            Self::ZendeskApiToken => "zendesk-api-token",
            Self::ZendeskOauthClientSecret => "zendesk-oauth-client-secret",
            Self::ZendeskOauthAccessToken => "zendesk-oauth-access-token",
            Self::ZendeskOauthRefreshToken => "zendesk-oauth-refresh-token",
            Self::ZendeskOauthRefreshExpiresAt => "zendesk-oauth-refresh-expires-at",
            Self::JwtSharedSecret => "jwt-shared-secret",
            Self::WebhookSigningSecret => "webhook-signing-secret",
            Self::ZendeskOauthPending => "zendesk-oauth-pending",
        }
    }
}

impl fmt::Display for SecretName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a string is not a secret name.
#[derive(Debug, thiserror::Error)]
#[error("unknown secret `{0}`; expected one of: {list}", list = SecretName::ALL.map(SecretName::as_str).join(", "))]
pub struct UnknownSecretName(String);

impl FromStr for SecretName {
    type Err = UnknownSecretName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|n| n.as_str() == s)
            .ok_or_else(|| UnknownSecretName(s.to_string()))
    }
}

/// How ml-connector authenticates to Zendesk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ZendeskAuthMode {
    /// `{email}/token:{api_token}` basic auth.
    #[default]
    ApiToken,
    /// OAuth2 bearer tokens with refresh-token rotation.
    Oauth,
}

/// Workday connection settings of a tenant (secrets live in the vault, not here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct WorkdaySettings {
    /// `https://{host}`: the Workday services host, e.g. `https://wd2-impl-services1.workday.com`.
    pub base_url: String,
    /// The Workday tenant name, e.g. `acme_dpt1`.
    pub tenant: String,
    /// The integration system user, without `@tenant` (added on the wire).
    pub username: String,
    /// Web service version override, e.g. `v46.1` (empty: the process default).
    pub api_version: String,
    /// OAuth2 client id of the API client for REST reads (empty: REST not used).
    pub oauth_client_id: String,
}

/// Zendesk connection settings of a tenant (secrets live in the vault, not here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ZendeskSettings {
    /// Base URL override (empty: `https://{tenant}.zendesk.com`); used for the simulator and proxies.
    pub base_url: String,
    /// Agent e-mail for API-token auth.
    pub email: String,
    /// Authentication mode.
    pub auth: ZendeskAuthMode,
    /// OAuth2 client id (OAuth mode).
    pub oauth_client_id: String,
    /// Requests per minute allowed by the account's plan (0: the process default).
    pub rate_limit_rpm: u32,
}

impl ZendeskSettings {
    /// The API base URL for tenant `id`.
    pub fn effective_base_url(&self, id: &TenantId) -> String {
        if self.base_url.trim().is_empty() {
            format!("https://{id}.zendesk.com")
        } else {
            self.base_url.trim().trim_end_matches('/').to_string()
        }
    }
}

/// A tenant's own settings: how its records are mapped, and (as later features land) its sync schedule and
/// enrichment options. Stored as one JSON object; read once into this type when the tenant is read.
///
/// Adding a setting: add a field with `#[serde(default)]` (an `Option`, or a type whose `Default` is the
/// behaviour of a tenant that never set it), document it, and read it through the tenant's
/// [`TenantContext`](crate::app::TenantContext). Rows written before the field existed then read as the default.
/// Keys this version does not know — written by a newer version, or retired — are kept in [`Self::other`] and
/// written back as they were, so they never make a tenant unreadable nor get lost.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TenantSettings {
    /// The declarative mapping: the rules and the Zendesk field catalog they are checked against. Its shape is
    /// checked when read; its rules when the tenant's context is resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapping: Option<crate::mapper::declarative::MappingRules>,
    /// What happens when the tenant's plugin fails (unset: the process's `plugins.failure_policy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin_failure_policy: Option<crate::mapper::FailurePolicy>,
    /// What `ml-connector setup` provisioned in the tenant's Zendesk: the field ids, the webhook and the trigger.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zendesk_setup: Option<ZendeskSetup>,
    /// The sync schedule and options (unset: every 30 minutes, the process's invoice window).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync: Option<SyncSettings>,
    /// Ticket enrichment options (`ml-connector tenant update --internal-note`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrichment: Option<EnrichmentSettings>,
    /// Keys this version does not know, kept verbatim.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// A tenant's ticket enrichment options.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrichmentSettings {
    /// Also add an internal note summarising the invoice (number, amount and currency, due date, payment status,
    /// PO) when the fields are written, for accounts that do not show custom fields to every agent (default: no).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_note: Option<bool>,
}

/// The Zendesk objects `ml-connector setup` found or created for a tenant (ids as Zendesk gave them).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ZendeskSetup {
    /// Standard organization fields: role (`supplier_id`, ...) → field key.
    pub organization_fields: std::collections::BTreeMap<String, String>,
    /// Standard ticket fields: role (`invoice_number`, ...) → ticket field id.
    pub ticket_fields: std::collections::BTreeMap<String, u64>,
    /// The webhook receiving ticket activity.
    pub webhook_id: Option<String>,
    /// The trigger connecting ticket changes to the webhook.
    pub trigger_id: Option<u64>,
}

impl TenantSettings {
    /// Reads settings from their JSON form; an error names the key at fault (`mapping.invoice[0].source`).
    pub fn from_json(value: &serde_json::Value) -> Result<Self, String> {
        serde_path_to_error::deserialize(value)
            .map_err(|e| format!("invalid tenant settings at `{}`: {}", e.path(), e.inner()))
    }

    /// The JSON form, as stored.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_else(|_| serde_json::Value::Object(Default::default()))
    }
}

/// A tenant's sync schedule and options (`ml-connector tenant update --sync-*`). Unset fields take the defaults
/// documented on each; the schedule is checked by `crate::sync::schedule::Schedule::from_settings`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncSettings {
    /// Whether scheduled runs happen (default: yes). Manual runs always can.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Seconds between runs (default 1800), unless `cron` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_secs: Option<u64>,
    /// A cron expression (5 fields, or 6 with seconds) in the tenant's time zone; wins over the interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron: Option<String>,
    /// IANA time zone of the cron expression and the business hours (default UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Only start runs in these hours, Monday to Friday, in the tenant's time zone: `HH:MM-HH:MM`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_hours: Option<String>,
    /// Each slot's run starts up to this many seconds late, by a delay fixed per tenant (default 60), so that
    /// tenants do not all start at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter_secs: Option<u64>,
    /// Days of invoice dates the index keeps (default: `sync.invoice_window_days`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_window_days: Option<u32>,
}

/// A tenant as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tenant {
    /// Zendesk subdomain.
    pub id: TenantId,
    /// Display name.
    pub name: String,
    /// Workday side.
    pub workday: WorkdaySettings,
    /// Zendesk side.
    pub zendesk: ZendeskSettings,
    /// The tenant's own settings (mapping, failure policy; later the sync schedule and enrichment options).
    pub settings: TenantSettings,
    /// Whether an admin API key is set.
    pub has_admin_key: bool,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds.
    pub updated_at: i64,
}

/// A tenant's admin API key: `mlc_admin_` + 43 base64url characters (32 random bytes).
///
/// Only its SHA-256 is stored. The key carries 256 bits of entropy, so a fast hash is enough; comparison is
/// constant-time.
#[derive(Debug)]
pub struct AdminKey;

impl AdminKey {
    const PREFIX: &'static str = "mlc_admin_";

    /// A new random key and the hash to store. Show the key once; it cannot be recovered.
    pub fn generate() -> (secrecy::SecretString, String) {
        use base64::Engine as _;
        use rand::RngCore as _;
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let key = format!(
            "{}{}",
            Self::PREFIX,
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        );
        let hash = Self::hash(&key);
        (secrecy::SecretString::from(key), hash)
    }

    /// The stored form of a presented key.
    pub fn hash(presented: &str) -> String {
        use sha2::Digest as _;
        format!(
            "sha256:{}",
            hex::encode(sha2::Sha256::digest(presented.as_bytes()))
        )
    }

    /// Whether `presented` matches `stored_hash`, in constant time.
    pub fn verify(presented: &str, stored_hash: &str) -> bool {
        use subtle::ConstantTimeEq as _;
        let computed = Self::hash(presented);
        computed.len() == stored_hash.len()
            && bool::from(computed.as_bytes().ct_eq(stored_hash.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn admin_keys_verify_only_themselves() {
        use secrecy::ExposeSecret as _;
        let (key, hash) = AdminKey::generate();
        assert!(key.expose_secret().starts_with("mlc_admin_"));
        assert!(AdminKey::verify(key.expose_secret(), &hash));
        assert!(!AdminKey::verify("mlc_admin_guess", &hash));
        assert!(!hash.contains(key.expose_secret()));
    }

    use super::*;

    #[test]
    fn tenant_ids_follow_subdomain_rules() {
        for ok in ["acme", "a", "acme-eu-2", "x1"] {
            assert!(TenantId::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Acme",
            "-acme",
            "acme-",
            "acme.zendesk.com",
            "a b",
            "../etc",
            &"a".repeat(64),
        ] {
            assert!(TenantId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn unknown_settings_are_kept_and_known_ones_typed() {
        let stored = serde_json::json!({
            "plugin_failure_policy": "write_nothing",
            "sync_schedule": "*/15 * * * *",
            "retired_option": {"x": 1},
        });
        let settings = TenantSettings::from_json(&stored).unwrap();
        assert_eq!(
            settings.plugin_failure_policy,
            Some(crate::mapper::FailurePolicy::WriteNothing)
        );
        assert!(settings.mapping.is_none());
        assert_eq!(settings.other.len(), 2);
        assert_eq!(settings.to_json(), stored, "written back as it was read");
        assert_eq!(
            TenantSettings::from_json(&serde_json::json!({})).unwrap(),
            TenantSettings::default()
        );
        let err = TenantSettings::from_json(&serde_json::json!({"plugin_failure_policy": "panic"}))
            .unwrap_err();
        assert!(
            err.contains("plugin_failure_policy") && err.contains("write_nothing"),
            "{err}"
        );
    }

    #[test]
    fn secret_names_round_trip() {
        for n in SecretName::ALL {
            assert_eq!(n.as_str().parse::<SecretName>().unwrap(), n);
        }
        let err = "password".parse::<SecretName>().unwrap_err().to_string();
        assert!(err.contains("workday-password"), "{err}");
    }
}
