//! Verifying and reading Zendesk webhooks.
//!
//! `X-Zendesk-Webhook-Signature` is base64(HMAC-SHA256(key = the webhook's signing secret, message =
//! `X-Zendesk-Webhook-Signature-Timestamp` + raw body)). The signature is checked in constant time
//! (`Mac::verify_slice`), then the timestamp must be within the configured window of now (both directions), then
//! the body is read. A webhook is connected either way in Zendesk:
//! - subscribed to events: the body is an event payload (`type`, `id`, `detail`, ...); ticket events
//!   (`zen:event-type:ticket.*`) carry the ticket id in `detail.id` and are deduplicated by the event `id`;
//! - connected to a trigger (or automation): the body is whatever the trigger's author wrote; ml-connector
//!   expects a `ticket_id` (`{"ticket_id": "{{ticket.id}}"}`), and deduplicates by the invocation id Zendesk sends
//!   with every webhook request (`X-Zendesk-Webhook-Invocation-Id`, the same on each retry of one invocation),
//!   or, without it, by a hash of the signed timestamp and the body (an exact replay).

use std::time::Duration;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use serde_json::Value;
use sha2::Sha256;

/// Header carrying the signature.
pub const SIGNATURE_HEADER: &str = "x-zendesk-webhook-signature";
/// Header carrying the signed timestamp.
pub const TIMESTAMP_HEADER: &str = "x-zendesk-webhook-signature-timestamp";
/// Header carrying the webhook's id (every webhook request).
pub const WEBHOOK_ID_HEADER: &str = "x-zendesk-webhook-id";
/// Header carrying the invocation id (every webhook request; the same on each retry of one invocation).
pub const INVOCATION_ID_HEADER: &str = "x-zendesk-webhook-invocation-id";
/// Prefix of every event type.
pub const EVENT_TYPE_PREFIX: &str = "zen:";
/// Prefix of ticket event types.
pub const TICKET_EVENT_PREFIX: &str = "zen:event-type:ticket.";
/// The queue's event type for trigger-connected webhooks.
pub const TRIGGER_EVENT_TYPE: &str = "trigger";
/// Longest event id or header id accepted.
const MAX_ID_LEN: usize = 200;

/// Why a webhook was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WebhookError {
    /// A signature header is missing.
    #[error("the {0} header is missing")]
    MissingHeader(&'static str),
    /// The signature does not match the body and timestamp under the tenant's signing secret.
    #[error("the webhook signature is not valid")]
    InvalidSignature,
    /// The timestamp is not a date.
    #[error("the webhook timestamp `{0}` is not an ISO 8601 date")]
    BadTimestamp(String),
    /// The timestamp is outside the accepted window.
    #[error(
        "the webhook timestamp is {age_secs}s away from now; at most {window_secs}s is accepted"
    )]
    StaleTimestamp {
        /// Distance from now, in seconds.
        age_secs: i64,
        /// Accepted distance.
        window_secs: u64,
    },
    /// The body is not an event payload.
    #[error("malformed webhook event: {0}")]
    Malformed(String),
}

/// Checks the signature of `body` signed at `timestamp` with `secret`, in constant time.
pub fn verify_signature(
    secret: &SecretString,
    timestamp: &str,
    body: &[u8],
    signature: &str,
) -> Result<(), WebhookError> {
    let presented = base64::engine::general_purpose::STANDARD
        .decode(signature.trim())
        .map_err(|_| WebhookError::InvalidSignature)?;
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.expose_secret().as_bytes())
        .map_err(|_| WebhookError::InvalidSignature)?;
    mac.update(timestamp.as_bytes());
    mac.update(body);
    mac.verify_slice(&presented)
        .map_err(|_| WebhookError::InvalidSignature)
}

/// Parses the signed timestamp and checks it is within `window` of `now`, in either direction.
pub fn check_timestamp(
    timestamp: &str,
    now: DateTime<Utc>,
    window: Duration,
) -> Result<DateTime<Utc>, WebhookError> {
    let at = DateTime::parse_from_rfc3339(timestamp.trim())
        .map_err(|_| WebhookError::BadTimestamp(timestamp.chars().take(64).collect()))?
        .with_timezone(&Utc);
    let age = (now - at).num_seconds();
    let window_secs = window.as_secs();
    if age.unsigned_abs() > window_secs {
        return Err(WebhookError::StaleTimestamp {
            age_secs: age,
            window_secs,
        });
    }
    Ok(at)
}

