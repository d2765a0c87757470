//! `/api/v1`: JSON API for agents and integrations. Every route but health needs a bearer
//! token. Each resource module exports its `router()`; this module only merges them.

mod conversations;
mod health;
mod messages;
mod outbox;
mod webhook_events;

use axum::Router;
use serde::Deserialize;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(health::router())
        .merge(conversations::router())
        .merge(messages::router())
        .merge(outbox::router())
        .merge(webhook_events::router())
}

/// Page size when none is asked for, and the largest allowed.
const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 200;

/// `cursor` and `limit`, shared by every list.
#[derive(Debug, Default, Deserialize)]
pub struct Page {
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

impl Page {
    pub fn limit(&self) -> i64 {
        self.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT)
    }
}

/// Cuts a list fetched with `limit + 1` rows to `limit`, and gives the cursor of the next page
/// (none on the last page).
pub fn paginate<T>(
    mut items: Vec<T>,
    limit: i64,
    cursor_of: impl Fn(&T) -> String,
) -> (Vec<T>, Option<String>) {
    let limit = usize::try_from(limit).unwrap_or(0);
    if items.len() > limit {
        items.truncate(limit);
        let next = items.last().map(&cursor_of);
        (items, next)
    } else {
        (items, None)
    }
}
