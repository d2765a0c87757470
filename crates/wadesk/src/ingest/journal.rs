//! Group commit for the webhook journal: concurrent requests hand their bodies to one writer
//! task, which commits whatever has queued up in a single transaction and then answers each
//! request. Under load many bodies share one fsync; alone, a body is committed at once. Where
//! the journal is apart (SQLite's journal file), the processor's outcomes are recorded through
//! the same writer, in the same commits.

use std::sync::Arc;
use tokio::sync::{Notify, mpsc, oneshot};

use crate::{
    domain::Timestamp,
    group,
    store::{JournalOutcome, NewJournalEntry, Store},
};

/// Bodies committed together at most.
const MAX_BATCH: usize = 512;

#[derive(Debug, Clone, thiserror::Error)]
pub enum JournalError {
    #[error("the journal is not accepting writes: {0}")]
    Unavailable(String),
}

type Reply = oneshot::Sender<Result<(), JournalError>>;

/// What the writer is asked to commit.
#[derive(Debug)]
enum Write {
    Append(NewJournalEntry),
    Settle(Vec<JournalOutcome>, Timestamp),
}

/// A handle to the journal writer.
#[derive(Debug, Clone)]
pub struct JournalWriter {
    tx: mpsc::Sender<(Write, Reply)>,
}

impl JournalWriter {
    /// Starts the writer task. `committed` is notified after every commit that appended.
    pub fn spawn(store: Store, committed: Arc<Notify>) -> Self {
        let (tx, rx) = mpsc::channel(MAX_BATCH * 8);
        tokio::spawn(run(store, rx, committed));
        Self { tx }
    }

    /// Appends a body; returns once it is durably committed.
    pub async fn append(&self, entry: NewJournalEntry) -> Result<(), JournalError> {
        self.write(Write::Append(entry)).await
    }

    /// Records what became of claimed entries; returns once it is committed.
    pub async fn settle(
        &self,
        outcomes: Vec<JournalOutcome>,
        now: Timestamp,
    ) -> Result<(), JournalError> {
        self.write(Write::Settle(outcomes, now)).await
    }

    async fn write(&self, write: Write) -> Result<(), JournalError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send((write, reply))
            .await
            .map_err(|_| JournalError::Unavailable("writer stopped".into()))?;
        answer
            .await
            .map_err(|_| JournalError::Unavailable("writer stopped".into()))?
    }
}

async fn run(store: Store, mut rx: mpsc::Receiver<(Write, Reply)>, committed: Arc<Notify>) {
    let mut writes = Vec::with_capacity(MAX_BATCH);
    let mut replies = Vec::with_capacity(MAX_BATCH);
    let mut entries = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        // The connection is taken before the queue is drained: what arrives while it is busy
        // (on PostgreSQL, the pool may be) joins this commit.
        let outcome = match store.begin_journal().await {
            Ok(tx) => {
                group::gather(first, &mut rx, MAX_BATCH, &mut writes, &mut replies);
                let mut settles = Vec::new();
                entries.clear();
                for write in writes.drain(..) {
                    match write {
                        Write::Append(entry) => entries.push(entry),
                        Write::Settle(outcomes, now) => settles.push((outcomes, now)),
                    }
                }
                tx.write(&entries, &settles).await
            }
            Err(e) => {
                replies.clear();
                replies.push(first.1);
                Err(e)
            }
        };
        match outcome {
            Ok(()) => {
                if !entries.is_empty() {
                    committed.notify_one();
                }
                for reply in replies.drain(..) {
                    let _ = reply.send(Ok(()));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, writes = replies.len(), "webhook journal write failed");
                for reply in replies.drain(..) {
                    let _ = reply.send(Err(JournalError::Unavailable(e.to_string())));
                }
            }
        }
    }
}
