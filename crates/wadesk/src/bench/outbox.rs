//! Outbox throughput and pacing. Template sends to distinct numbers are queued through the API
//! while the server has no Graph token (so nothing leaves), then the server is restarted with
//! the token and a send rate, and the simulator's record of accepted sends says how fast they
//! went out and how evenly.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::json;
use simulator::Simulator;

use super::{
    params::OutboxRun,
    server::Server,
    site::Site,
    stats::{Windows, windows},
};

/// Concurrent API clients queueing sends.
const CLIENTS: usize = 16;

/// What one outbox run measured.
#[derive(Debug, Clone)]
pub struct OutboxResult {
    pub run: OutboxRun,
    /// Sends queued through the API per second (context, not a target).
    pub queued_per_sec: f64,
    /// Accepted sends per second from the first to the last.
    pub sends_per_sec: f64,
    /// One-second windows of the steady phase (rate-limited runs).
    pub windows: Windows,
}

/// Queues `run.sends` on `queueing` (a server without a Graph token), restarts the server
/// sending at `run.rate`, waits until the simulator accepted them all, and stops it.
pub async fn measure(
    site: &Site,
    database_url: &str,
    queueing: Server,
    token: &str,
    run: OutboxRun,
    index: usize,
) -> Result<OutboxResult, String> {
    let started = Instant::now();
    queue(site.addr, token, index, run.sends).await?;
    let queued_per_sec = run.sends as f64 / started.elapsed().as_secs_f64();
    queueing.stop().await?;
    site.sim.reset();
    let sending = site
        .serve(database_url, Some(run.rate), &format!("send-{}", run.rate))
        .await?;
    let limit = Duration::from_secs(60)
        + Duration::from_secs_f64(run.sends as f64 / f64::from(run.rate.max(100)) * 2.0);
    let waited = wait_accepted(&site.sim, run.sends, limit).await;
    let log = sending.log_tail();
    sending.stop().await?;
    waited.map_err(|e| format!("{e}\n{log}"))?;
    let accepted: Vec<Instant> = site.sim.accepted_sends().iter().map(|s| s.at).collect();
    let first = accepted.iter().min().copied().unwrap_or_else(Instant::now);
    let times: Vec<f64> = accepted
        .iter()
        .map(|t| t.duration_since(first).as_secs_f64())
        .collect();
    let span = times.iter().copied().fold(0.0, f64::max);
    Ok(OutboxResult {
        run,
        queued_per_sec,
        sends_per_sec: (times.len().saturating_sub(1)) as f64 / span.max(1e-6),
        windows: windows(&times, f64::from(run.rate)),
    })
}

/// Posts `n` template sends to distinct numbers (`+1 6NN …`) with `CLIENTS` clients.
async fn queue(addr: SocketAddr, token: &str, index: usize, n: usize) -> Result<(), String> {
    let http = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(CLIENTS)
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;
    let url = format!("http://{addr}/api/v1/messages");
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::with_capacity(CLIENTS);
    for _ in 0..CLIENTS {
        let (http, url, next, token) = (http.clone(), url.clone(), next.clone(), token.to_owned());
        tasks.push(tokio::spawn(async move {
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= n {
                    return Ok(());
                }
                let body = json!({
                    "to": format!("+1{}{k:07}", 600 + index),
                    "type": "template",
                    "template": {"name": "order_update", "language": {"code": "en_US"}},
                });
                let r = http
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await
                    .map_err(|e| format!("send API: {e}"))?;
                if r.status() != reqwest::StatusCode::ACCEPTED {
                    let status = r.status();
                    return Err(format!(
                        "send API answered {status}: {}",
                        r.text().await.unwrap_or_default()
                    ));
                }
            }
        }));
    }
    for task in tasks {
        task.await.map_err(|e| e.to_string())??;
    }
    Ok(())
}

async fn wait_accepted(sim: &Simulator, n: usize, limit: Duration) -> Result<(), String> {
    let deadline = Instant::now() + limit;
    loop {
        let stats = sim.stats();
        if stats.accepted >= n {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "only {} of {n} sends accepted within {limit:?} ({} refused)",
                stats.accepted,
                stats.sends - stats.accepted
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
