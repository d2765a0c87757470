//! The processor: claims due journal entries and applies them in batches.

use std::{sync::Arc, time::Duration};

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
                Err(e) if e.is_conflict() => {
                    self.contended_until.store(
                        self.clock.now().0 + CONTENDED_MS,
                        std::sync::atomic::Ordering::Relaxed,
                    );
                    1
                }
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
    pub async fn step(&self) -> Result<usize, StoreError> {
        let now = self.clock.now();
        let contended = now.0
            < self
                .contended_until
                .load(std::sync::atomic::Ordering::Relaxed);
        let mut tx = self.store.begin().await?;
        let batch = tx
            .claim_journal(now, if contended { 1 } else { BATCH })
            .await?;
        if batch.is_empty() {
            return Ok(0);
        }
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
                    // Another instance's transaction holds what this one needs: give the whole
                    // batch back untouched (nothing counts as a failure) and go one by one.
                    tracing::debug!(error = %e, "ingest conflict with another instance; retrying");
                    self.contended_until
                        .store(now.0 + CONTENDED_MS, std::sync::atomic::Ordering::Relaxed);
                    return Ok(batch.len());
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
