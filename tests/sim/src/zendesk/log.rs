//! The request log tests assert on: what reached "Zendesk", when, with which headers and body, and how it ended.

use std::collections::BTreeMap;
use std::time::Instant;

use serde_json::Value;

/// One request as the simulator saw it.
#[derive(Debug, Clone)]
pub struct LoggedRequest {
    /// Arrival order, from 0.
    pub seq: u64,
    /// When it arrived (monotonic; compare entries with each other or with `Instant::now()`).
    pub received: Instant,
    /// When it arrived (wall clock).
    pub time: chrono::DateTime<chrono::Utc>,
    /// `GET`, `POST`, ...
    pub method: String,
    /// Path without the query (and without a `.json` suffix).
    pub path: String,
    /// Raw query string, if any.
    pub query: Option<String>,
    /// Headers of interest: `authorization`, `content-type`, `accept`, `user-agent`, `x-request-id`.
    pub headers: BTreeMap<String, String>,
    /// The body as JSON, when it was JSON (form bodies are turned into an object).
    pub body: Option<Value>,
    /// The status answered; `None` while in flight or when the connection was dropped.
    pub status: Option<u16>,
    /// The injected fault that applied, if any (e.g. `reset_after_commit`).
    pub fault: Option<String>,
}

impl LoggedRequest {
    /// The value of a query parameter.
    pub fn query_param(&self, name: &str) -> Option<String> {
        let q = self.query.as_deref()?;
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// `"METHOD /path"`, handy in assertion messages.
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// Headers kept in the log.
pub(crate) const LOGGED_HEADERS: [&str; 5] = [
    "authorization",
    "content-type",
    "accept",
    "user-agent",
    "x-request-id",
];

pub(crate) fn headers_of_interest(headers: &axum::http::HeaderMap) -> BTreeMap<String, String> {
    LOGGED_HEADERS
        .iter()
        .filter_map(|name| {
            headers
                .get(*name)
                .and_then(|v| v.to_str().ok())
                .map(|v| ((*name).to_string(), v.to_string()))
        })
        .collect()
}

/// JSON bodies as JSON; `application/x-www-form-urlencoded` bodies as an object of strings.
pub(crate) fn body_value(content_type: Option<&str>, bytes: &[u8]) -> Option<Value> {
    if bytes.is_empty() {
        return None;
    }
    if content_type.is_some_and(|c| c.starts_with("application/x-www-form-urlencoded")) {
        let map: serde_json::Map<String, Value> = url::form_urlencoded::parse(bytes)
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect();
        return Some(Value::Object(map));
    }
    serde_json::from_slice(bytes)
        .ok()
        .or_else(|| Some(Value::String(String::from_utf8_lossy(bytes).into_owned())))
}
