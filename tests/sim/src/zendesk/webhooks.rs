//! Webhook sending, the two ways a Zendesk webhook can be connected:
//! - subscribed to ticket events: one signed POST per event, with the event payload (`type`, `id`, `detail`,
//!   ...);
//! - connected to a trigger: one signed POST per ticket change, with whatever JSON the trigger's author wrote
//!   (e.g. `{"ticket_id": "{{ticket.id}}"}`), placeholders filled in.
//!
//! Every request carries `X-Zendesk-Account-Id`, `X-Zendesk-Webhook-Id`, `X-Zendesk-Webhook-Invocation-Id` (the
//! same on every retry of one invocation) and the signature headers.
//!
//! Signature (Zendesk's published scheme, written here from the docs): `X-Zendesk-Webhook-Signature` =
//! base64(HMAC-SHA256(key = signing secret, message = timestamp + raw body)) and
//! `X-Zendesk-Webhook-Signature-Timestamp` = the timestamp (ISO 8601, `2024-01-01T00:00:00Z`).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::{Notify, mpsc};

use super::world::{Ticket, TicketChange, now_iso};

/// Where the simulated account sends its webhook.
#[derive(Debug, Clone)]
pub struct WebhookTarget {
    /// Endpoint URL, e.g. `http://127.0.0.1:8080/webhooks/zendesk/acme`.
    pub url: String,
    /// The webhook's signing secret.
    pub signing_secret: String,
    /// The webhook id sent in `X-Zendesk-Webhook-Id`.
    pub webhook_id: String,
    /// `None`: subscribed to ticket events. `Some(template)`: connected to a trigger that fires on every ticket
    /// change and sends `template` with `{{ticket.id}}` and `{{ticket.status}}` filled in.
    pub trigger_body: Option<String>,
}

impl WebhookTarget {
    /// A webhook subscribed to ticket events.
    pub fn events(url: &str, signing_secret: &str, webhook_id: &str) -> Self {
        Self {
            url: url.into(),
            signing_secret: signing_secret.into(),
            webhook_id: webhook_id.into(),
            trigger_body: None,
        }
    }

    /// A webhook connected to a trigger whose body is `template` (e.g. `{"ticket_id": "{{ticket.id}}"}`).
    pub fn trigger(url: &str, signing_secret: &str, webhook_id: &str, template: &str) -> Self {
        Self {
            trigger_body: Some(template.into()),
            ..Self::events(url, signing_secret, webhook_id)
        }
    }
}

/// The event type recorded for trigger deliveries (they have none of their own).
pub const TRIGGER_DELIVERY: &str = "trigger";

/// Fills the placeholders a trigger's webhook body may use.
fn render_trigger(template: &str, ticket: &Ticket) -> String {
    template
        .replace("{{ticket.id}}", &ticket.id.to_string())
        .replace("{{ticket.status}}", &ticket.status)
}

/// `base64(HMAC-SHA256(secret, timestamp + body))`.
pub fn sign_webhook(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(timestamp.as_bytes());
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// One delivery attempt.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The event's `id` (for a trigger delivery: the invocation id).
    pub event_id: String,
    /// The event's `type`, e.g. `zen:event-type:ticket.created`, or [`TRIGGER_DELIVERY`].
    pub event_type: String,
    /// `X-Zendesk-Webhook-Invocation-Id`: one per invocation, the same on each of its attempts.
    pub invocation_id: String,
    /// `X-Zendesk-Webhook-Id`.
    pub webhook_id: String,
    /// The ticket.
    pub ticket_id: u64,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// The URL it went to.
    pub url: String,
    /// `X-Zendesk-Webhook-Signature-Timestamp`.
    pub timestamp: String,
    /// `X-Zendesk-Webhook-Signature`.
    pub signature: String,
    /// The exact bytes sent.
    pub body: Vec<u8>,
    /// The status answered, or `None` when the request failed.
    pub status: Option<u16>,
    /// Why it failed to reach the endpoint, if it did.
    pub error: Option<String>,
    /// When it was sent.
    pub at: Instant,
}

#[derive(Debug)]
struct Outgoing {
    event_id: String,
    event_type: String,
    invocation_id: String,
    ticket_id: u64,
    body: Vec<u8>,
}

/// Invocation ids look like Zendesk's (`8350205582`): decimal digits.
fn invocation_id() -> String {
    (rand::random::<u64>() % 9_000_000_000_000 + 1_000_000_000).to_string()
}

/// Builds and sends webhook events in order, recording every attempt.
#[derive(Debug, Clone)]
pub(crate) struct Sender {
    tx: mpsc::UnboundedSender<Outgoing>,
    pub target: Arc<Mutex<Option<WebhookTarget>>>,
    pub deliveries: Arc<Mutex<Vec<Delivery>>>,
    pub delivered: Arc<Notify>,
    account_id: u64,
}

