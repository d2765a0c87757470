//! Applying one journaled webhook body inside a transaction: contacts, conversations,
//! messages, counters and statuses. Duplicates (same wamid, same (wamid, status)) are no-ops.

use whatsapp::{
    MessagesValue, Notification, Status,
    webhook::{Contact, InboundMessage},
};

use super::inbound::record_of;
use crate::{
    delivery,
    domain::{DeliveryStatus, Direction, Timestamp},
    realtime::Event,
    store::{self, ContactKey, NewMessage, NewStatusEvent, Tx},
};

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("body is not a webhook notification: {0}")]
    Malformed(String),
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

/// Applies a webhook body; returns the events to publish once the transaction commits.
pub async fn apply_body(
    tx: &mut Tx,
    body: &[u8],
    received_at: Timestamp,
    now: Timestamp,
) -> Result<Vec<Event>, ApplyError> {
    let notification: Notification = serde_json::from_slice(body)
        .map_err(|e| ApplyError::Malformed(format!("invalid JSON: {e}")))?;
    if notification.object != "whatsapp_business_account" {
        return Err(ApplyError::Malformed(format!(
            "unexpected object {:?}",
            notification.object
        )));
    }
    let mut events = Vec::new();
    for entry in &notification.entry {
        for change in &entry.changes {
            let Some(value) = change.messages() else {
                tracing::debug!(field = %change.field, "webhook field not handled");
                continue;
            };
            let value = value.map_err(|e| ApplyError::Malformed(format!("messages value: {e}")))?;
            apply_value(tx, &value, received_at, now, &mut events).await?;
        }
    }
    Ok(events)
}

async fn apply_value(
    tx: &mut Tx,
    value: &MessagesValue,
    received_at: Timestamp,
    now: Timestamp,
    events: &mut Vec<Event>,
) -> Result<(), ApplyError> {
    let pnid = value.metadata.phone_number_id.as_str();
    for message in &value.messages {
        apply_message(tx, pnid, message, &value.contacts, received_at, events).await?;
    }
    for status in &value.statuses {
        apply_status(tx, status, received_at, now, events).await?;
    }
    for error in &value.errors {
        tracing::warn!(code = error.code, title = ?error.title, details = ?error.details(),
            phone_number_id = pnid, "error reported by the Cloud API");
    }
    Ok(())
}

fn sender<'a>(
    m: &InboundMessage,
    contacts: &'a [Contact],
) -> Option<(ContactKey, Option<&'a str>)> {
    let profile = |c: &'a Contact| c.name();
    if let Some(from) = m
        .from
        .as_deref()
        .map(|f| f.trim_start_matches('+'))
        .filter(|f| !f.is_empty())
    {
        let name = contacts
            .iter()
            .find(|c| c.wa_id.as_deref() == Some(from))
            .or(if contacts.len() == 1 {
                contacts.first()
            } else {
                None
            })
            .and_then(profile);
        return Some((ContactKey::WaId(from.to_owned()), name));
    }
    let user_id = m.from_user_id.as_deref().filter(|u| !u.is_empty())?;
    let name = contacts
        .iter()
        .find(|c| c.user_id.as_deref() == Some(user_id))
        .and_then(profile);
    Some((ContactKey::Bsuid(user_id.to_owned()), name))
}

async fn apply_message(
    tx: &mut Tx,
    pnid: &str,
    m: &InboundMessage,
    contacts: &[Contact],
    received_at: Timestamp,
    events: &mut Vec<Event>,
) -> Result<(), ApplyError> {
    let (key, name) = sender(m, contacts)
        .ok_or_else(|| ApplyError::Malformed(format!("message {} has no sender", m.id)))?;
    let phone = match &key {
        ContactKey::WaId(w) if w.bytes().all(|b| b.is_ascii_digit()) => Some(format!("+{w}")),
        _ => None,
    };
    let record = record_of(m, received_at);
    let contact_id = tx
        .upsert_contact(&key, phone.as_deref(), name, received_at)
        .await?;
    let (conversation_id, _) = tx
        .ensure_conversation(contact_id, pnid, record.created_at)
        .await?;
    let id = uuid::Uuid::now_v7().to_string();
    let inserted = tx
        .insert_message(&NewMessage {
            id: id.clone(),
            wamid: Some(m.id.clone()),
            conversation_id,
            direction: Direction::Inbound,
            kind: record.kind,
            text: record.text,
            content: record.content,
            reply_to: record.reply_to,
            status: DeliveryStatus::Received,
            error: None,
            author: None,
            created_at: record.created_at,
        })
        .await?;
    if !inserted {
        return Ok(());
    }
    tx.note_message(conversation_id, &id, record.created_at, true, record.unread)
        .await?;
    if let Some(new_wa_id) = &record.new_wa_id {
        tx.change_wa_id(contact_id, new_wa_id, received_at).await?;
    }
    events.extend(Event::message_created(&id, conversation_id));
    Ok(())
}

async fn apply_status(
    tx: &mut Tx,
    s: &Status,
    received_at: Timestamp,
    now: Timestamp,
    events: &mut Vec<Event>,
) -> Result<(), ApplyError> {
    let event = NewStatusEvent {
        wamid: s.id.clone(),
        status: s.status.as_str().to_owned(),
        occurred_at: s
            .timestamp
            .map_or(received_at, Timestamp::from_unix_seconds),
        recipient_id: s.recipient_id.clone(),
        callback_data: s.biz_opaque_callback_data.clone(),
        errors: (!s.errors.is_empty())
            .then(|| serde_json::to_string(&s.errors).unwrap_or_default()),
        received_at,
    };
    if !tx.insert_status_event(&event).await? {
        return Ok(());
    }
    let message = match tx.message_by_wamid(&s.id).await? {
        Some(m) => m,
        None => {
            // The status raced ahead of our record of the send response (or the response was
            // lost): our message id rides along in biz_opaque_callback_data.
            let Some(id) = s.biz_opaque_callback_data.as_deref() else {
                return Ok(());
            };
            match tx.message(id).await? {
                Some(m) if m.direction == Direction::Outbound && m.wamid.is_none() => {
                    tx.attach_wamid(&m.id, &s.id).await?;
                    tx.finish_send(&m.id).await?;
                    let mut m = m;
                    m.wamid = Some(s.id.clone());
                    m
                }
                _ => return Ok(()),
            }
        }
    };
    if delivery::settle(tx, &message, now).await? {
        events.extend(Event::message_updated(&message.id, message.conversation_id));
    }
    Ok(())
}
