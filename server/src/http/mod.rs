//! The HTTP layer: axum routers per concern, merged here with the shared middleware.
//!
//! Layers, outermost first: request id (kept from the client when well-formed, else a new UUID) → tracing span
//! and access log → metrics → JSON error bodies → timeout → body limit → the routes.

pub mod agent;
pub mod auth;
pub mod dead_letters;
pub mod error;
pub mod jwt;
pub mod ops;
pub mod plugins;
pub mod setup;
pub mod state;
pub mod sync;
pub mod webhooks;

use std::future::Future;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::HeaderName;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse as _, Response};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi as _;

pub use error::ApiError;
pub use state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application, ready to serve.
pub fn app(state: AppState) -> Router {
    let server = &state.config().server;
    let timeout = Duration::from_secs(server.request_timeout_secs);
    let body_limit = server.max_body_bytes;
    let routes = Router::new()
        .merge(ops::router())
        .merge(webhooks::router())
        .merge(plugins::router(state.config().plugins.max_upload_bytes))
        .merge(sync::router())
        .merge(dead_letters::router())
        .merge(setup::router())
        .merge(agent::router());
    with_middleware(routes, timeout, body_limit).with_state(state)
}

/// `routes` behind the shared middleware (see the module documentation), with the JSON 404 fallback.
fn with_middleware<S>(routes: Router<S>, timeout: Duration, body_limit: usize) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    routes
        .fallback(|| async { ApiError::NotFound("no such endpoint".into()) })
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn_with_state(timeout, time_limit))
        .layer(middleware::from_fn(error::render_errors))
        .layer(middleware::from_fn(record_metrics))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    let request_id =
                        req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or_default();
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id)
                })
                .on_response(tower_http::trace::DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(middleware::from_fn(sanitize_request_id))
}

/// A request still running after `limit` is dropped and answered 503 with code `timeout`.
async fn time_limit(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Unavailable {
            code: "timeout",
            message: format!(
                "the request took longer than {limit:?} (server.request_timeout_secs)"
            ),
        }
        .into_response(),
    }
}

/// The OpenAPI document of every module.
pub fn openapi() -> utoipa::openapi::OpenApi {
    #[derive(utoipa::OpenApi)]
    #[openapi(info(
        title = "ml-connector",
        description = "Workday Financial Management context for Zendesk: agent API, admin API, webhooks, operations."
    ))]
    struct Root;
    let mut doc = Root::openapi();
    doc.merge(ops::ApiDoc::openapi());
    doc.merge(webhooks::ApiDoc::openapi());
    doc.merge(plugins::ApiDoc::openapi());
    doc.merge(sync::ApiDoc::openapi());
    doc.merge(dead_letters::ApiDoc::openapi());
    doc.merge(setup::ApiDoc::openapi());
    doc.merge(agent::ApiDoc::openapi());
    {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "admin_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "the tenant's admin key (`ml-connector tenant admin-key T`)",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "agent_jwt",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "HS256 JWT signed by Zendesk's app proxy with the tenant's jwt-shared-secret",
                    ))
                    .build(),
            ),
        );
    }
    doc
}

/// Serves `state` on `listener` until `shutdown` resolves, then drains in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = app(state);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// A client-supplied request id is kept only if it is short and plain; otherwise a new one is made.
async fn sanitize_request_id(mut request: Request, next: Next) -> Response {
    let ok = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        });
    if !ok {
        request.headers_mut().remove(&REQUEST_ID);
    }
    next.run(request).await
}

async fn record_metrics(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let method = request.method().to_string();
    let start = Instant::now();
    let response = next.run(request).await;
    let class = format!("{}xx", response.status().as_u16() / 100);
    metrics::counter!("mlc_http_requests_total", "route" => route.clone(), "method" => method, "status" => class)
        .increment(1);
    metrics::histogram!("mlc_http_request_duration_seconds", "route" => route)
        .record(start.elapsed().as_secs_f64());
    response
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::StatusCode;
    use axum::routing::get;
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;

    use super::*;

    #[tokio::test]
    async fn a_request_over_the_time_limit_is_answered_503_timeout() {
        let routes = Router::new()
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    "late"
                }),
            )
            .route("/fast", get(|| async { "on time" }));
        let app = with_middleware(routes, Duration::from_millis(100), 1024);

        let fast = app
            .clone()
            .oneshot(Request::get("/fast").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(fast.status(), StatusCode::OK);

        let started = Instant::now();
        let slow = app
            .oneshot(
                Request::get("/slow")
                    .header("x-request-id", "slow-1")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(slow.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(slow.headers()["content-type"], "application/json");
        let body = slow.into_body().collect().await.unwrap().to_bytes();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["error"]["code"], "timeout");
        assert_eq!(json["error"]["request_id"], "slow-1");
    }
}
