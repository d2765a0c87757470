//! Webhook ingest under load: unique signed Meta webhooks (one customer text message each,
//! built and signed before the clock starts) posted over many keep-alive connections at once.
//! Measures acknowledgements per second and their latency, then how long until every message
//! is applied and visible, and the server's peak resident memory meanwhile.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::Value;
use simulator::{Simulator, payload};
use tokio_util::sync::CancellationToken;
use whatsapp::signature;

use super::{
    corpus,
    server::{Server, cpu_since, rss_kib},
    wire::{self, Wire},
};
use crate::store::Store;

/// Prepared webhooks: the raw bodies and the complete HTTP requests carrying them.
pub struct Webhooks {
    pub bodies: Vec<Vec<u8>>,
    pub requests: Vec<Vec<u8>>,
}

/// Builds `n` unique webhooks from `customers` customers, numbered from `first`.
pub fn prepare(
    sim: &Simulator,
    addr: SocketAddr,
    first: usize,
    n: usize,
    customers: usize,
) -> Webhooks {
    let (pnid, display, waba) = (
        sim.phone_number_id(),
        sim.display_phone_number(),
        sim.waba_id(),
    );
    let secret = sim.app_secret();
    let mut hooks = Webhooks {
        bodies: Vec::with_capacity(n),
        requests: Vec::with_capacity(n),
    };
    for k in first..first + n {
        let customer = k % customers.max(1);
        let wa_id = format!("4477009{customer:05}");
        let name = format!(
            "{} {}",
            corpus::FIRST_NAMES[customer % corpus::FIRST_NAMES.len()],
            corpus::LAST_NAMES[(customer / 7) % corpus::LAST_NAMES.len()]
        );
        let msg = payload::text(&wa_id, &corpus::sentence(k as u64));
        let note = payload::envelope(
            &pnid,
            &display,
            &waba,
            &[(&wa_id, &name)],
            vec![msg],
            vec![],
        );
        let body = simulator::to_meta_json(&note).unwrap_or_default();
        hooks.requests.push(signed_post(addr, &secret, &body));
        hooks.bodies.push(body);
    }
    hooks
}

/// The complete request Meta makes to deliver `body`: signed with `secret`, as Meta's agent.
pub fn signed_post(addr: SocketAddr, secret: &str, body: &[u8]) -> Vec<u8> {
    let sig = signature::sign(secret.as_bytes(), body);
    let headers = [
        ("Content-Type", "application/json"),
        ("User-Agent", "facebookexternalua"),
        (signature::HEADER, sig.as_str()),
    ];
    wire::post(addr, "/webhooks/whatsapp", &headers, body)
}

/// What the ingest load measured.
#[derive(Debug, Clone)]
pub struct IngestResult {
    pub posted: Posted,
    /// From the first request until every message was applied and visible.
    pub applied_in: Duration,
    pub peak_rss_kib: u64,
    /// The server's CPU time from the first request until every message was applied.
    pub server_cpu_secs: f64,
}

impl IngestResult {
    pub fn applied_per_sec(&self) -> f64 {
        self.posted.ok() as f64 / self.applied_in.as_secs_f64()
    }
}

/// What posting every request measured.
#[derive(Debug, Clone)]
pub struct Posted {
    /// Answers other than 200 (and failed connections).
    pub errors: usize,
    /// From the first request to the last answer.
    pub acked_in: Duration,
    /// Every request's, answered or not.
    pub latencies: Vec<Duration>,
}

impl Posted {
    /// Requests answered 200.
    pub fn ok(&self) -> usize {
        self.latencies.len().saturating_sub(self.errors)
    }

    /// Requests answered 200 per second.
    pub fn ok_per_sec(&self) -> f64 {
        self.ok() as f64 / self.acked_in.as_secs_f64()
    }

    /// An error naming `what` when more than 1 % of the requests were not answered 200 (the
    /// figures would not be the server's); `log` says why, from the server's side.
    pub fn check(&self, what: &str, log: impl FnOnce() -> String) -> Result<(), String> {
        if self.errors * 100 > self.latencies.len() {
            return Err(format!(
                "{} of {} {what} were not answered 200:\n{}",
                self.errors,
                self.latencies.len(),
                log()
            ));
        }
        Ok(())
    }
}

