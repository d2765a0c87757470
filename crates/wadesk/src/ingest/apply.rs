//! Applying journaled webhook bodies inside a transaction: contacts, conversations, messages,
//! counters and statuses. A body is parsed first, with no I/O, so a malformed one is known
//! before anything is written; the messages of many bodies are then stored with a few
//! multi-row statements. Duplicates (same wamid, same (wamid, status)) are no-ops.

use std::collections::{HashMap, HashSet};

use whatsapp::{
    MessagesValue, Notification, Status,
    webhook::{Contact, InboundMessage},
};

use super::inbound::{InboundRecord, record_of};
use crate::{
    delivery,
    domain::{DeliveryStatus, Direction, Timestamp},
    realtime::Event,
    store::{self, ContactKey, ContactSeen, MessageNote, NewMessage, NewStatusEvent, Tx},
};

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("body is not a webhook notification: {0}")]
    Malformed(String),
}

/// What one webhook body asks for, in the order it names things.
#[derive(Debug, Default)]
pub struct ParsedBody {
    messages: Vec<Incoming>,
    statuses: Vec<NewStatusEvent>,
}

/// A customer's message as parsed from a body.
#[derive(Debug)]
struct Incoming {
    phone_number_id: String,
    key: ContactKey,
    phone: Option<String>,
    name: Option<String>,
    wamid: String,
    record: InboundRecord,
    received_at: Timestamp,
}

/// Reads a webhook body; an error means the body can never be applied as it is.
pub fn parse_body(body: &[u8], received_at: Timestamp) -> Result<ParsedBody, ApplyError> {
    let notification: Notification = serde_json::from_slice(body)
        .map_err(|e| ApplyError::Malformed(format!("invalid JSON: {e}")))?;
    if notification.object != "whatsapp_business_account" {
        return Err(ApplyError::Malformed(format!(
            "unexpected object {:?}",
            notification.object
        )));
    }
    let mut parsed = ParsedBody::default();
    for entry in &notification.entry {
        for change in &entry.changes {
            let Some(value) = change.messages() else {
                tracing::debug!(field = %change.field, "webhook field not handled");
                continue;
            };
            let value = value.map_err(|e| ApplyError::Malformed(format!("messages value: {e}")))?;
            parse_value(&value, received_at, &mut parsed)?;
        }
    }
    Ok(parsed)
}

fn parse_value(
    value: &MessagesValue,
    received_at: Timestamp,
    parsed: &mut ParsedBody,
) -> Result<(), ApplyError> {
    let pnid = value.metadata.phone_number_id.as_str();
    for m in &value.messages {
        let (key, name) = sender(m, &value.contacts)
            .ok_or_else(|| ApplyError::Malformed(format!("message {} has no sender", m.id)))?;
        let phone = match &key {
            ContactKey::WaId(w) if w.bytes().all(|b| b.is_ascii_digit()) => Some(format!("+{w}")),
            _ => None,
        };
        parsed.messages.push(Incoming {
            phone_number_id: pnid.to_owned(),
            key,
            phone,
            name: name.map(str::to_owned),
            wamid: m.id.clone(),
            record: record_of(m, received_at),
            received_at,
        });
    }
    for s in &value.statuses {
        parsed.statuses.push(status_event(s, received_at));
    }
    for error in &value.errors {
        tracing::warn!(code = error.code, title = ?error.title, details = ?error.details(),
            phone_number_id = pnid, "error reported by the Cloud API");
    }
    Ok(())
}

/// Applies parsed bodies, in order, with the outcome of applying them one by one; returns the
/// events to publish once the transaction commits.
pub async fn apply_bodies(
    tx: &mut Tx,
    bodies: &[&ParsedBody],
    now: Timestamp,
) -> Result<Vec<Event>, store::StoreError> {
    let mut events = Vec::new();
    let incoming: Vec<&Incoming> = bodies.iter().flat_map(|b| &b.messages).collect();
    if !incoming.is_empty() {
        store_messages(tx, &incoming, &mut events).await?;
    }
    let statuses: Vec<&NewStatusEvent> = bodies.iter().flat_map(|b| &b.statuses).collect();
    if !statuses.is_empty() {
        apply_statuses(tx, &statuses, now, &mut events).await?;
    }
    Ok(events)
}

