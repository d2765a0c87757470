//! Webhook → subscriber latency: an agent's browser holds `GET /api/v1/events` open; customer
//! webhooks are posted one at a time, each timed from the start of its POST to the moment its
//! `message.created` event is read from the stream.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use tokio::sync::mpsc;

use super::wire::Wire;

/// Webhooks posted before timing starts (connections and caches warm up).
pub const WARM_UP: usize = 3;
/// Longest wait for one event.
const EVENT_WAIT: Duration = Duration::from_secs(10);

/// Opens the event stream with `token`, then posts `requests` one at a time; returns each
/// webhook's latency (the first `WARM_UP` are not counted).
pub async fn run(
    addr: SocketAddr,
    token: &str,
    requests: &[Vec<u8>],
) -> Result<Vec<Duration>, String> {
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .map_err(|e| e.to_string())?;
    let mut response = http
        .get(format!("http://{addr}/api/v1/events"))
        .bearer_auth(token)
        .header("accept", "text/event-stream")
        .send()
        .await
        .map_err(|e| format!("cannot open the event stream: {e}"))?;
    if response.status() != reqwest::StatusCode::OK {
        return Err(format!("event stream answered {}", response.status()));
    }
    // The server subscribes before it answers: from here on no event is missed.
    let (created_tx, mut created) = mpsc::unbounded_channel::<Instant>();
    let reader = tokio::spawn(async move {
        let mut buffer = String::new();
        while let Ok(Some(chunk)) = response.chunk().await {
            let at = Instant::now();
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let block: String = buffer.drain(..end + 2).collect();
                let created = block
                    .lines()
                    .filter_map(|l| l.strip_prefix("event:"))
                    .any(|kind| kind.trim() == "message.created");
                if created && created_tx.send(at).is_err() {
                    return;
                }
            }
        }
    });
    let mut wire = Wire::connect(addr)
        .await
        .map_err(|e| format!("cannot connect to the server: {e}"))?;
    let mut latencies = Vec::with_capacity(requests.len());
    for (k, request) in requests.iter().enumerate() {
        while created.try_recv().is_ok() {}
        let start = Instant::now();
        let status = wire
            .exchange(request)
            .await
            .map_err(|e| format!("webhook post failed: {e}"))?;
        if status != 200 {
            reader.abort();
            return Err(format!("webhook answered {status}"));
        }
        let at = match tokio::time::timeout(EVENT_WAIT, created.recv()).await {
            Ok(Some(at)) => at,
            _ => {
                reader.abort();
                return Err(format!("no message.created event within {EVENT_WAIT:?}"));
            }
        };
        if k >= WARM_UP {
            latencies.push(at.saturating_duration_since(start));
        }
    }
    reader.abort();
    Ok(latencies)
}
