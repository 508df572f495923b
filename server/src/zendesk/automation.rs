//! What tenant setup provisions in a Zendesk account besides organization fields: ticket fields (found by
//! title: Zendesk gives them no key), the webhook that receives ticket activity and its signing secret (Webhooks
//! API), and the trigger that connects ticket changes to it (Triggers API). Creates are never retried blind: a
//! create whose answer was lost is looked for again by the caller's next run, which finds it.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::client::{Call, ZendeskClient};
use super::de;
use super::error::ZendeskError;
use super::fields::FieldType;
use super::tickets::TicketField;

/// A ticket field that must exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketFieldSpec {
    /// Title (how the field is found again).
    pub title: String,
    /// A type ticket fields can have ([`FieldType::on_tickets`]).
    pub field_type: FieldType,
    /// Description shown to agents.
    pub description: Option<String>,
    /// `(name, value)` options of a drop-down.
    pub options: Vec<(String, String)>,
}

/// A webhook as the Webhooks API reports it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Webhook {
    /// Webhook id (a ULID-like string).
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Destination URL.
    #[serde(default)]
    pub endpoint: String,
    /// `active` or `inactive`.
    #[serde(default)]
    pub status: String,
    /// Event subscriptions (`conditional_ticket_events` for trigger-connected webhooks).
    #[serde(default, deserialize_with = "de::null_default")]
    pub subscriptions: Vec<String>,
}

/// A trigger as the Triggers API reports it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Trigger {
    /// Trigger id.
    #[serde(deserialize_with = "de::id")]
    pub id: u64,
    /// Title.
    #[serde(default)]
    pub title: String,
    /// Whether it is active.
    #[serde(default)]
    pub active: bool,
    /// Actions (`{"field", "value"}`).
    #[serde(default, deserialize_with = "de::null_default")]
    pub actions: Vec<Value>,
}

impl Trigger {
    /// Whether one of its actions notifies webhook `webhook_id`.
    pub fn notifies(&self, webhook_id: &str) -> bool {
        self.actions.iter().any(|a| {
            a.get("field").and_then(Value::as_str) == Some("notification_webhook")
                && a.get("value")
                    .and_then(Value::as_array)
                    .and_then(|v| v.first())
                    .and_then(Value::as_str)
                    == Some(webhook_id)
        })
    }
}

#[derive(Deserialize)]
struct OneTicketField {
    ticket_field: TicketField,
}

#[derive(Deserialize)]
struct OneWebhook {
    webhook: Webhook,
}

#[derive(Deserialize)]
struct OneTrigger {
    trigger: Trigger,
}

#[derive(Deserialize)]
struct SigningSecret {
    signing_secret: SecretBody,
}

#[derive(Deserialize)]
struct SecretBody {
    secret: String,
}

impl ZendeskClient {
    /// `GET /api/v2/ticket_fields`, every page (system fields included).
    pub async fn ticket_fields(&self) -> Result<Vec<TicketField>, ZendeskError> {
        self.list_all("ticket_fields", "ticket_fields").await
    }

    /// `POST /api/v2/ticket_fields`. Not retried when the answer is lost (look for it by title instead).
    pub async fn create_ticket_field(
        &self,
        spec: &TicketFieldSpec,
    ) -> Result<TicketField, ZendeskError> {
        if !spec.field_type.on_tickets() {
            return Err(ZendeskError::InvalidInput(format!(
                "ticket field `{}`: type `{}` is for organization fields",
                spec.title, spec.field_type
            )));
        }
        let mut f = json!({"type": spec.field_type.as_str(), "title": spec.title});
        if let Some(d) = &spec.description {
            f["description"] = json!(d);
        }
        if !spec.options.is_empty() {
            f["custom_field_options"] = spec
                .options
                .iter()
                .map(|(name, value)| json!({"name": name, "value": value}))
                .collect();
        }
        let one: OneTicketField = self
            .call_json(Call::post("ticket_fields", json!({"ticket_field": f})))
            .await?;
        Ok(one.ticket_field)
    }

    /// `GET /api/v2/webhooks`, every page.
    pub async fn webhooks(&self) -> Result<Vec<Webhook>, ZendeskError> {
        self.list_all("webhooks", "webhooks").await
    }

    /// `POST /api/v2/webhooks`: an active JSON POST webhook to `endpoint`, to be connected to triggers.
    pub async fn create_trigger_webhook(
        &self,
        name: &str,
        endpoint: &str,
        description: &str,
    ) -> Result<Webhook, ZendeskError> {
        let body = json!({"webhook": {
            "name": name,
            "endpoint": endpoint,
            "description": description,
            "http_method": "POST",
            "request_format": "json",
            "status": "active",
            "subscriptions": ["conditional_ticket_events"],
        }});
        let one: OneWebhook = self.call_json(Call::post("webhooks", body)).await?;
        Ok(one.webhook)
    }

    /// `GET /api/v2/webhooks/{id}/signing_secret`.
    pub async fn webhook_signing_secret(&self, id: &str) -> Result<SecretString, ZendeskError> {
        let s: SigningSecret = self
            .call_json(Call::get(format!("webhooks/{id}/signing_secret")))
            .await?;
        Ok(SecretString::from(s.signing_secret.secret))
    }

    /// `GET /api/v2/triggers`, every page.
    pub async fn triggers(&self) -> Result<Vec<Trigger>, ZendeskError> {
        self.list_all("triggers", "triggers").await
    }

    /// `POST /api/v2/triggers`: fires when a ticket is created or updated and sends `payload` (JSON text with
    /// placeholders such as `{{ticket.id}}`) to webhook `webhook_id`.
    pub async fn create_webhook_trigger(
        &self,
        title: &str,
        webhook_id: &str,
        payload: &str,
    ) -> Result<Trigger, ZendeskError> {
        let body = json!({"trigger": {
            "title": title,
            "active": true,
            "description": "Sends ticket activity to ml-connector (created by `ml-connector setup`).",
            "conditions": {
                "all": [],
                "any": [
                    {"field": "update_type", "operator": "is", "value": "Create"},
                    {"field": "update_type", "operator": "is", "value": "Change"},
                ],
            },
            "actions": [{"field": "notification_webhook", "value": [webhook_id, payload]}],
        }});
        let one: OneTrigger = self.call_json(Call::post("triggers", body)).await?;
        Ok(one.trigger)
    }
}
