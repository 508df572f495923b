//! Verifying and reading Zendesk webhooks.
//!
//! `X-Zendesk-Webhook-Signature` is base64(HMAC-SHA256(key = the webhook's signing secret, message =
//! `X-Zendesk-Webhook-Signature-Timestamp` + raw body)). The signature is checked in constant time
//! (`Mac::verify_slice`), then the timestamp must be within the configured window of now (both directions), then
//! the body must be an event-subscription payload (`type`, `id`, `detail`, ...). Ticket events
//! (`zen:event-type:ticket.*`) carry the ticket id in `detail.id`.

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
/// Prefix of ticket event types.
pub const TICKET_EVENT_PREFIX: &str = "zen:event-type:ticket.";

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

/// A parsed event-subscription payload.
#[derive(Debug, Clone, PartialEq)]
pub enum WebhookEvent {
    /// A `zen:event-type:ticket.*` event.
    Ticket(TicketEvent),
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

/// Reads an event-subscription payload.
pub fn parse_event(body: &[u8]) -> Result<WebhookEvent, WebhookError> {
    let env: Envelope = serde_json::from_slice(body)
        .map_err(|e| WebhookError::Malformed(format!("not a JSON object: {e}")))?;
    let event_type = env
        .event_type
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| WebhookError::Malformed("`type` is missing".into()))?;
    let id = env
        .id
        .as_ref()
        .and_then(id_text)
        .ok_or_else(|| WebhookError::Malformed("`id` is missing".into()))?;
    if id.len() > 200 {
        return Err(WebhookError::Malformed("`id` is too long".into()));
    }
    if !event_type.starts_with(TICKET_EVENT_PREFIX) {
        return Ok(WebhookEvent::Other { id, event_type });
    }
    let ticket_id = env
        .detail
        .as_ref()
        .and_then(|d| d.get("id"))
        .and_then(id_text)
        .and_then(|t| t.parse::<u64>().ok())
        .filter(|t| *t > 0)
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
}
