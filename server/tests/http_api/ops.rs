//! The HTTP skeleton of the running application, on every backend: operations endpoints and the shared error
//! shape.

use std::time::{Duration, Instant};

use crate::support::{TestApp, spawn_apps};

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    app.client.get(app.url(path)).send().await.unwrap()
}

#[tokio::test]
async fn health_ready_metrics_openapi() {
    for app in spawn_apps(|_| {}).await {
        let name = app.name;
        let resp = get(&app, "/healthz").await;
        assert_eq!(resp.status(), 200, "{name}");
        assert!(resp.headers().contains_key("x-request-id"));
        let json: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(json["status"], "ok");

        let resp = get(&app, "/readyz").await;
        assert_eq!(resp.status(), 200, "{name}: {}", resp.text().await.unwrap());

        let resp = get(&app, "/metrics").await;
        assert_eq!(resp.status(), 200);
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain")
        );
        let text = resp.text().await.unwrap();
        assert!(text.contains("mlc_http_requests_total"), "{name}: {text}");

        let resp = get(&app, "/openapi.json").await;
        assert_eq!(resp.status(), 200);
        let doc: serde_json::Value = resp.json().await.unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        for path in ["/healthz", "/readyz", "/metrics", "/openapi.json"] {
            assert!(
                doc["paths"].get(path).is_some(),
                "{path} missing from the OpenAPI document"
            );
        }
        assert!(doc["components"]["schemas"].get("ErrorBody").is_some());
        app.stop().await;
    }
}

#[tokio::test]
async fn readiness_fails_when_the_store_is_gone() {
    for app in spawn_apps(|_| {}).await {
        app.store().close().await;
        let resp = get(&app, "/readyz").await;
        assert_eq!(resp.status(), 503, "{}", app.name);
        let json: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(json["error"]["code"], "not_ready");
    }
}

#[tokio::test]
async fn unknown_routes_and_methods_share_the_error_shape() {
    for app in spawn_apps(|_| {}).await {
        let resp = app
            .client
            .get(app.url("/nope"))
            .header("x-request-id", "abc-123")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 404, "{}", app.name);
        assert_eq!(resp.headers()["x-request-id"], "abc-123");
        let json: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(json["error"]["code"], "not_found");
        assert_eq!(json["error"]["request_id"], "abc-123");
        assert!(json["error"]["message"].is_string());

        let resp = app.client.post(app.url("/healthz")).send().await.unwrap();
        assert_eq!(resp.status(), 405);
        assert_eq!(resp.headers()["content-type"], "application/json");
        // A request id is generated when the client sends none, and the body carries the same one.
        let generated = resp.headers()["x-request-id"].to_str().unwrap().to_string();
        let json: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(json["error"]["code"], "method_not_allowed");
        assert_eq!(json["error"]["request_id"], generated.as_str());
        assert_eq!(generated.len(), 36);
        app.stop().await;
    }
}

#[tokio::test]
async fn hostile_request_ids_are_replaced() {
    for app in spawn_apps(|_| {}).await {
        let resp = app
            .client
            .get(app.url("/healthz"))
            .header("x-request-id", "a\"b<script>")
            .send()
            .await
            .unwrap();
        assert_ne!(
            resp.headers()["x-request-id"],
            "a\"b<script>",
            "{}",
            app.name
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn a_request_running_past_the_timeout_is_answered_503_timeout() {
    for app in spawn_apps(|c| c.server.request_timeout_secs = 1).await {
        // A webhook whose body never arrives keeps its handler waiting until the time limit.
        let stalled = futures::stream::pending::<Result<bytes::Bytes, std::io::Error>>();
        let started = Instant::now();
        let resp = app
            .client
            .post(app.url("/webhooks/zendesk/acme"))
            .header("x-request-id", "stalled-1")
            .body(reqwest::Body::wrap_stream(stalled))
            .send()
            .await
            .unwrap();
        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(resp.status(), 503, "{}", app.name);
        assert_eq!(resp.headers()["content-type"], "application/json");
        let json: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(json["error"]["code"], "timeout");
        assert_eq!(json["error"]["request_id"], "stalled-1");
    }
}
