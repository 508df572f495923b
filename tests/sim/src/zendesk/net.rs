//! The accept loop. Each connection is served by hyper directly (not `axum::serve`) so that a fault can drop
//! it with a TCP reset mid-request, the way a load balancer or a crash would.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Uri};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tower::ServiceExt as _;

/// Lets a handler drop the connection it arrived on (inserted into every request's extensions).
#[derive(Debug, Clone)]
pub(crate) struct ConnControl {
    kill: Arc<Notify>,
}

impl ConnControl {
    /// Resets the connection; the response being prepared is never sent.
    pub fn kill(&self) {
        self.kill.notify_one();
    }
}

/// Zendesk accepts `/api/v2/organizations/1.json` as well as `/api/v2/organizations/1`.
fn strip_json_suffix(req: &mut Request<Body>) {
    let path = req.uri().path();
    let Some(stripped) = path.strip_suffix(".json") else {
        return;
    };
    let rebuilt = match req.uri().query() {
        Some(q) => format!("{stripped}?{q}"),
        None => stripped.to_string(),
    };
    if let Ok(pq) = rebuilt.parse::<axum::http::uri::PathAndQuery>() {
        let mut parts = req.uri().clone().into_parts();
        parts.path_and_query = Some(pq);
        if let Ok(uri) = Uri::from_parts(parts) {
            *req.uri_mut() = uri;
        }
    }
}

/// Serves `app` on `listener` until `shutdown` turns true.
pub(crate) async fn serve(listener: TcpListener, app: Router, shutdown: watch::Receiver<bool>) {
    let mut stop = shutdown.clone();
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!(error = %e, "zendesk sim: accept failed");
                    continue;
                }
            },
            _ = stop.changed() => break,
        };
        tokio::spawn(connection(stream, app.clone(), shutdown.clone()));
    }
}

async fn connection(stream: TcpStream, app: Router, mut shutdown: watch::Receiver<bool>) {
    let _ = stream.set_nodelay(true);
    // A second descriptor of the same socket: on a kill it sets SO_LINGER 0 so the close is a reset.
    let (stream, twin) = match stream.into_std() {
        Ok(std) => {
            let twin = std.try_clone().ok();
            match TcpStream::from_std(std) {
                Ok(s) => (s, twin),
                Err(_) => return,
            }
        }
        Err(_) => return,
    };
    let kill = Arc::new(Notify::new());
    let control = ConnControl { kill: kill.clone() };
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let mut req = req.map(Body::new);
        strip_json_suffix(&mut req);
        req.extensions_mut().insert(control.clone());
        let app = app.clone();
        async move { Ok::<_, Infallible>(app.oneshot(req).await.unwrap_or_else(|e| match e {})) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = &mut conn => {}
        () = kill.notified() => {
            if let Some(twin) = twin
                && let Ok(t) = TcpStream::from_std(twin)
            {
                let _ = t.set_zero_linger();
            }
        }
        _ = shutdown.changed() => {}
    }
}
