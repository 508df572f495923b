//! The HTTP skeleton, in-process with `oneshot`: operations endpoints and the shared error shape.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use ml_connector::http::{AppState, app};
use tower::ServiceExt as _;

async fn call(
    state: &AppState,
    req: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let resp = app(state.clone()).oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, headers, body)
}

fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).unwrap()
}

fn get_with_request_id(path: &str, request_id: &str) -> Request<Body> {
    Request::get(path)
        .header("x-request-id", request_id)
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn health_ready_metrics_openapi() {
    let (state, _db) = common::sqlite_app_state(|_| {}).await;
    let (status, headers, body) = call(&state, get("/healthz")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers.contains_key("x-request-id"));
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["status"], "ok");

    let (status, _, body) = call(&state, get("/readyz")).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));

    let (status, headers, body) = call(&state, get("/metrics")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = String::from_utf8(body).unwrap();
    assert!(text.contains("mlc_http_requests_total"), "{text}");

    let (status, _, body) = call(&state, get("/openapi.json")).await;
    assert_eq!(status, StatusCode::OK);
    let doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in ["/healthz", "/readyz", "/metrics", "/openapi.json"] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from the OpenAPI document"
        );
    }
    assert!(doc["components"]["schemas"].get("ErrorBody").is_some());
}

#[tokio::test]
async fn readiness_fails_when_the_store_is_gone() {
    let (state, _db) = common::sqlite_app_state(|_| {}).await;
    state.store().close().await;
    let (status, _, body) = call(&state, get("/readyz")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["error"]["code"], "not_ready");
}

#[tokio::test]
async fn unknown_routes_and_methods_share_the_error_shape() {
    let (state, _db) = common::sqlite_app_state(|_| {}).await;
    let req = get_with_request_id("/nope", "abc-123");
    let (status, headers, body) = call(&state, req).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(headers["x-request-id"], "abc-123");
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["error"]["code"], "not_found");
    assert_eq!(json["error"]["request_id"], "abc-123");
    assert!(json["error"]["message"].is_string());

    let (status, headers, body) = call(
        &state,
        Request::post("/healthz").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(headers["content-type"], "application/json");
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["error"]["code"], "method_not_allowed");
    // A request id is generated when the client sends none, and the body carries the same one.
    let generated = headers["x-request-id"].to_str().unwrap();
    assert_eq!(json["error"]["request_id"], generated);
    assert_eq!(generated.len(), 36);
}

#[tokio::test]
async fn hostile_request_ids_are_replaced() {
    let (state, _db) = common::sqlite_app_state(|_| {}).await;
    let req = get_with_request_id("/healthz", "a\"b<script>");
    let (_, headers, _) = call(&state, req).await;
    assert_ne!(headers["x-request-id"], "a\"b<script>");
}

#[tokio::test]
async fn a_request_running_past_the_timeout_is_answered_503_timeout() {
    let (state, _db) = common::sqlite_app_state(|c| c.server.request_timeout_secs = 1).await;
    // A webhook whose body never arrives keeps its handler waiting until the time limit.
    let stalled = futures::stream::pending::<Result<bytes::Bytes, std::io::Error>>();
    let req = Request::post("/webhooks/zendesk/acme")
        .header("x-request-id", "stalled-1")
        .body(Body::from_stream(stalled))
        .unwrap();
    let started = std::time::Instant::now();
    let (status, headers, body) = call(&state, req).await;
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(headers["content-type"], "application/json");
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["error"]["code"], "timeout");
    assert_eq!(json["error"]["request_id"], "stalled-1");
}
