//! Group commit for the webhook journal: concurrent requests hand their bodies to one writer
//! task, which commits whatever has queued up in a single transaction and then answers each
//! request. Under load many bodies share one fsync; alone, a body is committed at once.

use std::sync::Arc;
use tokio::sync::{Notify, mpsc, oneshot};

use crate::{
    group,
    store::{NewJournalEntry, Store},
};

/// Bodies committed together at most.
const MAX_BATCH: usize = 512;

#[derive(Debug, Clone, thiserror::Error)]
pub enum JournalError {
    #[error("the journal is not accepting writes: {0}")]
    Unavailable(String),
}

type Reply = oneshot::Sender<Result<(), JournalError>>;

/// A handle to the journal writer.
#[derive(Debug, Clone)]
pub struct JournalWriter {
    tx: mpsc::Sender<(NewJournalEntry, Reply)>,
}

impl JournalWriter {
    /// Starts the writer task. `committed` is notified after every commit.
    pub fn spawn(store: Store, committed: Arc<Notify>) -> Self {
        let (tx, rx) = mpsc::channel(MAX_BATCH * 8);
        tokio::spawn(run(store, rx, committed));
        Self { tx }
    }

    /// Appends a body; returns once it is durably committed.
    pub async fn append(&self, entry: NewJournalEntry) -> Result<(), JournalError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send((entry, reply))
            .await
            .map_err(|_| JournalError::Unavailable("writer stopped".into()))?;
        answer
            .await
            .map_err(|_| JournalError::Unavailable("writer stopped".into()))?
    }
}

async fn run(
    store: Store,
    mut rx: mpsc::Receiver<(NewJournalEntry, Reply)>,
    committed: Arc<Notify>,
) {
    let mut entries = Vec::with_capacity(MAX_BATCH);
    let mut replies = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        // The connection is taken before the queue is drained: what arrives while it is busy
        // (SQLite's one writer may be applying a batch) joins this commit.
        let outcome = match store.begin().await {
            Ok(mut tx) => {
                group::gather(first, &mut rx, MAX_BATCH, &mut entries, &mut replies);
                match tx.append_journal(&entries).await {
                    Ok(()) => tx.commit().await,
                    Err(e) => Err(e),
                }
            }
            Err(e) => {
                replies.clear();
                replies.push(first.1);
                Err(e)
            }
        };
        match outcome {
            Ok(()) => {
                committed.notify_one();
                for reply in replies.drain(..) {
                    let _ = reply.send(Ok(()));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, bodies = replies.len(), "webhook journal write failed");
                for reply in replies.drain(..) {
                    let _ = reply.send(Err(JournalError::Unavailable(e.to_string())));
                }
            }
        }
    }
}