/// Stores customers' messages: their contacts, conversations, the messages themselves (a
/// wamid already stored is a duplicate and changes nothing) and conversation counters.
async fn store_messages(
    tx: &mut Tx,
    incoming: &[&Incoming],
    events: &mut Vec<Event>,
) -> Result<(), store::StoreError> {
    let seen: Vec<ContactSeen<'_>> = incoming
        .iter()
        .map(|m| ContactSeen {
            key: &m.key,
            phone: m.phone.as_deref(),
            name: m.name.as_deref(),
            at: m.received_at,
        })
        .collect();
    let contacts: HashMap<ContactKey, i64> = tx.upsert_contacts(&seen).await?.into_iter().collect();
    let mut wanted = Vec::with_capacity(incoming.len());
    for m in incoming {
        let contact = contacts
            .get(&m.key)
            .ok_or_else(|| store::StoreError::Corrupt(format!("no contact for {:?}", m.key)))?;
        wanted.push((*contact, m.phone_number_id.as_str(), m.record.created_at));
    }
    let conversations: HashMap<(i64, String), i64> = tx
        .ensure_conversations(&wanted)
        .await?
        .into_iter()
        .map(|c| ((c.contact_id, c.phone_number_id), c.id))
        .collect();
    let mut rows = Vec::with_capacity(incoming.len());
    for (m, (contact_id, pnid, _)) in incoming.iter().zip(&wanted) {
        let key = (*contact_id, (*pnid).to_owned());
        let conversation_id = *conversations.get(&key).ok_or_else(|| {
            store::StoreError::Corrupt(format!("no conversation for {}", m.wamid))
        })?;
        rows.push(NewMessage {
            id: uuid::Uuid::now_v7().to_string(),
            wamid: Some(m.wamid.clone()),
            conversation_id,
            direction: Direction::Inbound,
            kind: m.record.kind,
            text: m.record.text.clone(),
            content: m.record.content.clone(),
            reply_to: m.record.reply_to.clone(),
            status: DeliveryStatus::Received,
            error: None,
            author: None,
            created_at: m.record.created_at,
        });
    }
    let inserted = tx.insert_messages(&rows).await?;
    let inserted: HashSet<&str> = inserted.iter().map(String::as_str).collect();
    // In arrival order, whatever order the database answered in.
    let stored: Vec<(&Incoming, &NewMessage, i64)> = incoming
        .iter()
        .zip(&rows)
        .zip(&wanted)
        .filter(|((_, row), _)| inserted.contains(row.id.as_str()))
        .map(|((m, row), (contact_id, _, _))| (*m, row, *contact_id))
        .collect();
    let notes: Vec<MessageNote<'_>> = stored
        .iter()
        .map(|(m, row, _)| MessageNote {
            conversation_id: row.conversation_id,
            message_id: &row.id,
            at: row.created_at,
            inbound: true,
            unread: m.record.unread,
        })
        .collect();
    tx.note_messages(&notes).await?;
    for (m, row, contact_id) in &stored {
        if let Some(new_wa_id) = &m.record.new_wa_id {
            tx.change_wa_id(*contact_id, new_wa_id, m.received_at)
                .await?;
        }
        events.extend(Event::message_created(&row.id, row.conversation_id));
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

fn status_event(s: &Status, received_at: Timestamp) -> NewStatusEvent {
    NewStatusEvent {
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
    }
}

/// Records statuses and folds the new ones into their messages: those known by wamid, and
/// sends whose answer is late, found by the id riding in `biz_opaque_callback_data`. A status
/// whose message is not known yet waits recorded until its wamid appears.
async fn apply_statuses(
    tx: &mut Tx,
    statuses: &[&NewStatusEvent],
    now: Timestamp,
    events: &mut Vec<Event>,
) -> Result<(), store::StoreError> {
    let fresh = tx.insert_status_events(statuses).await?;
    if fresh.is_empty() {
        return Ok(());
    }
    let wamids: Vec<&str> = fresh.iter().map(|s| s.wamid.as_str()).collect();
    let mut messages = tx.messages_by_wamids(&wamids).await?;
    let mut known: HashSet<String> = messages.iter().filter_map(|m| m.wamid.clone()).collect();
    for status in &fresh {
        if known.contains(status.wamid.as_str()) {
            continue;
        }
        // The status raced ahead of our record of the send response (or the response was
        // lost): our message id rides along in biz_opaque_callback_data.
        let Some(id) = status.callback_data.as_deref() else {
            continue;
        };
        if let Some(mut m) = tx.message(id).await?
            && m.direction == Direction::Outbound
            && m.wamid.is_none()
        {
            tx.attach_wamid(&m.id, &status.wamid).await?;
            tx.finish_send(&m.id).await?;
            m.wamid = Some(status.wamid.clone());
            known.insert(status.wamid.clone());
            messages.push(m);
        }
    }
    let changed = delivery::settle(tx, &mut messages, now).await?;
    for (message, _) in messages.iter().zip(changed).filter(|(_, c)| *c) {
        events.extend(Event::message_updated(&message.id, message.conversation_id));
    }
    Ok(())
}
