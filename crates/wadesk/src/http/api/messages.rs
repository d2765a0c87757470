//! Messages: send (queued through the outbox), the message log, one message.

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, StatusCode},
    routing::get,
};
use serde::Deserialize;

use super::{Listed, Page, paginate};
use crate::{
    domain::{DeliveryStatus, Direction, Message, PhoneNumber, Timestamp},
    http::{
        error::{ApiError, ApiResult},
        extract::{ApiJson, ApiPath, ApiQuery, Principal},
    },
    outbox::SendMessage,
    state::AppState,
    store::{MessageFilter, decode_cursor, encode_cursor},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/messages", get(list_messages).post(send_message))
        .route("/messages/{id}", get(get_message))
}

/// Longest accepted Idempotency-Key.
const MAX_KEY_LEN: usize = 255;

async fn send_message(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    ApiJson(req): ApiJson<SendMessage>,
) -> ApiResult<(StatusCode, Json<Message>)> {
    let key = match headers.get("idempotency-key") {
        Some(v) => {
            let k = v.to_str().map(str::trim).unwrap_or("");
            if k.is_empty() || k.len() > MAX_KEY_LEN {
                return Err(ApiError::bad_request(
                    "invalid_idempotency_key",
                    "Idempotency-Key must be 1 to 255 visible ASCII characters",
                ));
            }
            Some(k.to_owned())
        }
        None => None,
    };
    let submitted = state
        .outbox
        .submit(&req, &principal.label(), &principal.scope(), key.as_deref())
        .await?;
    Ok((StatusCode::ACCEPTED, Json(submitted.message)))
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    phone: Option<String>,
    status: Option<String>,
    direction: Option<String>,
    since: Option<String>,
    until: Option<String>,
    #[serde(flatten)]
    page: Page,
}

fn invalid(message: &str) -> ApiError {
    ApiError::bad_request("invalid_query", message)
}

async fn list_messages(
    State(state): State<AppState>,
    _: Principal,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Listed<Message>>> {
    let nonempty = |s: &Option<String>| s.clone().filter(|s| !s.trim().is_empty());
    let phone_digits = match nonempty(&q.phone) {
        Some(p) => Some(
            PhoneNumber::parse(&p)
                .map_err(|e| invalid(&format!("phone: {e}")))?
                .digits()
                .to_owned(),
        ),
        None => None,
    };
    let status = match nonempty(&q.status) {
        Some(s) => Some(DeliveryStatus::parse(&s).ok_or_else(|| invalid("unknown status"))?),
        None => None,
    };
    let direction = match nonempty(&q.direction) {
        Some(d) => Some(
            Direction::parse(&d).ok_or_else(|| invalid("direction must be inbound or outbound"))?,
        ),
        None => None,
    };
    let time = |s: &Option<String>, name: &str| -> ApiResult<Option<Timestamp>> {
        match nonempty(s) {
            Some(t) => Timestamp::parse_rfc3339(&t)
                .map(Some)
                .ok_or_else(|| invalid(&format!("{name} must be an RFC 3339 time"))),
            None => Ok(None),
        }
    };
    let before = match q.page.cursor.as_deref() {
        Some(c) => Some(decode_cursor(c).ok_or_else(|| {
            ApiError::bad_request("invalid_cursor", "cursor is not one this API gave out")
        })?),
        None => None,
    };
    let limit = q.page.limit()?;
    let filter = MessageFilter {
        phone_digits,
        conversation_id: None,
        status,
        direction,
        since: time(&q.since, "since")?,
        until: time(&q.until, "until")?,
        before,
        limit: limit + 1,
    };
    let rows = state.store.list_messages(&filter).await?;
    Ok(Json(page(rows, limit)))
}

/// A page of messages fetched with `limit + 1` rows, newest first.
pub(super) fn page(rows: Vec<Message>, limit: i64) -> Listed<Message> {
    paginate("messages", rows, limit, |m| {
        encode_cursor(m.created_at.0, &m.id)
    })
}

async fn get_message(
    State(state): State<AppState>,
    _: Principal,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Message>> {
    let m = state.store.message(&id).await?;
    Ok(Json(m.ok_or_else(|| ApiError::not_found("message"))?))
}
