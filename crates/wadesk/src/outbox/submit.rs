//! Accepting a send: validation, the 24-hour window, idempotency, and the queued message.

use std::sync::Arc;

use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::sync::Notify;
use whatsapp::OutgoingContent;

use crate::{
    clock::Clock,
    domain::{
        DeliveryStatus, Direction, Message, MessageKind, PhoneError, PhoneNumber, window_open_until,
    },
    realtime::{self, Bus, Event},
    store::{self, ContactKey, MessageNote, NewMessage, Store},
};

/// Longest text body Meta accepts.
pub const MAX_TEXT_CHARS: usize = 4096;

/// A send as clients write it: Meta's send shape, plus `reply_to` (our id or a wamid).
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct SendMessage {
    pub to: String,
    #[serde(flatten)]
    pub content: OutgoingContent,
    #[serde(default)]
    pub reply_to: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("`to` is not a valid phone number: {0}")]
    InvalidRecipient(#[from] PhoneError),
    #[error("{0}")]
    Invalid(String),
    #[error("text.body is {0} characters; WhatsApp allows at most 4096")]
    TextTooLong(usize),
    #[error("the customer has not written in the last 24 hours; only a template can be sent")]
    WindowClosed,
    #[error("reply_to does not name a message of this conversation")]
    ReplyNotFound,
    #[error("WHATSAPP_PHONE_NUMBER_ID is not configured")]
    NotConfigured,
    #[error("this Idempotency-Key was used with a different request")]
    IdempotencyConflict,
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

/// The outcome of a submit: the message, and whether this call created it.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub message: Message,
    pub created: bool,
}

/// The send service.
#[derive(Clone)]
pub struct Outbox {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub bus: Bus,
    pub wake: Arc<Notify>,
    pub phone_number_id: Option<String>,
}

struct Checked {
    to: PhoneNumber,
    kind: MessageKind,
    text: Option<String>,
    content: serde_json::Value,
}

fn check(req: &SendMessage) -> Result<Checked, SendError> {
    let to = PhoneNumber::parse(&req.to)?;
    let (kind, text, content) = match &req.content {
        OutgoingContent::Text { text } => {
            let n = text.body.chars().count();
            if text.body.trim().is_empty() {
                return Err(SendError::Invalid("text.body must not be empty".into()));
            }
            if n > MAX_TEXT_CHARS {
                return Err(SendError::TextTooLong(n));
            }
            (
                MessageKind::Text,
                Some(text.body.clone()),
                serde_json::to_value(text),
            )
        }
        OutgoingContent::Template { template } => {
            if template.name.trim().is_empty() || template.language.code.trim().is_empty() {
                return Err(SendError::Invalid(
                    "template.name and template.language.code are required".into(),
                ));
            }
            (
                MessageKind::Template,
                Some(format!("[template: {}]", template.name)),
                serde_json::to_value(template),
            )
        }
    };
    let content = content.map_err(|e| SendError::Invalid(e.to_string()))?;
    Ok(Checked {
        to,
        kind,
        text,
        content,
    })
}

impl Outbox {
    /// Validates and queues a message. With an idempotency key already used for the same
    /// request, returns the first message instead of queueing another.
    pub async fn submit(
        &self,
        req: &SendMessage,
        author: &str,
        scope: &str,
        idempotency_key: Option<&str>,
    ) -> Result<Submitted, SendError> {
        let pnid = self
            .phone_number_id
            .as_deref()
            .ok_or(SendError::NotConfigured)?;
        let checked = check(req)?;
        let key = idempotency_key.map(|k| {
            let request = (checked.to.as_str(), &checked.content, &req.reply_to);
            let hash = hex::encode(Sha256::digest(
                serde_json::to_vec(&request).unwrap_or_default(),
            ));
            (k, hash)
        });
        // A concurrent request with the same key may win the race to record it; the second
        // pass then finds its message.
        for _ in 0..2 {
            if let Some(done) = self
                .try_submit(pnid, req, &checked, author, scope, key.as_ref())
                .await?
            {
                return Ok(done);
            }
        }
        Err(SendError::IdempotencyConflict)
    }

