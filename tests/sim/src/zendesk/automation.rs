//! What an admin sets up in a Zendesk account, as Zendesk's published API describes it (Support API reference:
//! Ticket Fields, Webhooks, Triggers):
//!
//! - `POST /api/v2/ticket_fields` `{"ticket_field": {"type", "title", "custom_field_options": [{name, value}]}}`
//!   → 201; a drop-down (`tagger`, `multiselect`) needs options. Ticket fields have no key: titles may repeat.
//!   `DELETE /api/v2/ticket_fields/{id}` → 204 No Content; the field is gone (`GET` → 404).
//! - Webhooks: `POST /api/v2/webhooks` `{"webhook": {"name", "endpoint", "http_method", "request_format",
//!   "status", "subscriptions"}}` → 201 `{"webhook": {"id": "01…", …}}`; `GET /api/v2/webhooks` (cursor
//!   pagination: `meta`, `links`); `GET /api/v2/webhooks/{id}`; `GET /api/v2/webhooks/{id}/signing_secret` →
//!   `{"signing_secret": {"algorithm": "SHA256", "secret"}}`.
//! - Triggers: `POST /api/v2/triggers` `{"trigger": {"title", "conditions": {"all", "any"}, "actions"}}` → 201;
//!   `GET /api/v2/triggers`. An active trigger whose action is `notification_webhook` with value
//!   `[webhook_id, body]` makes every ticket change send `body` (placeholders filled in) to that webhook,
//!   signed with the webhook's secret.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::Shared;
use super::pages;
use super::webhooks::WebhookTarget;
use super::world::{ZdError, now_iso};

/// A webhook of the account.
#[derive(Debug, Clone)]
pub struct SimWebhook {
    pub id: String,
    pub name: String,
    pub endpoint: String,
    pub http_method: String,
    pub request_format: String,
    pub status: String,
    pub subscriptions: Vec<String>,
    pub secret: String,
    pub created_at: String,
}

/// The account's webhooks and triggers.
#[derive(Debug, Default)]
pub struct Automation {
    pub webhooks: BTreeMap<String, SimWebhook>,
    pub triggers: BTreeMap<u64, Value>,
    next_trigger: u64,
    next_webhook: u64,
}

impl SimWebhook {
    fn json(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "endpoint": self.endpoint,
            "http_method": self.http_method,
            "request_format": self.request_format,
            "subscriptions": self.subscriptions,
            "created_at": self.created_at,
            "created_by": "1",
        })
    }
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim()
        .to_string()
}

fn random_secret() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..44)
        .map(|_| ALPHABET[(rand::random::<u32>() as usize) % ALPHABET.len()] as char)
        .collect()
}

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/api/v2/webhooks", get(list_webhooks).post(create_webhook))
        .route("/api/v2/webhooks/{id}", get(show_webhook))
        .route(
            "/api/v2/webhooks/{id}/signing_secret",
            get(show_signing_secret),
        )
        .route("/api/v2/triggers", get(list_triggers).post(create_trigger))
}

fn parse_body(bytes: &[u8]) -> Result<Value, ZdError> {
    serde_json::from_slice(bytes)
        .map_err(|_| ZdError::bad_request("InvalidJSON", "The request body is not valid JSON"))
}

fn object<'a>(body: &'a Value, key: &str) -> Result<&'a Value, ZdError> {
    body.get(key).filter(|v| v.is_object()).ok_or_else(|| {
        ZdError::bad_request("InvalidValue", &format!("Parameter {key} is required"))
    })
}

