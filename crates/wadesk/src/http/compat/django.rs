//! The Django "WhatsApp Support" API: `POST /api/send-message/` and `POST /api/webhook/`, each
//! taking `{"sender", "receiver", "content"}` as JSON or as a form.
//!
//! - send-message queues a text to `receiver` through the outbox (`sender` is checked and
//!   echoed; the configured business number sends) → 201.
//! - webhook files an inbound text from `sender` the way a Meta webhook is filed: a Meta-shaped
//!   notification is built and appended to the webhook journal (source `django`, signature
//!   `unchecked`: the caller proved itself with a bearer token, not a Meta signature), and the
//!   processor applies it → 200. The message gets a fresh wamid `compat.<uuid>`. `receiver`
//!   (which the original overwrote with "Me") is kept in the journaled body, as
//!   `metadata.display_phone_number` (digits) and as `compat.receiver` (as written) on the
//!   message object, which ingest ignores. Without `WHATSAPP_PHONE_NUMBER_ID` there is no
//!   business number to file it under: 400.
//!
//! Errors keep the original's shapes: 400 `{"error": "Invalid payload", "details": {"<field>":
//! ["<reason>"]}}` with Django REST framework's wording (body-level problems under
//! `non_field_errors`); 405, 413 and 415 as DRF's `{"detail": "…"}`.

use axum::{
    Form, Json, Router,
    body::Body,
    extract::{FromRequest, Request, State},
    http::{HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use serde_json::{Map, Value, json};
use whatsapp::{OutgoingContent, Text};

use super::{MAX_TEXT_CHARS, is_json, media_type, read_body};
use crate::{
    domain::{PhoneNumber, Timestamp},
    http::{error::ApiError, extract::Principal},
    outbox::{SendError, SendMessage},
    state::AppState,
    store::{NewJournalEntry, StoreError},
};

/// Longest `sender` and `receiver` accepted.
const MAX_PHONE_CHARS: usize = 32;

const WINDOW_CLOSED: &str = "This customer has not written in the last 24 hours. Outside \
    WhatsApp's 24-hour customer service window only template messages can be sent.";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/send-message/", post(send_message))
        .route("/api/webhook/", post(receive_message))
        .method_not_allowed_fallback(method_not_allowed)
}

async fn send_message(
    State(state): State<AppState>,
    principal: Principal,
    req: Request,
) -> Result<(StatusCode, Json<Value>), DjangoError> {
    let flat = Flat::from_map(&payload(req).await?)?;
    let send = SendMessage {
        to: flat.receiver.1.as_str().to_owned(),
        content: OutgoingContent::Text {
            text: Text {
                body: flat.content.clone(),
                preview_url: None,
            },
        },
        reply_to: None,
    };
    let submitted = state
        .outbox
        .submit(&send, &principal.label(), &principal.scope(), None)
        .await?;
    let m = submitted.message;
    let body = json!({
        "message": "Message sent asynchronously",
        "data": flat.data(&m.id, m.created_at),
    });
    Ok((StatusCode::CREATED, Json(body)))
}

async fn receive_message(
    State(state): State<AppState>,
    principal: Principal,
    req: Request,
) -> Result<Json<Value>, DjangoError> {
    let flat = Flat::from_map(&payload(req).await?)?;
    let whatsapp = &state.config.whatsapp;
    let pnid = whatsapp.phone_number_id.as_deref().ok_or_else(|| {
        DjangoError::not_configured(
            "WHATSAPP_PHONE_NUMBER_ID is not set, so there is no business number to file \
             inbound messages under.",
        )
    })?;
    let now = state.clock.now();
    let wamid = format!("compat.{}", uuid::Uuid::now_v7());
    let message = json!({
        "from": flat.sender.1.digits(),
        "id": wamid,
        "timestamp": (now.millis() / 1000).to_string(),
        "type": "text",
        "text": { "body": flat.content },
        "compat": { "api": "django", "sender": flat.sender.0, "receiver": flat.receiver.0,
                    "via": principal.label() },
    });
    let value = json!({
        "messaging_product": "whatsapp",
        "metadata": { "display_phone_number": flat.receiver.1.digits(), "phone_number_id": pnid },
        "contacts": [{ "wa_id": flat.sender.1.digits() }],
        "messages": [message],
    });
    let notification = json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": whatsapp.business_account_id.as_deref().unwrap_or(""),
            "changes": [{ "field": "messages", "value": value }],
        }],
    });
    let entry = NewJournalEntry {
        received_at: now,
        source: "django",
        signature: "unchecked",
        body: notification.to_string().into_bytes(),
    };
    state.journal.append(entry).await.map_err(|e| {
        tracing::error!(error = %e, "compat webhook not journaled");
        DjangoError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service unavailable",
            "could not store the message; retry",
        )
    })?;
    Ok(Json(json!({
        "message": "Webhook received asynchronously",
        "data": flat.data(&wamid, now),
    })))
}