impl Sender {
    pub fn start(target: Option<WebhookTarget>, account_id: u64, max_attempts: u32) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let sender = Self {
            tx,
            target: Arc::new(Mutex::new(target)),
            deliveries: Arc::new(Mutex::new(Vec::new())),
            delivered: Arc::new(Notify::new()),
            account_id,
        };
        tokio::spawn(sender.clone().run(rx, max_attempts.max(1)));
        sender
    }

    /// Queues one delivery per event of `change` (an event subscription), or one for the whole change (a
    /// trigger); nothing when no webhook is configured or nothing changed.
    pub fn ticket_changed(&self, change: &TicketChange) {
        let trigger = {
            let target = self.target.lock().unwrap_or_else(|e| e.into_inner());
            match target.as_ref() {
                None => return,
                Some(t) => t.trigger_body.clone(),
            }
        };
        if let Some(template) = trigger {
            if change.events.is_empty() {
                return;
            }
            let invocation_id = invocation_id();
            let _ = self.tx.send(Outgoing {
                event_id: invocation_id.clone(),
                event_type: TRIGGER_DELIVERY.into(),
                invocation_id,
                ticket_id: change.ticket.id,
                body: render_trigger(&template, &change.ticket).into_bytes(),
            });
            return;
        }
        for (kind, event) in &change.events {
            let event_id = uuid::Uuid::new_v4().to_string();
            let event_type = format!("zen:event-type:{kind}");
            let payload = json!({
                "type": event_type,
                "account_id": self.account_id,
                "id": event_id,
                "time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
                "zendesk_event_version": "2022-06-20",
                "subject": format!("zen:ticket:{}", change.ticket.id),
                "detail": detail(&change.ticket, change.actor_id),
                "event": event,
            });
            let body = serde_json::to_vec(&payload).unwrap_or_default();
            let _ = self.tx.send(Outgoing {
                event_id,
                event_type,
                invocation_id: invocation_id(),
                ticket_id: change.ticket.id,
                body,
            });
        }
    }

    async fn run(self, mut rx: mpsc::UnboundedReceiver<Outgoing>, max_attempts: u32) {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        while let Some(out) = rx.recv().await {
            for attempt in 1..=max_attempts {
                let Some(target) = self
                    .target
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone()
                else {
                    break;
                };
                let timestamp = now_iso();
                let signature = sign_webhook(&target.signing_secret, &timestamp, &out.body);
                let result = http
                    .post(&target.url)
                    .header("content-type", "application/json; charset=utf-8")
                    .header("user-agent", "Zendesk Webhook")
                    .header("x-zendesk-account-id", self.account_id.to_string())
                    .header("x-zendesk-webhook-id", &target.webhook_id)
                    .header("x-zendesk-webhook-invocation-id", &out.invocation_id)
                    .header("x-zendesk-webhook-signature", &signature)
                    .header("x-zendesk-webhook-signature-timestamp", &timestamp)
                    .body(out.body.clone())
                    .send()
                    .await;
                let (status, error) = match &result {
                    Ok(r) => (Some(r.status().as_u16()), None),
                    Err(e) => (None, Some(e.to_string())),
                };
                let retry_after = result.as_ref().ok().and_then(|r| {
                    r.headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                });
                self.deliveries
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(Delivery {
                        event_id: out.event_id.clone(),
                        event_type: out.event_type.clone(),
                        invocation_id: out.invocation_id.clone(),
                        webhook_id: target.webhook_id.clone(),
                        ticket_id: out.ticket_id,
                        attempt,
                        url: target.url.clone(),
                        timestamp,
                        signature,
                        body: out.body.clone(),
                        status,
                        error,
                        at: Instant::now(),
                    });
                self.delivered.notify_waiters();
                // Zendesk's webhook retries (Webhooks API introduction, "Webhook retries"): a 409, a 429 or 503
                // whose `Retry-After` is under 60 seconds (waited out), and requests that failed or timed out.
                // Any other answer, a 500 included, ends the delivery.
                let wait = match (status, retry_after) {
                    (None, _) | (Some(409), _) => Duration::from_millis(200 * u64::from(attempt)),
                    (Some(429 | 503), Some(secs)) if secs < 60 => Duration::from_secs(secs),
                    _ => break,
                };
                tokio::time::sleep(wait).await;
            }
        }
    }
}

/// The `detail` object of ticket events: the ticket's fields, ids as strings (as Zendesk sends them).
fn detail(t: &Ticket, actor_id: Option<u64>) -> Value {
    let s = |v: Option<u64>| v.map(|v| v.to_string());
    json!({
        "actor_id": actor_id.map_or_else(|| "-1".to_string(), |a| a.to_string()),
        "assignee_id": s(t.assignee_id),
        "brand_id": "360000000001",
        "created_at": t.created_at,
        "custom_status": null,
        "description": t.description,
        "external_id": t.external_id,
        "form_id": "360000000002",
        "group_id": s(t.group_id),
        "id": t.id.to_string(),
        "is_public": true,
        "organization_id": s(t.organization_id),
        "priority": t.priority.as_ref().map(|p| p.to_uppercase()),
        "requester_id": t.requester_id.to_string(),
        "status": t.status.to_uppercase(),
        "subject": t.subject,
        "submitter_id": t.submitter_id.to_string(),
        "tags": t.tags,
        "type": t.kind.as_ref().map(|k| k.to_uppercase()),
        "updated_at": t.updated_at,
        "via": {"channel": "api"},
    })
}
