//! Seed-compatible routes: the HTTP contracts of the two systems wadesk replaces, so their
//! clients keep working with one change (an `Authorization: Bearer <token>` header).
//!
//! - `django`: the Django "WhatsApp Support" API (`POST /api/send-message/`,
//!   `POST /api/webhook/`), flat JSON or form bodies.
//! - `plugin`: the SuperDashboard WhatsApp plugin API under `/plugins/whatsapp`.
//!
//! Both are thin translations onto the services behind `/api/v1`: sends go through the outbox
//! (validation, the 24-hour window, retries and delivery statuses are the real ones) and inbound
//! messages through the webhook journal and the normal processor. There is no second pipeline
//! here, and no SQL. Each keeps its original's error shape; authentication failures keep
//! wadesk's.

mod django;
mod plugin;

use axum::{
    Router,
    body::{Body, Bytes, to_bytes},
    http::{HeaderMap, header},
};

use crate::state::AppState;

/// Largest request body these routes read (webhook notifications excepted): a 4096-character
/// text escaped as JSON fits many times over.
const MAX_BODY: usize = 256 * 1024;

/// Longest text WhatsApp accepts (the outbox checks it too; here it is reported per field).
const MAX_TEXT_CHARS: usize = 4096;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(django::router())
        .nest("/plugins/whatsapp", plugin::router())
}

/// The media type of the body (`application/json`), without parameters, in lower case.
fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = value.split(';').next().unwrap_or("").trim();
    (!essence.is_empty()).then(|| essence.to_ascii_lowercase())
}

fn is_json(media_type: &str) -> bool {
    media_type == "application/json" || media_type.ends_with("+json")
}

/// The whole body, or `None` when it is over `MAX_BODY` (or the connection failed).
async fn read_body(body: Body) -> Option<Bytes> {
    to_bytes(body, MAX_BODY).await.ok()
}
