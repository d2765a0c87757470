//! `GET /api/v1/search?q=`: messages (full text, newest first) and contacts (name or number).

use axum::{Json, Router, extract::State, routing::get};
use serde::{Deserialize, Serialize};

use super::Page;
use crate::{
    domain::{Contact, Message},
    http::{
        error::{ApiError, ApiResult},
        extract::{ApiQuery, Principal},
    },
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new().route("/search", get(search))
}

#[derive(Debug, Deserialize)]
struct SearchQuery {
    q: Option<String>,
    #[serde(flatten)]
    page: Page,
}

#[derive(Debug, Serialize)]
struct Found {
    messages: Vec<Message>,
    contacts: Vec<Contact>,
}

async fn search(
    State(state): State<AppState>,
    _: Principal,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> ApiResult<Json<Found>> {
    let text = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let text = text.ok_or_else(|| ApiError::bad_request("invalid_query", "q is required"))?;
    let limit = q.page.limit()?;
    let messages = state.store.search_messages(text, limit).await?;
    let contacts = state.store.search_contacts(text, limit).await?;
    Ok(Json(Found { messages, contacts }))
}
