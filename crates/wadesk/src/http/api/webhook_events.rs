//! The webhook journal, for admins: what was received, what failed and why, reprocessing.

use axum::{
    Json, Router,
    extract::State,
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    domain::Timestamp,
    http::{
        error::{ApiError, ApiResult},
        extract::{ApiPath, ApiQuery, Principal},
    },
    state::AppState,
    store::JournalState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/webhook-events", get(list_webhook_events))
        .route(
            "/webhook-events/{id}/reprocess",
            post(reprocess_webhook_event),
        )
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    state: Option<String>,
    limit: Option<i64>,
}

async fn list_webhook_events(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Value>> {
    principal.require_admin()?;
    let filter = match q.state.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(JournalState::parse(s).ok_or_else(|| {
            ApiError::bad_request("invalid_query", "state must be pending, done or failed")
        })?),
        None => None,
    };
    let entries = state
        .store
        .journal_entries(filter, q.limit.unwrap_or(50).clamp(1, 500))
        .await?;
    let events: Vec<Value> = entries
        .iter()
        .map(|e| {
            json!({
                "id": e.id,
                "received_at": Timestamp(e.received_at),
                "source": e.source,
                "signature": e.signature,
                "state": e.state,
                "attempts": e.attempts,
                "last_error": e.last_error,
                "processed_at": e.processed_at.map(Timestamp),
                "size": e.body.len(),
                "body": String::from_utf8_lossy(&e.body),
            })
        })
        .collect();
    Ok(Json(json!({ "events": events })))
}

async fn reprocess_webhook_event(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Value>> {
    principal.require_admin()?;
    if !state.store.reprocess_journal(id, state.clock.now()).await? {
        return Err(ApiError::not_found("webhook event awaiting reprocessing"));
    }
    Ok(Json(json!({ "reprocessing": id })))
}
