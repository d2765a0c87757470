//! The processor: claims due journal entries and applies them in batches.

use std::{sync::Arc, time::Duration};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::apply::apply_body;
use crate::{
    clock::Clock,
    domain::Timestamp,
    realtime::{self, Bus},
    store::{Store, StoreError},
};

/// Bodies applied per transaction at most. SQLite has one writer, shared with the journal:
/// short transactions keep webhook acknowledgements quick.
const BATCH: i64 = 64;

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
}

impl Processor {
    pub async fn run(self, cancel: CancellationToken) {
        loop {
            if cancel.is_cancelled() {
                return;
            }
            let applied = match self.step().await {
                Ok(n) => n,
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
        let mut tx = self.store.begin().await?;
        let batch = tx.claim_journal(now, BATCH).await?;
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
