//! The baseline of `scripts/bench-agent-api`: a bare axum handler that answers a fixed JSON body (the size of an
//! agent API invoice), with no authentication, cache or middleware. `bare_json ADDR BODY_FILE`.

use axum::Router;
use axum::http::header;
use axum::routing::get;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:0".into());
    let body: &'static str = match args.next() {
        Some(path) => Box::leak(std::fs::read_to_string(path)?.into_boxed_str()),
        None => r#"{"ok": true}"#,
    };
    let app = Router::new().route(
        "/{*path}",
        get(move || async move { ([(header::CONTENT_TYPE, "application/json")], body) }),
    );
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on {}", listener.local_addr()?);
    axum::serve(listener, app).await
}
