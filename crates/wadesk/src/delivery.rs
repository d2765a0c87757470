//! Folding recorded status events into a message's delivery state. Shared by ingest (a status
//! webhook arrives) and the outbox (Graph returns the wamid that earlier statuses were for).

use whatsapp::ApiError;

use crate::{
    domain::{DeliveryStatus, Direction, Message, MessageError, StatusUpdate, Timestamp},
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

/// Folds one status update into a message's delivery state and saves it. Returns the message
/// as it is now (`None` if there is no such message).
pub async fn record(
    tx: &mut Tx,
    message_id: &str,
    update: StatusUpdate,
) -> store::Result<Option<Message>> {
    let Some(mut message) = tx.message(message_id).await? else {
        return Ok(None);
    };
    if message.delivery.apply(&update) {
        tx.set_delivery(&message.id, &message.delivery).await?;
    }
    Ok(Some(message))
}

/// Applies every recorded, unapplied status of the message's wamid. Returns whether the
/// message changed.
pub async fn settle(tx: &mut Tx, message: &Message, now: Timestamp) -> store::Result<bool> {
    let Some(wamid) = message.wamid.as_deref() else {
        return Ok(false);
    };
    if message.direction != Direction::Outbound {
        return Ok(false);
    }
    let pending = tx.unapplied_statuses(wamid).await?;
    if pending.is_empty() {
        return Ok(false);
    }
    let mut state = message.delivery.clone();
    let mut changed = false;
    for update in pending.iter().filter_map(update_of) {
        changed |= state.apply(&update);
    }
    tx.mark_statuses_applied(wamid, now).await?;
    if changed {
        tx.set_delivery(&message.id, &state).await?;
    }
    Ok(changed)
}
