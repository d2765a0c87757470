//! The processor: claims due journal entries and applies them in batches.

use std::{
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::{
    apply::{ParsedBody, apply_bodies, parse_body},
    journal::{JournalError, JournalWriter},
};
use crate::{
    clock::Clock,
    domain::Timestamp,
    realtime::{self, Bus, Event},
    store::{JournalEntry, JournalOutcome, Store, StoreError, Tx},
};

/// Bodies applied per transaction at most: a batch is a few multi-row statements, short enough
/// that a new message reaches the inbox quickly behind a burst.
const BATCH: i64 = 256;
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

/// Why a step did not finish.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Journal(#[from] JournalError),
}

pub struct Processor {
    pub store: Store,
    /// Records outcomes where the journal is apart from the applying transaction.
    pub journal: JournalWriter,
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
                Err(StepError::Store(e)) if e.is_conflict() => self.contended(self.clock.now(), 1),
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
    /// Bodies that cannot be parsed are kept with their error; the others are applied
    /// together, and only if that fails is the batch redone with a savepoint per body, so the
    /// body at fault is kept with its error and the others still apply.
    pub async fn step(&self) -> Result<usize, StepError> {
        let now = self.clock.now();
        let contended = now.0 < self.contended_until.load(Ordering::Relaxed);
        let size = if contended { 1 } else { BATCH };
        let mut tx = self.store.begin().await?;
        let batch = tx.claim_journal(now, size).await?;
        if batch.is_empty() {
            return Ok(0);
        }
        let mut parsed = Vec::with_capacity(batch.len());
        let mut outcomes = Vec::with_capacity(batch.len());
        for entry in &batch {
            match parse_body(&entry.body, Timestamp(entry.received_at)) {
                Ok(body) => parsed.push((entry.id, body)),
                Err(e) => outcomes.push(self.failed(entry, &e.to_string(), now)),
            }
        }
        let bodies: Vec<&ParsedBody> = parsed.iter().map(|(_, b)| b).collect();
        match apply_bodies(&mut tx, &bodies, now).await {
            Ok(events) => {
                outcomes.extend(parsed.iter().map(|(id, _)| JournalOutcome::Applied(*id)));
                self.finish(tx, outcomes, &events, now).await?;
                Ok(batch.len())
            }
            Err(e) if e.is_conflict() => Ok(self.contended(now, batch.len())),
            Err(_) => {
                drop(tx);
                self.step_carefully(now, size).await
            }
        }
    }

    /// Records the events and the outcomes, and commits. dialect: where the journal is apart
    /// (SQLite), the outcomes are committed right after what they record; a crash in between
    /// leaves the bodies due, and applying them again changes nothing (a stored wamid or
    /// (wamid, status) is a duplicate).
    async fn finish(
        &self,
        mut tx: Tx,
        outcomes: Vec<JournalOutcome>,
        events: &[Event],
        now: Timestamp,
    ) -> Result<(), StepError> {
        let apart = self.store.journal_apart();
        if !apart {
            tx.settle_journal(&outcomes, now).await?;
        }
        realtime::record(&mut tx, events, now).await?;
        tx.commit().await?;
        self.bus.committed();
        if apart {
            self.journal.settle(outcomes, now).await?;
        }
        Ok(())
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
    async fn step_carefully(&self, now: Timestamp, size: i64) -> Result<usize, StepError> {
        let mut tx = self.store.begin().await?;
        let batch = tx.claim_journal(now, size).await?;
        let mut events = Vec::new();
        let mut outcomes = Vec::with_capacity(batch.len());
        for entry in &batch {
            let body = match parse_body(&entry.body, Timestamp(entry.received_at)) {
                Ok(body) => body,
                Err(e) => {
                    outcomes.push(self.failed(entry, &e.to_string(), now));
                    continue;
                }
            };
            tx.savepoint().await?;
            match apply_bodies(&mut tx, &[&body], now).await {
                Ok(mut e) => {
                    tx.release_savepoint().await?;
                    outcomes.push(JournalOutcome::Applied(entry.id));
                    events.append(&mut e);
                }
                Err(e) if e.is_conflict() => {
                    return Ok(self.contended(now, batch.len()));
                }
                Err(e) => {
                    tx.rollback_to_savepoint().await?;
                    outcomes.push(self.failed(entry, &e.to_string(), now));
                }
            }
        }
        self.finish(tx, outcomes, &events, now).await?;
        Ok(batch.len())
    }

    /// A failed attempt at a body: retried later, or kept as failed after the last.
    fn failed(&self, entry: &JournalEntry, error: &str, now: Timestamp) -> JournalOutcome {
        let attempts = entry.attempts + 1;
        let retry_at = (attempts < i64::from(self.max_attempts)).then(|| {
            now.plus_millis(i64::try_from(retry_delay(attempts).as_millis()).unwrap_or(i64::MAX))
        });
        tracing::warn!(
            journal_id = entry.id,
            attempts,
            error,
            "webhook body could not be applied"
        );
        JournalOutcome::Failed {
            id: entry.id,
            error: error.to_owned(),
            retry_at,
        }
    }
}