/// Posts every request to `addr` over `connections` keep-alive connections, each taking the
/// next request as soon as its previous one is answered.
pub async fn post_all(
    addr: SocketAddr,
    requests: Arc<Vec<Vec<u8>>>,
    connections: usize,
) -> Result<Posted, String> {
    let mut wires = Vec::with_capacity(connections);
    for _ in 0..connections {
        wires.push(
            Wire::connect(addr)
                .await
                .map_err(|e| format!("cannot connect to the server: {e}"))?,
        );
    }
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(connections);
    for mut wire in wires {
        let (requests, next) = (requests.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(requests.len() / connections + 1);
            let mut errors = 0;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(request) = requests.get(i) else {
                    break;
                };
                let t = Instant::now();
                // A connection the server closed is reopened once; the retry is what Meta does.
                let status = match wire.exchange(request).await {
                    Ok(s) => Ok(s),
                    Err(_) => wire.exchange(request).await,
                };
                latencies.push(t.elapsed());
                if status.ok() != Some(200) {
                    errors += 1;
                }
            }
            (latencies, errors)
        }));
    }
    let mut posted = Posted {
        errors: 0,
        acked_in: Duration::ZERO,
        latencies: Vec::with_capacity(requests.len()),
    };
    for task in tasks {
        let (latencies, errors) = task.await.map_err(|e| e.to_string())?;
        posted.latencies.extend(latencies);
        posted.errors += errors;
    }
    posted.acked_in = start.elapsed();
    Ok(posted)
}

/// Posts every request over `connections` keep-alive connections, then waits until the
/// journal is drained (health: `webhooks.pending` = 0) and `expected_messages` (less those
/// not acknowledged) are stored.
pub async fn run(
    server: &Server,
    addr: SocketAddr,
    requests: Arc<Vec<Vec<u8>>>,
    connections: usize,
    store: &Store,
    expected_messages: i64,
) -> Result<IngestResult, String> {
    let sampling = CancellationToken::new();
    let sampler = tokio::spawn(sample_peak_rss(server.pid(), sampling.clone()));
    let cpu_before = server.cpu_secs();
    let posted = match post_all(addr, requests, connections).await {
        Ok(posted) => posted,
        Err(e) => {
            sampling.cancel();
            return Err(e);
        }
    };
    let acked = Instant::now();
    if let Err(e) = posted.check("webhooks", || server.log_tail()) {
        sampling.cancel();
        return Err(e);
    }
    let expected = expected_messages - posted.errors as i64;
    wait_applied(addr, store, expected, Duration::from_secs(600)).await?;
    let applied_in = posted.acked_in + acked.elapsed();
    let server_cpu_secs = cpu_since(server.pid(), cpu_before);
    sampling.cancel();
    Ok(IngestResult {
        posted,
        applied_in,
        peak_rss_kib: sampler.await.unwrap_or_default(),
        server_cpu_secs,
    })
}

/// Polls health until no webhook is pending, then the store until `expected` messages exist.
pub async fn wait_applied(
    addr: SocketAddr,
    store: &Store,
    expected: i64,
    limit: Duration,
) -> Result<(), String> {
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .map_err(|e| e.to_string())?;
    let deadline = Instant::now() + limit;
    let url = format!("http://{addr}/api/v1/health");
    loop {
        let health: Option<Value> = match http.get(&url).send().await {
            Ok(r) => r.json().await.ok(),
            Err(_) => None,
        };
        let pending = health
            .as_ref()
            .and_then(|h| h["webhooks"]["pending"].as_i64());
        if pending == Some(0) && store.count_messages().await.unwrap_or(0) >= expected {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "webhooks not applied within {limit:?} (health: {health:?})"
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The largest `VmRSS` of `pid` seen every 50 ms until `stop`, in KiB.
async fn sample_peak_rss(pid: u32, stop: CancellationToken) -> u64 {
    let mut peak = rss_kib(pid).unwrap_or(0);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return peak.max(rss_kib(pid).unwrap_or(0)),
            _ = tokio::time::sleep(Duration::from_millis(50)) => {
                peak = peak.max(rss_kib(pid).unwrap_or(0));
            }
        }
    }
}
