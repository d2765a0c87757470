//! The SuperDashboard "WhatsApp plugin" API, nested under `/plugins/whatsapp`.
//!
//! `GET /health` needs nothing; the webhook (`GET`/`POST /webhook`) is Meta's and is checked
//! like `/webhooks/whatsapp` (it is the same code); every other route needs a bearer token
//! (the original had no authentication at all; `DELETE /messages` needs an admin).
//!
//! Numbers in answers: the customer is given as Meta writes it (the WhatsApp id, digits without
//! `+`); the business side as the phone-number-id of the conversation, since wadesk is not told
//! the business's display number.
//!
//! Errors keep FastAPI's shapes: `{"detail": "…"}`, and 422 `{"detail": [{"type", "loc",
//! "msg", "input"}]}` for invalid requests. Authentication failures keep wadesk's shape.

mod conversations;
mod messages;

use axum::{
    Json, Router,
    body::{Body, to_bytes},
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::{Value, json};

use crate::{
    domain::{Contact, Message},
    http::{
        error::{ApiError, ApiResult},
        extract::Principal,
        webhooks::{MAX_BODY, accept_webhook, verify_subscription},
    },
    state::AppState,
    store::StoreError,
};

const PROVIDER: &str = "Meta";

/// Items listed when no `limit` is given, and the most ever listed at once.
const MAX_LIST: i64 = 1000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(get_health))
        .route("/provider/info", get(get_provider_info))
        .route("/webhook", get(verify_subscription).post(receive_webhook))
        .merge(messages::router())
        .merge(conversations::router())
        .method_not_allowed_fallback(|| async {
            PluginError::detail(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
        })
        .fallback(|| async { PluginError::detail(StatusCode::NOT_FOUND, "Not Found") })
}

async fn get_health(State(state): State<AppState>) -> Json<Value> {
    Json(json!({
        "status": "healthy",
        "provider": PROVIDER,
        "configured": state.config.sending_configured(),
    }))
}

async fn get_provider_info(State(state): State<AppState>, _: Principal) -> Json<Value> {
    Json(json!({
        "provider": PROVIDER,
        "configured": state.config.sending_configured(),
        "description": "WhatsApp Business Cloud API by Meta, served by wadesk: durable webhook \
                        journal, outbox with retries, delivery statuses.",
    }))
}

/// The same checks and journal as `/webhooks/whatsapp`; answers how many messages the body
/// carried (0 for a body that is not a notification: it is journaled all the same).
async fn receive_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Value>> {
    let bytes = to_bytes(body, MAX_BODY).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "webhook body over 3 MB",
        )
    })?;
    accept_webhook(&state, &headers, Body::from(bytes.clone())).await?;
    Ok(Json(json!({
        "status": "ok",
        "messages_received": messages_in(&bytes),
    })))
}

/// The number of `messages[]` items across every entry and change of a notification.
fn messages_in(body: &[u8]) -> usize {
    fn array<'a>(v: &'a Value, key: &str) -> &'a [Value] {
        v.get(key)
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice)
    }
    let Ok(notification) = serde_json::from_slice::<Value>(body) else {
        return 0;
    };
    array(&notification, "entry")
        .iter()
        .flat_map(|entry| array(entry, "changes"))
        .filter_map(|change| change.get("value"))
        .map(|value| array(value, "messages").len())
        .sum()
}

/// The customer's number as the original showed it: the WhatsApp id (digits), else the
/// number without `+`, else the business-scoped user id.
fn customer_number(c: &Contact) -> String {
    c.wa_id
        .clone()
        .or_else(|| {
            c.phone
                .as_deref()
                .map(|p| p.trim_start_matches('+').to_owned())
        })
        .or_else(|| c.bsuid.clone())
        .unwrap_or_default()
}

/// The original's `message` text: the text or caption, else the kind in brackets.
fn preview(m: &Message) -> String {
    m.text
        .clone()
        .unwrap_or_else(|| format!("[{}]", m.kind.as_str()))
}

/// A FastAPI-style validation error item.
fn invalid(kind: &str, loc: Value, msg: impl Into<String>, input: Value) -> Value {
    json!({ "type": kind, "loc": loc, "msg": msg.into(), "input": input })
}

/// An answer in the original's error shapes.
#[derive(Debug)]
enum PluginError {
    /// `{"detail": "…"}`
    Detail(StatusCode, String),
    /// 422 `{"detail": [ … ]}`
    Invalid(Vec<Value>),
    /// Authentication and permission failures, in wadesk's shape.
    Auth(ApiError),
}

impl PluginError {
    fn detail(status: StatusCode, detail: impl Into<String>) -> Self {
        Self::Detail(status, detail.into())
    }
}

impl IntoResponse for PluginError {
    fn into_response(self) -> Response {
        match self {
            Self::Detail(status, detail) => {
                (status, Json(json!({ "detail": detail }))).into_response()
            }
            Self::Invalid(items) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(json!({ "detail": items })),
            )
                .into_response(),
            Self::Auth(e) => e.into_response(),
        }
    }
}

impl From<ApiError> for PluginError {
    fn from(e: ApiError) -> Self {
        Self::Auth(e)
    }
}

impl From<StoreError> for PluginError {
    fn from(e: StoreError) -> Self {
        // Logged there; the client gets the generic message.
        let api = ApiError::from(e);
        Self::Detail(api.status, api.message)
    }
}
