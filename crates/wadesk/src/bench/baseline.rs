//! The ingest baseline: the least work that stores the same bodies as durably. Concurrent
//! producers hand raw bodies to one writer task, which inserts whatever has queued up (at most
//! 512, 200 rows per INSERT) in one transaction and then answers each producer — the pattern
//! of the webhook journal (`ingest/journal.rs`), without HTTP, signatures or anything else,
//! into a fresh database of the same backend with the same settings.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Instant,
};

use tokio::sync::{mpsc, oneshot};

use super::server::{cpu_secs, cpu_since};
use crate::{clock::Clock, group, store::Store};

/// Rows committed together at most (as the journal writer).
const MAX_BATCH: usize = 512;

type Reply = oneshot::Sender<Result<(), String>>;

/// Rounds of the baseline; the median is reported (one round on a VM disk varies by ±30 %).
const ROUNDS: usize = 3;

/// What the baseline measured.
#[derive(Debug, Clone, Copy, Default)]
pub struct Baseline {
    /// The median round's rows per second.
    pub rows_per_sec: f64,
    /// This process's CPU time per row over every round (SQLite's work included; on
    /// PostgreSQL the server's is not).
    pub cpu_us_per_row: f64,
}

/// Inserts every body `ROUNDS` times with `producers` concurrent producers.
pub async fn run(
    store: &Store,
    bodies: Arc<Vec<Vec<u8>>>,
    producers: usize,
) -> Result<Baseline, String> {
    store
        .create_baseline_table()
        .await
        .map_err(|e| format!("baseline table: {e}"))?;
    let cpu_before = cpu_secs(std::process::id());
    let mut rates = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        rates.push(round(store, bodies.clone(), producers).await?);
    }
    let rows = (bodies.len() * ROUNDS).max(1) as f64;
    let cpu_us_per_row = cpu_since(std::process::id(), cpu_before) * 1e6 / rows;
    rates.sort_unstable_by(f64::total_cmp);
    Ok(Baseline {
        rows_per_sec: rates[ROUNDS / 2],
        cpu_us_per_row,
    })
}

async fn round(store: &Store, bodies: Arc<Vec<Vec<u8>>>, producers: usize) -> Result<f64, String> {
    let (tx, rx) = mpsc::channel::<((i64, Vec<u8>), Reply)>(MAX_BATCH * 8);
    let writer = tokio::spawn(write(store.clone(), rx));
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(producers);
    for _ in 0..producers.max(1) {
        let (bodies, next, tx) = (bodies.clone(), next.clone(), tx.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                // Producers stop at the first failure and report it.
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(i) else {
                    return Ok::<(), String>(());
                };
                let (reply, answer) = oneshot::channel();
                let row = (crate::clock::SystemClock.now().0, body.clone());
                tx.send((row, reply))
                    .await
                    .map_err(|_| "baseline writer stopped".to_owned())?;
                answer
                    .await
                    .map_err(|_| "baseline writer stopped".to_owned())??;
            }
        }));
    }
    drop(tx);
    for task in tasks {
        task.await.map_err(|e| e.to_string())??;
    }
    let elapsed = start.elapsed();
    let _ = writer.await;
    Ok(bodies.len() as f64 / elapsed.as_secs_f64())
}

async fn write(store: Store, mut rx: mpsc::Receiver<((i64, Vec<u8>), Reply)>) {
    let mut rows = Vec::with_capacity(MAX_BATCH);
    let mut replies = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        group::gather(first, &mut rx, MAX_BATCH, &mut rows, &mut replies);
        match store.append_baseline(&rows).await {
            Ok(()) => {
                for reply in replies.drain(..) {
                    let _ = reply.send(Ok(()));
                }
            }
            Err(e) => {
                for reply in replies.drain(..) {
                    let _ = reply.send(Err(e.to_string()));
                }
            }
        }
    }
}
