//! `POST /webhooks/zendesk/{tenant}`: Zendesk webhooks, subscribed to events or connected to triggers.
//!
//! In order: the body is read up to `zendesk.webhook_max_body_bytes` (413 beyond); the signature headers must
//! be present and the signature valid under the tenant's `webhook-signing-secret` (401 `invalid_signature`, also
//! for an unknown tenant or one without a secret, so the endpoint does not reveal which tenants exist); the
//! timestamp must be within `zendesk.webhook_timestamp_window_secs` of now (401 `stale_timestamp`); the body
//! must be an event payload or a trigger body with a `ticket_id` (400 `malformed_event`). A ticket event is then
//! durably enqueued — deduplicated by its `id` — before the 200 answer; a trigger request likewise, deduplicated
//! by its `X-Zendesk-Webhook-Invocation-Id` (or a hash of timestamp and body), with the event type `trigger`.
//! Nothing is enqueued on any failure.
//!
//! A `200` is answered only once the event is committed. When the store cannot be read or written, the answer
//! is `503 store_unavailable` with `Retry-After: zendesk.webhook_retry_after_secs` (under 60 s): Zendesk
//! retries a webhook answered 409, or 429/503 with such a `Retry-After`, but not a 500, which would lose the
//! event. The retry carries the same event id (or invocation id), so it is queued once.

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use super::error::{ApiError, ErrorBody};
use super::state::AppState;
use crate::store::{Enqueued, NewQueuedEvent, StoreError};
use crate::tenant::{SecretName, TenantId};
use crate::zendesk::webhook::{
    self, INVOCATION_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, TRIGGER_EVENT_TYPE,
    WEBHOOK_ID_HEADER, WebhookError, WebhookEvent,
};

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/webhooks/zendesk/{tenant}", post(receive))
}

/// This module's part of the OpenAPI document.
#[derive(Debug, OpenApi)]
#[openapi(paths(receive), components(schemas(WebhookAck)))]
pub struct ApiDoc;

/// The answer to an accepted webhook.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookAck {
    /// `queued` (new ticket event or trigger request), `duplicate` (this event id or invocation was already
    /// received) or `ignored` (an authentic event that is not a ticket event).
    pub status: &'static str,
    /// The event's id; for a trigger request `trigger:{webhook id}:{invocation id}` (or
    /// `trigger:sha256:{hash}` when Zendesk sent no invocation id).
    pub event_id: String,
}

fn count(outcome: &'static str) {
    metrics::counter!("mlc_webhook_events_total", "outcome" => outcome).increment(1);
}

fn rejected(outcome: &'static str, err: ApiError) -> ApiError {
    count(outcome);
    err
}

/// The code of the `503` answered when the store fails.
const STORE_UNAVAILABLE: &str = "store_unavailable";

/// A store failure: `503` (answered with `Retry-After` by [`receive`]) so that Zendesk sends the event again,
/// never a 500, which Zendesk does not retry.
fn store_unavailable(err: StoreError) -> ApiError {
    tracing::error!(error = %err, "webhook event not stored; asking Zendesk to retry");
    count("store_unavailable");
    ApiError::Unavailable {
        code: STORE_UNAVAILABLE,
        message: "the event could not be stored; send it again later".into(),
    }
}

fn invalid_signature() -> ApiError {
    ApiError::unauthorized(
        "invalid_signature",
        "the webhook signature is not valid for this tenant",
    )
}

fn header<'a>(headers: &'a HeaderMap, name: &'static str) -> Result<&'a str, ApiError> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| {
            rejected(
                "missing_signature",
                ApiError::unauthorized(
                    "missing_signature",
                    WebhookError::MissingHeader(name).to_string(),
                ),
            )
        })
}

/// Receives a Zendesk webhook.
#[utoipa::path(
    post,
    path = "/webhooks/zendesk/{tenant}",
    tag = "webhooks",
    params(("tenant" = String, Path, description = "Tenant id (the Zendesk subdomain)")),
    request_body(content = String, content_type = "application/json",
        description = "A Zendesk event-subscription payload (`type`, `id`, `account_id`, `time`, `detail`, ...), \
                       or a trigger-connected webhook's body with a `ticket_id` (`{\"ticket_id\": \"{{ticket.id}}\"}`); \
                       signed with `X-Zendesk-Webhook-Signature` and `X-Zendesk-Webhook-Signature-Timestamp`"),
    responses(
        (status = 200, description = "accepted (queued, duplicate or ignored)", body = WebhookAck),
        (status = 400, description = "`malformed_event`: neither an event payload nor a trigger body with a `ticket_id`", body = ErrorBody),
        (status = 401, description = "`missing_signature`, `invalid_signature` or `stale_timestamp`", body = ErrorBody),
        (status = 413, description = "body larger than `zendesk.webhook_max_body_bytes`", body = ErrorBody),
        (status = 503, description = "`store_unavailable`: the event could not be stored; `Retry-After` \
                                      (seconds, under 60) asks Zendesk to send it again", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds to wait before sending the event again"))),
    )
)]
pub async fn receive(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let retry_after = state.config().zendesk.webhook_retry_after_secs;
    match accept(state, tenant, headers, body).await {
        Ok(ack) => ack.into_response(),
        Err(
            err @ ApiError::Unavailable {
                code: STORE_UNAVAILABLE,
                ..
            },
        ) => {
            let mut response = err.into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            response
        }
        Err(err) => err.into_response(),
    }
}

