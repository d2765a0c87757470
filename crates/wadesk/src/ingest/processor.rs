//! The processor: claims due journal entries and applies them in batches.

use std::{
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::apply::{ApplyError, apply_body};
use crate::{
    clock::Clock,
    domain::Timestamp,
    realtime::{self, Bus},
    store::{Store, StoreError},
};

/// Bodies applied per transaction at most. SQLite has one writer, shared with the journal:
/// short transactions keep webhook acknowledgements quick.
const BATCH: i64 = 64;
/// After a conflict with another instance's transaction, apply one body per transaction for
/// this long (a single body cannot deadlock with another instance's batch).
const CONTENDED_MS: i64 = 2_000;

/// Delay before the next attempt at a body that failed `attempts` times: 1 s, 10 s, 1 min,
/// 10 min, 1 h, …
pub fn retry_delay(attempts: i64) -> Duration {
    let secs = match attempts {
        ..=1 => 1,
        2 => 10,
        3 => 60,
        4 => 600,
        _ => 3600,
    };
    Duration::from_secs(secs)
}

pub struct Processor {
    pub store: Store,
    pub bus: Bus,
    pub clock: Arc<dyn Clock>,
    pub wake: Arc<Notify>,
    pub max_attempts: u32,
    /// Until when to apply one body per transaction (unix ms).
    pub contended_until: std::sync::atomic::AtomicI64,
}

impl Processor {
    pub async fn run(self, cancel: CancellationToken) {
        loop {
            if cancel.is_cancelled() {
                return;
            }
            let applied = match self.step().await {
                Ok(n) => n,
                Err(e) if e.is_conflict() => self.contended(self.clock.now(), 1),
                Err(e) => {
                    tracing::error!(error = %e, "webhook processing failed; retrying");
                    0
                }
            };
            if applied == 0 {
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = self.wake.notified() => {}
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                }
            }
        }
    }

    /// Claims and applies one batch in one transaction; returns how many bodies it handled.
    /// The batch is first applied whole; only if a body fails is it redone with a savepoint
    /// per body, so that body is kept with its error and the others still apply.
    pub async fn step(&self) -> Result<usize, StoreError> {
        let now = self.clock.now();
        let contended = now.0 < self.contended_until.load(Ordering::Relaxed);
        let size = if contended { 1 } else { BATCH };
        let mut tx = self.store.begin().await?;
        let batch = tx.claim_journal(now, size).await?;
        if batch.is_empty() {
            return Ok(0);
        }
        let mut events = Vec::new();
        let mut failed = false;
        for entry in &batch {
            match apply_body(&mut tx, &entry.body, Timestamp(entry.received_at), now).await {
                Ok(mut e) => events.append(&mut e),
                Err(ApplyError::Store(e)) if e.is_conflict() => {
                    return Ok(self.contended(now, batch.len()));
                }
                Err(_) => {
                    failed = true;
                    break;
                }
            }
        }
        if !failed {
            let ids: Vec<i64> = batch.iter().map(|e| e.id).collect();
            tx.journal_done_all(&ids, now).await?;
            realtime::record(&mut tx, &events, now).await?;
            tx.commit().await?;
            self.bus.committed();
            return Ok(batch.len());
        }
        drop(tx);
        self.step_carefully(now, size).await
    }

    /// Another instance's transaction holds what this one needs: the batch goes back untouched
    /// (nothing counts as a failure) and bodies are applied one by one for a while.
    fn contended(&self, now: Timestamp, n: usize) -> usize {
        tracing::debug!("ingest conflict with another instance; retrying");
        self.contended_until
            .store(now.0 + CONTENDED_MS, Ordering::Relaxed);
        n
    }

    /// Applies a batch with a savepoint per body: a body that fails is kept with its error and
    /// retried later, without holding up the others.
    async fn step_carefully(&self, now: Timestamp, size: i64) -> Result<usize, StoreError> {
        let mut tx = self.store.begin().await?;
        let batch = tx.claim_journal(now, size).await?;
        let mut events = Vec::new();
        for entry in &batch {
            tx.savepoint().await?;
            match apply_body(&mut tx, &entry.body, Timestamp(entry.received_at), now).await {
                Ok(mut e) => {
                    tx.release_savepoint().await?;
                    tx.journal_done(entry.id, now).await?;
                    events.append(&mut e);
                }
                Err(ApplyError::Store(e)) if e.is_conflict() => {
                    return Ok(self.contended(now, batch.len()));
                }
                Err(err) => {
                    tx.rollback_to_savepoint().await?;
                    let attempts = entry.attempts + 1;
                    let retry_at = (attempts < i64::from(self.max_attempts)).then(|| {
                        now.plus_millis(
                            i64::try_from(retry_delay(attempts).as_millis()).unwrap_or(i64::MAX),
                        )
                    });
                    tracing::warn!(journal_id = entry.id, attempts, error = %err, "webhook body could not be applied");
                    tx.journal_failed(entry.id, &err.to_string(), retry_at)
                        .await?;
                }
            }
        }
        realtime::record(&mut tx, &events, now).await?;
        tx.commit().await?;
        self.bus.committed();
        Ok(batch.len())
    }
}
