//! The event bus: what changed, published after the change is committed. Ingest, the outbox
//! and agent actions publish; subscribers (Server-Sent Events) receive.

use serde::Serialize;
use tokio::sync::broadcast;

/// A change clients may want to show.
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

#[derive(Debug, Clone)]
pub struct Bus {
    tx: broadcast::Sender<Event>,
}

impl Default for Bus {
    fn default() -> Self {
        Self::new()
    }
}

impl Bus {
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(4096);
        Self { tx }
    }

    pub fn publish(&self, events: impl IntoIterator<Item = Event>) {
        for e in events {
            // No subscriber is not an error.
            let _ = self.tx.send(e);
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }
}