pub(crate) async fn create_ticket_field(
    State(shared): State<Arc<Shared>>,
    body: axum::body::Bytes,
) -> Result<Response, ZdError> {
    const TYPES: [&str; 10] = [
        "text",
        "textarea",
        "checkbox",
        "date",
        "integer",
        "decimal",
        "regexp",
        "tagger",
        "multiselect",
        "lookup",
    ];
    let body = parse_body(&body)?;
    let input = object(&body, "ticket_field")?;
    let kind = text(input, "type");
    let title = text(input, "title");
    if !TYPES.contains(&kind.as_str()) {
        return Err(ZdError::invalid(
            "type",
            "InvalidValue",
            "Type: is not included in the list",
        ));
    }
    if title.is_empty() {
        return Err(ZdError::invalid(
            "title",
            "BlankValue",
            "Title: cannot be blank",
        ));
    }
    let options: Vec<(String, String)> = input
        .get("custom_field_options")
        .and_then(Value::as_array)
        .map(|opts| {
            opts.iter()
                .map(|o| (text(o, "name"), text(o, "value")))
                .collect()
        })
        .unwrap_or_default();
    if matches!(kind.as_str(), "tagger" | "multiselect") && options.is_empty() {
        return Err(ZdError::invalid(
            "custom_field_options",
            "BlankValue",
            "Field options: must have at least one option",
        ));
    }
    if options.iter().any(|(n, v)| n.is_empty() || v.is_empty()) {
        return Err(ZdError::invalid(
            "custom_field_options",
            "BlankValue",
            "Field options: name and value cannot be blank",
        ));
    }
    let borrowed: Vec<(&str, &str)> = options
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let mut w = shared.world();
    let id = w.add_ticket_field(&kind, &title, &borrowed);
    let field = w
        .ticket_fields
        .get(&id)
        .map(|f| w.ticket_field_json(f))
        .unwrap_or(Value::Null);
    Ok((StatusCode::CREATED, Json(json!({"ticket_field": field}))).into_response())
}

