//! Outbox administration: what waits or failed, retry, cancel, lifting a pause.

use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    routing::{delete, get, post},
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Page;
use crate::{
    domain::{DeliveryStatus, Direction},
    http::{
        error::{ApiError, ApiResult},
        extract::{ApiPath, ApiQuery, Principal},
    },
    state::AppState,
    store::MessageFilter,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/outbox", get(list_outbox))
        .route("/outbox/resume", post(resume_outbox))
        .route("/outbox/{id}/retry", post(retry_message))
        .route("/outbox/{id}", delete(cancel_message))
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    state: Option<String>,
    limit: Option<String>,
}

/// `state=queued` (never tried), `retrying` (tried, waiting) or `failed`.
async fn list_outbox(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Value>> {
    principal.require_admin()?;
    let limit = Page {
        cursor: None,
        limit: q.limit,
    }
    .limit()?;
    let now = state.clock.now();
    match q.state.as_deref().unwrap_or("queued") {
        "queued" | "retrying" => {
            let retrying = q.state.as_deref() == Some("retrying");
            let entries = state.store.outbox_entries(retrying, now, limit).await?;
            Ok(Json(json!({ "entries": entries })))
        }
        "failed" => {
            let filter = MessageFilter {
                status: Some(DeliveryStatus::Failed),
                direction: Some(Direction::Outbound),
                limit,
                ..MessageFilter::default()
            };
            let messages = state.store.list_messages(&filter).await?;
            let entries: Vec<Value> = messages
                .into_iter()
                .map(|m| json!({ "message": m }))
                .collect();
            Ok(Json(json!({ "entries": entries })))
        }
        _ => Err(ApiError::bad_request(
            "invalid_query",
            "state must be queued, retrying or failed",
        )),
    }
}

async fn retry_message(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    principal.require_admin()?;
    if !state.outbox.retry(&id).await? {
        let conflict = ApiError::new(
            StatusCode::CONFLICT,
            "not_retryable",
            "only a message that failed before WhatsApp accepted it can be retried",
        );
        return Err(unknown_or(&state, &id, conflict).await);
    }
    let message = state.store.message(&id).await?;
    Ok((StatusCode::ACCEPTED, Json(json!(message))))
}

async fn cancel_message(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    principal.require_admin()?;
    if !state.outbox.cancel(&id, &principal.label()).await? {
        let conflict = ApiError::new(
            StatusCode::CONFLICT,
            "not_cancellable",
            "the message is not waiting in the outbox (already sent, or being sent right now)",
        );
        return Err(unknown_or(&state, &id, conflict).await);
    }
    Ok(Json(json!(state.store.message(&id).await?)))
}

/// Why a message could not be retried or cancelled: it does not exist (404), or `conflict`.
async fn unknown_or(state: &AppState, id: &str, conflict: ApiError) -> ApiError {
    match state.store.message(id).await {
        Ok(Some(_)) => conflict,
        Ok(None) => ApiError::not_found("message"),
        Err(e) => e.into(),
    }
}

async fn resume_outbox(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Value>> {
    principal.require_admin()?;
    let resumed = state.outbox.resume().await?;
    Ok(Json(json!({ "resumed": resumed })))
}