/// A parsed webhook body.
#[derive(Debug, Clone, PartialEq)]
pub enum WebhookEvent {
    /// A `zen:event-type:ticket.*` event.
    Ticket(TicketEvent),
    /// A trigger-connected webhook's body naming a ticket (`ticket_id`); it has no id of its own, see
    /// [`trigger_event_id`].
    Trigger {
        /// The ticket.
        ticket_id: u64,
    },
    /// An authentic event of another type (user, organization, ...): acknowledged, not queued.
    Other {
        /// Event id.
        id: String,
        /// Event type.
        event_type: String,
    },
}

/// A ticket event.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketEvent {
    /// Event id (deduplication key).
    pub id: String,
    /// e.g. `zen:event-type:ticket.created`.
    pub event_type: String,
    /// The ticket (`detail.id`).
    pub ticket_id: u64,
    /// Zendesk account id.
    pub account_id: Option<i64>,
    /// When the event happened.
    pub time: Option<String>,
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    event_type: Option<String>,
    id: Option<Value>,
    account_id: Option<Value>,
    time: Option<String>,
    detail: Option<Value>,
}

fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn positive_id(v: &Value) -> Option<u64> {
    id_text(v)
        .and_then(|t| t.parse::<u64>().ok())
        .filter(|t| *t > 0)
}

/// Reads a webhook body: an event payload (a `type` starting `zen:`, or any `type` when there is no
/// `ticket_id`), else a trigger body with a `ticket_id` (a string, as `"{{ticket.id}}"` renders, or a number).
pub fn parse_event(body: &[u8]) -> Result<WebhookEvent, WebhookError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| WebhookError::Malformed(format!("not JSON: {e}")))?;
    if !value.is_object() {
        return Err(WebhookError::Malformed("not a JSON object".into()));
    }
    let event_type = value
        .get("type")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let is_event = event_type.is_some_and(|t| t.starts_with(EVENT_TYPE_PREFIX));
    if !is_event && let Some(raw) = value.get("ticket_id") {
        let ticket_id = positive_id(raw).ok_or_else(|| {
            WebhookError::Malformed(format!(
                "`ticket_id` must be a ticket number, got {}",
                raw.to_string().chars().take(64).collect::<String>()
            ))
        })?;
        return Ok(WebhookEvent::Trigger { ticket_id });
    }
    let env: Envelope = serde_json::from_value(value)
        .map_err(|e| WebhookError::Malformed(format!("not an event payload: {e}")))?;
    let event_type = env
        .event_type
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| {
            WebhookError::Malformed(
                "neither an event (`type`) nor a trigger payload (`ticket_id`)".into(),
            )
        })?;
    let id = env
        .id
        .as_ref()
        .and_then(id_text)
        .ok_or_else(|| WebhookError::Malformed("`id` is missing".into()))?;
    if id.len() > MAX_ID_LEN {
        return Err(WebhookError::Malformed("`id` is too long".into()));
    }
    if !event_type.starts_with(TICKET_EVENT_PREFIX) {
        return Ok(WebhookEvent::Other { id, event_type });
    }
    let ticket_id = env
        .detail
        .as_ref()
        .and_then(|d| d.get("id"))
        .and_then(positive_id)
        .ok_or_else(|| {
            WebhookError::Malformed("a ticket event needs the ticket id in `detail.id`".into())
        })?;
    let account_id = env.account_id.as_ref().and_then(|a| match a {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    });
    Ok(WebhookEvent::Ticket(TicketEvent {
        id,
        event_type,
        ticket_id,
        account_id,
        time: env.time,
    }))
}

fn header_id<'a>(name: &str, value: Option<&'a str>) -> Result<Option<&'a str>, WebhookError> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if v.len() > MAX_ID_LEN || !v.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(WebhookError::Malformed(format!(
            "the {name} header is not an id"
        )));
    }
    Ok(Some(v))
}

