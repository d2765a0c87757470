//! Realtime: every change clients may show is written to the event log in the transaction
//! that makes it (`record`), and subscribers are woken after the commit (`Bus`). Browsers read
//! the log as Server-Sent Events (`stream`), resuming after `Last-Event-ID`, so a reconnect
//! misses nothing. On PostgreSQL other instances are woken through LISTEN/NOTIFY.

mod stream;

use serde::Serialize;
use tokio::sync::watch;

pub use stream::stream;

use crate::{
    domain::Timestamp,
    store::{self, Store, Tx},
};

/// A change clients may want to show. Serialises as `{"type": "...", "data": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "data")]
pub enum Event {
    #[serde(rename = "message.created")]
    MessageCreated { id: String, conversation_id: i64 },
    #[serde(rename = "message.updated")]
    MessageUpdated { id: String, conversation_id: i64 },
    #[serde(rename = "conversation.updated")]
    ConversationUpdated { id: i64 },
    #[serde(rename = "outbox.paused")]
    OutboxPaused {
        phone_number_id: String,
        reason: String,
    },
    #[serde(rename = "outbox.resumed")]
    OutboxResumed { phone_number_id: String },
}

impl Event {
    /// A new message, and its conversation's new state.
    pub fn message_created(id: &str, conversation_id: i64) -> [Self; 2] {
        [
            Self::MessageCreated {
                id: id.to_owned(),
                conversation_id,
            },
            Self::ConversationUpdated {
                id: conversation_id,
            },
        ]
    }

    /// A message that changed (status, error), and its conversation's new state.
    pub fn message_updated(id: &str, conversation_id: i64) -> [Self; 2] {
        [
            Self::MessageUpdated {
                id: id.to_owned(),
                conversation_id,
            },
            Self::ConversationUpdated {
                id: conversation_id,
            },
        ]
    }

    /// The event's name and its data as JSON.
    fn parts(&self) -> (&'static str, String) {
        let kind = match self {
            Self::MessageCreated { .. } => "message.created",
            Self::MessageUpdated { .. } => "message.updated",
            Self::ConversationUpdated { .. } => "conversation.updated",
            Self::OutboxPaused { .. } => "outbox.paused",
            Self::OutboxResumed { .. } => "outbox.resumed",
        };
        let data = serde_json::to_value(self)
            .ok()
            .and_then(|v| v.get("data").cloned())
            .map(|d| d.to_string())
            .unwrap_or_else(|| "{}".to_owned());
        (kind, data)
    }
}

/// Writes events into the transaction making the change; they appear when it commits.
pub async fn record(tx: &mut Tx, events: &[Event], now: Timestamp) -> store::Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let parts: Vec<(&str, String)> = events.iter().map(Event::parts).collect();
    tx.append_events(&parts, now).await
}

/// Wakes subscribers after commits. Cheap to clone; wake-ups coalesce.
#[derive(Debug, Clone)]
pub struct Bus {
    commits: watch::Sender<u64>,
}

impl Default for Bus {
    fn default() -> Self {
        Self::new()
    }
}

impl Bus {
    pub fn new() -> Self {
        Self {
            commits: watch::channel(0).0,
        }
    }

    /// Tells subscribers that events were committed.
    pub fn committed(&self) {
        self.commits.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.commits.subscribe()
    }

    /// Records events in a transaction of their own (for changes made outside one) and wakes
    /// subscribers.
    pub async fn publish(
        &self,
        store: &Store,
        events: &[Event],
        now: Timestamp,
    ) -> store::Result<()> {
        let mut tx = store.begin().await?;
        record(&mut tx, events, now).await?;
        tx.commit().await?;
        self.committed();
        Ok(())
    }
}
