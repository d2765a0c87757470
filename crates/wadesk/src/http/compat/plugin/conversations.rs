//! The plugin's conversation list: one entry per customer (the original wrongly listed the
//! business's own number among them), newest activity first, with unread and message counts.
//! Unread counts are the inbox's own, so they drop when an agent reads the conversation.

use std::collections::HashMap;

use axum::{Json, Router, extract::State, routing::get};
use serde::Serialize;

use super::{MAX_LIST, PluginError, customer_number, preview};
use crate::{
    domain::Timestamp, http::extract::Principal, state::AppState, store::ConversationFilter,
};

pub fn router() -> Router<AppState> {
    Router::new().route("/conversations", get(list_conversations))
}

#[derive(Debug, Serialize)]
struct Summary {
    phone_number: String,
    last_message: Option<String>,
    last_message_time: Timestamp,
    unread_count: i64,
    message_count: i64,
}

async fn list_conversations(
    State(state): State<AppState>,
    _: Principal,
) -> Result<Json<Vec<Summary>>, PluginError> {
    let filter = ConversationFilter {
        limit: MAX_LIST,
        ..ConversationFilter::default()
    };
    let conversations = state
        .store
        .list_conversations(&filter, state.clock.now())
        .await?;
    let ids: Vec<i64> = conversations.iter().map(|c| c.id).collect();
    let counts: HashMap<i64, i64> = state
        .store
        .message_counts(&ids)
        .await?
        .into_iter()
        .collect();
    let mut summaries: Vec<Summary> = Vec::new();
    let mut by_customer: HashMap<String, usize> = HashMap::new();
    for c in &conversations {
        let count = counts.get(&c.id).copied().unwrap_or(0);
        // The original derived conversations from messages: one without any (all cleared) is
        // not listed.
        if count == 0 {
            continue;
        }
        let phone = customer_number(&c.contact);
        // The same customer with another business number: one entry. The list is newest
        // first, so the entry already has the latest message.
        if let Some(s) = by_customer.get(&phone).and_then(|&i| summaries.get_mut(i)) {
            s.unread_count += c.unread_count;
            s.message_count += count;
            continue;
        }
        by_customer.insert(phone.clone(), summaries.len());
        summaries.push(Summary {
            phone_number: phone,
            last_message: c.last_message.as_ref().map(preview),
            last_message_time: c.last_message_at,
            unread_count: c.unread_count,
            message_count: count,
        });
    }
    Ok(Json(summaries))
}
