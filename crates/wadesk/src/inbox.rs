//! Agent actions on conversations: marking read (with a read receipt to the customer) and
//! changing status, assignee or labels.

use crate::{
    domain::{Conversation, Timestamp},
    realtime::{self, Event},
    state::AppState,
    store::{StoreError, Tx},
};

/// Marks a conversation's inbound messages read and clears its unread count, then sends a
/// read receipt for the newest one (which marks all earlier ones read on the customer's
/// phone). The receipt is best effort: it is idempotent and never blocks the agent.
pub async fn mark_read(
    state: &AppState,
    conversation_id: i64,
) -> Result<Option<Conversation>, StoreError> {
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let newest = tx.mark_inbound_read(conversation_id, now).await?;
    if !tx.clear_unread(conversation_id).await? {
        return Ok(None);
    }
    finish(state, tx, conversation_id, now).await?;
    let conversation = state.store.conversation(conversation_id, now).await?;
    if let (Some(newest), Some(c)) = (newest.as_deref(), conversation.as_ref()) {
        send_read_receipt(state, &c.phone_number_id, newest);
    }
    Ok(conversation)
}

/// Commits an agent's change to a conversation and tells the browsers.
async fn finish(
    state: &AppState,
    mut tx: Tx,
    conversation_id: i64,
    now: Timestamp,
) -> Result<(), StoreError> {
    realtime::record(
        &mut tx,
        &[Event::ConversationUpdated {
            id: conversation_id,
        }],
        now,
    )
    .await?;
    tx.commit().await?;
    state.bus.committed();
    Ok(())
}

fn send_read_receipt(state: &AppState, phone_number_id: &str, wamid: &str) {
    let Some(token) = state.config.whatsapp.token.clone() else {
        return;
    };
    let graph = state.graph.clone();
    let (pnid, wamid) = (phone_number_id.to_owned(), wamid.to_owned());
    tokio::spawn(async move {
        if let Err(e) = graph.mark_read(token.expose(), &pnid, &wamid).await {
            tracing::warn!(error = %e, "read receipt not sent");
        }
    });
}

/// Changes a conversation's status, assignee or labels.
pub async fn update(
    state: &AppState,
    conversation_id: i64,
    change: &crate::store::ConversationChange,
) -> Result<Option<Conversation>, StoreError> {
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    if !tx.update_conversation(conversation_id, change, now).await? {
        return Ok(None);
    }
    finish(state, tx, conversation_id, now).await?;
    state.store.conversation(conversation_id, now).await
}
