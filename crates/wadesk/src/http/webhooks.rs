//! `/webhooks/whatsapp`: the subscription handshake and signed notifications. A POST is
//! checked over its raw bytes, journaled and committed, then answered 200; nothing is parsed
//! before it is stored.

use axum::{
    Router,
    body::{Body, to_bytes},
    extract::{Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
};
use whatsapp::{handshake::Subscription, signature};

use super::error::{ApiError, ApiResult};
use crate::{state::AppState, store::NewJournalEntry};

/// Meta's largest webhook payload.
pub const MAX_BODY: usize = 3 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/webhooks/whatsapp",
        get(verify_subscription).post(receive_webhook),
    )
}

pub async fn verify_subscription(
    State(state): State<AppState>,
    Query(sub): Query<Subscription>,
) -> Response {
    let expected = state
        .config
        .whatsapp
        .verify_token
        .as_ref()
        .map(|s| s.expose());
    match sub.accept(expected) {
        Some(challenge) => (StatusCode::OK, challenge.to_owned()).into_response(),
        None => ApiError::forbidden("verification token mismatch").into_response(),
    }
}

/// Checks and journals one webhook body; returns once it is durably stored.
pub async fn accept_webhook(state: &AppState, headers: &HeaderMap, body: Body) -> ApiResult<()> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "webhook body over 3 MB",
        )
    };
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY) {
        return Err(too_large());
    }
    let bytes = to_bytes(body, MAX_BODY).await.map_err(|_| too_large())?;
    let verdict = match state.config.whatsapp.app_secret.as_ref() {
        Some(secret) => {
            let header = headers.get(signature::HEADER).and_then(|v| v.to_str().ok());
            signature::verify(secret.expose().as_bytes(), &bytes, header).map_err(|e| {
                tracing::warn!(reason = %e, "webhook signature refused");
                ApiError::new(StatusCode::UNAUTHORIZED, "invalid_signature", e.to_string())
            })?;
            "valid"
        }
        None => "unchecked",
    };
    let entry = NewJournalEntry {
        received_at: state.clock.now(),
        source: "meta",
        signature: verdict,
        body: bytes.to_vec(),
    };
    state.journal.append(entry).await.map_err(|e| {
        tracing::error!(error = %e, "webhook not journaled");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "could not store the webhook; retry",
        )
    })
}

pub async fn receive_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<StatusCode> {
    accept_webhook(&state, &headers, body).await?;
    Ok(StatusCode::OK)
}