/// The deduplication key of a trigger webhook request: `trigger:{webhook id}:{invocation id}` from the headers
/// Zendesk sends with every webhook request (retries of one invocation share it), or, when there is no
/// invocation id, `trigger:sha256:{hex}` over the signed timestamp and the body, so that at least an exact
/// replay is recognised.
pub fn trigger_event_id(
    webhook_id: Option<&str>,
    invocation_id: Option<&str>,
    timestamp: &str,
    body: &[u8],
) -> Result<String, WebhookError> {
    let webhook_id = header_id(WEBHOOK_ID_HEADER, webhook_id)?;
    if let Some(invocation) = header_id(INVOCATION_ID_HEADER, invocation_id)? {
        return Ok(format!(
            "trigger:{}:{invocation}",
            webhook_id.unwrap_or("-")
        ));
    }
    use sha2::Digest as _;
    let mut hash = Sha256::new();
    hash.update(timestamp.as_bytes());
    hash.update(body);
    Ok(format!("trigger:sha256:{}", hex::encode(hash.finalize())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_outside_the_window_are_stale_both_ways() {
        let now = DateTime::parse_from_rfc3339("2024-01-01T00:05:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let w = Duration::from_secs(300);
        assert!(check_timestamp("2024-01-01T00:00:00Z", now, w).is_ok());
        assert!(check_timestamp("2024-01-01T00:10:00Z", now, w).is_ok());
        assert!(matches!(
            check_timestamp("2023-12-31T23:59:59Z", now, w),
            Err(WebhookError::StaleTimestamp { age_secs: 301, .. })
        ));
        assert!(matches!(
            check_timestamp("2024-01-01T00:10:01Z", now, w),
            Err(WebhookError::StaleTimestamp { age_secs: -301, .. })
        ));
        assert!(matches!(
            check_timestamp("yesterday", now, w),
            Err(WebhookError::BadTimestamp(_))
        ));
    }

    #[test]
    fn events_are_read() {
        let e = parse_event(
            br#"{"type":"zen:event-type:ticket.created","account_id":42,"id":"ev-1","time":"2024-01-01T00:00:00Z","detail":{"id":"5158"}}"#,
        )
        .unwrap();
        assert_eq!(
            e,
            WebhookEvent::Ticket(TicketEvent {
                id: "ev-1".into(),
                event_type: "zen:event-type:ticket.created".into(),
                ticket_id: 5158,
                account_id: Some(42),
                time: Some("2024-01-01T00:00:00Z".into()),
            })
        );
        assert!(matches!(
            parse_event(br#"{"type":"zen:event-type:user.created","id":"u1","detail":{"id":"9"}}"#),
            Ok(WebhookEvent::Other { .. })
        ));
        for bad in [
            &b"not json"[..],
            br#"[1,2]"#,
            br#"{"id":"x","detail":{"id":"1"}}"#,
            br#"{"ticket_id":"{{ticket.id}}"}"#,
            br#"{"ticket_id":""}"#,
            br#"{"ticket_id":0}"#,
            br#"{"ticket_id":-4}"#,
            br#"{"ticket_id":{"id":5}}"#,
            br#"{"ticket":"5"}"#,
            br#"{"type":"zen:event-type:ticket.created","detail":{"id":"1"}}"#,
            br#"{"type":"zen:event-type:ticket.created","id":"x","detail":{}}"#,
            br#"{"type":"zen:event-type:ticket.created","id":"x","detail":{"id":"abc"}}"#,
        ] {
            assert!(
                matches!(parse_event(bad), Err(WebhookError::Malformed(_))),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn trigger_bodies_are_read() {
        for body in [
            &br#"{"ticket_id":"5158"}"#[..],
            br#"{"ticket_id":5158}"#,
            br#"{"ticket_id":" 5158 ","note":"anything the trigger author wrote"}"#,
            // A `type` of the author's own is not an event type.
            br#"{"type":"refund","ticket_id":"5158"}"#,
        ] {
            assert_eq!(
                parse_event(body),
                Ok(WebhookEvent::Trigger { ticket_id: 5158 }),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        // An event payload stays an event even with a `ticket_id`.
        assert!(matches!(
            parse_event(
                br#"{"type":"zen:event-type:ticket.created","id":"e1","ticket_id":"9","detail":{"id":"5"}}"#
            ),
            Ok(WebhookEvent::Ticket(TicketEvent { ticket_id: 5, .. }))
        ));
    }

    #[test]
    fn trigger_requests_are_keyed_by_invocation_or_by_content() {
        let body = br#"{"ticket_id":"5"}"#;
        let ts = "2024-01-01T00:00:00Z";
        assert_eq!(
            trigger_event_id(Some("01HOOK"), Some("8350205582"), ts, body).unwrap(),
            "trigger:01HOOK:8350205582"
        );
        assert_eq!(
            trigger_event_id(None, Some("8350205582"), ts, body).unwrap(),
            "trigger:-:8350205582"
        );
        let hashed = trigger_event_id(None, None, ts, body).unwrap();
        assert!(hashed.starts_with("trigger:sha256:") && hashed.len() == 15 + 64);
        assert_eq!(
            trigger_event_id(Some("01HOOK"), Some(" "), ts, body).unwrap(),
            hashed
        );
        assert_ne!(
            trigger_event_id(None, None, "2024-01-01T00:00:01Z", body).unwrap(),
            hashed
        );
        assert!(trigger_event_id(None, Some("has space"), ts, body).is_err());
        assert!(trigger_event_id(None, Some(&"9".repeat(201)), ts, body).is_err());
    }
}
