//! Conversations: list (newest activity first), one, its messages, mark read.

use axum::{
    Json, Router,
    extract::State,
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Listed, Page, paginate};
use crate::{
    domain::{Conversation, ConversationStatus, Message},
    http::{
        error::{ApiError, ApiResult},
        extract::{ApiJson, ApiPath, ApiQuery, Principal},
    },
    inbox,
    state::AppState,
    store::{ConversationChange, ConversationFilter, MessageFilter, decode_cursor, encode_cursor},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/conversations", get(list_conversations))
        .route(
            "/conversations/{id}",
            get(get_conversation).patch(update_conversation),
        )
        .route(
            "/conversations/{id}/messages",
            get(list_conversation_messages),
        )
        .route("/conversations/{id}/read", post(read_conversation))
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    status: Option<String>,
    assignee: Option<String>,
    q: Option<String>,
    #[serde(flatten)]
    page: Page,
}

fn bad_cursor() -> ApiError {
    ApiError::bad_request("invalid_cursor", "cursor is not one this API gave out")
}

async fn list_conversations(
    State(state): State<AppState>,
    _: Principal,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Listed<Conversation>>> {
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(ConversationStatus::parse(s).ok_or_else(|| {
            ApiError::bad_request("invalid_query", "status must be open, pending or resolved")
        })?),
        None => None,
    };
    let before = match q.page.cursor.as_deref() {
        Some(c) => {
            let (at, id) = decode_cursor(c).ok_or_else(bad_cursor)?;
            Some((at, id.parse().map_err(|_| bad_cursor())?))
        }
        None => None,
    };
    let limit = q.page.limit()?;
    let filter = ConversationFilter {
        status,
        assignee: q.assignee,
        query: q.q,
        before,
        limit: limit + 1,
    };
    let rows = state
        .store
        .list_conversations(&filter, state.clock.now())
        .await?;
    Ok(Json(paginate("conversations", rows, limit, |c| {
        encode_cursor(c.last_message_at.0, &c.id.to_string())
    })))
}

async fn get_conversation(
    State(state): State<AppState>,
    _: Principal,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Value>> {
    let c = state.store.conversation(id, state.clock.now()).await?;
    let c = c.ok_or_else(|| ApiError::not_found("conversation"))?;
    Ok(Json(json!(c)))
}

/// `{"status"?, "assignee"?: string|null, "labels"?: [string]}`
#[derive(Debug, Deserialize)]
struct ConversationPatch {
    status: Option<String>,
    #[serde(default, deserialize_with = "present")]
    assignee: Option<Option<String>>,
    labels: Option<Vec<String>>,
}

/// Tells a field given as `null` (`Some(None)`) from one left out (`None`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

async fn update_conversation(
    State(state): State<AppState>,
    _: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ConversationPatch>,
) -> ApiResult<Json<Value>> {
    let status = match body.status.as_deref() {
        Some(s) => Some(ConversationStatus::parse(s).ok_or_else(|| {
            ApiError::unprocessable(
                "invalid_request",
                "status must be open, pending or resolved",
            )
        })?),
        None => None,
    };
    let labels = body.labels.map(|l| {
        l.into_iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    });
    let change = ConversationChange {
        status,
        assignee: body.assignee,
        labels,
    };
    let c = inbox::update(&state, id, &change).await?;
    Ok(Json(json!(
        c.ok_or_else(|| ApiError::not_found("conversation"))?
    )))
}

#[derive(Debug, Deserialize)]
struct MessagesQuery {
    before: Option<String>,
    #[serde(flatten)]
    page: Page,
}

async fn list_conversation_messages(
    State(state): State<AppState>,
    _: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<MessagesQuery>,
) -> ApiResult<Json<Listed<Message>>> {
    let cursor = q.before.as_deref().or(q.page.cursor.as_deref());
    let before = match cursor {
        Some(c) => Some(decode_cursor(c).ok_or_else(bad_cursor)?),
        None => None,
    };
    let limit = q.page.limit()?;
    let filter = MessageFilter {
        conversation_id: Some(id),
        before,
        limit: limit + 1,
        ..Default::default()
    };
    let rows = state.store.list_messages(&filter).await?;
    // Only a conversation without messages needs looking up, to tell it from one that is not.
    if rows.is_empty()
        && state
            .store
            .conversation(id, state.clock.now())
            .await?
            .is_none()
    {
        return Err(ApiError::not_found("conversation"));
    }
    Ok(Json(super::messages::page(rows, limit)))
}

async fn read_conversation(
    State(state): State<AppState>,
    _: Principal,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Value>> {
    let c = inbox::mark_read(&state, id).await?;
    let c = c.ok_or_else(|| ApiError::not_found("conversation"))?;
    Ok(Json(json!(c)))
}
