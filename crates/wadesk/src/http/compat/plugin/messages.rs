//! The plugin's messages: send (through the outbox), the log (newest last), one message, and
//! clearing them all.
//!
//! Clearing deletes every message and what only exists for messages (outbox rows, idempotency
//! keys, status events), as the original emptied its list. Conversations and contacts stay,
//! with no last message and nothing unread, so assignments, labels and the 24-hour window (a
//! fact at Meta, not ours to forget) survive; the webhook journal keeps the raw bodies.

use axum::{
    Json, Router,
    body::Body,
    extract::{Path, Query, State, rejection::QueryRejection},
    http::{HeaderMap, StatusCode},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use whatsapp::{OutgoingContent, Text};

use super::{MAX_LIST, PluginError, customer_number, invalid, preview};
use crate::{
    domain::{Direction, PhoneNumber},
    http::{
        compat::{MAX_TEXT_CHARS, is_json, media_type, read_body},
        extract::Principal,
    },
    outbox::{SendError, SendMessage},
    realtime::{self, Event},
    state::AppState,
    store::compat::MessageWithParties,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/messages", get(list_messages).delete(clear_messages))
        .route("/messages/send", post(send_message))
        .route("/messages/{id}", get(get_message))
}

async fn send_message(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, PluginError> {
    let (to, message) = parse_send(&json_object(&headers, body).await?)?;
    if !state.config.sending_configured() {
        return Err(PluginError::detail(
            StatusCode::BAD_REQUEST,
            "WhatsApp is not configured: set WHATSAPP_TOKEN and WHATSAPP_PHONE_NUMBER_ID",
        ));
    }
    let send = SendMessage {
        to: to.as_str().to_owned(),
        content: OutgoingContent::Text {
            text: Text {
                body: message,
                preview_url: None,
            },
        },
        reply_to: None,
    };
    let submitted = state
        .outbox
        .submit(&send, &principal.label(), &principal.scope(), None)
        .await
        .map_err(|e| send_error(e, &to))?;
    Ok(Json(json!({
        "success": true,
        "message_id": submitted.message.id,
        "status": submitted.message.status,
    })))
}

fn send_error(e: SendError, to: &PhoneNumber) -> PluginError {
    let one = |item| PluginError::Invalid(vec![item]);
    match e {
        SendError::InvalidRecipient(p) => {
            one(value_error("to", &p.to_string(), json!(to.as_str())))
        }
        SendError::TextTooLong(_) => one(too_long()),
        SendError::Invalid(reason) => one(value_error("message", &reason, Value::Null)),
        SendError::WindowClosed => one(invalid(
            "window_closed",
            body_loc("to"),
            "The customer has not written in the last 24 hours; outside WhatsApp's customer \
             service window only template messages can be sent",
            json!(to.as_str()),
        )),
        SendError::NotConfigured => PluginError::detail(
            StatusCode::BAD_REQUEST,
            "WhatsApp is not configured: set WHATSAPP_PHONE_NUMBER_ID",
        ),
        SendError::Store(e) => e.into(),
        other @ (SendError::ReplyNotFound | SendError::IdempotencyConflict) => one(invalid(
            "value_error",
            json!(["body"]),
            other.to_string(),
            Value::Null,
        )),
    }
}

/// The JSON object body FastAPI would have validated, or its validation errors.
async fn json_object(headers: &HeaderMap, body: Body) -> Result<Map<String, Value>, PluginError> {
    let media = media_type(headers);
    let bytes = read_body(body).await.ok_or_else(|| {
        PluginError::detail(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large")
    })?;
    let not_an_object = |input: Value| {
        PluginError::Invalid(vec![invalid(
            "model_attributes_type",
            json!(["body"]),
            "Input should be a valid dictionary or object to extract fields from",
            input,
        )])
    };
    if media.as_deref().is_some_and(|m| !is_json(m)) {
        return Err(not_an_object(json!(String::from_utf8_lossy(&bytes))));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(PluginError::Invalid(vec![invalid(
            "missing",
            json!(["body"]),
            "Field required",
            Value::Null,
        )]));
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(not_an_object(other)),
        Err(e) => {
            let line_start: usize = bytes
                .split(|b| *b == b'\n')
                .take(e.line().saturating_sub(1))
                .map(|line| line.len() + 1)
                .sum();
            let mut item = invalid(
                "json_invalid",
                json!(["body", line_start + e.column().saturating_sub(1)]),
                "JSON decode error",
                json!({}),
            );
            item["ctx"] = json!({ "error": e.to_string() });
            Err(PluginError::Invalid(vec![item]))
        }
    }
}

fn body_loc(field: &str) -> Value {
    json!(["body", field])
}

fn value_error(field: &str, reason: &str, input: Value) -> Value {
    invalid(
        "value_error",
        body_loc(field),
        format!("Value error, {reason}"),
        input,
    )
}

fn too_long() -> Value {
    let mut item = invalid(
        "string_too_long",
        body_loc("message"),
        format!("String should have at most {MAX_TEXT_CHARS} characters"),
        Value::Null,
    );
    item["ctx"] = json!({ "max_length": MAX_TEXT_CHARS });
    item
}

/// `Ok(None)` when absent; an error item when present but not a string.
fn string_field<'a>(map: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, Value> {
    match map.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(v) => Err(invalid(
            "string_type",
            body_loc(name),
            "Input should be a valid string",
            v.clone(),
        )),
    }
}

/// `{"to", "message", "message_type": "text"}`, every problem reported at once.
fn parse_send(map: &Map<String, Value>) -> Result<(PhoneNumber, String), PluginError> {
    let mut errors = Vec::new();
    let missing = |name: &str| {
        invalid(
            "missing",
            body_loc(name),
            "Field required",
            Value::Object(map.clone()),
        )
    };
    let to = match string_field(map, "to") {
        Ok(Some(to)) => PhoneNumber::parse(to)
            .map_err(|e| errors.push(value_error("to", &e.to_string(), json!(to))))
            .ok(),
        Ok(None) => {
            errors.push(missing("to"));
            None
        }
        Err(item) => {
            errors.push(item);
            None
        }
    };
    let message = match string_field(map, "message") {
        Ok(Some(m)) if m.chars().count() > MAX_TEXT_CHARS => {
            errors.push(too_long());
            None
        }
        Ok(Some(m)) if m.trim().is_empty() => {
            errors.push(value_error(
                "message",
                "message must not be empty",
                json!(m),
            ));
            None
        }
        Ok(Some(m)) => Some(m.to_owned()),
        Ok(None) => {
            errors.push(missing("message"));
            None
        }
        Err(item) => {
            errors.push(item);
            None
        }
    };
    match string_field(map, "message_type") {
        Ok(None | Some("text")) => {}
        Ok(Some(other)) => {
            let mut item = invalid(
                "literal_error",
                body_loc("message_type"),
                "Input should be 'text'",
                json!(other),
            );
            item["ctx"] = json!({ "expected": "'text'" });
            errors.push(item);
        }
        Err(item) => errors.push(item),
    }
    match (to, message) {
        (Some(to), Some(message)) if errors.is_empty() => Ok((to, message)),
        _ => Err(PluginError::Invalid(errors)),
    }
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    phone_number: Option<String>,
    limit: Option<String>,
}

/// The newest `limit` messages (with one customer when `phone_number` is given), oldest first.
async fn list_messages(
    State(state): State<AppState>,
    _: Principal,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Value>, PluginError> {
    let Query(q) = query.map_err(|e| {
        PluginError::Invalid(vec![invalid(
            "query_invalid",
            json!(["query"]),
            e.body_text(),
            Value::Null,
        )])
    })?;
    let query_loc = |name: &str| json!(["query", name]);
    let phone = match q.phone_number.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(p) => Some(PhoneNumber::parse(p).map_err(|e| {
            PluginError::Invalid(vec![invalid(
                "value_error",
                query_loc("phone_number"),
                format!("Value error, {e}"),
                json!(p),
            )])
        })?),
    };
    let limit = match q.limit.as_deref().map(str::trim) {
        None | Some("") => MAX_LIST,
        Some(l) => match l.parse::<i64>() {
            Ok(n) if n >= 1 => n.min(MAX_LIST),
            Ok(_) => {
                let mut item = invalid(
                    "greater_than_equal",
                    query_loc("limit"),
                    "Input should be greater than or equal to 1",
                    json!(l),
                );
                item["ctx"] = json!({ "ge": 1 });
                return Err(PluginError::Invalid(vec![item]));
            }
            Err(_) => {
                return Err(PluginError::Invalid(vec![invalid(
                    "int_parsing",
                    query_loc("limit"),
                    "Input should be a valid integer, unable to parse string as an integer",
                    json!(l),
                )]));
            }
        },
    };
    let digits = phone.as_ref().map(PhoneNumber::digits);
    let mut rows = state.store.messages_with_parties(digits, limit).await?;
    rows.reverse();
    Ok(Json(Value::Array(rows.iter().map(message_json).collect())))
}

/// One message, by our id or by wamid.
async fn get_message(
    State(state): State<AppState>,
    _: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, PluginError> {
    let m = state.store.message_with_parties(&id).await?;
    let m = m.ok_or_else(|| PluginError::detail(StatusCode::NOT_FOUND, "Message not found"))?;
    Ok(Json(message_json(&m)))
}

async fn clear_messages(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Value>, PluginError> {
    principal.require_admin()?;
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let cleared = tx.clear_messages().await?;
    let events: Vec<Event> = cleared
        .conversations
        .iter()
        .map(|&id| Event::ConversationUpdated { id })
        .collect();
    realtime::record(&mut tx, &events, now).await?;
    tx.commit().await?;
    state.bus.committed();
    tracing::info!(messages = cleared.messages, by = %principal.label(), "all messages cleared");
    Ok(Json(json!({ "message": "All messages cleared" })))
}

/// A message as the original listed it, plus its `wamid`.
fn message_json(m: &MessageWithParties) -> Value {
    let customer = customer_number(&m.customer);
    let business = m.phone_number_id.as_str();
    let (from, to) = match m.message.direction {
        Direction::Inbound => (customer.as_str(), business),
        Direction::Outbound => (business, customer.as_str()),
    };
    json!({
        "id": m.message.id,
        "wamid": m.message.wamid,
        "from_number": from,
        "to_number": to,
        "message": preview(&m.message),
        "timestamp": m.message.created_at,
        "status": m.message.status,
        "message_type": m.message.kind,
    })
}
