//! Folding status updates and recorded status events into messages' delivery states. Shared
//! by ingest (a status webhook arrives) and the outbox (Graph returns the wamid that earlier
//! statuses were for), a few statements for any number of messages.

use whatsapp::ApiError;

use crate::{
    domain::{
        DeliveryState, DeliveryStatus, Direction, Message, MessageError, StatusUpdate, Timestamp,
    },
    store::{self, Tx},
};

/// Meta's first error of a status or send, as shown on the message.
pub fn message_error(errors: &[ApiError]) -> Option<MessageError> {
    let e = errors.first()?;
    Some(MessageError {
        code: e.code,
        title: e
            .title
            .clone()
            .or_else(|| e.message.clone())
            .unwrap_or_default(),
        detail: e.details().map(str::to_owned),
    })
}

fn update_of(s: &store::StoredStatus) -> Option<StatusUpdate> {
    let status = match s.status.as_str() {
        "sent" => DeliveryStatus::Sent,
        "delivered" => DeliveryStatus::Delivered,
        "read" => DeliveryStatus::Read,
        "played" => DeliveryStatus::Played,
        "failed" => DeliveryStatus::Failed,
        _ => return None,
    };
    let errors: Vec<ApiError> = s
        .errors
        .as_deref()
        .and_then(|e| serde_json::from_str(e).ok())
        .unwrap_or_default();
    Some(StatusUpdate {
        status,
        at: Timestamp(s.occurred_at),
        error: message_error(&errors),
    })
}

/// Folds one status update into each named message's delivery state and saves what changed.
/// Returns the messages as they are now, in no particular order (unknown ids are left out).
pub async fn record(tx: &mut Tx, updates: &[(&str, StatusUpdate)]) -> store::Result<Vec<Message>> {
    let ids: Vec<&str> = updates.iter().map(|(id, _)| *id).collect();
    let mut messages = tx.messages(&ids).await?;
    let mut changed = vec![false; messages.len()];
    for (id, update) in updates {
        if let Some(i) = messages.iter().position(|m| m.id == *id) {
            changed[i] |= messages[i].delivery.apply(update);
        }
    }
    save(tx, &messages, &changed).await?;
    Ok(messages)
}

/// Applies every recorded, unapplied status of the outbound messages' wamids, updating
/// `messages` in place. Returns whether each changed.
pub async fn settle(
    tx: &mut Tx,
    messages: &mut [Message],
    now: Timestamp,
) -> store::Result<Vec<bool>> {
    let unchanged = vec![false; messages.len()];
    let wamids: Vec<&str> = messages
        .iter()
        .filter(|m| m.direction == Direction::Outbound)
        .filter_map(|m| m.wamid.as_deref())
        .collect();
    if wamids.is_empty() {
        return Ok(unchanged);
    }
    let pending = tx.unapplied_statuses(&wamids).await?;
    if pending.is_empty() {
        return Ok(unchanged);
    }
    tx.mark_statuses_applied(&wamids, now).await?;
    // Only outbound wamids were asked for, so a status matches no inbound message.
    let changed: Vec<bool> = messages
        .iter_mut()
        .map(|m| {
            let mut any = false;
            for (wamid, status) in &pending {
                if m.wamid.as_ref() == Some(wamid)
                    && let Some(update) = update_of(status)
                {
                    any |= m.delivery.apply(&update);
                }
            }
            any
        })
        .collect();
    save(tx, messages, &changed).await?;
    Ok(changed)
}

/// Writes the delivery states of the messages marked changed.
async fn save(tx: &mut Tx, messages: &[Message], changed: &[bool]) -> store::Result<()> {
    let states: Vec<(&str, &DeliveryState)> = messages
        .iter()
        .zip(changed)
        .filter(|(_, changed)| **changed)
        .map(|(m, _)| (m.id.as_str(), &m.delivery))
        .collect();
    tx.set_deliveries(&states).await
}