    async fn try_submit(
        &self,
        pnid: &str,
        req: &SendMessage,
        checked: &Checked,
        author: &str,
        scope: &str,
        key: Option<&(&str, String)>,
    ) -> Result<Option<Submitted>, SendError> {
        let now = self.clock.now();
        let id = uuid::Uuid::now_v7().to_string();
        let mut tx = self.store.begin().await?;
        if let Some((key, hash)) = key
            && let Some((first_hash, first_id)) = tx.idempotency_key(scope, key).await?
        {
            if &first_hash != hash {
                return Err(SendError::IdempotencyConflict);
            }
            let message = tx
                .message(&first_id)
                .await?
                .ok_or(SendError::IdempotencyConflict)?;
            return Ok(Some(Submitted {
                message,
                created: false,
            }));
        }
        let contact = ContactKey::WaId(checked.to.digits().to_owned());
        let contact_id = tx
            .upsert_contact(&contact, Some(checked.to.as_str()), None, now)
            .await?;
        let (conversation_id, last_inbound) = tx.ensure_conversation(contact_id, pnid, now).await?;
        if checked.kind != MessageKind::Template && window_open_until(last_inbound, now).is_none() {
            return Err(SendError::WindowClosed);
        }
        let reply_to = match &req.reply_to {
            None => None,
            Some(r) => {
                let target = match tx.message(r).await? {
                    Some(m) => Some(m),
                    None => tx.message_by_wamid(r).await?,
                };
                match target {
                    Some(m) if m.conversation_id == conversation_id && m.wamid.is_some() => m.wamid,
                    _ => return Err(SendError::ReplyNotFound),
                }
            }
        };
        let new = NewMessage {
            id: id.clone(),
            wamid: None,
            conversation_id,
            direction: Direction::Outbound,
            kind: checked.kind,
            text: checked.text.clone(),
            content: checked.content.clone(),
            reply_to,
            status: DeliveryStatus::Queued,
            error: None,
            author: Some(author.to_owned()),
            created_at: now,
        };
        tx.insert_message(&new).await?;
        if let Some((key, hash)) = key
            && !tx
                .record_idempotency_key(scope, key, hash, &id, now)
                .await?
        {
            return Ok(None);
        }
        tx.note_message(&MessageNote {
            conversation_id,
            message_id: &id,
            at: now,
            inbound: false,
            unread: false,
        })
        .await?;
        tx.enqueue_send(&id, pnid, checked.to.as_str(), now).await?;
        let message = tx.message(&id).await?.ok_or_else(|| {
            store::StoreError::Corrupt(format!("message {id} vanished before commit"))
        })?;
        let events = Event::message_created(&id, conversation_id);
        realtime::record(&mut tx, &events, now).await?;
        tx.commit().await?;
        self.bus.committed();
        self.wake.notify_one();
        Ok(Some(Submitted {
            message,
            created: true,
        }))
    }

    /// Takes a waiting message out of the queue; it is marked failed ("Cancelled"). `false`
    /// when it is not waiting (already sent, or being sent right now).
    pub async fn cancel(&self, message_id: &str, by: &str) -> Result<bool, store::StoreError> {
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        if !tx.withdraw_send(message_id, now).await? {
            return Ok(false);
        }
        let cancelled = crate::domain::StatusUpdate {
            status: DeliveryStatus::Failed,
            at: now,
            error: Some(crate::domain::MessageError {
                code: 0,
                title: "Cancelled".into(),
                detail: Some(format!("cancelled by {by} before it was sent")),
            }),
        };
        let Some(message) = crate::delivery::record(&mut tx, &[(message_id, cancelled)])
            .await?
            .pop()
        else {
            return Ok(false);
        };
        let conversation_id = message.conversation_id;
        let events = Event::message_updated(message_id, conversation_id);
        realtime::record(&mut tx, &events, now).await?;
        tx.commit().await?;
        self.bus.committed();
        Ok(true)
    }

    /// Queues a failed message again. `false` if it is not a failed outbound message.
    pub async fn retry(&self, message_id: &str) -> Result<bool, store::StoreError> {
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        if !tx.requeue_failed(message_id, now).await? {
            return Ok(false);
        }
        if let Some(m) = tx.message(message_id).await? {
            let events = Event::message_updated(&m.id, m.conversation_id);
            realtime::record(&mut tx, &events, now).await?;
        }
        tx.commit().await?;
        self.bus.committed();
        self.wake.notify_one();
        Ok(true)
    }

    /// Lifts a pause of sending for the configured number; `false` if it was not paused.
    pub async fn resume(&self) -> Result<bool, store::StoreError> {
        let Some(pnid) = self.phone_number_id.as_deref() else {
            return Ok(false);
        };
        let resumed = self.store.resume_sending(pnid).await?;
        if resumed {
            tracing::info!(phone_number_id = pnid, "sending resumed");
            self.wake.notify_one();
            let resumed = [Event::OutboxResumed {
                phone_number_id: pnid.to_owned(),
            }];
            self.bus
                .publish(&self.store, &resumed, self.clock.now())
                .await?;
        }
        Ok(resumed)
    }
}
