//! `GET /api/v1/health` (no auth): database, WhatsApp configuration and pause, queue depths.

use axum::{Json, Router, extract::State, http::StatusCode, routing::get};
use serde_json::{Value, json};

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/health", get(get_health))
}

async fn get_health(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let store = &state.store;
    let configured = state.config.sending_configured();
    let pause = match state.config.whatsapp.phone_number_id.as_deref() {
        Some(pnid) => store.pause_of(pnid).await,
        None => Ok(None),
    };
    let (outbox, webhooks) = (store.outbox_counts().await, store.journal_counts().await);
    let database_ok =
        store.ping().await.is_ok() && pause.is_ok() && outbox.is_ok() && webhooks.is_ok();
    let pause = pause.ok().flatten();
    let reason = if !configured {
        Some("not configured: set WHATSAPP_TOKEN and WHATSAPP_PHONE_NUMBER_ID".to_owned())
    } else {
        pause.as_ref().map(|p| p.reason.clone())
    };
    let paused = reason.is_some();
    let outbox = outbox.unwrap_or_default();
    let (pending, failed) = webhooks.unwrap_or_default();
    let status = if database_ok && !paused && failed == 0 {
        "ok"
    } else {
        "degraded"
    };
    let code = if database_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": status,
        "version": env!("CARGO_PKG_VERSION"),
        "database": if database_ok { "ok" } else { "unavailable" },
        "whatsapp": {
            "configured": configured,
            "paused": paused,
            "reason": reason,
            "code": pause.and_then(|p| p.code),
        },
        "outbox": outbox,
        "instance": { "dispatching": state.dispatching.load(std::sync::atomic::Ordering::SeqCst) },
        "webhooks": { "pending": pending, "failed": failed },
    });
    (code, Json(body))
}
