//! Recording how sends ended, in groups: a send that Graph accepted (with its wamid) or that
//! failed for good is handed to one writer task, which records whatever has queued up in one
//! transaction — wamids, delivery states, statuses that raced ahead, outbox rows, events — and
//! then answers each sender. Under load many sends share one commit; alone, a send is
//! recorded at once. If a group cannot be written, its sends are written one by one, so one
//! bad row costs only its own send a retry.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::{
    clock::Clock,
    delivery,
    domain::{DeliveryStatus, MessageError, StatusUpdate, Timestamp},
    group,
    realtime::{self, Bus, Event},
    store::{self, ClaimedSend, Store, StoreError, Tx},
};

/// Sends recorded together at most.
const MAX_GROUP: usize = 256;

/// How a send ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Graph accepted it and named it.
    Accepted { wamid: String },
    /// It will not be sent.
    Failed(MessageError),
}

/// A send that ended at `at`.
#[derive(Debug, Clone)]
pub struct Ended {
    pub send: ClaimedSend,
    pub outcome: Outcome,
    pub at: Timestamp,
}

type Reply = oneshot::Sender<Result<(), String>>;

/// A handle to the writer task.
#[derive(Debug, Clone)]
pub struct Recorder {
    tx: mpsc::Sender<(Ended, Reply)>,
}

#[derive(Debug, thiserror::Error)]
#[error("send outcome not recorded: {0}")]
pub struct NotRecorded(String);

impl Recorder {
    /// Starts the writer task; it stops when every handle is dropped.
    pub fn spawn(store: Store, bus: Bus, clock: Arc<dyn Clock>) -> Self {
        let (tx, rx) = mpsc::channel(MAX_GROUP);
        tokio::spawn(run(store, bus, clock, rx));
        Self { tx }
    }

    /// Records how a send ended; returns once it is committed.
    pub async fn record(&self, ended: Ended) -> Result<(), NotRecorded> {
        let stopped = || NotRecorded("the recorder stopped".into());
        let (reply, answer) = oneshot::channel();
        self.tx.send((ended, reply)).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?.map_err(NotRecorded)
    }
}

async fn run(
    store: Store,
    bus: Bus,
    clock: Arc<dyn Clock>,
    mut rx: mpsc::Receiver<(Ended, Reply)>,
) {
    let mut ended: Vec<Ended> = Vec::with_capacity(MAX_GROUP);
    let mut replies: Vec<Reply> = Vec::with_capacity(MAX_GROUP);
    while let Some(first) = rx.recv().await {
        // The connection is taken before the queue is drained: what ends meanwhile joins.
        let outcome = match store.begin().await {
            Ok(mut tx) => {
                group::gather(first, &mut rx, MAX_GROUP, &mut ended, &mut replies);
                match write(&mut tx, &ended, clock.now()).await {
                    Ok(()) => tx.commit().await,
                    Err(e) => Err(e),
                }
            }
            Err(e) => {
                ended.clear();
                replies.clear();
                ended.push(first.0);
                replies.push(first.1);
                Err(e)
            }
        };
        let results: Vec<Result<(), String>> = match outcome {
            Ok(()) => vec![Ok(()); ended.len()],
            Err(e) if ended.len() == 1 => vec![Err(e.to_string())],
            Err(e) => {
                tracing::warn!(error = %e, sends = ended.len(), "recording a group of sends failed; recording them one by one");
                let mut results = Vec::with_capacity(ended.len());
                for one_send in &ended {
                    results.push(
                        one(&store, one_send, clock.now())
                            .await
                            .map_err(|e| e.to_string()),
                    );
                }
                results
            }
        };
        if results.iter().any(Result::is_ok) {
            bus.committed();
        }
        for (reply, result) in replies.drain(..).zip(results) {
            let _ = reply.send(result);
        }
    }
}

async fn one(store: &Store, ended: &Ended, now: Timestamp) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    write(&mut tx, std::slice::from_ref(ended), now).await?;
    tx.commit().await
}

/// Writes a group of ended sends into `tx`.
async fn write(tx: &mut Tx, group: &[Ended], now: Timestamp) -> store::Result<()> {
    let named: Vec<(&str, &str)> = group
        .iter()
        .filter_map(|e| match &e.outcome {
            Outcome::Accepted { wamid } => Some((e.send.message.id.as_str(), wamid.as_str())),
            Outcome::Failed(_) => None,
        })
        .collect();
    // A message that already has its wamid was reconciled by a status webhook first.
    let attached = tx.attach_wamids(&named).await?;
    let updates: Vec<(&str, StatusUpdate)> = group
        .iter()
        .filter_map(|e| {
            let id = e.send.message.id.as_str();
            let (status, error) = match &e.outcome {
                Outcome::Accepted { .. } if attached.iter().any(|a| a == id) => {
                    (DeliveryStatus::Accepted, None)
                }
                Outcome::Accepted { .. } => return None,
                Outcome::Failed(error) => (DeliveryStatus::Failed, Some(error.clone())),
            };
            Some((
                id,
                StatusUpdate {
                    status,
                    at: e.at,
                    error,
                },
            ))
        })
        .collect();
    let mut messages = delivery::record(tx, &updates).await?;
    delivery::settle(tx, &mut messages, now).await?;
    let ids: Vec<&str> = group.iter().map(|e| e.send.message.id.as_str()).collect();
    tx.finish_sends(&ids).await?;
    let events: Vec<Event> = group
        .iter()
        .flat_map(|e| Event::message_updated(&e.send.message.id, e.send.message.conversation_id))
        .collect();
    realtime::record(tx, &events, now).await
}