async fn accept(
    state: AppState,
    tenant: String,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<WebhookAck>, ApiError> {
    let config = &state.config().zendesk;
    let body = axum::body::to_bytes(body, config.webhook_max_body_bytes)
        .await
        .map_err(|_| {
            rejected(
                "too_large",
                ApiError::PayloadTooLarge(format!(
                    "webhook bodies are limited to {} bytes",
                    config.webhook_max_body_bytes
                )),
            )
        })?;
    let signature = header(&headers, SIGNATURE_HEADER)?;
    let timestamp = header(&headers, TIMESTAMP_HEADER)?;
    let tenant =
        TenantId::parse(&tenant).map_err(|_| rejected("invalid_signature", invalid_signature()))?;
    let secret = state
        .store()
        .secret(state.vault(), &tenant, SecretName::WebhookSigningSecret)
        .await
        .map_err(store_unavailable)?;
    let Some(secret) = secret else {
        tracing::warn!(%tenant, "webhook for a tenant without a webhook-signing-secret (or an unknown tenant)");
        return Err(rejected("invalid_signature", invalid_signature()));
    };
    webhook::verify_signature(&secret, timestamp, &body, signature)
        .map_err(|_| rejected("invalid_signature", invalid_signature()))?;
    webhook::check_timestamp(timestamp, chrono::Utc::now(), config.webhook_window()).map_err(
        |e| {
            rejected(
                "stale_timestamp",
                ApiError::unauthorized("stale_timestamp", e.to_string()),
            )
        },
    )?;
    let malformed = |e: WebhookError| {
        rejected(
            "malformed_event",
            ApiError::bad_request("malformed_event", e.to_string()),
        )
    };
    let event = webhook::parse_event(&body).map_err(malformed)?;
    let (event_id, event_type, ticket_id) = match event {
        WebhookEvent::Other { id, event_type } => {
            tracing::debug!(%tenant, %event_type, "ignoring a non-ticket webhook event");
            count("ignored");
            return Ok(Json(WebhookAck {
                status: "ignored",
                event_id: id,
            }));
        }
        WebhookEvent::Ticket(t) => (t.id, t.event_type, t.ticket_id),
        WebhookEvent::Trigger { ticket_id } => {
            let value = |name: &'static str| headers.get(name).and_then(|v| v.to_str().ok());
            let id = webhook::trigger_event_id(
                value(WEBHOOK_ID_HEADER),
                value(INVOCATION_ID_HEADER),
                timestamp,
                &body,
            )
            .map_err(malformed)?;
            (id, TRIGGER_EVENT_TYPE.to_string(), ticket_id)
        }
    };
    let payload = std::str::from_utf8(&body).map_err(|_| {
        rejected(
            "malformed_event",
            ApiError::bad_request("malformed_event", "the body is not UTF-8"),
        )
    })?;
    let queued_ticket = i64::try_from(ticket_id).map_err(|_| {
        rejected(
            "malformed_event",
            ApiError::bad_request("malformed_event", "the ticket id is out of range"),
        )
    })?;
    let outcome = state
        .store()
        .enqueue_event(
            &tenant,
            &NewQueuedEvent {
                event_id: event_id.clone(),
                event_type: event_type.clone(),
                ticket_id: queued_ticket,
                payload: payload.to_owned(),
            },
        )
        .await
        .map_err(store_unavailable)?;
    let status = match outcome {
        Enqueued::Queued { id } => {
            tracing::info!(%tenant, %event_id, %event_type, ticket_id, queue_id = id, "webhook event queued");
            state.app().queue_signal().notify_waiters();
            "queued"
        }
        Enqueued::Duplicate => {
            tracing::info!(%tenant, %event_id, "duplicate webhook event ignored");
            "duplicate"
        }
    };
    count(status);
    Ok(Json(WebhookAck { status, event_id }))
}
