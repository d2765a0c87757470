//! The HTTP floor: the ingest load against a bare axum handler that reads each body and
//! answers 200 — no signature checked, nothing stored — on a runtime of its own in this
//! process, with as many worker threads as the server's. It is what answering the same
//! requests costs on this machine with the load generator beside it: no server that checks and
//! stores them can acknowledge more here.

use std::sync::Arc;

use axum::{Router, body::Bytes, http::StatusCode, routing::post};
use tokio::sync::oneshot;

use super::ingest::{self, Posted};

/// Posts every request to the bare handler over `connections` connections.
pub async fn run(requests: Arc<Vec<Vec<u8>>>, connections: usize) -> Result<Posted, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .map_err(|e| format!("HTTP floor: cannot listen: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("HTTP floor: {e}"))?;
    let (stop, stopped) = oneshot::channel::<()>();
    let serving = std::thread::spawn(move || serve(listener, stopped));
    let posted = ingest::post_all(addr, requests, connections).await;
    let _ = stop.send(());
    let served = tokio::task::spawn_blocking(move || serving.join())
        .await
        .map_err(|e| e.to_string())?
        .map_err(|_| "HTTP floor: the server thread panicked".to_owned())?;
    served?;
    let posted = posted?;
    posted.check("requests to the HTTP floor", String::new)?;
    Ok(posted)
}

/// Serves the bare handler on a runtime of its own until `stop`.
fn serve(listener: std::net::TcpListener, stop: oneshot::Receiver<()>) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("HTTP floor: {e}"))?;
    runtime.block_on(async move {
        let listener =
            tokio::net::TcpListener::from_std(listener).map_err(|e| format!("HTTP floor: {e}"))?;
        let app = Router::new().route("/webhooks/whatsapp", post(accept));
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop.await;
            })
            .await
            .map_err(|e| format!("HTTP floor: {e}"))
    })
}

async fn accept(body: Bytes) -> StatusCode {
    if body.is_empty() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    }
}
