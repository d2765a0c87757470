//! `/api/v1`: JSON API for agents and integrations. Every route but health needs a bearer
//! token. Each resource module exports its `router()`; this module only merges them.

mod auth;
mod conversations;
mod events;
mod health;
mod messages;
mod outbox;
mod search;
mod users;
mod webhook_events;

use axum::Router;
use serde::{Deserialize, Serialize, Serializer, ser::SerializeMap};

use crate::{http::error::ApiError, state::AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(health::router())
        .merge(auth::router())
        .merge(events::router())
        .merge(users::router())
        .merge(conversations::router())
        .merge(messages::router())
        .merge(outbox::router())
        .merge(search::router())
        .merge(webhook_events::router())
}

/// Page size when none is asked for, and the largest allowed.
const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 200;

/// `cursor` and `limit`, shared by every list. (Kept as text: query structs that flatten this
/// one see every value as a string.)
#[derive(Debug, Default, Deserialize)]
pub struct Page {
    pub cursor: Option<String>,
    pub limit: Option<String>,
}

impl Page {
    pub fn limit(&self) -> Result<i64, ApiError> {
        match self
            .limit
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            None => Ok(DEFAULT_LIMIT),
            Some(l) => match l.parse::<i64>() {
                Ok(n) if n >= 1 => Ok(n.min(MAX_LIMIT)),
                _ => Err(ApiError::bad_request(
                    "invalid_query",
                    format!("limit must be a whole number from 1 to {MAX_LIMIT}"),
                )),
            },
        }
    }
}

/// One page of a list, answered as `{"<name>": [...], "next_cursor": ...}`. It is written
/// straight from the items: no JSON tree is built in between.
#[derive(Debug)]
pub struct Listed<T> {
    name: &'static str,
    items: Vec<T>,
    next_cursor: Option<String>,
}

impl<T: Serialize> Serialize for Listed<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry(self.name, &self.items)?;
        map.serialize_entry("next_cursor", &self.next_cursor)?;
        map.end()
    }
}

/// Cuts a list fetched with `limit + 1` rows to `limit` and names it `name`, with the cursor of
/// the next page (none on the last page).
pub fn paginate<T>(
    name: &'static str,
    mut items: Vec<T>,
    limit: i64,
    cursor_of: impl Fn(&T) -> String,
) -> Listed<T> {
    let limit = usize::try_from(limit).unwrap_or(0);
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        items.last().map(&cursor_of)
    } else {
        None
    };
    Listed {
        name,
        items,
        next_cursor,
    }
}
