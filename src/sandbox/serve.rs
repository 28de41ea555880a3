//! The sandbox's accept loop: hyper's HTTP/1 server, one task per connection.
//!
//! `axum::serve` gives no header-read timeout, so a client that opens connections and never
//! finishes its request headers kept each of them open indefinitely (3,000 such connections
//! stayed open for 30 s and more). Here hyper's `header_read_timeout` closes them: the timer
//! starts whenever the connection waits for a request head (the first one, or the next one on a
//! kept-alive connection) and the connection is closed when it fires.

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt as _;

/// How long in-flight requests may run on after shutdown was asked for.
const DRAIN: Duration = Duration::from_secs(5);

/// Serves `app` on `listener` until `shutdown` turns true, then drains open connections for at
/// most [`DRAIN`]. `rewrite` runs on every request before routing (per-app host routing).
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    rewrite: fn(axum::extract::Request) -> axum::extract::Request,
    header_read_timeout: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    loop {
        let accepted = tokio::select! {
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    break;
                }
                continue;
            }
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            Err(e) => {
                // Out of file descriptors and the like: wait a little instead of spinning.
                tracing::warn!("sandbox accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!("sandbox could not set TCP_NODELAY: {e}");
        }
        let app = app.clone();
        let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
            let app = app.clone();
            async move {
                let req = rewrite(req.map(Body::new));
                app.oneshot(req).await.map_err(|e: Infallible| e)
            }
        });
        let conn = builder.serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!("sandbox connection closed: {e}");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("sandbox connections still open after the drain time; closing");
    }
}
