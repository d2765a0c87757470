//! Status webhooks under load: for every send of the unlimited outbox run, Meta's `delivered`
//! and `read`, one status per signed webhook as Meta sends them, posted over the ingest's
//! connections to a server on the same database. A number that sends gets three statuses for
//! each message (sent, delivered, read): most of a busy number's webhooks are these.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use super::{
    ingest::{Posted, post_all, signed_post, wait_applied},
    reads::get_json,
    site::Site,
};
use simulator::{RecordedSend, Simulator, payload};

/// The statuses posted for each send, in the order Meta sends them.
const STATUSES: [&str; 2] = ["delivered", "read"];

/// What the status load measured.
#[derive(Debug, Clone)]
pub struct StatusResult {
    pub posted: Posted,
    /// From the first request until the journal was drained.
    pub applied_in: Duration,
}

impl StatusResult {
    pub fn applied_per_sec(&self) -> f64 {
        self.posted.ok() as f64 / self.applied_in.as_secs_f64()
    }
}

/// The accepted sends' status webhooks, every send's `delivered` before any `read`.
pub fn prepare(sim: &Simulator, addr: SocketAddr, sends: &[RecordedSend]) -> Vec<Vec<u8>> {
    let (pnid, display, waba) = (
        sim.phone_number_id(),
        sim.display_phone_number(),
        sim.waba_id(),
    );
    let secret = sim.app_secret();
    let mut requests = Vec::with_capacity(sends.len() * STATUSES.len());
    for status in STATUSES {
        for send in sends {
            let Some(wamid) = send.wamid() else {
                continue;
            };
            let item = payload::status(
                wamid,
                status,
                &send.wa_id(),
                send.callback_data.as_deref(),
                vec![],
            );
            let note = payload::envelope(&pnid, &display, &waba, &[], vec![], vec![item]);
            let body = simulator::to_meta_json(&note).unwrap_or_default();
            requests.push(signed_post(addr, &secret, &body));
        }
    }
    requests
}

/// Posts `requests` to a server on `database_url`, waits until they are applied, and checks
/// that the messages of `check` (ids) read as `read`.
pub async fn run(
    site: &Site,
    database_url: &str,
    token: &str,
    requests: Vec<Vec<u8>>,
    connections: usize,
    check: &[String],
) -> Result<StatusResult, String> {
    let server = site.serve(database_url, Some(0), "statuses").await?;
    let store = site.connect(database_url).await?;
    let posted = post_all(site.addr, requests.into(), connections).await?;
    let acked = Instant::now();
    posted.check("status webhooks", || server.log_tail())?;
    wait_applied(site.addr, &store, 0, Duration::from_secs(600)).await?;
    let applied_in = posted.acked_in + acked.elapsed();
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .map_err(|e| e.to_string())?;
    for id in check {
        let url = format!("http://{}/api/v1/messages/{id}", site.addr);
        let status = get_json(&http, &url, token).await?["status"].clone();
        if status != "read" {
            return Err(format!("message {id} is {status} after its read status"));
        }
    }
    store.close().await;
    server.stop().await?;
    Ok(StatusResult { posted, applied_in })
}