async fn method_not_allowed(method: Method) -> Response {
    let mut response = DjangoError::detail(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("Method \"{method}\" not allowed."),
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    response
}

/// The body as a map of fields: a JSON object, or a form (every value a string).
async fn payload(req: Request) -> Result<Map<String, Value>, DjangoError> {
    let media = media_type(req.headers());
    let form = match media.as_deref() {
        Some(m) if is_json(m) => false,
        Some("application/x-www-form-urlencoded") => true,
        other => {
            return Err(DjangoError::detail(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "Unsupported media type \"{}\" in request. Send application/json or \
                     application/x-www-form-urlencoded.",
                    other.unwrap_or("")
                ),
            ));
        }
    };
    let (parts, body) = req.into_parts();
    let bytes = read_body(body).await.ok_or_else(|| {
        DjangoError::detail(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large.")
    })?;
    if form {
        let req = Request::from_parts(parts, Body::from(bytes));
        let Form(pairs) = Form::<Vec<(String, String)>>::from_request(req, &())
            .await
            .map_err(|e| DjangoError::non_field(format!("Form parse error - {}", e.body_text())))?;
        return Ok(pairs
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect());
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(DjangoError::non_field(format!(
            "Invalid data. Expected a dictionary, but got {}.",
            python_type(&other)
        ))),
        Err(e) => Err(DjangoError::non_field(format!("JSON parse error - {e}"))),
    }
}

/// How Python (and so the original's messages) names a JSON value's type.
fn python_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// A checked payload: each phone as written (trimmed) and parsed, and the content.
struct Flat {
    sender: (String, PhoneNumber),
    receiver: (String, PhoneNumber),
    content: String,
}

impl Flat {
    /// Checks every field and reports all problems at once, as the original's serializer did.
    fn from_map(map: &Map<String, Value>) -> Result<Self, DjangoError> {
        let mut details = Map::new();
        let mut check = |name: &str, max: usize| {
            let checked = string_field(map, name, max);
            if let Err(reason) = &checked {
                details.insert(name.to_owned(), json!([reason]));
            }
            checked.ok()
        };
        let sender = check("sender", MAX_PHONE_CHARS);
        let receiver = check("receiver", MAX_PHONE_CHARS);
        let content = check("content", MAX_TEXT_CHARS);
        let mut phone = |name: &str, raw: Option<String>| {
            let raw = raw?;
            match PhoneNumber::parse(&raw) {
                Ok(p) => Some((raw, p)),
                Err(e) => {
                    details.insert(name.to_owned(), json!([phone_reason(&e.to_string())]));
                    None
                }
            }
        };
        let sender = phone("sender", sender);
        let receiver = phone("receiver", receiver);
        match (sender, receiver, content) {
            (Some(sender), Some(receiver), Some(content)) if details.is_empty() => Ok(Self {
                sender,
                receiver,
                content,
            }),
            _ => Err(DjangoError::invalid(details)),
        }
    }

    /// The `data` of a success answer.
    fn data(&self, id: &str, at: Timestamp) -> Value {
        json!({
            "id": id,
            "sender": self.sender.0,
            "receiver": self.receiver.0,
            "content": self.content,
            "timestamp": at,
        })
    }
}

/// A required, non-blank string of at most `max` characters, trimmed as Django REST
/// framework's `CharField` does.
fn string_field(map: &Map<String, Value>, name: &str, max: usize) -> Result<String, String> {
    let value = match map.get(name) {
        None => return Err("This field is required.".into()),
        Some(Value::Null) => return Err("This field may not be null.".into()),
        Some(Value::String(s)) => s.trim(),
        Some(_) => return Err("Not a valid string.".into()),
    };
    if value.is_empty() {
        return Err("This field may not be blank.".into());
    }
    if value.chars().count() > max {
        return Err(format!(
            "Ensure this field has no more than {max} characters."
        ));
    }
    Ok(value.to_owned())
}

fn phone_reason(problem: &str) -> String {
    format!("Enter a valid phone number in international format, e.g. +15551234567 ({problem}).")
}

/// An answer in the original's error shapes.
#[derive(Debug)]
struct DjangoError {
    status: StatusCode,
    body: Value,
}

impl DjangoError {
    fn new(status: StatusCode, error: &str, reason: &str) -> Self {
        Self {
            status,
            body: json!({ "error": error, "details": { "non_field_errors": [reason] } }),
        }
    }

    fn invalid(details: Map<String, Value>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            body: json!({ "error": "Invalid payload", "details": details }),
        }
    }

    fn field(name: &str, reason: &str) -> Self {
        let mut details = Map::new();
        details.insert(name.to_owned(), json!([reason]));
        Self::invalid(details)
    }

    fn non_field(reason: String) -> Self {
        Self::field("non_field_errors", &reason)
    }

    fn not_configured(reason: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "WhatsApp is not configured",
            reason,
        )
    }

    fn detail(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            body: json!({ "detail": detail.into() }),
        }
    }
}

impl IntoResponse for DjangoError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

impl From<StoreError> for DjangoError {
    fn from(e: StoreError) -> Self {
        // Logged there; the client gets the generic message.
        let api = ApiError::from(e);
        Self::new(api.status, "Server error", &api.message)
    }
}

impl From<SendError> for DjangoError {
    fn from(e: SendError) -> Self {
        match e {
            SendError::InvalidRecipient(p) => {
                Self::field("receiver", &phone_reason(&p.to_string()))
            }
            SendError::TextTooLong(_) => Self::field(
                "content",
                &format!("Ensure this field has no more than {MAX_TEXT_CHARS} characters."),
            ),
            SendError::Invalid(reason) => Self::field("content", &reason),
            SendError::WindowClosed => Self::field("receiver", WINDOW_CLOSED),
            SendError::NotConfigured => Self::not_configured(
                "WHATSAPP_PHONE_NUMBER_ID is not set, so there is no business number to send from.",
            ),
            SendError::Store(e) => e.into(),
            other @ (SendError::ReplyNotFound | SendError::IdempotencyConflict) => {
                Self::non_field(other.to_string())
            }
        }
    }
}
