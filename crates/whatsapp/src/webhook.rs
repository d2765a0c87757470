//! Webhook notifications (`POST` bodies): the envelope, inbound messages, statuses and errors.
//!
//! Parsing is tolerant: Meta adds fields and types over time, so unknown fields are ignored,
//! unknown message types become [`MessageContent::Unsupported`] with the raw object kept, and a
//! known type whose payload does not parse is reported the same way instead of failing the batch.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::error::ApiError;

/// The top-level webhook body.
#[derive(Debug, Clone, Deserialize)]
pub struct Notification {
    pub object: String,
    #[serde(default)]
    pub entry: Vec<Entry>,
}

/// One WhatsApp Business Account's share of a delivery (`entry[].id` is the WABA id).
#[derive(Debug, Clone, Deserialize)]
pub struct Entry {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub changes: Vec<Change>,
}

/// One change of one webhook field; `value` is parsed according to `field`.
#[derive(Debug, Clone, Deserialize)]
pub struct Change {
    pub field: String,
    #[serde(default)]
    pub value: Value,
}

impl Change {
    /// The `messages` field's value; `None` for other fields (templates, account updates, …).
    pub fn messages(&self) -> Option<Result<MessagesValue, serde_json::Error>> {
        (self.field == "messages").then(|| MessagesValue::deserialize(&self.value))
    }
}

/// The value of a `messages` change: inbound messages, statuses of our sends, and errors.
#[derive(Debug, Clone, Deserialize)]
pub struct MessagesValue {
    pub metadata: Metadata,
    #[serde(default)]
    pub contacts: Vec<Contact>,
    #[serde(default)]
    pub messages: Vec<InboundMessage>,
    #[serde(default)]
    pub statuses: Vec<Status>,
    #[serde(default)]
    pub errors: Vec<ApiError>,
}

/// The business number the change belongs to. Route by `phone_number_id`.
#[derive(Debug, Clone, Deserialize)]
pub struct Metadata {
    #[serde(default)]
    pub display_phone_number: String,
    pub phone_number_id: String,
}

/// A sender of inbound messages.
#[derive(Debug, Clone, Deserialize)]
pub struct Contact {
    #[serde(default)]
    pub profile: Option<Profile>,
    #[serde(default)]
    pub wa_id: Option<String>,
    /// Business-scoped user id (2026), possibly without any phone number.
    #[serde(default)]
    pub user_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Profile {
    #[serde(default)]
    pub name: Option<String>,
}

impl Contact {
    pub fn name(&self) -> Option<&str> {
        self.profile.as_ref()?.name.as_deref()
    }
}

/// `context` on an inbound message: a reply/quote, a forward marker or a product inquiry.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Context {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub forwarded: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub frequently_forwarded: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referred_product: Option<Value>,
}

/// One inbound message. The type-specific payload stays in `payloads` under its type name;
/// [`InboundMessage::content`] interprets it.
#[derive(Debug, Clone, Deserialize)]
pub struct InboundMessage {
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub from_user_id: Option<String>,
    pub id: String,
    /// Unix seconds. Meta sends a string; numbers are accepted too.
    #[serde(default, deserialize_with = "unix_seconds")]
    pub timestamp: Option<i64>,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub context: Option<Context>,
    #[serde(default)]
    pub referral: Option<Value>,
    #[serde(default)]
    pub errors: Vec<ApiError>,
    #[serde(flatten)]
    pub payloads: Map<String, Value>,
}

/// What an inbound message carries, by type.
#[derive(Debug, Clone, PartialEq)]
pub enum MessageContent {
    Text {
        body: String,
    },
    Media {
        kind: MediaKind,
        media: Media,
    },
    Location(Location),
    /// Shared contact cards, kept as sent.
    Contacts(Vec<Value>),
    Interactive(InteractiveReply),
    /// A tap on a template quick-reply button.
    Button {
        payload: Option<String>,
        text: Option<String>,
    },
    /// `emoji` is `None` when the customer removed a reaction.
    Reaction {
        message_id: String,
        emoji: Option<String>,
    },
    Order(Order),
    System(SystemEvent),
    /// The customer opened the chat for the first time; no content.
    RequestWelcome,
    /// A type Meta does not deliver (or this version does not know); `kind` names it.
    Unsupported {
        kind: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    Image,
    Video,
    Audio,
    Document,
    Sticker,
}

impl MediaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Video => "video",
            Self::Audio => "audio",
            Self::Document => "document",
            Self::Sticker => "sticker",
        }
    }
}

/// An inbound attachment. `id` is downloadable for 7 days; `url` (when present) for 5 minutes.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Media {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub animated: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Location {
    #[serde(deserialize_with = "number_or_string")]
    pub latitude: f64,
    #[serde(deserialize_with = "number_or_string")]
    pub longitude: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// A reply to an interactive message: button, list row, or a Flow response.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InteractiveReply {
    ButtonReply {
        id: String,
        title: String,
    },
    ListReply {
        id: String,
        title: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        description: Option<String>,
    },
    NfmReply {
        name: Option<String>,
        body: Option<String>,
        response_json: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Order {
    #[serde(default)]
    pub catalog_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default)]
    pub product_items: Vec<Value>,
}

/// `user_changed_number` (with the new `wa_id`) or `customer_identity_changed`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct SystemEvent {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wa_id: Option<String>,
}

impl InboundMessage {
    /// The payload object stored under the message's type name, if any.
    pub fn payload(&self) -> Option<&Value> {
        self.payloads.get(&self.kind)
    }