/// `DELETE /api/v2/ticket_fields/{id}`.
pub(crate) async fn delete_ticket_field(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<Response, ZdError> {
    let id: u64 = id.parse().map_err(|_| ZdError::not_found())?;
    let mut w = shared.world();
    w.ticket_fields.remove(&id).ok_or_else(ZdError::not_found)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn create_webhook(
    State(shared): State<Arc<Shared>>,
    body: axum::body::Bytes,
) -> Result<Response, ZdError> {
    let body = parse_body(&body)?;
    let input = object(&body, "webhook")?;
    let name = text(input, "name");
    let endpoint = text(input, "endpoint");
    if name.is_empty() {
        return Err(ZdError::invalid(
            "name",
            "BlankValue",
            "Name: cannot be blank",
        ));
    }
    if !(endpoint.starts_with("https://") || endpoint.starts_with("http://")) {
        return Err(ZdError::invalid(
            "endpoint",
            "InvalidValue",
            "Endpoint: must be a valid URL",
        ));
    }
    let subscriptions: Vec<String> = input
        .get("subscriptions")
        .and_then(Value::as_array)
        .map(|s| {
            s.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let mut w = shared.world();
    let a = &mut w.automation;
    a.next_webhook += 1;
    let id = format!("01HSIM{:020}", a.next_webhook);
    let hook = SimWebhook {
        id: id.clone(),
        name,
        endpoint,
        http_method: Some(text(input, "http_method"))
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "POST".into()),
        request_format: Some(text(input, "request_format"))
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "json".into()),
        status: Some(text(input, "status"))
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "active".into()),
        subscriptions,
        secret: random_secret(),
        created_at: now_iso(),
    };
    let out = hook.json();
    a.webhooks.insert(id, hook);
    Ok((StatusCode::CREATED, Json(json!({"webhook": out}))).into_response())
}

async fn list_webhooks(State(shared): State<Arc<Shared>>) -> Response {
    let w = shared.world();
    let hooks: Vec<Value> = w
        .automation
        .webhooks
        .values()
        .map(SimWebhook::json)
        .collect();
    Json(json!({
        "webhooks": hooks,
        "meta": {"has_more": false, "after_cursor": null, "before_cursor": null},
        "links": {"next": null, "prev": null},
    }))
    .into_response()
}

async fn show_webhook(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<Response, ZdError> {
    let w = shared.world();
    let hook = w
        .automation
        .webhooks
        .get(&id)
        .ok_or_else(ZdError::not_found)?;
    Ok(Json(json!({"webhook": hook.json()})).into_response())
}

async fn show_signing_secret(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<Response, ZdError> {
    let w = shared.world();
    let hook = w
        .automation
        .webhooks
        .get(&id)
        .ok_or_else(ZdError::not_found)?;
    Ok(
        Json(json!({"signing_secret": {"algorithm": "SHA256", "secret": hook.secret}}))
            .into_response(),
    )
}

async fn create_trigger(
    State(shared): State<Arc<Shared>>,
    body: axum::body::Bytes,
) -> Result<Response, ZdError> {
    let body = parse_body(&body)?;
    let input = object(&body, "trigger")?;
    let title = text(input, "title");
    if title.is_empty() {
        return Err(ZdError::invalid(
            "title",
            "BlankValue",
            "Title: cannot be blank",
        ));
    }
    let conditions = input.get("conditions").cloned().unwrap_or(Value::Null);
    let has_condition = ["all", "any"].iter().any(|k| {
        conditions
            .get(k)
            .and_then(Value::as_array)
            .is_some_and(|c| !c.is_empty())
    });
    if !has_condition {
        return Err(ZdError::invalid(
            "conditions",
            "InvalidValue",
            "Conditions: a trigger needs at least one condition",
        ));
    }
    let actions = input
        .get("actions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if actions.is_empty() {
        return Err(ZdError::invalid(
            "actions",
            "InvalidValue",
            "Actions: a trigger needs at least one action",
        ));
    }
    let mut target = None;
    let mut w = shared.world();
    for action in &actions {
        if action.get("field").and_then(Value::as_str) != Some("notification_webhook") {
            continue;
        }
        let value = action.get("value").and_then(Value::as_array);
        let (Some(hook_id), Some(payload)) = (
            value.and_then(|v| v.first()).and_then(Value::as_str),
            value.and_then(|v| v.get(1)).and_then(Value::as_str),
        ) else {
            return Err(ZdError::invalid(
                "actions",
                "InvalidValue",
                "Actions: notification_webhook takes [webhook id, body]",
            ));
        };
        let Some(hook) = w.automation.webhooks.get(hook_id) else {
            return Err(ZdError::invalid(
                "actions",
                "InvalidValue",
                "Actions: the webhook does not exist",
            ));
        };
        target = Some(WebhookTarget::trigger(
            &hook.endpoint,
            &hook.secret,
            &hook.id,
            payload,
        ));
    }
    let a = &mut w.automation;
    a.next_trigger += 1;
    let id = 360_100_000_000 + a.next_trigger;
    let trigger = json!({
        "id": id,
        "url": format!("{}/api/v2/triggers/{id}.json", shared.base_url),
        "title": title,
        "active": input.get("active").and_then(Value::as_bool).unwrap_or(true),
        "conditions": conditions,
        "actions": actions,
        "description": input.get("description").cloned().unwrap_or(Value::Null),
        "position": a.triggers.len() + 1,
        "created_at": now_iso(),
        "updated_at": now_iso(),
    });
    let active = trigger["active"].as_bool() == Some(true);
    a.triggers.insert(id, trigger.clone());
    drop(w);
    if active && let Some(target) = target {
        *shared
            .hooks
            .target
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(target);
    }
    Ok((StatusCode::CREATED, Json(json!({"trigger": trigger}))).into_response())
}

async fn list_triggers(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Result<Response, ZdError> {
    let w = shared.world();
    let items = w
        .automation
        .triggers
        .iter()
        .map(|(id, t)| (*id, t.clone()))
        .collect();
    let page = pages::page(&shared.base_url, "/api/v2/triggers", &q, "triggers", items)?;
    Ok(Json(page).into_response())
}