    /// Interprets the payload. Never fails: anything unreadable is `Unsupported`.
    pub fn content(&self) -> MessageContent {
        let unsupported = || MessageContent::Unsupported {
            kind: self.unsupported_kind(),
        };
        let payload = self.payload();
        let parse = |v: Option<&Value>| v.cloned().unwrap_or(Value::Null);
        match self.kind.as_str() {
            "text" => match payload.and_then(|p| p.get("body")).and_then(Value::as_str) {
                Some(body) => MessageContent::Text {
                    body: body.to_owned(),
                },
                None => unsupported(),
            },
            "image" | "video" | "audio" | "document" | "sticker" => {
                let kind = match self.kind.as_str() {
                    "image" => MediaKind::Image,
                    "video" => MediaKind::Video,
                    "audio" => MediaKind::Audio,
                    "document" => MediaKind::Document,
                    _ => MediaKind::Sticker,
                };
                match serde_json::from_value::<Media>(parse(payload)) {
                    Ok(media) => MessageContent::Media { kind, media },
                    Err(_) => unsupported(),
                }
            }
            "location" => serde_json::from_value(parse(payload))
                .map(MessageContent::Location)
                .unwrap_or_else(|_| unsupported()),
            "contacts" => match payload.and_then(Value::as_array) {
                Some(cards) => MessageContent::Contacts(cards.clone()),
                None => unsupported(),
            },
            "interactive" => payload
                .and_then(interactive_reply)
                .map(MessageContent::Interactive)
                .unwrap_or_else(unsupported),
            "button" => match payload {
                Some(p) => MessageContent::Button {
                    payload: str_field(p, "payload"),
                    text: str_field(p, "text"),
                },
                None => unsupported(),
            },
            "reaction" => match payload.and_then(|p| str_field(p, "message_id").map(|m| (p, m))) {
                Some((p, message_id)) => MessageContent::Reaction {
                    message_id,
                    emoji: str_field(p, "emoji").filter(|e| !e.is_empty()),
                },
                None => unsupported(),
            },
            "order" => serde_json::from_value(parse(payload))
                .map(MessageContent::Order)
                .unwrap_or_else(|_| unsupported()),
            "system" => serde_json::from_value(parse(payload))
                .map(MessageContent::System)
                .unwrap_or_else(|_| unsupported()),
            "request_welcome" => MessageContent::RequestWelcome,
            _ => unsupported(),
        }
    }

    /// For `unsupported` messages Meta names the real type in `unsupported.type`.
    fn unsupported_kind(&self) -> String {
        if (self.kind == "unsupported" || self.kind == "unknown")
            && let Some(kind) = self
                .payloads
                .get("unsupported")
                .and_then(|u| str_field(u, "type"))
        {
            return kind;
        }
        if self.kind.is_empty() {
            "unknown".to_owned()
        } else {
            self.kind.clone()
        }
    }
}

fn str_field(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn interactive_reply(v: &Value) -> Option<InteractiveReply> {
    let kind = v.get("type").and_then(Value::as_str)?;
    let inner = v.get(kind)?;
    match kind {
        "button_reply" => Some(InteractiveReply::ButtonReply {
            id: str_field(inner, "id")?,
            title: str_field(inner, "title")?,
        }),
        "list_reply" => Some(InteractiveReply::ListReply {
            id: str_field(inner, "id")?,
            title: str_field(inner, "title")?,
            description: str_field(inner, "description"),
        }),
        "nfm_reply" => Some(InteractiveReply::NfmReply {
            name: str_field(inner, "name"),
            body: str_field(inner, "body"),
            response_json: str_field(inner, "response_json"),
        }),
        _ => None,
    }
}

/// Delivery status kinds the Cloud API emits. `deleted`/`warning` are On-Premises only.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StatusKind {
    Sent,
    Delivered,
    Read,
    Played,
    Failed,
    Other(String),
}

impl StatusKind {
    pub fn as_str(&self) -> &str {
        match self {
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Read => "read",
            Self::Played => "played",
            Self::Failed => "failed",
            Self::Other(s) => s,
        }
    }
}

impl<'de> Deserialize<'de> for StatusKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.as_str() {
            "sent" => Self::Sent,
            "delivered" => Self::Delivered,
            "read" => Self::Read,
            "played" => Self::Played,
            "failed" => Self::Failed,
            _ => Self::Other(s),
        })
    }
}

impl Serialize for StatusKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The status of a message we sent.
#[derive(Debug, Clone, Deserialize)]
pub struct Status {
    /// The wamid the send API returned.
    pub id: String,
    pub status: StatusKind,
    #[serde(default, deserialize_with = "unix_seconds")]
    pub timestamp: Option<i64>,
    #[serde(default)]
    pub recipient_id: Option<String>,
    #[serde(default)]
    pub recipient_user_id: Option<String>,
    /// Echo of the `biz_opaque_callback_data` given on send.
    #[serde(default)]
    pub biz_opaque_callback_data: Option<String>,
    #[serde(default)]
    pub errors: Vec<ApiError>,
}

fn unix_seconds<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => s.trim().parse().ok(),
        Some(Value::Number(n)) => n.as_i64(),
        _ => None,
    })
}

fn number_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    match Value::deserialize(d)? {
        Value::Number(n) => n
            .as_f64()
            .ok_or_else(|| serde::de::Error::custom("not a number")),
        Value::String(s) => s.trim().parse().map_err(serde::de::Error::custom),
        _ => Err(serde::de::Error::custom("expected a number")),
    }
}

#[cfg(test)]
mod tests;
